package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// The session_data cookie cache in upstream's "compact" strategy (upstream
// packages/better-auth/src/cookies/index.ts, setCookieCache), byte-compatible so that
// getCookieCache() from better-auth/cookies can read ours in Next.js middleware:
//
//	base64url_nopad({"session":P,"expiresAt":E,"signature":S})
//	S = base64url_nopad(HMAC-SHA256(secret, JSON.stringify({...P, expiresAt: E})))
//
// P is {"session","user","updatedAt","version"}. The HMAC input is built from P's exact bytes, so
// P must be written as JSON.stringify would write it; writeJSValue does that.

const (
	maxCookieSize   = 4050 // upstream's per-cookie ceiling, under Safari's ~4093
	maxCookieChunks = 100
	cacheVersion    = "1"
)

// writeCookieCache sets session_data for as (chunked when large), expiring stale chunks.
func (s *server) writeCookieCache(w http.ResponseWriter, r *http.Request, as *authSession, dontRemember bool) {
	if s.cfg.CookieCacheMaxAge <= 0 {
		return
	}
	value, err := s.encodeCookieCache(as, dontRemember)
	if err != nil {
		return
	}
	opts := cookieOpts{maxAge: s.cfg.CookieCacheMaxAge, session: dontRemember}
	// Ours: one cookie or none. Upstream splits a large cache into chunks, and enough of them make
	// every later request from the browser too large to serve (431). A session too large for one
	// cookie has no cache; get-session reads it from Postgres.
	if len(s.cookieLine(s.cookieName(cookieSessionData), value, opts)) > maxCookieSize {
		s.expireChunks(w, r, cookieSessionData)
		return
	}
	s.setChunkedCookie(w, r, cookieSessionData, value, opts)
}

func (s *server) encodeCookieCache(as *authSession, dontRemember bool) (string, error) {
	sessionJSON, err := json.Marshal(as.Session)
	if err != nil {
		return "", err
	}
	userJSON, err := json.Marshal(as.User)
	if err != nil {
		return "", err
	}
	var p bytes.Buffer
	p.WriteString(`{"session":`)
	if err := writeJSValue(&p, sessionJSON); err != nil {
		return "", err
	}
	p.WriteString(`,"user":`)
	if err := writeJSValue(&p, userJSON); err != nil {
		return "", err
	}
	p.WriteString(`,"updatedAt":`)
	p.WriteString(strconv.FormatInt(s.now().UnixMilli(), 10))
	p.WriteString(`,"version":"` + cacheVersion + `"}`)

	maxAge := s.cfg.CookieCacheMaxAge
	if dontRemember {
		maxAge = 60
	}
	expiresAt := strconv.FormatInt(s.now().Add(time.Duration(maxAge)*time.Second).UnixMilli(), 10)
	payload := p.Bytes()
	var out bytes.Buffer
	out.WriteString(`{"session":`)
	out.Write(payload)
	out.WriteString(`,"expiresAt":` + expiresAt + `,"signature":"` + s.cacheSignature(payload, expiresAt) + `"}`)
	return base64.RawURLEncoding.EncodeToString(out.Bytes()), nil
}

// cacheSignature signs JSON.stringify({...payload, expiresAt}) given payload's canonical bytes.
func (s *server) cacheSignature(payload []byte, expiresAt string) string {
	mac := hmac.New(sha256.New, []byte(s.cfg.Secret))
	mac.Write(payload[:len(payload)-1])
	mac.Write([]byte(`,"expiresAt":` + expiresAt + `}`))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// cacheMayAnswer: only GET get-session answers from the cookie cache. Every other route, each
// write and each read that hands out secrets or credentials, loads the session from Postgres, so
// that a revoked or deleted session can do nothing there even while its cache cookie is valid
// (upstream lets any route answer from the cache; see COMPATIBILITY.md).
func cacheMayAnswer(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Pattern == "GET "+basePath+"/get-session"
}

// readCookieCache returns the cached session for token when the session_data cookie is present,
// correctly signed, for this token, of our version and unexpired. present reports whether a cache
// cookie was sent at all, so that a bad one can be expired.
func (s *server) readCookieCache(r *http.Request, token string) (as *authSession, present bool) {
	value, ok := s.chunkedCookie(r, cookieSessionData)
	if !ok {
		return nil, false
	}
	c, _ := s.cacheMemo.get(value)
	if c == nil {
		if c = s.decodeCookieCache(value); c == nil {
			return nil, true
		}
		s.cacheMemo.put(value, c)
	}
	now := s.now()
	if c.expiresAt < now.UnixMilli() || !constantTimeEqual(token, c.token) || c.as.Session.ExpiresAt.Time().Before(now) {
		return nil, true
	}
	if s.revocations.refuses(c.as.Session.ID) {
		return nil, true
	}
	// Shared with every request that sends this value, so read-only: only GET get-session
	// answers from the cache (cacheMayAnswer), and it only reads the session it is given.
	return &c.as, true
}

// cachedSession is a session_data value whose signature and version checked out; whether it is
// still valid (expiry, token) is decided at each request. It is immutable once memoized.
type cachedSession struct {
	as        authSession // as.encoded is set: the answer is encoded once, not per request
	token     []byte      // as.Session.Token, for the constant-time comparison of each request
	expiresAt int64       // Unix ms, the cookie's own expiry
}

// decodeCookieCache verifies and decodes a session_data value; nil when it is malformed, forged
// or of another version.
func (s *server) decodeCookieCache(value string) *cachedSession {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(value, "="))
	if err != nil {
		return nil
	}
	var outer struct {
		Session   json.RawMessage `json:"session"`
		ExpiresAt json.Number     `json:"expiresAt"`
		Signature string          `json:"signature"`
	}
	if json.Unmarshal(raw, &outer) != nil || len(outer.Session) < 2 || outer.Session[0] != '{' {
		return nil
	}
	want := s.cacheSignature(outer.Session, outer.ExpiresAt.String())
	if !hmac.Equal([]byte(want), []byte(outer.Signature)) {
		return nil
	}
	expiresAt, err := outer.ExpiresAt.Int64()
	if err != nil {
		return nil
	}
	// Decoded straight into the session and user, not through raw messages: every json.Unmarshal
	// validates its whole input before decoding it.
	var p struct {
		Session *session `json:"session"`
		User    *user    `json:"user"`
		Version string   `json:"version"`
	}
	if json.Unmarshal(outer.Session, &p) != nil || p.Session == nil || p.User == nil || (p.Version != "" && p.Version != cacheVersion) {
		return nil
	}
	c := &cachedSession{as: authSession{Session: *p.Session, User: *p.User}, token: []byte(p.Session.Token), expiresAt: expiresAt}
	if c.as.encoded, err = encodeJSON(c.as); err != nil {
		return nil
	}
	return c
}

// cookieMemoSize bounds each memo: at ~1 KB a value, a few MB at most.
const cookieMemoSize = 4096

// memo remembers cookie values already verified (and decoded), by their exact text. A client
// sends the same values on every request until they are rewritten, and verifying and decoding
// them was nearly all the work of a cache hit. Only correctly signed values are kept, and the map
// is emptied when full, which bounds its memory whatever clients send. Every request reads it and
// few write it, so readers share a read lock and never wait for each other. cacheMemo holds
// session_data values (cookiecache.go), tokenMemo session_token values (cookie.go).
type memo[V any] struct {
	mu      sync.RWMutex
	entries map[string]V
}

func (m *memo[V]) get(value string) (V, bool) {
	m.mu.RLock()
	v, ok := m.entries[value]
	m.mu.RUnlock()
	return v, ok
}

func (m *memo[V]) put(value string, v V) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil || len(m.entries) >= cookieMemoSize {
		m.entries = make(map[string]V)
	}
	m.entries[value] = v
}

// chunkedCookie joins name or its chunks name.0, name.1, … in index order.
func (s *server) chunkedCookie(r *http.Request, name string) (string, bool) {
	full := s.cookieName(name)
	if v, ok := rawCookie(r, full); ok && v != "" {
		return v, true
	}
	chunks := requestChunks(r, full)
	if len(chunks) == 0 {
		return "", false
	}
	var b strings.Builder
	for _, c := range chunks {
		v, _ := rawCookie(r, c.name)
		b.WriteString(v)
	}
	return b.String(), true
}

type cookieChunk struct {
	name  string
	index int
}

// requestChunks lists the chunk cookies (full.N) the request carries, sorted by index.
func requestChunks(r *http.Request, full string) []cookieChunk {
	var chunks []cookieChunk
	for _, header := range r.Header["Cookie"] { // Header.Values("Cookie"), the key already canonical
		for part := range strings.SplitSeq(header, ";") {
			k, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			suffix, ok := strings.CutPrefix(k, full+".")
			if !ok {
				continue
			}
			i, err := strconv.Atoi(suffix)
			if err != nil || i < 0 || strconv.Itoa(i) != suffix {
				continue
			}
			chunks = append(chunks, cookieChunk{name: k, index: i})
		}
	}
	sort.Slice(chunks, func(a, b int) bool { return chunks[a].index < chunks[b].index })
	return chunks
}

// setChunkedCookie writes value under name, split into name.0, name.1, … when one cookie would pass
// upstream's size ceiling, and expires whatever chunks the request carried that are not rewritten.
func (s *server) setChunkedCookie(w http.ResponseWriter, r *http.Request, name, value string, o cookieOpts) {
	full := s.cookieName(name)
	s.expireChunks(w, r, name)
	// Upstream sizes chunks by the serialized line of an empty "name.99" cookie with the same
	// attributes, so the chunk boundaries (and every line's length) match its own.
	size := maxCookieSize - len(s.cookieLine(full+".99", "", o))
	n := (len(value) + size - 1) / size
	switch {
	case n <= 1:
		s.setCookie(w, name, value, o)
	case n > maxCookieChunks:
		return
	default:
		for i := 0; i < n; i++ {
			end := min((i+1)*size, len(value))
			s.setCookie(w, name+"."+strconv.Itoa(i), value[i*size:end], o)
		}
	}
}

// expireChunks expires name and every name.N chunk the request carried.
func (s *server) expireChunks(w http.ResponseWriter, r *http.Request, name string) {
	full := s.cookieName(name)
	if _, ok := rawCookie(r, full); ok {
		s.expireCookie(w, name)
	}
	for _, c := range requestChunks(r, full) {
		s.expireCookie(w, strings.TrimPrefix(c.name, s.cookieName("")))
	}
}

// writeJSValue re-writes compact Go JSON the way JS JSON.stringify writes the same value: strings
// use JS escapes (\b \f, raw U+2028/U+2029, no HTML escaping), everything else is kept as is.
func writeJSValue(out *bytes.Buffer, goJSON []byte) error {
	dec := json.NewDecoder(bytes.NewReader(goJSON))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	return writeJS(out, v)
}

// writeJS writes a value decoded with UseNumber as JSON.stringify would, object keys sorted: also
// upstream's serializeCanonical, which the SSO provider fingerprint in sso.go uses. Any other Go
// type is an error rather than a guess.
func writeJS(out *bytes.Buffer, v any) error {
	switch t := v.(type) {
	case map[string]any:
		out.WriteByte('{')
		for i, k := range orderedKeys(t) {
			if i > 0 {
				out.WriteByte(',')
			}
			writeJSString(out, k)
			out.WriteByte(':')
			if err := writeJS(out, t[k]); err != nil {
				return err
			}
		}
		out.WriteByte('}')
	case []any:
		out.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				out.WriteByte(',')
			}
			if err := writeJS(out, e); err != nil {
				return err
			}
		}
		out.WriteByte(']')
	case string:
		writeJSString(out, t)
	case json.Number:
		out.WriteString(t.String())
	case bool:
		out.WriteString(strconv.FormatBool(t))
	case nil:
		out.WriteString("null")
	default:
		return fmt.Errorf("canonical json: unexpected %T", v)
	}
	return nil
}

// orderedKeys sorts keys; the HMAC only needs our writer and our reader to agree, and a reader
// (ours or upstream's) recomputes it over the bytes this writer produced.
func orderedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// writeJSString quotes s as JSON.stringify does (ECMA-262 QuoteJSONString).
func writeJSString(out *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	out.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x80 {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				out.WriteString("\uFFFD")
			} else {
				out.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		switch c {
		case '"':
			out.WriteString(`\"`)
		case '\\':
			out.WriteString(`\\`)
		case '\b':
			out.WriteString(`\b`)
		case '\f':
			out.WriteString(`\f`)
		case '\n':
			out.WriteString(`\n`)
		case '\r':
			out.WriteString(`\r`)
		case '\t':
			out.WriteString(`\t`)
		default:
			if c < 0x20 {
				out.WriteString(`\u00`)
				out.WriteByte(hex[c>>4])
				out.WriteByte(hex[c&15])
			} else {
				out.WriteByte(c)
			}
		}
		i++
	}
	out.WriteByte('"')
}
