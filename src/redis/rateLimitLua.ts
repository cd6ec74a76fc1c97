/**
 * The Lua side of {@link RedisRateLimitStore}: one script, dispatched on `ARGV[1]`, so every store
 * method is ONE atomic EVALSHA over the model's keys. It mirrors `MemoryRateLimitStore` line by line
 * (same pruning, queue order, re-slotting, per-window earliest start, tenant shares, send-time
 * confirm against what was really sent, evidence stamps, phantoms, releases, records), with sorted
 * sets instead of `WindowLog`s.
 *
 * Layout (all keys share the model's `{hash-tag}`, so a Cluster runs the script on one slot):
 * - `KEYS[1]` meta hash: `seq` (booking counter), `ord` (largest queue ord given), `blk` (retry-hint
 *   block), `s:<window>` / `x:<window>` running sums of the two logs, `v:<rank>` virtual time of a
 *   class (largest tag sent), `lt:<rank>:<tenant>` last tag given to a tenant in a class
 * - `KEYS[2]` hash of open bookings: id -> `|`-separated record (see `save`; id = its seq)
 * - `KEYS[3]` sorted set of queued bookings: score = start, member = `<zero-padded ord>:<zero-padded
 *   id>`; the queue order of the memory store is (start, ord, id), and a re-slot rewrites only the
 *   members whose start or place among equal starts changed (see the end of `reserve`)
 * - `KEYS[4]` sorted set of provisional bookings (confirmed, not seen on the wire yet) by entry time
 * - `KEYS[5]` hash of waiting bookings (granted, not sent): `q<rank>:<tenant>` -> count, `cap` ->
 *   how many of them were placed by their tenant's `maxShare`
 * - per window i, `KEYS[6 + 4i ..]`: the log of every booking, the part really sent (score = entry
 *   time, member = `<zero-padded seq>:<cost>`), the log of every capped tenant's bookings (member
 *   `<zero-padded seq>:<cost>:<tenant>`: one key for all tenants, since a re-slot touches the logs
 *   of tenants the caller cannot name in advance) and the hash of those tenants' running sums.
 *
 * `reserve` books the reservations a replica made at once (often one) in one call (see
 * `reserveItems`): one by one while nothing moves, runs of those that move something together.
 *
 * A reservation that moves nothing (the common case) takes its slot straight from the logs, read
 * newest first back to one window before the latest queued start. One that moves waiting bookings
 * computes the new slots on in-script copies of the logs' recent entries (loaded newest first, only
 * as far back as a query needs), then writes, only if it is granted and only what changed, so a
 * refusal leaves every key as it was.
 *
 * Numbers leave the script as strings (`%.17g`): Redis truncates Lua numbers to integers.
 */
export const RATE_LIMIT_LUA = `
local META, BOOK, QUEUE, FLOAT, DEPTH = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
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
local function num(s)
  if s == 'inf' or s == '+inf' then return INF elseif s == '-inf' then return -INF end
  return tonumber(s)
end
local function pad(seq) return string.format('%016d', seq) end
local function member(seq, cost) return pad(seq) .. ':' .. fmt(cost) end
local function mcost(m) return tonumber(string.match(m, ':([^:]+)$')) end
local function mseq(m) return tonumber(string.sub(m, 1, 16)) end
local function tmember(seq, cost, tenant) return pad(seq) .. ':' .. fmt(cost) .. ':' .. tenant end
local function tparse(m)
  local q, c, t = string.match(m, '^(%d+):([^:]*):(.*)$')
  return tonumber(q), num(c), t
end

local windows = {}
for i, w in ipairs(req.w or {}) do
  local ps = nil
  if w.c == 1 then
    ps = {}
    for j, p in ipairs(w.p) do ps[j] = p + shift end
  end
  local k = 5 + 4 * (i - 1)
  windows[i] = {
    name = w.n, req = (w.r == 1), limit = w.l, interval = w.i, ps = ps,
    all = { key = KEYS[k + 1], field = 's:' .. w.n },
    sent = { key = KEYS[k + 2], field = 'x:' .. w.n },
    cap = { key = KEYS[k + 3], sums = KEYS[k + 4], cache = {}, dirty = {} },
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
  if s then return num(s) end
  return nil
end

-- Entry seq at time, wherever it was before.
local function put(L, seq, cost, time)
  remove(L, seq, cost)
  insert(L, time, seq, cost)
end

-- Capped tenants' logs: one sorted set per window, running sums per tenant in a hash beside it.
local function tsum(T, tenant)
  if T.exists == nil then
    T.exists = redis.call('EXISTS', T.key) == 1
    -- The log expired: so did every tenant's entries, whatever the sums still say.
    if not T.exists then redis.call('DEL', T.sums) end
  end
  local s = T.cache[tenant]
  if s == nil then
    s = 0
    if T.exists then s = tonumber(redis.call('HGET', T.sums, tenant) or '0') end
    T.cache[tenant] = s
  end
  return s
end
local function setTsum(T, tenant, s) T.cache[tenant] = s; T.dirty[tenant] = true end

local function tinsert(T, tenant, time, seq, cost)
  if cost <= 0 then return end
  local s0 = tsum(T, tenant)
  redis.call('ZADD', T.key, fmt(time), tmember(seq, cost, tenant))
  setTsum(T, tenant, s0 + cost)
end
local function tremove(T, tenant, seq, cost)
  if cost <= 0 then return end
  local s0 = tsum(T, tenant)
  if redis.call('ZREM', T.key, tmember(seq, cost, tenant)) == 1 then setTsum(T, tenant, s0 - cost) end
end
local function ttime(T, tenant, seq, cost)
  if cost <= 0 then return nil end
  local s = redis.call('ZSCORE', T.key, tmember(seq, cost, tenant))
  if s then return num(s) end
  return nil
end
local function tput(T, tenant, seq, cost, time)
  tremove(T, tenant, seq, cost)
  tinsert(T, tenant, time, seq, cost)
end
local function tsumRange(T, tenant, lo, hi)
  local s = 0
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', T.key, lo, hi)) do
    local _, c, tn = tparse(m)
    if tn == tenant then s = s + c end
  end
  return s
end
local function tsumAtOrAfter(T, tenant, t)
  if t == -INF then return tsum(T, tenant) end
  if t == INF then return 0 end
  local above = redis.call('ZCOUNT', T.key, fmt(t), '+inf')
  if above * 2 <= redis.call('ZCARD', T.key) then return tsumRange(T, tenant, fmt(t), '+inf') end
  return tsum(T, tenant) - tsumRange(T, tenant, '-inf', '(' .. fmt(t))
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
local function tperiodSum(w, tenant, k)
  local from = tsumAtOrAfter(w.cap, tenant, w.ps[k] or -INF)
  local nxt = w.ps[k + 1]
  if nxt == nil then return from end
  return from - tsumAtOrAfter(w.cap, tenant, nxt)
end

-- The earliest x at which the entries inside (x - interval, x] sum to at most budget: the entry
-- that must leave is the newest whose own cost takes the entries after it over the budget, so the
-- scan goes newest first and stops within one window's worth of entries. sum is what the log
-- holds in all; costOf(member) is an entry's cost, nil for an entry that does not count.
-- With lo, entries at or before lo are not read (the caller asks from lo + interval on).
local function scanEarliest(key, sum, costOf, interval, budget, lo)
  if sum - budget <= 0 then return -INF end
  local acc, from = 0, 0
  local bottom = '-inf'
  if lo ~= nil then bottom = '(' .. fmt(lo) end
  while true do
    local batch = redis.call('ZREVRANGEBYSCORE', key, '+inf', bottom, 'WITHSCORES', 'LIMIT', from, 64)
    if #batch == 0 then return -INF end
    for j = 1, #batch, 2 do
      local c = costOf(batch[j])
      if c ~= nil then
        if acc + c > budget then return num(batch[j + 1]) + interval end
        acc = acc + c
      end
    end
    from = from + 64
  end
end
local function earliestWithin(L, interval, budget, lo)
  return scanEarliest(L.key, total(L), mcost, interval, budget, lo)
end

-- The earliest x >= from with room for cost within limit on w: sliding windows scan with
-- within(budget, lo), calendar windows sum periods with periodSumOf(k).
local function earliestBy(w, from, cost, limit, lo, within, periodSumOf)
  if not w.ps then return math.max(from, within(limit - cost, lo)) end
  for k = periodIndex(w.ps, from), #w.ps do
    if periodSumOf(k) + cost <= limit then return math.max(from, w.ps[k]) end
  end
  return INF
end

local function earliestOn(w, from, cost, limit, lo)
  return earliestBy(w, from, cost, limit, lo,
    function(budget, l) return earliestWithin(w.all, w.interval, budget, l) end,
    function(k) return periodSum(w, w.all, k) end)
end
local function earliest(w, from, cost) return earliestOn(w, from, cost, w.limit) end

-- The same on one tenant's entries of the capped tenants' log (others skipped).
local function tearliestOn(w, tenant, from, cost, limit, lo)
  local function mine(m)
    local _, c, tn = tparse(m)
    if tn == tenant then return c end
    return nil
  end
  return earliestBy(w, from, cost, limit, lo,
    function(budget, l) return scanEarliest(w.cap.key, tsum(w.cap, tenant), mine, w.interval, budget, l) end,
    function(k) return tperiodSum(w, tenant, k) end)
end

local function pruneHi(w)
  if w.ps then
    local s = periodStartAt(w, now)
    if s == -INF then return nil end
    return '(' .. fmt(s)
  end
  return fmt(now - w.interval)
end

local function pruneLog(w, L)
  local hi = pruneHi(w)
  if hi == nil then return end
  local t0 = total(L)
  local gone = redis.call('ZRANGEBYSCORE', L.key, '-inf', hi)
  if #gone == 0 then return end
  local s = 0
  for _, m in ipairs(gone) do s = s + mcost(m) end
  redis.call('ZREMRANGEBYSCORE', L.key, '-inf', hi)
  setTotal(L, t0 - s)
end

local function pruneTenants(w)
  local hi = pruneHi(w)
  if hi == nil then return end
  local T = w.cap
  local gone = redis.call('ZRANGEBYSCORE', T.key, '-inf', hi)
  if #gone == 0 then return end
  for _, m in ipairs(gone) do
    local _, c, tn = tparse(m)
    setTsum(T, tn, tsum(T, tn) - c)
  end
  redis.call('ZREMRANGEBYSCORE', T.key, '-inf', hi)
end

-- A booking's record. Strings are escaped ('%' and '|'), numbers as fmt writes them.
local function esc(s)
  return (string.gsub(s, '[%%|]', function(c) return string.format('%%%02X', string.byte(c)) end))
end
local function unesc(s)
  return (string.gsub(s, '%%(%x%x)', function(h) return string.char(tonumber(h, 16)) end))
end
local FIELDS = '^' .. string.rep('([^|]*)|', 16) .. '([^|]*)$'
local function parseBooking(id, v)
  if not v then return nil end
  local f = { string.match(v, FIELDS) }
  if #f ~= 17 then return nil end -- another layout: not ours to read
  local ms = nil
  if f[10] ~= '' then ms = num(f[10]) end
  local binding, tenant = f[16], f[17]
  if string.find(binding, '%', 1, true) then binding = unesc(binding) end
  if string.find(tenant, '%', 1, true) then tenant = unesc(tenant) end
  return {
    id = id, start = num(f[1]), seq = tonumber(f[2]), tokens = num(f[3]), at = num(f[4]),
    sent = (f[5] == '1'), margin = num(f[6]), ord = tonumber(f[7]), rank = num(f[8]),
    weight = num(f[9]), maxShare = ms, agingMs = num(f[11]), tag = num(f[12]),
    arrivedAt = num(f[13]), capped = (f[14] == '1'), displaced = (f[15] == '1'),
    binding = binding, tenant = tenant,
  }
end
local function booking(id) return parseBooking(id, redis.call('HGET', BOOK, id)) end

local function flag(x) if x then return '1' end return '0' end
local function save(b)
  local ms = ''
  if b.maxShare ~= nil then ms = fmt(b.maxShare) end
  redis.call('HSET', BOOK, b.id, table.concat({
    fmt(b.start), fmt(b.seq), fmt(b.tokens), fmt(b.at), flag(b.sent), fmt(b.margin), fmt(b.ord),
    fmt(b.rank), fmt(b.weight), ms, fmt(b.agingMs), fmt(b.tag), fmt(b.arrivedAt), flag(b.capped),
    flag(b.displaced), esc(b.binding), esc(b.tenant),
  }, '|'))
end

local function qkey(ord, seq) return pad(ord) .. ':' .. pad(seq) end
local function qmember(b) return qkey(b.ord, b.seq) end
local function qid(m) return tostring(tonumber(string.match(m, ':(.*)$'))) end

-- Waiting bookings (granted, not sent) by class and tenant, and how many of them are capped.
local function waiting(b, d)
  local f = 'q' .. fmt(b.rank) .. ':' .. b.tenant
  if redis.call('HINCRBY', DEPTH, f, d) <= 0 then redis.call('HDEL', DEPTH, f) end
  if b.capped and redis.call('HINCRBY', DEPTH, 'cap', d) <= 0 then redis.call('HDEL', DEPTH, 'cap') end
end

-- Bookings neither committed nor cancelled long after their start are forgotten (a lost ticket).
local function pruneBookings()
  if req.st < 0 then return end
  local hi = '(' .. fmt(now - req.st)
  local stale = redis.call('ZRANGEBYSCORE', QUEUE, '-inf', hi)
  if #stale == 0 then return end
  for _, m in ipairs(stale) do
    local id = qid(m)
    local b = booking(id)
    if b and not b.sent then waiting(b, -1) end
    redis.call('HDEL', BOOK, id)
    redis.call('ZREM', FLOAT, pad(tonumber(id)))
  end
  redis.call('ZREMRANGEBYSCORE', QUEUE, '-inf', hi)
end

local holdProvisional

local function pruneAll()
  holdProvisional()
  for _, w in ipairs(windows) do
    pruneLog(w, w.all)
    pruneLog(w, w.sent)
    pruneTenants(w)
  end
  pruneBookings()
end

local function close(b)
  redis.call('HDEL', BOOK, b.id)
  redis.call('ZREM', QUEUE, qmember(b))
  redis.call('ZREM', FLOAT, pad(tonumber(b.id)))
  if not b.sent then waiting(b, -1) end
end

local function blocked() return tonumber(redis.call('HGET', META, 'blk') or '0') end

local function margin(m)
  m = tonumber(m or 0)
  if m == nil or m ~= m or m == INF or m < 0 then return 0 end
  return m
end

-- Every entry of b at 'at', counted as sent (kept open only if the prune did not forget it).
local function markSent(b, at)
  for _, w in ipairs(windows) do
    local cost = costOn(w, b.tokens)
    put(w.all, b.seq, cost, at)
    put(w.sent, b.seq, cost, at)
    if b.maxShare ~= nil then tput(w.cap, b.tenant, b.seq, cost, at) end
  end
  local was = b.sent
  b.at = at
  b.sent = true
  if redis.call('HEXISTS', BOOK, b.id) == 1 then
    if not was then waiting(b, -1) end
    save(b)
  end
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

-- In-script copies of a log's entries after lo (a sliding window; every query starts at or after
-- lo + interval, so older entries cannot matter), loaded newest first as far back as a query needs,
-- leaving out the bookings being re-slotted (excl) and taking in the ones booked meanwhile. For a
-- calendar window, per-period sums read once and adjusted the same way.
local function newView(w, tenant, excl, exclList, lo)
  local key = w.all.key
  if tenant ~= nil then key = w.cap.key end
  return {
    w = w, key = key, tenant = tenant, excl = excl, exclList = exclList, lo = lo,
    T = {}, Q = {}, C = {}, CUM = {}, n = 0, off = 0, chunk = 64, done = false, base = {}, delta = {},
  }
end

local function older(t1, q1, t2, q2) return t1 < t2 or (t1 == t2 and q1 < q2) end

local function vload(v)
  local batch = redis.call('ZREVRANGEBYSCORE', v.key, '+inf', '(' .. fmt(v.lo), 'WITHSCORES', 'LIMIT', v.off, v.chunk)
  v.off = v.off + v.chunk
  if #batch < 2 * v.chunk then v.done = true end
  v.chunk = v.chunk * 2
  local T, Q, C = {}, {}, {}
  for j = #batch - 1, 1, -2 do
    local m = batch[j]
    local seq, cost, tn
    if v.tenant ~= nil then seq, cost, tn = tparse(m) else seq, cost = mseq(m), mcost(m) end
    if (v.tenant == nil or tn == v.tenant) and not v.excl[seq] then
      T[#T + 1] = num(batch[j + 1]); Q[#Q + 1] = seq; C[#C + 1] = cost
    end
  end
  for i = 1, v.n do T[#T + 1] = v.T[i]; Q[#Q + 1] = v.Q[i]; C[#C + 1] = v.C[i] end
  local CUM, s = {}, 0
  for i = 1, #C do s = s + C[i]; CUM[i] = s end
  v.T, v.Q, v.C, v.CUM, v.n = T, Q, C, CUM, #C
end

local function vinsert(v, time, seq, cost)
  if cost <= 0 then return end
  if v.w.ps then
    if time >= (v.w.ps[1] or INF) then
      local k = periodIndex(v.w.ps, time)
      v.delta[k] = (v.delta[k] or 0) + cost
    end
    return
  end
  if time <= v.lo then return end
  while not v.done and (v.n == 0 or older(time, seq, v.T[1], v.Q[1])) do vload(v) end
  local lo, hi = 1, v.n + 1
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if older(time, seq, v.T[mid], v.Q[mid]) then hi = mid else lo = mid + 1 end
  end
  table.insert(v.T, lo, time); table.insert(v.Q, lo, seq); table.insert(v.C, lo, cost)
  v.n = v.n + 1
  local s = v.CUM[lo - 1] or 0
  for i = lo, v.n do s = s + v.C[i]; v.CUM[i] = s end
end

local function vperiodSum(v, k)
  local b = v.base[k]
  if b == nil then
    if v.tenant ~= nil then b = tperiodSum(v.w, v.tenant, k) else b = periodSum(v.w, v.w.all, k) end
    for _, e in ipairs(v.exclList) do
      if e[1] >= v.w.ps[1] and periodIndex(v.w.ps, e[1]) == k then b = b - e[2] end
    end
    v.base[k] = b
  end
  return b + (v.delta[k] or 0)
end

-- The earliest instant >= from at which the log has room for cost within limit.
local function vearliest(v, from, cost, limit)
  local w = v.w
  if w.ps then
    for k = periodIndex(w.ps, from), #w.ps do
      if vperiodSum(v, k) + cost <= limit then return math.max(from, w.ps[k]) end
    end
    return INF
  end
  local budget = limit - cost
  while true do
    local x = (v.CUM[v.n] or 0) - budget
    if x > 0 then
      local lo, hi = 1, v.n
      while lo < hi do
        local mid = math.floor((lo + hi) / 2)
        if v.CUM[mid] >= x then hi = mid else lo = mid + 1 end
      end
      return math.max(from, v.T[lo] + w.interval)
    end
    if v.done then return from end
    vload(v)
  end
end

local function shareLimit(w, share) return math.floor(w.limit * share + 1e-9) end
local function shareDimension(w) return w.name .. ' (tenant share)' end

-- Aged past being moved: it keeps its start whatever arrives.
local function pinned(b) return now - b.arrivedAt >= b.agingMs end

local function diff(a, b)
  local d = a - b
  if d ~= d then return 0 end
  return d
end
-- Queue order among waiting bookings: aged ones first (by start), then class, tag, booking order.
local function compareQueue(x, y)
  local px, py = pinned(x), pinned(y)
  if px ~= py then if px then return -1 end return 1 end
  local d
  if px then
    d = diff(x.start, y.start)
    if d ~= 0 then return d end
    return x.seq - y.seq
  end
  d = diff(x.rank, y.rank)
  if d ~= 0 then return d end
  d = diff(x.tag, y.tag)
  if d ~= 0 then return d end
  return x.seq - y.seq
end

-- Whether the new booking nb goes before the waiting booking b (which is not aged).
local function ahead(nb, b) return nb.rank < b.rank or (nb.rank == b.rank and nb.tag < b.tag) end

local function decodePlace(p)
  if type(p) ~= 'table' then return 1, '', 1, nil, INF end
  local ms = p.ms
  if type(ms) ~= 'number' then ms = nil end
  return p.r, p.tn, p.wt, ms, num(p.ag)
end

-- Could any waiting booking be one the new booking goes before? Reads only the class/tenant counts
-- (a tenant's bookings never carry a tag above its last one), so plain FIFO traffic never scans.
local function mayCut(nb)
  local all = redis.call('HGETALL', DEPTH)
  for j = 1, #all, 2 do
    local f = all[j]
    if f == 'cap' then return true end
    local r, tn = string.match(f, '^q([^:]*):(.*)$')
    r = num(r)
    if r ~= nil then
      if r > nb.rank then return true end
      if r == nb.rank then
        local lt = num(redis.call('HGET', META, 'lt:' .. fmt(r) .. ':' .. tn) or '0')
        if lt > nb.tag then return true end
      end
    end
  end
  return false
end

-- One requested booking (it: t tokens, p place, mw max wait, m margin) with id seq: its place, its
-- tag (after the tags lastTag gives to earlier requests of the same call) and the earliest its
-- tenant's own share allows before anything moves; or, when it can never fit, that reply.
local function newBooking(it, seq, lastTag)
  local tokens = it.t
  local rank, tenant, weight, maxShare, agingMs = decodePlace(it.p)
  for _, w in ipairs(windows) do
    local c = costOn(w, tokens)
    if c > w.limit then return nil, { 'never_fits', w.name, fmt(c), fmt(w.limit) } end
    if maxShare ~= nil and c > shareLimit(w, maxShare) then
      return nil, { 'never_fits', shareDimension(w), fmt(c), fmt(shareLimit(w, maxShare)) }
    end
  end
  local ltField = 'lt:' .. fmt(rank) .. ':' .. tenant
  local vt = num(redis.call('HGET', META, 'v:' .. fmt(rank)) or '0')
  local lt = lastTag[ltField] or num(redis.call('HGET', META, ltField) or '0')
  local nc = 0
  for _, w in ipairs(windows) do nc = math.max(nc, costOn(w, tokens) / w.limit) end
  local nb = {
    id = tostring(seq), seq = seq, start = now, at = now, tokens = tokens, sent = false, margin = 0,
    rank = rank, tenant = tenant, weight = weight, maxShare = maxShare, agingMs = agingMs,
    tag = math.max(vt, lt) + nc / weight, arrivedAt = now, capped = false, displaced = false,
    binding = '', ord = 0, ltField = ltField, mw = it.mw, slack = margin(it.m), lower = now,
  }
  if maxShare ~= nil then
    for _, w in ipairs(windows) do
      local t = tearliestOn(w, tenant, nb.lower, costOn(w, tokens), shareLimit(w, maxShare))
      if t > nb.lower then nb.lower = t end
    end
  end
  return nb
end

local function refusedBy(nb)
  local waitMs = nb.start - now
  -- No calendar period left (start = Infinity) is never granted, not even with an unbounded wait.
  if nb.start == INF or (nb.mw >= 0 and waitMs > nb.mw) then
    return { 'wait_too_long', fmt(waitMs), nb.binding }
  end
  return nil
end

local function book(nb)
  redis.call('HSET', META, 'seq', fmt(nb.seq))
  redis.call('HSET', META, nb.ltField, fmt(nb.tag))
  for _, w in ipairs(windows) do
    local cost = costOn(w, nb.tokens)
    insert(w.all, nb.at, nb.seq, cost)
    if nb.maxShare ~= nil then tinsert(w.cap, nb.tenant, nb.at, nb.seq, cost) end
  end
end

-- Books the requests of one call (items), in order, as if each were its own call, except that once
-- one of them goes before a waiting booking, it and every later one queue in ONE re-slot of what
-- waits after the earliest place any of them takes: a burst of k calls landing mid-queue costs one
-- pass over the queue, not k. Returns a reply per item and the (id, new start) of every booking moved.
local function reserveItems(items)
  pruneAll()
  local blk = blocked()
  local replies, moved = {}, {}
  local anyCalendar = false
  for _, w in ipairs(windows) do if w.ps then anyCalendar = true end end

  -- The earliest start >= from at which every window, and the tenant's share, has room for b, on
  -- the logs as allEarliest / tenantEarliest see them.
  local function slotFor(b, from, fromBinding, allEarliest, tenantEarliest)
    local start, binding, capped = from, fromBinding, false
    if blk > start then start = blk; binding = 'retry_after' end
    for _ = 0, 2 * #windows do
      local again = false
      for i, w in ipairs(windows) do
        local cost = costOn(w, b.tokens)
        local t = allEarliest(i, w, start, cost, w.limit)
        if t > start then start = t; binding = w.name; capped = false; again = true end
        if b.maxShare ~= nil then
          local tt = tenantEarliest(i, w, b.tenant, start, cost, shareLimit(w, b.maxShare))
          if tt > start then start = tt; binding = shareDimension(w); capped = true; again = true end
        end
      end
      -- Without calendar windows each answer is max(start, a bound that does not depend on
      -- start): one round settles it.
      if not again or start == INF or not anyCalendar then break end
    end
    return start, binding, capped
  end

  -- The floor: the latest start queued before queue rank r (all of the queue when r is nil; queue
  -- order has starts non-decreasing), with the binding of the first booking at that start.
  local function floorBefore(r)
    local prev
    if r then
      if r > 0 then prev = redis.call('ZRANGE', QUEUE, r - 1, r - 1, 'WITHSCORES') end
    else
      prev = redis.call('ZRANGE', QUEUE, -1, -1, 'WITHSCORES')
    end
    local floor, floorBinding = now, ''
    if prev and #prev > 0 and num(prev[2]) > now then
      floor = num(prev[2])
      local first = redis.call('ZRANGEBYSCORE', QUEUE, prev[2], prev[2], 'LIMIT', 0, 1)
      local fb = booking(qid(first[1]))
      if fb then floorBinding = fb.binding end
    end
    return prev, floor, floorBinding
  end

  -- Nothing moves (the common case): the slot straight from the logs, last in queue order. Its
  -- queue member takes the current ord (every member has one at most that, and a smaller seq).
  -- A sliding window's bound does not depend on from: each is scanned once, and only back to
  -- floor - interval (every start asked for is at least the floor).
  local function bookLast(nb)
    local _, floor, floorBinding = floorBefore(nil)
    local bounds = {}
    local function memo(k, w, from, f)
      if w.ps then return f(from) end
      local e = bounds[k]
      if e == nil then e = f(-INF); bounds[k] = e end
      return math.max(from, e)
    end
    nb.start, nb.binding, nb.capped = slotFor(nb, floor, floorBinding,
      function(i, w, from, cost, limit)
        return memo('a' .. i, w, from, function(x) return earliestOn(w, x, cost, limit, floor - w.interval) end)
      end,
      function(i, w, tn, from, cost, limit)
        return memo('t' .. i, w, from, function(x)
          return tearliestOn(w, tn, x, cost, limit, floor - w.interval)
        end)
      end)
    local no = refusedBy(nb)
    if no then return no end
    nb.at = nb.start + nb.slack
    book(nb)
    nb.ord = tonumber(redis.call('HGET', META, 'ord') or '0')
    save(nb)
    redis.call('ZADD', QUEUE, fmt(nb.start), qmember(nb))
    waiting(nb, 1)
    return { 'granted', nb.id, fmt(nb.start), fmt(nb.start - now) }
  end

  -- Which of nbs go before some waiting booking (a higher class, an earlier tag, or a capped
  -- booking their share lets start later than they could; aged ones are never passed): for each
  -- that does, the queue member of the first such booking. One scan of the queue for all of them.
  local function cutting(nbs)
    local open, out = {}, {}
    for _, nb in ipairs(nbs) do if mayCut(nb) then open[#open + 1] = nb end end
    local off = 0
    while #open > 0 do
      local batch = redis.call('ZRANGEBYSCORE', QUEUE, '(' .. fmt(now), '+inf', 'LIMIT', off, 64)
      if #batch == 0 then break end
      for _, m in ipairs(batch) do
        local b = booking(qid(m))
        if b and not b.sent and b.start > now and not pinned(b) then
          local rest = {}
          for _, nb in ipairs(open) do
            if ahead(nb, b) or (b.capped and math.max(nb.lower, blk) < b.start) then out[nb] = m
            else rest[#rest + 1] = nb end
          end
          open = rest
          if #open == 0 then break end
        end
      end
      off = off + 64
    end
    return out
  end

  local seq = tonumber(redis.call('HGET', META, 'seq') or '0')
  local together

  -- Placed together: the requests pending (call order), in one re-slot of everything waiting
  -- after the earliest place any of them takes. Tags are given in call order, as if every earlier
  -- one were granted. Refusals are decided one at a time, the first in call order first, each
  -- followed by placing the rest again without it: what the calls one by one would be answered.
  together = function(pending, exact)
    for _, k in ipairs(pending) do items[k].cutRank = nil end
    local nbs
    local function place()
      nbs = {}
      local lastTag, s = {}, seq
      for _, k in ipairs(pending) do
        local nb, never = newBooking(items[k], s + 1, lastTag)
        if not nb then
          replies[k] = never
        else
          s = s + 1
          nb.item = k
          lastTag[nb.ltField] = nb.tag
          nbs[#nbs + 1] = nb
        end
      end
    end
    place()
    -- Each one's own cut (queue rank), and the earliest of them.
    local cutRank = nil
    for nb, m in pairs(cutting(nbs)) do
      local r = redis.call('ZRANK', QUEUE, m)
      items[nb.item].cutRank = r
      if cutRank == nil or r < cutRank then cutRank = r end
    end
    local prev, floor, floorBinding = floorBefore(cutRank)

    -- Every waiting booking after the cut is re-slotted; sent early (confirmed before their start)
    -- ones keep their place (the largest queue member of those at each start is kept in sentMax).
    local displaced, before, excl, sentMax = {}, {}, {}, {}
    if cutRank then
      local tail = redis.call('ZRANGE', QUEUE, cutRank, -1)
      local records = {}
      for from = 1, #tail, 256 do
        local ids = {}
        for j = from, math.min(from + 255, #tail) do ids[#ids + 1] = qid(tail[j]) end
        local vs = redis.call('HMGET', BOOK, unpack(ids))
        for j = 1, #ids do records[from + j - 1] = parseBooking(ids[j], vs[j]) end
      end
      for j, m in ipairs(tail) do
        local b = records[j]
        if b and not b.sent then
          b.qrank = cutRank + j - 1
          displaced[#displaced + 1] = b
          before[#before + 1] = { start = b.start, at = b.at, binding = b.binding, capped = b.capped, ord = b.ord }
          b.was = before[#before]
          excl[b.seq] = true
        elseif b then
          local cur = sentMax[b.start]
          if cur == nil or m > cur then sentMax[b.start] = m end
        end
      end
    end
    local slackOf = {}

    -- Re-slot on in-script copies of the logs: each turn the next slot goes to the booking that can
    -- start earliest, ties to the one first in queue order; only the first waiting booking of each
    -- class and tenant competes.
    local function exclOf(w, forTenant)
      local list = {}
      for _, b in ipairs(displaced) do
        if forTenant == nil or (b.maxShare ~= nil and b.tenant == forTenant) then
          list[#list + 1] = { b.at, costOn(w, b.tokens) }
        end
      end
      return list
    end
      local function reslot()
      -- A displaced booking stands the allowance of the requests that went before it later (a run
      -- shares one), as those calls one by one would leave it; one no request passes any more
      -- (the one that did was refused) keeps its own.
      slackOf = {}
      local lowest = nil
      for _, nb in ipairs(nbs) do
        local r = items[nb.item].cutRank
        if r ~= nil and (lowest == nil or r < lowest) then lowest = r end
      end
      for _, b in ipairs(displaced) do
        if lowest ~= nil and lowest <= b.qrank then slackOf[b] = nbs[1].slack end
      end
      local allViews, tenantViews = {}, {}
      local function allView(i, w)
        local v = allViews[i]
        if not v then
          local list = {}
          if w.ps then list = exclOf(w, nil) end
          v = newView(w, nil, excl, list, floor - w.interval)
          allViews[i] = v
        end
        return v
      end
      local function tenantView(i, w, tn)
        tenantViews[i] = tenantViews[i] or {}
        local v = tenantViews[i][tn]
        if not v then
          local list = {}
          if w.ps then list = exclOf(w, tn) end
          v = newView(w, tn, excl, list, floor - w.interval)
          tenantViews[i][tn] = v
        end
        return v
      end
      local function viewEarliest(i, w, from, cost, limit) return vearliest(allView(i, w), from, cost, limit) end
      local function tviewEarliest(i, w, tn, from, cost, limit)
        return vearliest(tenantView(i, w, tn), from, cost, limit)
      end

      local todo = {}
      for _, b in ipairs(displaced) do todo[#todo + 1] = b end
      for _, nb in ipairs(nbs) do todo[#todo + 1] = nb end
      -- Lanes in queue order (their order does not matter: ties go by compareQueue). A lane mostly
      -- comes sorted already, so it is sorted only if it is not.
      local lanes, laneOf = {}, {}
      for _, b in ipairs(todo) do
        local key
        if pinned(b) then key = 'p\\0' .. b.tenant else key = fmt(b.rank) .. '\\0' .. b.tenant end
        local lane = laneOf[key]
        if not lane then
          lane = { list = {}, next = 1 }
          laneOf[key] = lane
          lanes[#lanes + 1] = lane
        end
        lane.list[#lane.list + 1] = b
      end
      local function precedes(x, y) return compareQueue(x, y) < 0 end
      for _, lane in ipairs(lanes) do
        local list = lane.list
        for j = 2, #list do
          if precedes(list[j], list[j - 1]) then table.sort(list, precedes); break end
        end
      end
      local t, binding = floor, floorBinding
      for _ = 1, #todo do
        local best, bs, bb, bc
        for _, lane in ipairs(lanes) do
          local b = lane.list[lane.next]
          if b then
            local s, sb, sc = slotFor(b, t, binding, viewEarliest, tviewEarliest)
            if not best or s < bs or (s == bs and compareQueue(b, best.list[best.next]) < 0) then
              best, bs, bb, bc = lane, s, sb, sc
            end
          end
        end
        if not best then break end
        local b = best.list[best.next]
        best.next = best.next + 1
        b.start, b.binding, b.capped = bs, bb, bc
        if bs ~= INF then
          b.at = bs + (b.slack or slackOf[b] or (b.was.at - b.was.start))
          for i, w in ipairs(windows) do
            local cost = costOn(w, b.tokens)
            vinsert(allView(i, w), b.at, b.seq, cost)
            if b.maxShare ~= nil then vinsert(tenantView(i, w, b.tenant), b.at, b.seq, cost) end
          end
          t, binding = bs, bb
        end
      end
    end

    -- The run ends at its first refusal, judged as that call alone would be: with only the calls
    -- before it placed. Refused there, it is answered and those before it are placed without it;
    -- let in there, one by one it would be granted and then moved by a later call, so it is placed
    -- with those before it. The caller goes on after the last call answered.
    local last = pending[#pending]
    local function restore()
      for j, b in ipairs(displaced) do
        local was = before[j]
        b.start, b.at, b.binding, b.capped = was.start, was.at, was.binding, was.capped
      end
    end
    reslot()
    local refused = nil
    for _, nb in ipairs(nbs) do
      if refusedBy(nb) then refused = nb; break end
    end
    if refused then
      last = refused.item
      local upTo = {}
      for _, k in ipairs(pending) do if k <= last then upTo[#upTo + 1] = k end end
      pending = upTo
      restore()
      place()
      reslot()
      local no = refusedBy(nbs[#nbs])
      if no then
        replies[last] = no
        local earlier = {}
        for _, k in ipairs(pending) do if k < last then earlier[#earlier + 1] = k end end
        pending = earlier
        restore()
        place()
        if #nbs > 0 then reslot() end
      end
    end
    -- Fewer calls never place an earlier one later; should one still be refused now, the caller
    -- places the run's calls one by one instead (nothing has been written yet).
    if exact then
      for _, nb in ipairs(nbs) do if refusedBy(nb) then return false end end
    end
    if #nbs == 0 then return last end

    for _, nb in ipairs(nbs) do
      book(nb)
      replies[nb.item] = { 'granted', nb.id, fmt(nb.start), fmt(nb.start - now) }
    end
    -- Requeued bookings by start; writes only for what changed.
    local groups, starts = {}, {}
    local function group(b, was)
      local g = groups[b.start]
      if not g then
        g = {}
        groups[b.start] = g
        starts[#starts + 1] = b.start
      end
      g[#g + 1] = { b = b, was = was }
    end
    for k, b in ipairs(displaced) do
      local was = before[k]
      if b.start ~= was.start then
        b.displaced = true
        moved[#moved + 1] = b.id
        moved[#moved + 1] = fmt(b.start)
      end
      if b.start == INF then
        -- A booking no calendar period can hold any more is gone: its caller books again.
        for _, w in ipairs(windows) do
          local cost = costOn(w, b.tokens)
          remove(w.all, b.seq, cost)
          if b.maxShare ~= nil then tremove(w.cap, b.tenant, b.seq, cost) end
        end
        b.capped = was.capped
        b.ord = was.ord
        close(b)
      else
        if b.at ~= was.at then
          for _, w in ipairs(windows) do
            local cost = costOn(w, b.tokens)
            if cost > 0 then
              redis.call('ZADD', w.all.key, 'XX', fmt(b.at), member(b.seq, cost))
              if b.maxShare ~= nil then
                redis.call('ZADD', w.cap.key, 'XX', fmt(b.at), tmember(b.seq, cost, b.tenant))
              end
            end
          end
        end
        if b.capped ~= was.capped then
          local d = -1
          if b.capped then d = 1 end
          if redis.call('HINCRBY', DEPTH, 'cap', d) <= 0 then redis.call('HDEL', DEPTH, 'cap') end
        end
        group(b, was)
      end
    end
    for _, nb in ipairs(nbs) do group(nb, nil) end

    -- Queue order (as the memory store's): at one start, the bookings kept before the cut, then the
    -- sent ones after it, then the requeued ones by seq. A member is (ord, seq), so requeued bookings
    -- at a start that share one ord sort by seq: the ones that kept their start keep their member
    -- when they all have the same ord and it sorts after the kept and sent ones at that start; the
    -- others there take that ord too. Otherwise the whole start takes a fresh ord.
    local keptMax, keptStart = nil, nil
    if prev and #prev > 0 then keptMax, keptStart = prev[1], num(prev[2]) end
    local ordNow = tonumber(redis.call('HGET', META, 'ord') or '0')
    local fresh = nil
    for _, s in ipairs(starts) do
      local g = groups[s]
      for j = 2, #g do
        if g[j].b.seq < g[j - 1].b.seq then
          table.sort(g, function(x, y) return x.b.seq < y.b.seq end)
          break
        end
      end
      local limit = sentMax[s]
      if keptStart == s and (limit == nil or keptMax > limit) then limit = keptMax end
      local ord = nil
      for _, e in ipairs(g) do
        if e.was and e.was.start == s then
          if ord == nil then ord = e.was.ord elseif ord ~= e.was.ord then ord = false; break end
        end
      end
      if ord and limit ~= nil and qkey(ord, g[1].b.seq) <= limit then ord = false end
      if not ord then
        if fresh == nil then fresh = ordNow + 1 end
        ord = fresh
      end
      for _, e in ipairs(g) do
        local b, was = e.b, e.was
        b.ord = ord
        if was == nil then
          save(b)
          redis.call('ZADD', QUEUE, fmt(b.start), qmember(b))
        else
          local same = (ord == was.ord)
          if not same then redis.call('ZREM', QUEUE, qkey(was.ord, b.seq)) end
          if not same or b.start ~= was.start then redis.call('ZADD', QUEUE, fmt(b.start), qmember(b)) end
          if not same or b.start ~= was.start or b.at ~= was.at or b.binding ~= was.binding
            or b.capped ~= was.capped then
            save(b)
          end
        end
      end
    end
    if fresh ~= nil then redis.call('HSET', META, 'ord', fmt(fresh)) end
    for _, nb in ipairs(nbs) do waiting(nb, 1) end
    return last
  end

  -- In call order: one that moves nothing is booked on its own; one that does starts a run of
  -- the calls after it that each go before a waiting booking too, placed together. A run ends
  -- before a call that would go before an earlier one of the run (a higher class, or an earlier
  -- tag: a burst of one tenant's calls never does), that is pinned from its arrival (aging 0),
  -- that has another transit allowance (the limiter gives one per model), or that can never fit:
  -- those are where placing together and one by one part ways.
  local k = 1
  while k <= #items do
    local nb, never = newBooking(items[k], seq + 1, {})
    if not nb then
      replies[k] = never
      k = k + 1
    elseif not cutting({ nb })[nb] then
      replies[k] = bookLast(nb)
      if replies[k][1] == 'granted' then seq = seq + 1 end
      k = k + 1
    else
      local group = { k }
      -- With a calendar window, periods running out drop bookings one by one in ways a run placed
      -- together does not reproduce: there every call is its own run.
      if not pinned(nb) and not anyCalendar then
        local run, lastTag, s = {}, { [nb.ltField] = nb.tag }, seq + 1
        local lowestRank, topTag = nb.rank, { [nb.rank] = nb.tag }
        for j = k + 1, #items do
          local x = newBooking(items[j], s + 1, lastTag)
          if not x or pinned(x) or x.slack ~= nb.slack or x.rank < lowestRank
            or (topTag[x.rank] ~= nil and x.tag < topTag[x.rank]) then break end
          s = s + 1
          x.item = j
          lastTag[x.ltField] = x.tag
          lowestRank = math.max(lowestRank, x.rank)
          if topTag[x.rank] == nil or x.tag > topTag[x.rank] then topTag[x.rank] = x.tag end
          run[#run + 1] = x
        end
        local cuts = cutting(run)
        for _, x in ipairs(run) do
          if not cuts[x] then break end
          group[#group + 1] = x.item
        end
      end
      local last = together(group, #group > 1)
      if last then
        k = last + 1
      else
        together({ k }, false)
        k = k + 1
      end
      seq = tonumber(redis.call('HGET', META, 'seq') or '0')
    end
  end
  return replies, moved
end

-- The calls of one replica (req.items, in order, often just one): 'batch', the moved bookings'
-- (id, new start) pairs, then one reply per call.
local function reserve()
  local replies, moved = reserveItems(req.items)
  local out = { 'batch', moved }
  for _, r in ipairs(replies) do out[#out + 1] = r end
  return out
end

-- Check-and-stamp at send time, against what was really sent: bookings not yet confirmed check
-- themselves when they are.
local function confirm()
  local b = booking(req.id)
  if not b then return { 'lost' } end
  if b.sent then return { 'ok' } end
  -- Moved later while its caller slept (a caller in another process learns it here).
  if b.displaced and b.start > now then return { 'moved', fmt(b.start) } end
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
  b.margin = margin(req.m)
  markSent(b, now + b.margin)
  local vf = 'v:' .. fmt(b.rank)
  if b.tag > num(redis.call('HGET', META, vf) or '0') then redis.call('HSET', META, vf, fmt(b.tag)) end
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
    if b.maxShare ~= nil then
      local tenantTime = ttime(w.cap, b.tenant, b.seq, old) or time
      tremove(w.cap, b.tenant, b.seq, old)
      tinsert(w.cap, b.tenant, tenantTime, b.seq, cost)
    end
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
    if b.maxShare ~= nil then tremove(w.cap, b.tenant, b.seq, cost) end
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
  -- Waiting bookings by class and tenant, ordered by class then tenant.
  local groups = {}
  local all = redis.call('HGETALL', DEPTH)
  for j = 1, #all, 2 do
    local r, tn = string.match(all[j], '^q([^:]*):(.*)$')
    if r ~= nil and tonumber(all[j + 1]) > 0 then groups[#groups + 1] = { num(r), tn, all[j + 1] } end
  end
  table.sort(groups, function(x, y) return x[1] < y[1] or (x[1] == y[1] and x[2] < y[2]) end)
  for _, g in ipairs(groups) do
    out[#out + 1] = fmt(g[1]); out[#out + 1] = g[2]; out[#out + 1] = g[3]
  end
  return out
end

-- Keys live while anything in them can still matter, plus a minute for late commits. Expiry is
-- only ever extended, and the meta hash is in every call, so it outlives every window key (its
-- seq counter must never restart while old members exist).
local function keepAlive()
  local horizon = math.max(now, blocked())
  for _, w in ipairs(windows) do
    for _, key in ipairs({ w.all.key, w.sent.key, w.cap.key }) do
      local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
      if #last > 0 then
        local t = num(last[2])
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
  if #q > 0 then horizon = math.max(horizon, num(q[2])) end
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
  for tn, _ in pairs(w.cap.dirty) do
    local s = w.cap.cache[tn]
    if s == 0 then redis.call('HDEL', w.cap.sums, tn) else redis.call('HSET', w.cap.sums, tn, fmt(s)) end
  end
end
if op ~= 'status' or redis.call('EXISTS', META) == 1 then keepAlive() end
result[#result + 1] = fmt(now)
return result
`;
