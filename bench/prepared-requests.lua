-- wrk script for the benchmarks: without arguments wrk sends its URL's GET; with `-- <file> <path>` it
-- POSTs the file's lines as bodies to <path>, each once and in order, and counts the answers' `result`s.
-- A C client leaves the server the CPU that a JavaScript client on the same cores would take.
-- done() prints one JSON line that bench/wrk.ts reads.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local prepared = nil
local next_index = 1
accepts, rejects, challenges, others, exhausted = 0, 0, 0, 0, 0

function init(args)
  if args[1] == nil then return end
  prepared = {}
  for line in io.lines(args[1]) do
    prepared[#prepared + 1] = wrk.format("POST", args[2], nil, line)
  end
end

function request()
  if prepared == nil then return wrk.request() end
  local prepared_request = prepared[next_index]
  if prepared_request == nil then
    -- Sending a body twice would be a replay; the benchmark refuses a run that gets here.
    exhausted = exhausted + 1
    return wrk.format("GET", "/health")
  end
  next_index = next_index + 1
  return prepared_request
end

function response(status, headers, body)
  if prepared == nil then return end
  if status == 200 and string.find(body, '"result":"accept"', 1, true) then
    accepts = accepts + 1
  elseif status == 200 and string.find(body, '"result":"reject"', 1, true) then
    rejects = rejects + 1
  elseif status == 200 and string.find(body, '"result":"challenge"', 1, true) then
    -- A prepared code that a minute's turn pushed out of the direct window: the validator asks for the next one.
    challenges = challenges + 1
  else
    others = others + 1
    -- The first few are shown (bench/wrk.ts passes wrk's stderr on): an error should explain itself.
    if others <= 3 then io.stderr:write("unexpected answer: " .. status .. " " .. string.sub(body, 1, 200) .. "\n") end
  end
end

function done(summary, latency, requests)
  local counts = { accepts = 0, rejects = 0, challenges = 0, others = 0, exhausted = 0 }
  for _, thread in ipairs(threads) do
    for name, _ in pairs(counts) do counts[name] = counts[name] + (thread:get(name) or 0) end
  end
  -- Transport errors only: an answer with an error status is one of the `others` counted above.
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests":%d,"durationMicros":%d,"errors":%d,"p50Micros":%d,"p99Micros":%d,"accepts":%d,"rejects":%d,"challenges":%d,"others":%d,"exhausted":%d}\n',
    summary.requests, summary.duration, errors, latency:percentile(50), latency:percentile(99),
    counts.accepts, counts.rejects, counts.challenges, counts.others, counts.exhausted))
end
