/**
 * The Lua side of {@link RedisRateLimitStore}: one script, dispatched on `ARGV[1]`, so every store
 * method is ONE atomic EVALSHA over the model's keys. It mirrors `MemoryRateLimitStore` line by line
 * (same pruning, FIFO floor, per-window earliest start, send-time confirm, commit re-stamp,
 * phantom entries), with a sorted set per window instead of a `WindowLog`.
 *
 * Layout (all keys share the model's `{hash-tag}`):
 * - `KEYS[1]` meta hash: `seq` (booking counter), `blk` (retry-hint block), `s:<window>` running sums
 * - `KEYS[2]` hash of open bookings: id -> `start|seq|tokens|binding` (id = the seq it was booked
 *   with; `confirm` re-stamps a booking at a new seq and keeps its id)
 * - `KEYS[3]` sorted set of open bookings by start (member: zero-padded id, so ties sort by id)
 * - `KEYS[4..]` one sorted set per window: score = entry time, member = `seq:cost`
 *
 * Numbers leave the script as strings (`%.17g`): Redis truncates Lua numbers to integers.
 */
export const RATE_LIMIT_LUA = `
local META, BOOK, QUEUE = KEYS[1], KEYS[2], KEYS[3]
local op = ARGV[1]
local req = cjson.decode(ARGV[2])
local INF = math.huge

local now, shift
if req.srv == 1 then
  -- Server time: every replica books on the same clock. Caller instants are shifted into it.
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  shift = now - req.now
else
  now = req.now
  shift = 0
end

local function fmt(x)
  if x == INF then return 'inf' elseif x == -INF then return '-inf' end
  return string.format('%.17g', x)
end

local windows = {}
for i, w in ipairs(req.w or {}) do
  local ps = nil
  if w.c == 1 then
    ps = {}
    for j, p in ipairs(w.p) do ps[j] = p + shift end
  end
  windows[i] = { key = KEYS[3 + i], name = w.n, req = (w.r == 1), limit = w.l, interval = w.i, ps = ps }
end

local function costOn(w, tokens) if w.req then return 1 end return tokens end
local function mcost(m) return tonumber(string.match(m, ':([^:]+)$')) end
local function pad(seq) return string.format('%016d', seq) end

local function total(w)
  if w.sum == nil then
    -- A window key that expired takes its sum with it, whatever the meta hash still says.
    if redis.call('EXISTS', w.key) == 0 then w.sum = 0
    else w.sum = tonumber(redis.call('HGET', META, 's:' .. w.name) or '0') end
  end
  return w.sum
end
local function setTotal(w, s) w.sum = s; w.dirty = true end

local function sumRange(w, lo, hi)
  local s = 0
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', w.key, lo, hi)) do s = s + mcost(m) end
  return s
end

-- Sum of entries on one side of t: scan whichever side holds fewer entries (ZCOUNT is O(log n)).
local function sumAbove(w, t, inclusive)
  if t == -INF then return total(w) end
  if t == INF then return 0 end
  local lo, below = '(' .. fmt(t), fmt(t)
  if inclusive then lo, below = fmt(t), '(' .. fmt(t) end
  local above = redis.call('ZCOUNT', w.key, lo, '+inf')
  if above * 2 <= redis.call('ZCARD', w.key) then return sumRange(w, lo, '+inf') end
  return total(w) - sumRange(w, '-inf', below)
end
local function sumAfter(w, t) return sumAbove(w, t, false) end
local function sumAtOrAfter(w, t) return sumAbove(w, t, true) end

local function insert(w, time, seq, cost)
  if cost <= 0 then return end
  local t0 = total(w)
  redis.call('ZADD', w.key, fmt(time), seq .. ':' .. fmt(cost))
  setTotal(w, t0 + cost)
end

local function remove(w, seq, cost)
  if cost <= 0 then return end
  local t0 = total(w)
  if redis.call('ZREM', w.key, seq .. ':' .. fmt(cost)) == 1 then setTotal(w, t0 - cost) end
end

local function periodIndex(ps, t)
  local lo, hi = 1, #ps
  if hi == 0 then return 1 end
  while lo < hi do
    local mid = math.floor((lo + hi + 1) / 2)
    if ps[mid] <= t then lo = mid else hi = mid - 1 end
  end
  return lo
end
local function periodStartAt(w, t) return w.ps[periodIndex(w.ps, t)] or -INF end

local function periodSum(w, k)
  local from = sumAtOrAfter(w, w.ps[k] or -INF)
  local nxt = w.ps[k + 1]
  if nxt == nil then return from end
  return from - sumAtOrAfter(w, nxt)
end

-- The earliest x at which the entries inside (x - interval, x] sum to at most budget.
local function earliestWithin(w, budget)
  local excess = total(w) - budget
  if excess <= 0 then return -INF end
  local acc, from = 0, 0
  while true do
    local batch = redis.call('ZRANGE', w.key, from, from + 63, 'WITHSCORES')
    if #batch == 0 then return INF end
    for j = 1, #batch, 2 do
      acc = acc + mcost(batch[j])
      if acc >= excess then return tonumber(batch[j + 1]) + w.interval end
    end
    from = from + 64
  end
end

local function earliest(w, from, cost)
  if not w.ps then return math.max(from, earliestWithin(w, w.limit - cost)) end
  for k = periodIndex(w.ps, from), #w.ps do
    if periodSum(w, k) + cost <= w.limit then return math.max(from, w.ps[k]) end
  end
  return INF
end

local function prune(w)
  local t0 = total(w)
  local hi
  if w.ps then
    local s = periodStartAt(w, now)
    if s == -INF then return end
    hi = '(' .. fmt(s)
  else
    hi = fmt(now - w.interval)
  end
  local gone = redis.call('ZRANGEBYSCORE', w.key, '-inf', hi)
  if #gone == 0 then return end
  local s = 0
  for _, m in ipairs(gone) do s = s + mcost(m) end
  redis.call('ZREMRANGEBYSCORE', w.key, '-inf', hi)
  setTotal(w, t0 - s)
end

-- Bookings neither committed nor cancelled long after their start are forgotten (a lost ticket).
local function pruneBookings()
  if req.st < 0 then return end
  local hi = '(' .. fmt(now - req.st)
  local stale = redis.call('ZRANGEBYSCORE', QUEUE, '-inf', hi)
  if #stale == 0 then return end
  for _, m in ipairs(stale) do redis.call('HDEL', BOOK, tostring(tonumber(m))) end
  redis.call('ZREMRANGEBYSCORE', QUEUE, '-inf', hi)
end

local function pruneAll()
  for _, w in ipairs(windows) do prune(w) end
  pruneBookings()
end

local function booking(id)
  local v = redis.call('HGET', BOOK, id)
  if not v then return nil end
  local s, q, t, b = string.match(v, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
  return { id = id, start = tonumber(s), seq = tonumber(q), tokens = tonumber(t), binding = b }
end

local function close(b)
  redis.call('HDEL', BOOK, b.id)
  redis.call('ZREM', QUEUE, pad(tonumber(b.id)))
end

local function blocked() return tonumber(redis.call('HGET', META, 'blk') or '0') end

local function reserve()
  pruneAll()
  local tokens = req.t
  for _, w in ipairs(windows) do
    local c = costOn(w, tokens)
    if c > w.limit then return { 'never_fits', w.name, fmt(c), fmt(w.limit) } end
  end
  -- FIFO floor: never before the last open booking, so each window is checked at one instant.
  local start, binding = now, ''
  local blk = blocked()
  if blk > start then start = blk; binding = 'retry_after' end
  local last = redis.call('ZRANGE', QUEUE, -1, -1)
  if #last > 0 then
    local b = booking(tostring(tonumber(last[1])))
    if b and b.start > start then start = b.start; binding = b.binding end
  end
  for round = 0, #windows do
    local moved = false
    for _, w in ipairs(windows) do
      local t = earliest(w, start, costOn(w, tokens))
      if t > start then start = t; binding = w.name; moved = true end
    end
    if not moved then break end
  end
  local waitMs = start - now
  if start == INF or (req.mw >= 0 and waitMs > req.mw) then
    return { 'wait_too_long', fmt(waitMs), binding }
  end
  local seq = redis.call('HINCRBY', META, 'seq', 1)
  for _, w in ipairs(windows) do insert(w, start, seq, costOn(w, tokens)) end
  local id = tostring(seq)
  redis.call('HSET', BOOK, id, fmt(start) .. '|' .. seq .. '|' .. fmt(tokens) .. '|' .. binding)
  redis.call('ZADD', QUEUE, fmt(start), pad(seq))
  return { 'granted', id, fmt(start), fmt(waitMs) }
end

local function commit()
  local b = booking(req.id)
  if not b then return { 'ok' } end
  close(b)
  pruneAll()
  -- The provider stamped the call on arrival, before now: counting it at now keeps our window
  -- from ending before the provider's.
  local time = math.max(b.start, now)
  local seq = b.seq
  if time > b.start then seq = redis.call('HINCRBY', META, 'seq', 1) end
  local actual = req.a
  if actual == nil then actual = b.tokens end
  for _, w in ipairs(windows) do
    remove(w, b.seq, costOn(w, b.tokens))
    insert(w, time, seq, costOn(w, actual))
  end
  return { 'ok' }
end

-- Check-and-stamp at send time. Only entries at or before now count (later bookings re-check
-- themselves when they are sent); the booking's own entry is taken out while its windows are
-- checked, exactly as MemoryRateLimitStore.confirm does (remove, check, re-insert at its start).
local function confirm()
  local b = booking(req.id)
  if not b then return { 'ok' } end
  local blk = blocked()
  if blk > now then return { 'retry', fmt(blk) } end
  pruneAll()
  local retryAt = -INF
  for _, w in ipairs(windows) do
    if not w.ps then
      local cost = costOn(w, b.tokens)
      remove(w, b.seq, cost)
      local lo = now - w.interval
      local excess = sumAfter(w, lo) - sumAfter(w, now) - (w.limit - cost)
      if excess > 0 then
        -- The earliest x at which the entries in (x - interval, now] sum to at most the budget:
        -- walk (lo, now] from the front until the excess is covered.
        local acc, offset, found = 0, 0, false
        while not found do
          local batch = redis.call('ZRANGEBYSCORE', w.key, '(' .. fmt(lo), fmt(now), 'WITHSCORES', 'LIMIT', offset, 64)
          if #batch == 0 then break end
          for j = 1, #batch, 2 do
            acc = acc + mcost(batch[j])
            if acc >= excess then
              retryAt = math.max(retryAt, tonumber(batch[j + 1]) + w.interval)
              found = true
              break
            end
          end
          offset = offset + 64
        end
      end
      insert(w, b.start, b.seq, cost)
    end
  end
  if retryAt > now then return { 'retry', fmt(retryAt) } end
  if now > b.start then
    local seq = redis.call('HINCRBY', META, 'seq', 1)
    for _, w in ipairs(windows) do
      local cost = costOn(w, b.tokens)
      remove(w, b.seq, cost)
      insert(w, now, seq, cost)
    end
    -- Still open (not forgotten as stale by the prune above): it now starts at now, under its new seq.
    if redis.call('HEXISTS', BOOK, b.id) == 1 then
      redis.call('HSET', BOOK, b.id, fmt(now) .. '|' .. seq .. '|' .. fmt(b.tokens) .. '|' .. b.binding)
      redis.call('ZADD', QUEUE, fmt(now), pad(tonumber(b.id)))
    end
  end
  return { 'ok' }
end

local function cancel()
  local b = booking(req.id)
  if not b then return { 'ok' } end
  close(b)
  for _, w in ipairs(windows) do remove(w, b.seq, costOn(w, b.tokens)) end
  pruneAll()
  return { 'ok' }
end

local function constrain()
  local resetAt = req.ra + shift
  if not (resetAt > now) or not (req.rem >= 0) then return { 'ok' } end
  local w = windows[1]
  pruneAll()
  -- Only what was already sent counts against the provider's remaining; later bookings will too.
  local sent = total(w) - sumAfter(w, now)
  local deficit = w.limit - sent - req.rem
  if deficit <= 0 then return { 'ok' } end
  local time = now
  if not w.ps then time = resetAt - w.interval end
  insert(w, time, redis.call('HINCRBY', META, 'seq', 1), deficit)
  return { 'ok' }
end

local function block()
  local u = req.u + shift
  if u > blocked() then redis.call('HSET', META, 'blk', fmt(u)) end
  return { 'ok' }
end

local function status()
  pruneAll()
  local out = { 'status', '' }
  local blk = blocked()
  if blk > now then out[2] = fmt(blk) end
  for _, w in ipairs(windows) do
    local used
    if w.ps then used = periodSum(w, periodIndex(w.ps, now)) else used = total(w) end
    local nxt = earliest(w, now, 1)
    out[#out + 1] = fmt(used)
    if nxt > now then out[#out + 1] = fmt(nxt) else out[#out + 1] = '' end
  end
  return out
end

-- Keys live while anything in them can still matter, plus a minute for late commits. Expiry is
-- only ever extended, and the meta hash is in every call, so it outlives every window key (its
-- seq counter must never restart while old members exist).
local function keepAlive()
  local horizon = math.max(now, blocked())
  for _, w in ipairs(windows) do
    local last = redis.call('ZRANGE', w.key, -1, -1, 'WITHSCORES')
    if #last > 0 then
      local t = tonumber(last[2])
      local keep = t + w.interval
      if w.ps then
        for _, p in ipairs(w.ps) do
          if p > t then keep = p; break end
        end
      end
      horizon = math.max(horizon, keep)
    end
  end
  local q = redis.call('ZRANGE', QUEUE, -1, -1, 'WITHSCORES')
  if #q > 0 then horizon = math.max(horizon, tonumber(q[2])) end
  local ttl = math.ceil(horizon - now) + 60000
  for _, k in ipairs(KEYS) do
    local cur = redis.call('PTTL', k)
    if cur == -1 or (cur >= 0 and cur < ttl) then redis.call('PEXPIRE', k, ttl) end
  end
end

local ops = {
  reserve = reserve, commit = commit, cancel = cancel, confirm = confirm,
  constrain = constrain, block = block, status = status,
}
local result = ops[op]()
for _, w in ipairs(windows) do
  if w.dirty then redis.call('HSET', META, 's:' .. w.name, fmt(w.sum)) end
end
if op ~= 'status' or redis.call('EXISTS', META) == 1 then keepAlive() end
result[#result + 1] = fmt(now)
return result
`;
