-- read.lua: GET one random workflow per request.
--
-- Arguments (after `--` on the wrk command line):
--   1. path template with one %s for the id, e.g.
--      /_plugins/_flow_framework/workflow/%s/_status?all=true
--   2. number of seeded workflows N: ids bench-0000000 .. bench-(N-1)
--   3. optional "missing": ask for ids that do not exist instead
local common = require "common"

setup = common.setup
done = common.done
response = function(status, headers, body) common.count(status, nil) end

local template, count, missing, seq

function init(args)
  template = args[1]
  count = tonumber(args[2])
  missing = args[3] == "missing"
  seq = 0
  math.randomseed(os.time() * 100 + tid)
end

function request()
  local id
  if missing then
    seq = seq + 1
    id = string.format("missing-%d-%d", tid, seq)
  else
    id = string.format("bench-%07d", math.random(0, count - 1))
  end
  return wrk.format("GET", string.format(template, id))
end
