-- common.lua: what every bench script shares (loaded with require "common";
-- wrk runs with its working directory set to this folder).
--
-- Contract:
--   * setup(thread) gives each wrk thread a 0-based global `tid` and the
--     global `nthreads` (the -t value, passed by the harness as the
--     BENCH_THREADS environment variable);
--   * count(status, body) tallies status codes, bulk bodies that report
--     "errors":true (the first one is kept, cut to 400 bytes, as a sample),
--     and items whose result is "updated" or "noop";
--   * done() prints ONE line "BENCH_JSON {...}" on stdout: requests, duration,
--     wrk socket errors, latency percentiles in microseconds and the tallies
--     summed over threads.  The harness (bench/wrk.py) parses only that line.
local M = {}

local threads = {}

function M.setup(thread)
  thread:set("tid", #threads)
  thread:set("nthreads", tonumber(os.getenv("BENCH_THREADS") or "1"))
  table.insert(threads, thread)
end

statuses = {}
bulk_errors = 0
error_sample = nil
updated = 0
noops = 0

local function occurrences(body, pattern)
  local _, n = string.gsub(body, pattern, "")
  return n
end

function M.count(status, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if body ~= nil and string.find(body, '"errors":true', 1, true) then
    bulk_errors = bulk_errors + 1
    if error_sample == nil then
      error_sample = string.gsub(string.sub(body, 1, 400), "[%c]", " ")
    end
  end
  if counting_results and body ~= nil then
    updated = updated + occurrences(body, '"result":"updated"')
    noops = noops + occurrences(body, '"result":"noop"')
  end
end

local function json_value(v)
  if type(v) == "table" then
    local parts = {}
    for k, x in pairs(v) do
      table.insert(parts, string.format("%q:%s", tostring(k), json_value(x)))
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif type(v) == "string" then
    return string.format("%q", v)
  else
    return tostring(v)
  end
end

function M.done(summary, latency, requests)
  local tallies = { statuses = {}, bulk_errors = 0, updated = 0, noops = 0 }
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses") or {}
    for k, n in pairs(s) do
      tallies.statuses[k] = (tallies.statuses[k] or 0) + n
    end
    tallies.bulk_errors = tallies.bulk_errors + (thread:get("bulk_errors") or 0)
    tallies.updated = tallies.updated + (thread:get("updated") or 0)
    tallies.noops = tallies.noops + (thread:get("noops") or 0)
    tallies.error_sample = tallies.error_sample or thread:get("error_sample")
  end
  local out = {
    requests = summary.requests,
    duration_us = summary.duration,
    bytes = summary.bytes,
    errors = summary.errors,
    latency_us = {
      p50 = latency:percentile(50),
      p90 = latency:percentile(90),
      p99 = latency:percentile(99),
      max = latency.max,
      mean = latency.mean,
    },
    statuses = tallies.statuses,
    bulk_errors = tallies.bulk_errors,
    updated = tallies.updated,
    noops = tallies.noops,
    error_sample = tallies.error_sample,
  }
  io.write("BENCH_JSON " .. json_value(out) .. "\n")
end

return M
