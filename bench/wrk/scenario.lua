-- One wrk scenario against Counterpart or the floor: wrk … -s bench/wrk/scenario.lua URL -- NAME
-- NAME is get, put, list or search. Reads bench/out/ (BENCH_OUT) written by bench/generate.py:
-- tenants.tsv (key, organization id, first and last customer id), keywords.txt, put_body.json.
-- Prints one JSON line at the end: requests/s, p50, p99 (ms), socket errors and non-2xx by status.

local out = os.getenv("BENCH_OUT") or "bench/out"
local threads = {}

local function lines(name)
  local result = {}
  for line in io.lines(out .. "/" .. name) do
    if line ~= "" then result[#result + 1] = line end
  end
  return result
end

function setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

local scenario, tenants, keywords, body, run
local sent = 0
statuses = {}
non2xx = 0

function init(args)
  scenario = args[1] or "get"
  math.randomseed(os.time() * 100 + id)
  tenants = {}
  for _, line in ipairs(lines("tenants.tsv")) do
    local key, org, low, high = line:match("^(%S+)\t(%d+)\t(%d+)\t(%d+)$")
    tenants[#tenants + 1] = {key = key, org = org, low = tonumber(low), high = tonumber(high)}
  end
  keywords = lines("keywords.txt")
  -- Every text value carries {n}: each PUT replaces it with a value no earlier PUT wrote, so
  -- every PUT changes the customer (bench/generate.py's put_body_template says why).
  body = table.concat(lines("put_body.json"), "\n")
  run = os.time() .. "-" .. id
end

local function headers(tenant, extra)
  local result = {["Authorization"] = "Bearer " .. tenant.key, ["Host"] = "127.0.0.1"}
  for name, value in pairs(extra or {}) do result[name] = value end
  return result
end

function request()
  sent = sent + 1
  local tenant = tenants[math.random(#tenants)]
  local id = math.random(tenant.low, tenant.high)
  if scenario == "get" then
    return wrk.format("GET", "/api/customers/" .. id, headers(tenant))
  elseif scenario == "put" then
    return wrk.format("PUT", "/api/customers/" .. id,
      headers(tenant, {["Content-Type"] = "application/json"}), (body:gsub("{n}", run .. "-" .. sent)))
  elseif scenario == "list" then
    local page = math.random(1, 50)
    return wrk.format("GET", "/api/customers?page=" .. page .. "&pageSize=12", headers(tenant))
  elseif scenario == "search" then
    local word = keywords[math.random(#keywords)]
    return wrk.format("GET", "/api/customers?page=1&pageSize=12&searchKeyword=" .. word,
      headers(tenant))
  end
  error("unknown scenario " .. scenario)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad, by_status = 0, {}
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
    for status, count in pairs(thread:get("statuses")) do
      by_status[status] = (by_status[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(by_status) do parts[#parts + 1] = '"' .. status .. '":' .. count end
  local errors = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f,'
      .. '"non2xx":%d,"statuses":{%s},"wrk_non2xx_3xx":%d,"socket_errors":%d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    bad, table.concat(parts, ","), errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
