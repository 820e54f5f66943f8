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

const basePath = "/api/auth"

type config struct {
	DatabaseURL       string
	Secret            string
	SecretWarning     string // why the secret is weak or made up, printed when serving
	BaseURL           string // origin the app is served at; empty: taken from each request
	TrustedOrigins    []string
	Addr              string
	CookieCacheMaxAge int // seconds; 0 turns the session_data cookie cache off
	RateLimit         bool
	TrustedProxies    []netip.Prefix
	IPAddressHeaders  []string // lower-case header names the client address is read from (clientip.go)
	ShutdownTimeout   time.Duration
	DBMaxConns        int
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

// baseURL is origin + /api/auth, the prefix of every link this server mails or redirects to.
func (s *server) baseURL(r *http.Request) string { return s.origin(r) + basePath }
