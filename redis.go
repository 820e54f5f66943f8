package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis secondary storage, key- and value-compatible with upstream's secondaryStorage as written
// by @better-auth/redis-storage (upstream packages/redis-storage/src/redis-storage.ts) and read
// and written by upstream packages/better-auth/src/db/internal-adapter.ts, so that a Node server
// and ours can share one Redis. Every key starts with REDIS_KEY_PREFIX ("better-auth:"):
//
//	{token}                      {"session":{…},"user":{…}}, TTL to session.expiresAt
//	active-sessions-{userId}     [{"token","expiresAt" (epoch ms)}], ascending, TTL to the last
//	revoked-sessions-before-{u}  epoch ms: sessions of u created before it are revoked
//	verification:{identifier}    the verification row as JSON, TTL to expiresAt
//	{ip}|{path}                  a rate-limit counter: INCR, EXPIRE on the first
//
// Each operation that reads and writes several keys is one Lua script, so it is atomic and one
// round trip: a session lookup is one EVALSHA (the token and the user's revocation marker).

// redisStore is the client with the key prefix and the scripts.
type redisStore struct {
	c      *redis.Client
	prefix string
	// onError counts a failed call (metrics.go) and notes it for the outage handling.
	onError func(op string, err error)
	// degraded is set when a call failed and cleared by the repair loop once Redis answers
	// again and everything missed has been repaired (sessionstore.go).
	degraded atomic.Bool
}

// errRedisUnavailable marks Redis failures; writeError answers them 503.
var errRedisUnavailable = errors.New("redis unavailable")

func newRedisStore(c redisConfig) *redisStore {
	opts := *c.options
	// Fail fast while Redis is down: requests answer (503, or from Postgres) within a second
	// rather than queueing behind the default retries and timeouts.
	opts.MaxRetries = 1
	opts.DialTimeout = time.Second
	opts.ReadTimeout = time.Second
	opts.WriteTimeout = time.Second
	opts.ContextTimeoutEnabled = true
	return &redisStore{c: redis.NewClient(&opts), prefix: c.KeyPrefix}
}

func (r *redisStore) key(k string) string { return r.prefix + k }

// fail wraps a Redis error (never redis.Nil, which is a miss) and reports it.
func (r *redisStore) fail(op string, err error) error {
	if r.onError != nil {
		r.onError(op, err)
	}
	if r.degraded.CompareAndSwap(false, true) {
		slog.Warn("redis unavailable", "op", op, "err", err)
	}
	return fmt.Errorf("redis %s: %w: %w", op, errRedisUnavailable, err)
}

// ping is the readiness check.
func (r *redisStore) ping(ctx context.Context) error {
	if err := r.c.Ping(ctx).Err(); err != nil {
		return r.fail("ping", err)
	}
	return nil
}

// luaLists holds the helpers every session script shares: reading the active-sessions list
// without its expired entries, and writing it back sorted with its TTL (upstream's
// setActiveSessionReferences), written as JSON.stringify writes it.
const luaLists = `
local function read_list(key, now)
  local raw = redis.call("GET", key)
  local out = {}
  if not raw then return out end
  local ok, list = pcall(cjson.decode, raw)
  if not ok or type(list) ~= "table" then return out end
  for _, e in ipairs(list) do
    if type(e) == "table" and type(e.token) == "string" and tonumber(e.expiresAt) and tonumber(e.expiresAt) > now then
      out[#out + 1] = {token = e.token, expiresAt = tonumber(e.expiresAt)}
    end
  end
  return out
end
local function write_list(key, list, now)
  table.sort(list, function(a, b) return a.expiresAt < b.expiresAt end)
  local last = list[#list]
  local ttl = 0
  if last then ttl = math.floor((last.expiresAt - now) / 1000) end
  if ttl <= 0 then
    redis.call("DEL", key)
    return
  end
  local parts = {}
  for i, e in ipairs(list) do
    parts[i] = '{"token":' .. cjson.encode(e.token) .. ',"expiresAt":' .. string.format("%.0f", e.expiresAt) .. '}'
  end
  redis.call("SET", key, "[" .. table.concat(parts, ",") .. "]", "EX", ttl)
end
local function without(list, tokens)
  local out = {}
  for _, e in ipairs(list) do
    if not tokens[e.token] then out[#out + 1] = e end
  end
  return out
end
local function user_of(value)
  local ok, v = pcall(cjson.decode, value)
  if ok and type(v) == "table" and type(v.session) == "table" and type(v.session.userId) == "string" then
    return v.session.userId, tostring(v.session.id or "")
  end
  return nil, ""
end
`

// findScript: the session value and its user's revocation marker, in one round trip.
// KEYS[1] = {token}; ARGV[1] = prefix. The user id is found by its key rather than by decoding
// the whole value, which would cost Redis's one thread ~30 µs a lookup: in the value's JSON an
// unescaped `"userId":"` can only be a key, and the first is the session's, which both servers
// write before the user.
var findScript = redis.NewScript(luaLists + `
local v = redis.call("GET", KEYS[1])
if not v then return false end
local uid = string.match(v, '"userId":"([^"\\]*)"')
if not uid then uid = user_of(v) end
local before = false
if uid then before = redis.call("GET", ARGV[1] .. "revoked-sessions-before-" .. uid) end
return {v, before or ""}
`)

// putScript stores a session and lists it under its user (upstream createSession's mirror and
// updateSession). KEYS[1] = {token}, KEYS[2] = active-sessions-{userId}; ARGV = value, ttl,
// token, expiresAt ms, now ms, mode ("create", or "update": only an existing session, keeping
// its stored user).
var putScript = redis.NewScript(luaLists + `
local value = ARGV[1]
if ARGV[6] == "update" then
  local cur = redis.call("GET", KEYS[1])
  if not cur then return 0 end
  local at = string.find(cur, ',"user":', 1, true)
  if not at then return 0 end
  value = value .. string.sub(cur, at)
end
redis.call("SET", KEYS[1], value, "EX", ARGV[2])
local now = tonumber(ARGV[5])
local list = without(read_list(KEYS[2], now), {[ARGV[3]] = true})
list[#list + 1] = {token = ARGV[3], expiresAt = tonumber(ARGV[4])}
write_list(KEYS[2], list, now)
return 1
`)

// deleteScript ends one session (upstream deleteSession), optionally only if it is userId's,
// and answers its user id and session id. A key whose value is not a session is left alone, as
// upstream's deleteSession leaves it: admin revoke-user-session takes any string as its token,
// and must not delete a revocation marker, a rate-limit counter or a verification value.
// KEYS[1] = {token}; ARGV = prefix, now ms, required user id or "".
var deleteScript = redis.NewScript(luaLists + `
local v = redis.call("GET", KEYS[1])
if not v then return false end
local uid, sid = user_of(v)
if not uid or (ARGV[3] ~= "" and uid ~= ARGV[3]) then return false end
redis.call("DEL", KEYS[1])
local lk = ARGV[1] .. "active-sessions-" .. uid
local now = tonumber(ARGV[2])
write_list(lk, without(read_list(lk, now), {[string.sub(KEYS[1], #ARGV[1] + 1)] = true}), now)
return {uid, sid}
`)

// deleteUserScript ends a user's sessions (upstream deleteUserSessions): every listed one and
// the extra tokens given, but not the kept one; with a kept token of "" it also sets the
// revoked-sessions-before marker, so that no session of the user created before now survives
// on any server. KEYS[1] = active-sessions-{userId}, KEYS[2] = revoked-sessions-before-{userId};
// ARGV = prefix, now ms, marker TTL, kept token, extra tokens…; answers token, session id, …
// for each session deleted.
var deleteUserScript = redis.NewScript(luaLists + `
local now = tonumber(ARGV[2])
local list = read_list(KEYS[1], now)
local gone, out = {}, {}
local function drop(t)
  if t ~= ARGV[4] and not gone[t] then
    gone[t] = true
    local v = redis.call("GET", ARGV[1] .. t)
    if v then
      redis.call("DEL", ARGV[1] .. t)
      local _, sid = user_of(v)
      out[#out + 1] = t
      out[#out + 1] = sid
    end
  end
end
for _, e in ipairs(list) do drop(e.token) end
for i = 5, #ARGV do drop(ARGV[i]) end
if ARGV[4] == "" then
  local prev = tonumber(redis.call("GET", KEYS[2]) or "0") or 0
  redis.call("SET", KEYS[2], string.format("%.0f", math.max(now, prev)), "EX", ARGV[3])
end
write_list(KEYS[1], without(list, gone), now)
return out
`)

// listScript answers the revocation marker and the values of a user's listed, unexpired
// sessions (upstream listSessions). KEYS[1] = active-sessions-{userId}, KEYS[2] = marker;
// ARGV = prefix, now ms.
var listScript = redis.NewScript(luaLists + `
local out = {redis.call("GET", KEYS[2]) or ""}
local seen = {}
for _, e in ipairs(read_list(KEYS[1], tonumber(ARGV[2]))) do
  if not seen[e.token] then
    seen[e.token] = true
    local v = redis.call("GET", ARGV[1] .. e.token)
    if v then out[#out + 1] = v end
  end
end
return out
`)

// userScript rewrites the user part of each of a user's sessions, keeping their TTLs (upstream
// refreshUserSessions). KEYS[1] = active-sessions-{userId}; ARGV = prefix, now ms, user JSON.
var userScript = redis.NewScript(luaLists + `
for _, e in ipairs(read_list(KEYS[1], tonumber(ARGV[2]))) do
  local k = ARGV[1] .. e.token
  local v = redis.call("GET", k)
  if v then
    local at = string.find(v, ',"user":', 1, true)
    if at then redis.call("SET", k, string.sub(v, 1, at - 1) .. ',"user":' .. ARGV[3] .. "}", "KEEPTTL") end
  end
end
return 1
`)

// incrScript is @better-auth/redis-storage's increment: INCR, and EXPIRE on the first.
var incrScript = redis.NewScript(`
local value = redis.call("INCR", KEYS[1])
if value == 1 then redis.call("EXPIRE", KEYS[1], ARGV[1]) end
return value
`)

// ttlSeconds is upstream's getTTLSeconds: whole seconds until expires, at least 0.
func ttlSeconds(expires, now time.Time) int64 {
	return max(expires.Sub(now).Milliseconds()/1000, 0)
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// getSession answers the stored value of token and the user's revocation marker (epoch ms, 0 if
// none), or nil on a miss.
func (r *redisStore) getSession(ctx context.Context, token string) ([]byte, int64, error) {
	res, err := findScript.Run(ctx, r.c, []string{r.key(token)}, r.prefix).Slice()
	if errors.Is(err, redis.Nil) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, r.fail("get session", err)
	}
	v, _ := res[0].(string)
	marker, _ := res[1].(string)
	before, _ := strconv.ParseInt(marker, 10, 64)
	return []byte(v), before, nil
}

// putSession writes a session value (create) or its session part (update, which does nothing
// when the session is not stored). value is the whole {"session","user"} JSON on create and
// only `{"session":{…}` on update.
// It answers whether the session is stored now.
func (r *redisStore) putSession(ctx context.Context, token, userID string, value []byte, expires, now time.Time, update bool) (bool, error) {
	ttl := ttlSeconds(expires, now)
	if ttl <= 0 {
		return false, nil
	}
	mode := "create"
	if update {
		mode = "update"
	}
	n, err := putScript.Run(ctx, r.c, []string{r.key(token), r.key("active-sessions-" + userID)},
		value, ttl, token, expires.UnixMilli(), now.UnixMilli(), mode).Int()
	if err != nil {
		return false, r.fail("put session", err)
	}
	return n == 1, nil
}

// deleteSession deletes token's session, only if it is ownerID's when ownerID is set, and
// answers whose it was ("" when there was none).
// It also answers the session's id.
func (r *redisStore) deleteSession(ctx context.Context, token, ownerID string, now time.Time) (userID, id string, err error) {
	res, err := deleteScript.Run(ctx, r.c, []string{r.key(token)}, r.prefix, now.UnixMilli(), ownerID).StringSlice()
	if errors.Is(err, redis.Nil) {
		return "", "", nil
	}
	if err != nil {
		return "", "", r.fail("delete session", err)
	}
	return res[0], res[1], nil
}

// deleteUserSessions deletes userID's sessions but keep's, and the extra tokens; with keep ""
// it marks every session of the user created before now revoked. It answers the tokens and ids
// of the sessions deleted.
func (r *redisStore) deleteUserSessions(ctx context.Context, userID, keep string, extra []string, markerTTL time.Duration, now time.Time) (tokens, ids []string, err error) {
	args := []any{r.prefix, now.UnixMilli(), int64(markerTTL.Seconds()), keep}
	for _, t := range extra {
		args = append(args, t)
	}
	pairs, err := deleteUserScript.Run(ctx, r.c, []string{r.key("active-sessions-" + userID), r.key("revoked-sessions-before-" + userID)}, args...).StringSlice()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, r.fail("delete user sessions", err)
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		tokens, ids = append(tokens, pairs[i]), append(ids, pairs[i+1])
	}
	return tokens, ids, nil
}

// listSessions answers the user's revocation marker and stored session values.
func (r *redisStore) listSessions(ctx context.Context, userID string, now time.Time) (int64, []string, error) {
	res, err := listScript.Run(ctx, r.c, []string{r.key("active-sessions-" + userID), r.key("revoked-sessions-before-" + userID)}, r.prefix, now.UnixMilli()).StringSlice()
	if err != nil {
		return 0, nil, r.fail("list sessions", err)
	}
	before, _ := strconv.ParseInt(res[0], 10, 64)
	return before, res[1:], nil
}

// setUser rewrites the user part of userID's stored sessions.
func (r *redisStore) setUser(ctx context.Context, userID string, userJSON []byte, now time.Time) error {
	if err := userScript.Run(ctx, r.c, []string{r.key("active-sessions-" + userID)}, r.prefix, now.UnixMilli(), userJSON).Err(); err != nil {
		return r.fail("update user sessions", err)
	}
	return nil
}

// set stores value under key for ttl (SETEX), as the storage's set does.
func (r *redisStore) set(ctx context.Context, key string, value []byte, ttl int64) error {
	if ttl <= 0 {
		return nil
	}
	if err := r.c.Set(ctx, r.key(key), value, time.Duration(ttl)*time.Second).Err(); err != nil {
		return r.fail("set", err)
	}
	return nil
}

// get answers key's value, or nil.
func (r *redisStore) get(ctx context.Context, key string) ([]byte, error) {
	v, err := r.c.Get(ctx, r.key(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, r.fail("get", err)
	}
	return v, nil
}

// getDel reads and deletes key in one command (the storage's getAndDelete), so a value is
// consumed once however many ask at once.
func (r *redisStore) getDel(ctx context.Context, key string) ([]byte, error) {
	v, err := r.c.GetDel(ctx, r.key(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, r.fail("getdel", err)
	}
	return v, nil
}

// del deletes keys.
func (r *redisStore) del(ctx context.Context, keys ...string) error {
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.key(k)
	}
	if err := r.c.Del(ctx, full...).Err(); err != nil {
		return r.fail("del", err)
	}
	return nil
}

// increment is the storage's increment: the count after this request.
func (r *redisStore) increment(ctx context.Context, key string, ttl int64) (int64, error) {
	n, err := incrScript.Run(ctx, r.c, []string{r.key(key)}, ttl).Int64()
	if err != nil {
		return 0, r.fail("increment", err)
	}
	return n, nil
}
