-- writes.lua: append resources to PROVISIONING workflows, through flowstatus
-- or as raw OpenSearch _bulk partial updates.
--
-- Arguments (after `--` on the wrk command line):
--   1. mode: "events" (flowstatus POST /_flowstatus/_bulk, resource_created
--      events) or "raw" (OpenSearch POST /_bulk, `update` actions whose
--      partial `doc` carries the workflow's whole resource list with the new
--      entry appended: without a script engine, that is how a client appends)
--   2. id prefix of the target workflows, e.g. bench-w-fs- (ids are
--      <prefix>%05d, 0 .. count-1)
--   3. count of target workflows
--   4. events per request (batch size); each event goes to a different
--      workflow, taken round-robin from this thread's share of the targets
--      (thread t owns ids t, t + nthreads, ...), so no two in-flight requests
--      of one thread touch the same workflow unless the share is smaller
--      than batch x connections
--   5. index name (raw mode only)
--   6. run tag, part of every resource id so that no two runs send an
--      equal resource (flowstatus would count a repeat as a no-op)
--
-- With count 1 every event goes to the one workflow (the hot-workflow row):
-- in raw mode the list sent is this thread's own appends, so raw writers
-- overwrite each other (the raw row is a cost floor, not a safe append).
local common = require "common"

setup = common.setup
done = common.done
counting_results = true
response = function(status, headers, body) common.count(status, body) end

local mode, prefix, count, batch, index, tag
local owned, cursor, seq, lists, headers

local ENTRY = '{"workflow_step_name":"create_connector","workflow_step_id":"create_connector_1",'
  .. '"resource_type":"connector_id","resource_id":"%s"}'

function init(args)
  mode = args[1]
  prefix = args[2]
  count = tonumber(args[3])
  batch = tonumber(args[4])
  index = args[5]
  tag = args[6] or "t"
  owned = {}
  for i = tid, count - 1, nthreads do table.insert(owned, i) end
  if #owned == 0 then owned = { 0 } end
  cursor = 0
  seq = 0
  lists = {}
  -- wrk.format ignores wrk.headers (the -H options) when given a table.
  headers = { ["Content-Type"] = "application/x-ndjson" }
  for k, v in pairs(wrk.headers) do headers[k] = v end
end

local function next_workflow()
  cursor = cursor % #owned + 1
  return string.format("%s%05d", prefix, owned[cursor])
end

local function next_resource()
  seq = seq + 1
  return string.format("r-%s-%d-%d", tag, tid, seq)
end

function request()
  local lines = {}
  for _ = 1, batch do
    local wid = next_workflow()
    local rid = next_resource()
    if mode == "events" then
      table.insert(lines, string.format(
        '{"event":"resource_created","workflow_id":"%s","workflow_step_name":"create_connector",'
        .. '"workflow_step_id":"create_connector_1","resource_id":"%s"}', wid, rid))
    else
      local list = lists[wid] or {}
      table.insert(list, string.format(ENTRY, rid))
      lists[wid] = list
      table.insert(lines, string.format('{"update":{"_index":"%s","_id":"%s","retry_on_conflict":16}}', index, wid))
      table.insert(lines, '{"doc":{"resources_created":[' .. table.concat(list, ",") .. ']}}')
    end
  end
  local body = table.concat(lines, "\n") .. "\n"
  local path = mode == "events" and "/_flowstatus/_bulk" or "/_bulk"
  return wrk.format("POST", path, headers, body)
end
