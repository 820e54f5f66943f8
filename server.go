package main

// The server and its configuration: every handler is a method of server and reads config from it.

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// basePath is the route table's prefix: routes.go registers every route under it, and logs and
// metrics name routes by it. BASE_PATH (upstream's basePath) serves the table elsewhere.
const basePath = "/api/auth"

type config struct {
	DatabaseURL       string
	Secret            string
	SecretWarning     string // why the secret is weak or made up, printed when serving
	BaseURL           string // origin the app is served at; empty: taken from each request
	BasePath          string // upstream's basePath: where the routes are served; empty: /api/auth, "/": the root
	TrustedOrigins    []string
	Addr              string
	CookieCacheMaxAge int // seconds; 0 turns the session_data cookie cache off
	RateLimit         bool
	RateLimitRules    rateLimitRules // rateLimit.window, max, customRules (ratelimit.go)
	TrustedProxies    []netip.Prefix
	IPAddressHeaders  []string // lower-case header names the client address is read from (clientip.go)
	ShutdownTimeout   time.Duration
	DBMaxConns        int
	HashSlots         int
	MaxBodyBytes      int64
	ErrorURL          string
	MailLog           string
	Production        bool
	SecureCookies     bool
	Email             emailConfig
	OAuth             oauthConfig
	Passkey           passkeyConfig
	Org               orgConfig
	TwoFactor         twoFactorConfig
	SSO               ssoConfig
	Bearer            bearerConfig
	JWT               jwtConfig
	Ops               opsConfig
	Admin             adminConfig
	Fields            fieldsConfig   // user.additionalFields, session.additionalFields (fields.go)
	Username          usernameConfig // the username plugin (username.go)
	Redis             redisConfig
	coreConfig
}

// server holds every dependency a handler needs.
type server struct {
	cfg         config
	db          *pgxpool.Pool
	now         func() time.Time
	cacheMemo   memo[*cachedSession] // verified session_data values (cookiecache.go)
	tokenMemo   memo[string]         // verified session_token values, undecoded, to their tokens (cookie.go)
	secretMACs  sync.Pool            // *secretMAC, HMAC-SHA256 keyed with cfg.Secret (cookie.go)
	revocations revocationSet        // sessions revoked on any replica (revocation.go)
	// sessionTokenCookie and sessionDataCookie are cookieName's answers for those two, set once.
	sessionTokenCookie, sessionDataCookie string
	// scryptRuns counts password hashes computed: the proof, in tests, that a sign-in for an
	// unknown email costs the same single scrypt run as one for a known email.
	scryptRuns atomic.Int64
	// otherRequests is when a request that hashed no password was last answered: while they
	// come, hashes leave them a CPU (hashproc.go, acquire).
	otherRequests requestActivity
	// scryptN is upstream's work factor; only tests lower it (see startTestServer).
	scryptN    int
	memLimiter memoryLimiter
	mailer     mailer
	// providerClient makes every request to identity providers; providers are the social ones.
	providerClient *http.Client
	providers      *providerRegistry
	// ssoClient makes every request to enterprise SSO providers; ssoKeys caches their JWKS;
	// resolver answers the DNS TXT lookups of SSO domain verification.
	ssoClient *http.Client
	ssoKeys   *keySetCache
	resolver  txtResolver
	// keys caches the jwt plugin's signing key and JWKS answer (jwks.go).
	keys    keyRing
	metrics *metrics // nil unless METRICS_ADDR is set
	// userColumns and sessionColumns select a row aliased u or s with its configured fields
	// (fields.go) as the last column.
	userColumns, sessionColumns string
	// redis is the secondary storage (redis.go, sessionstore.go); nil without REDIS_URL.
	redis *redisStore
}

func newServer(cfg config, db *pgxpool.Pool) *server {
	if cfg.coreConfig == (coreConfig{}) {
		cfg.coreConfig = defaultCoreConfig()
	}
	s := &server{
		cfg:            cfg,
		db:             db,
		now:            func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) },
		mailer:         newMailer(cfg),
		providerClient: newProviderHTTPClient(),
		scryptN:        upstreamScryptN,
		userColumns:    coreUserColumns + ", " + cfg.userFields().selectSQL("u"),
		sessionColumns: coreSessionColumns + ", " + cfg.Fields.Session.selectSQL("s"),
	}
	s.sessionTokenCookie, s.sessionDataCookie = s.cookieName(cookieSessionToken), s.cookieName(cookieSessionData)
	s.providers = newProviderRegistry(cfg.OAuth.Providers, s.providerClient, func() time.Time { return s.now() })
	s.ssoClient = newSSOClient(s.configTrusted)
	s.ssoKeys = &keySetCache{client: s.ssoClient}
	s.resolver = net.DefaultResolver
	s.metrics = newMetrics(s)
	if cfg.Redis.enabled() {
		s.redis = newRedisStore(cfg.Redis)
		s.redis.onError = s.metrics.redisError
	}
	return s
}

// origin is the app's origin: BETTER_AUTH_URL's, or the request's own when it is unset.
func (s *server) origin(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" && s.trustedProxy(peerAddr(r)) {
		scheme = strings.ToLower(strings.TrimSpace(strings.Split(p, ",")[0]))
	}
	return scheme + "://" + strings.ToLower(r.Host)
}

// baseURL is origin + the base path, the prefix of every link this server mails or redirects to.
func (s *server) baseURL(r *http.Request) string { return s.origin(r) + s.mountPrefix() }

// mountPrefix is the path prefix the routes are served under: BASE_PATH, /api/auth unless set,
// nothing for "/".
func (s *server) mountPrefix() string {
	switch s.cfg.BasePath {
	case "":
		return basePath
	case "/":
		return ""
	}
	return s.cfg.BasePath
}

// mount maps a request under BASE_PATH onto the route table's /api/auth. mounted is false for a
// path outside BASE_PATH, which no route serves (/api/auth itself when BASE_PATH is elsewhere).
func (s *server) mount(r *http.Request) (_ *http.Request, mounted bool) {
	prefix := s.mountPrefix()
	if prefix == basePath {
		return r, true
	}
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok || rest != "" && rest[0] != '/' {
		return r, false
	}
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path = basePath + rest
	if u.RawPath != "" {
		// BASE_PATH holds no character that is escaped, so the escaped path starts with it too.
		u.RawPath = basePath + strings.TrimPrefix(u.RawPath, prefix)
	}
	r2.URL = &u
	return r2, true
}
