/**
 * The Lua side of {@link RedisRateLimitStore}: one script, dispatched on `ARGV[1]`, so every store
 * method is ONE atomic EVALSHA over the model's keys. It mirrors `MemoryRateLimitStore` line by line
 * (same pruning, FIFO floor, per-window earliest start, send-time confirm against what was really
 * sent, evidence stamps, phantoms, releases, records), with two sorted sets per window instead of
 * two `WindowLog`s.
 *
 * Layout (all keys share the model's `{hash-tag}`):
 * - `KEYS[1]` meta hash: `seq` (booking counter), `blk` (retry-hint block), `s:<window>` and
 *   `x:<window>` running sums of the two logs
 * - `KEYS[2]` hash of open bookings: id -> `start|seq|tokens|at|sent|margin|binding` (id = its seq)
 * - `KEYS[3]` sorted set of open bookings by start (member: zero-padded id, so ties sort by id)
 * - `KEYS[4]` sorted set of provisional bookings (confirmed, not seen on the wire yet) by entry time
 * - `KEYS[3 + 2i]` window i's log of every booking, `KEYS[4 + 2i]` the part really sent;
 *   score = entry time, member = `<zero-padded seq>:<cost>` (ties sort by seq, as in memory)
 *
 * Numbers leave the script as strings (`%.17g`): Redis truncates Lua numbers to integers.
 */
export const RATE_LIMIT_LUA = `
local META, BOOK, QUEUE, FLOAT = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
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
local function pad(seq) return string.format('%016d', seq) end
local function member(seq, cost) return pad(seq) .. ':' .. fmt(cost) end
local function mcost(m) return tonumber(string.match(m, ':([^:]+)$')) end

local windows = {}
for i, w in ipairs(req.w or {}) do
  local ps = nil
  if w.c == 1 then
    ps = {}
    for j, p in ipairs(w.p) do ps[j] = p + shift end
  end
  windows[i] = {
    name = w.n, req = (w.r == 1), limit = w.l, interval = w.i, ps = ps,
    all = { key = KEYS[3 + 2 * i], field = 's:' .. w.n },
    sent = { key = KEYS[4 + 2 * i], field = 'x:' .. w.n },
  }
end

local function costOn(w, tokens) if w.req then return 1 end return tokens end

local function total(L)
  if L.sum == nil then
    -- A log key that expired takes its sum with it, whatever the meta hash still says.
    if redis.call('EXISTS', L.key) == 0 then L.sum = 0
    else L.sum = tonumber(redis.call('HGET', META, L.field) or '0') end
  end
  return L.sum
end
local function setTotal(L, s) L.sum = s; L.dirty = true end

local function sumRange(L, lo, hi)
  local s = 0
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', L.key, lo, hi)) do s = s + mcost(m) end
  return s
end

-- Sum of entries on one side of t: scan whichever side holds fewer entries (ZCOUNT is O(log n)).
local function sumAbove(L, t, inclusive)
  if t == -INF then return total(L) end
  if t == INF then return 0 end
  local lo, below = '(' .. fmt(t), fmt(t)
  if inclusive then lo, below = fmt(t), '(' .. fmt(t) end
  local above = redis.call('ZCOUNT', L.key, lo, '+inf')
  if above * 2 <= redis.call('ZCARD', L.key) then return sumRange(L, lo, '+inf') end
  return total(L) - sumRange(L, '-inf', below)
end
local function sumAfter(L, t) return sumAbove(L, t, false) end
local function sumAtOrAfter(L, t) return sumAbove(L, t, true) end

local function insert(L, time, seq, cost)
  if cost <= 0 then return end
  local t0 = total(L)
  redis.call('ZADD', L.key, fmt(time), member(seq, cost))
  setTotal(L, t0 + cost)
end

local function remove(L, seq, cost)
  if cost <= 0 then return end
  local t0 = total(L)
  if redis.call('ZREM', L.key, member(seq, cost)) == 1 then setTotal(L, t0 - cost) end
end

local function timeOf(L, seq, cost)
  if cost <= 0 then return nil end
  local s = redis.call('ZSCORE', L.key, member(seq, cost))
  if s then return tonumber(s) end
  return nil
end

-- Entry seq at time, wherever it was before.
local function put(L, seq, cost, time)
  remove(L, seq, cost)
  insert(L, time, seq, cost)
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

local function periodSum(w, L, k)
  local from = sumAtOrAfter(L, w.ps[k] or -INF)
  local nxt = w.ps[k + 1]
  if nxt == nil then return from end
  return from - sumAtOrAfter(L, nxt)
end

-- The earliest x at which the entries inside (x - interval, x] sum to at most budget.
local function earliestWithin(L, interval, budget)
  local excess = total(L) - budget
  if excess <= 0 then return -INF end
  local acc, from = 0, 0
  while true do
    local batch = redis.call('ZRANGE', L.key, from, from + 63, 'WITHSCORES')
    if #batch == 0 then return INF end
    for j = 1, #batch, 2 do
      acc = acc + mcost(batch[j])
      if acc >= excess then return tonumber(batch[j + 1]) + interval end
    end
    from = from + 64
  end
end

local function earliest(w, from, cost)
  if not w.ps then return math.max(from, earliestWithin(w.all, w.interval, w.limit - cost)) end
  for k = periodIndex(w.ps, from), #w.ps do
    if periodSum(w, w.all, k) + cost <= w.limit then return math.max(from, w.ps[k]) end
  end
  return INF
end

local function pruneLog(w, L)
  local t0 = total(L)
  local hi
  if w.ps then
    local s = periodStartAt(w, now)
    if s == -INF then return end
    hi = '(' .. fmt(s)
  else
    hi = fmt(now - w.interval)
  end
  local gone = redis.call('ZRANGEBYSCORE', L.key, '-inf', hi)
  if #gone == 0 then return end
  local s = 0
  for _, m in ipairs(gone) do s = s + mcost(m) end
  redis.call('ZREMRANGEBYSCORE', L.key, '-inf', hi)
  setTotal(L, t0 - s)
end

-- Bookings neither committed nor cancelled long after their start are forgotten (a lost ticket).
local function pruneBookings()
  if req.st < 0 then return end
  local hi = '(' .. fmt(now - req.st)
  local stale = redis.call('ZRANGEBYSCORE', QUEUE, '-inf', hi)
  if #stale == 0 then return end
  for _, m in ipairs(stale) do
    redis.call('HDEL', BOOK, tostring(tonumber(m)))
    redis.call('ZREM', FLOAT, m)
  end
  redis.call('ZREMRANGEBYSCORE', QUEUE, '-inf', hi)
end

local holdProvisional

local function pruneAll()
  holdProvisional()
  for _, w in ipairs(windows) do
    pruneLog(w, w.all)
    pruneLog(w, w.sent)
  end
  pruneBookings()
end

local function booking(id)
  local v = redis.call('HGET', BOOK, id)
  if not v then return nil end
  local s, q, t, a, x, g, b = string.match(v, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
  if s == nil then return nil end -- another layout (an older version's keys): not ours to read
  return {
    id = id, start = tonumber(s), seq = tonumber(q), tokens = tonumber(t),
    at = tonumber(a), sent = (x == '1'), margin = tonumber(g), binding = b,
  }
end

local function save(b)
  local x = '0'
  if b.sent then x = '1' end
  redis.call('HSET', BOOK, b.id, fmt(b.start) .. '|' .. b.seq .. '|' .. fmt(b.tokens) .. '|' .. fmt(b.at)
    .. '|' .. x .. '|' .. fmt(b.margin) .. '|' .. b.binding)
end

local function close(b)
  redis.call('HDEL', BOOK, b.id)
  redis.call('ZREM', QUEUE, pad(tonumber(b.id)))
  redis.call('ZREM', FLOAT, pad(tonumber(b.id)))
end

local function blocked() return tonumber(redis.call('HGET', META, 'blk') or '0') end

local function margin()
  local m = tonumber(req.m or 0)
  if m == nil or m ~= m or m == INF or m < 0 then return 0 end
  return m
end

-- Every entry of b at 'at', counted as sent (kept open only if the prune did not forget it).
local function markSent(b, at)
  for _, w in ipairs(windows) do
    local cost = costOn(w, b.tokens)
    put(w.all, b.seq, cost, at)
    put(w.sent, b.seq, cost, at)
  end
  b.at = at
  b.sent = true
  if redis.call('HEXISTS', BOOK, b.id) == 1 then save(b) end
end

-- A provisional booking has not been seen on the wire: it leaves no earlier than now. Before its
-- entry could fall out of the shortest sliding window, it moves to now + its margin.
holdProvisional = function()
  local shortest = INF
  for _, w in ipairs(windows) do
    if not w.ps and w.interval < shortest then shortest = w.interval end
  end
  if shortest == INF then return end
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', FLOAT, '-inf', fmt(now - shortest))) do
    local b = booking(tostring(tonumber(m)))
    if b then
      markSent(b, now + b.margin)
      redis.call('ZADD', FLOAT, fmt(b.at), m)
    else
      redis.call('ZREM', FLOAT, m)
    end
  end
end

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
  local at = start + margin()
  for _, w in ipairs(windows) do insert(w.all, at, seq, costOn(w, tokens)) end
  local b = {
    id = tostring(seq), start = start, seq = seq, tokens = tokens, at = at, sent = false, margin = 0,
    binding = binding,
  }
  save(b)
  redis.call('ZADD', QUEUE, fmt(start), pad(seq))
  return { 'granted', b.id, fmt(start), fmt(waitMs) }
end

-- Check-and-stamp at send time, against what was really sent: bookings not yet confirmed check
-- themselves when they are.
local function confirm()
  local b = booking(req.id)
  if not b then return { 'lost' } end
  if b.sent then return { 'ok' } end
  local blk = blocked()
  if blk > now then return { 'retry', fmt(blk) } end
  pruneAll()
  local retryAt = -INF
  for _, w in ipairs(windows) do
    if not w.ps then
      local t = earliestWithin(w.sent, w.interval, w.limit - costOn(w, b.tokens))
      if t > retryAt then retryAt = t end
    end
  end
  if retryAt > now then return { 'retry', fmt(retryAt) } end
  b.margin = margin()
  markSent(b, now + b.margin)
  if req.pv == 1 and redis.call('HEXISTS', BOOK, b.id) == 1 then
    redis.call('ZADD', FLOAT, fmt(b.at), pad(tonumber(b.id)))
  end
  return { 'ok' }
end

-- Evidence of the booking's arrival: its entries move to req.at, earlier or later.
local function stamp()
  local b = booking(req.id)
  local at = req.at + shift
  if b and at == at and at ~= INF and at ~= -INF then
    redis.call('ZREM', FLOAT, pad(tonumber(b.id)))
    markSent(b, at)
  end
  return { 'ok' }
end

local function commit()
  local b = booking(req.id)
  if not b then return { 'ok' } end
  close(b)
  -- It came back, so it was sent: it stays where it stands, at its actual cost.
  local actual = req.a
  if actual == nil then actual = b.tokens end
  for _, w in ipairs(windows) do
    local old, cost = costOn(w, b.tokens), costOn(w, actual)
    local time = timeOf(w.all, b.seq, old) or b.at
    local sentTime = timeOf(w.sent, b.seq, old) or time
    remove(w.all, b.seq, old)
    insert(w.all, time, b.seq, cost)
    remove(w.sent, b.seq, old)
    insert(w.sent, sentTime, b.seq, cost)
  end
  pruneAll()
  return { 'ok' }
end

local function cancel()
  local b = booking(req.id)
  if not b then return { 'ok' } end
  close(b)
  for _, w in ipairs(windows) do
    local cost = costOn(w, b.tokens)
    remove(w.all, b.seq, cost)
    remove(w.sent, b.seq, cost)
  end
  pruneAll()
  return { 'ok' }
end

local function constrain()
  local resetAt = req.ra + shift
  if not (resetAt > now) or not (req.rem >= 0) then return { 'ok', '0' } end
  local w = windows[1]
  pruneAll()
  -- Only what was really sent counts against the provider's remaining; later bookings will too.
  local sent = total(w.sent) - sumAfter(w.sent, now)
  local deficit = w.limit - sent - req.rem
  if deficit <= 0 then return { 'ok', '0' } end
  local time = now
  if not w.ps then time = resetAt - w.interval end
  local seq = redis.call('HINCRBY', META, 'seq', 1)
  insert(w.all, time, seq, deficit)
  insert(w.sent, time, seq, deficit)
  return { 'ok', fmt(deficit) }
end

-- The provider's "when": the oldest entries sent by req.sb leave by req.at until the room is there.
local function release()
  local w = windows[1]
  local at, upTo = req.at + shift, req.sb + shift
  local amount = req.amt
  if amount < 0 then amount = INF end
  if w.ps or not (at > now) or not (amount > 0) then return { 'ok' } end
  pruneAll()
  local to = at - w.interval
  local needed = sumAfter(w.all, to) + amount - w.limit
  if not (needed > 0) then return { 'ok' } end
  local moved, sum, offset = {}, 0, 0
  while sum < needed do
    local batch = redis.call('ZRANGEBYSCORE', w.sent.key, '(' .. fmt(to), fmt(upTo), 'LIMIT', offset, 64)
    if #batch == 0 then break end
    for _, m in ipairs(batch) do
      moved[#moved + 1] = m
      sum = sum + mcost(m)
      if sum >= needed then break end
    end
    offset = offset + 64
  end
  for _, m in ipairs(moved) do
    redis.call('ZADD', w.sent.key, 'XX', fmt(to), m)
    redis.call('ZADD', w.all.key, 'XX', fmt(to), m)
  end
  return { 'ok' }
end

local function record()
  for _, e in ipairs(req.e or {}) do
    local at = e[1] + shift
    local seq = redis.call('HINCRBY', META, 'seq', 1)
    for _, w in ipairs(windows) do
      local cost = costOn(w, e[2])
      insert(w.all, at, seq, cost)
      insert(w.sent, at, seq, cost)
    end
  end
  pruneAll()
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
    if w.ps then used = periodSum(w, w.all, periodIndex(w.ps, now)) else used = total(w.all) end
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
    for _, L in ipairs({ w.all, w.sent }) do
      local last = redis.call('ZRANGE', L.key, -1, -1, 'WITHSCORES')
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
  reserve = reserve, commit = commit, cancel = cancel, confirm = confirm, stamp = stamp,
  constrain = constrain, release = release, record = record, block = block, status = status,
}
local result = ops[op]()
for _, w in ipairs(windows) do
  for _, L in ipairs({ w.all, w.sent }) do
    if L.dirty then redis.call('HSET', META, L.field, fmt(L.sum)) end
  end
end
if op ~= 'status' or redis.call('EXISTS', META) == 1 then keepAlive() end
result[#result + 1] = fmt(now)
return result
`;
