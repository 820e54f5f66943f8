// Command authsidecar serves Better Auth's /api/auth protocol from Postgres: same paths, JSON,
// cookies and schema as the Node server, so a Next.js app and the official client keep working.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

const basePath = "/api/auth"

type config struct {
	DatabaseURL       string
	Secret            string
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
}

// server holds every dependency a handler needs.
type server struct {
	cfg       config
	db        *pgxpool.Pool
	now       func() time.Time
	cacheMemo cookieCacheMemo
	revoked   revocationSet // sessions revoked on any replica (revocation.go)
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
}

func newServer(cfg config, db *pgxpool.Pool) *server {
	s := &server{
		cfg:            cfg,
		db:             db,
		now:            func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) },
		mailer:         newMailer(cfg),
		providerClient: newProviderHTTPClient(),
		scryptN:        upstreamScryptN,
	}
	s.providers = newProviderRegistry(cfg.OAuth.Providers, s.providerClient, func() time.Time { return s.now() })
	s.ssoClient = newSSOClient(s.configTrusted)
	s.ssoKeys = &keySetCache{client: s.ssoClient}
	s.resolver = net.DefaultResolver
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

func main() {
	cmd := "serve"
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		cmd = os.Args[1]
		os.Args = append(os.Args[:1], os.Args[2:]...)
	}
	if err := runCommand(cmd); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "authsidecar:", err)
		os.Exit(1)
	}
}

func runCommand(cmd string) error {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel()})))
	cfg, err := loadConfig(os.Args[1:], os.Getenv)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "serve":
		return serve(ctx, cfg)
	case "migrate":
		db, err := openDB(ctx, cfg.DatabaseURL, 2)
		if err != nil {
			return err
		}
		defer db.Close()
		if err := migrate(ctx, db); err != nil {
			return err
		}
		slog.Info("schema is up to date")
		return nil
	case "health":
		return checkHealth(ctx, cfg.Addr)
	default:
		return fmt.Errorf("unknown command %q (want serve, migrate or health)", cmd)
	}
}

func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("LOG_LEVEL"))); err != nil {
		return slog.LevelInfo
	}
	return l
}

// loadConfig reads flags, each defaulting to its environment variable. BETTER_AUTH_SECRET has no
// flag on purpose: a flag would show the secret in every process listing.
func loadConfig(args []string, getenv func(string) string) (config, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("authsidecar", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: authsidecar [serve|migrate|health] [flags]\n\n"+
			"Every flag defaults to the environment variable named in brackets.\n"+
			"BETTER_AUTH_SECRET (32+ characters) is read from the environment only.\n"+
			"Generic OpenID providers come from the environment only: AUTH_OIDC_<ID>_ISSUER, _CLIENT_ID,\n"+
			"_CLIENT_SECRET and _SCOPES; the provider id is <ID> lowercased with _ as -.\n\n")
		fs.PrintDefaults()
	}
	var c config
	var trustedOrigins, trustedProxies, cacheMaxAge, rateLimit, shutdown, maxConns, bodyLimit, env2 string
	fs.StringVar(&c.DatabaseURL, "database-url", env("DATABASE_URL", ""), "[DATABASE_URL] Postgres URL; empty uses libpq defaults (PGHOST, PGUSER, …)")
	fs.StringVar(&c.BaseURL, "base-url", env("BETTER_AUTH_URL", ""), "[BETTER_AUTH_URL] public origin of the app, e.g. https://app.example.com; empty: each request's own")
	fs.StringVar(&trustedOrigins, "trusted-origins", env("TRUSTED_ORIGINS", ""), "[TRUSTED_ORIGINS] comma-separated extra trusted origins; wildcards like https://*.example.com")
	fs.StringVar(&c.Addr, "addr", env("ADDR", ":4000"), "[ADDR] listen address")
	fs.StringVar(&cacheMaxAge, "cookie-cache-max-age", env("COOKIE_CACHE_MAX_AGE", "0"), "[COOKIE_CACHE_MAX_AGE] seconds the signed session_data cookie cache is valid; 0 turns it off")
	fs.StringVar(&rateLimit, "rate-limit", env("RATE_LIMIT", "true"), "[RATE_LIMIT] enforce rate limits")
	fs.StringVar(&trustedProxies, "trusted-proxies", env("TRUSTED_PROXIES", "127.0.0.0/8,::1/128"), "[TRUSTED_PROXIES] CIDRs whose X-Forwarded-For / X-Forwarded-Proto are believed")
	ipHeaders := fs.String("ip-address-headers", env("IP_ADDRESS_HEADERS", "x-forwarded-for"), "[IP_ADDRESS_HEADERS] comma-separated headers a trusted proxy sends the client address in, first found wins (e.g. cf-connecting-ip, x-real-ip)")
	fs.StringVar(&shutdown, "shutdown-timeout", env("SHUTDOWN_TIMEOUT", "15s"), "[SHUTDOWN_TIMEOUT] grace period for in-flight requests on SIGTERM")
	fs.StringVar(&maxConns, "db-max-conns", env("DB_MAX_CONNS", "0"), "[DB_MAX_CONNS] Postgres pool size; 0: pgx's default (max(4, CPUs))")
	fs.StringVar(&bodyLimit, "max-body-bytes", env("MAX_BODY_BYTES", "1048576"), "[MAX_BODY_BYTES] largest request body accepted")
	fs.StringVar(&c.ErrorURL, "error-url", env("ERROR_URL", ""), "[ERROR_URL] page that /api/auth/error redirects to, with ?error=")
	fs.StringVar(&c.MailLog, "mail-log", env("MAIL_LOG", ""), "[MAIL_LOG] without SMTP: file that receives one JSON line per mail")
	fs.StringVar(&env2, "env", env("ENV", "development"), "[ENV] production or development")
	fs.StringVar(&c.TwoFactor.Issuer, "two-factor-issuer", env("TWO_FACTOR_ISSUER", "Better Auth"), "[TWO_FACTOR_ISSUER] issuer named in TOTP URIs, shown by authenticator apps")
	emailFlags := registerEmailFlags(fs, env)
	oauthFlags := registerOAuthFlags(fs, env)
	passkeyFlags := registerPasskeyFlags(fs, env)
	orgFlags := registerOrgFlags(fs, env)
	ssoFlags := registerSSOFlags(fs, env)
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	var err error
	if c.CookieCacheMaxAge, err = strconv.Atoi(cacheMaxAge); err != nil || c.CookieCacheMaxAge < 0 {
		return config{}, fmt.Errorf("COOKIE_CACHE_MAX_AGE: want seconds, got %q", cacheMaxAge)
	}
	if c.RateLimit, err = strconv.ParseBool(rateLimit); err != nil {
		return config{}, fmt.Errorf("RATE_LIMIT: want true or false, got %q", rateLimit)
	}
	if c.ShutdownTimeout, err = time.ParseDuration(shutdown); err != nil {
		return config{}, fmt.Errorf("SHUTDOWN_TIMEOUT: %w", err)
	}
	if c.DBMaxConns, err = strconv.Atoi(maxConns); err != nil || c.DBMaxConns < 0 {
		return config{}, fmt.Errorf("DB_MAX_CONNS: want a count, got %q", maxConns)
	}
	if c.MaxBodyBytes, err = strconv.ParseInt(bodyLimit, 10, 64); err != nil || c.MaxBodyBytes <= 0 {
		return config{}, fmt.Errorf("MAX_BODY_BYTES: want bytes, got %q", bodyLimit)
	}
	if c.Email, err = emailFlags.parse(getenv); err != nil {
		return config{}, err
	}
	if c.OAuth, err = oauthFlags.parse(getenv); err != nil {
		return config{}, err
	}
	if c.Org, err = orgFlags.parse(); err != nil {
		return config{}, err
	}
	if c.SSO, err = ssoFlags.parse(c.Org.roles()); err != nil {
		return config{}, err
	}
	for _, o := range splitList(trustedOrigins) {
		c.TrustedOrigins = append(c.TrustedOrigins, strings.TrimRight(o, "/"))
	}
	c.IPAddressHeaders = splitList(strings.ToLower(*ipHeaders))
	for _, p := range splitList(trustedProxies) {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return config{}, fmt.Errorf("TRUSTED_PROXIES: %q is neither an address nor a CIDR", p)
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
	}
	if c.BaseURL != "" {
		origin := originOf(c.BaseURL)
		if origin == "" {
			return config{}, fmt.Errorf("BETTER_AUTH_URL: %q is not an http(s) URL", c.BaseURL)
		}
		c.BaseURL = origin
	}
	if c.Passkey, err = passkeyFlags.parse(c.BaseURL); err != nil {
		return config{}, err
	}
	c.SecureCookies = strings.HasPrefix(c.BaseURL, "https://")
	c.Production = env2 == "production" || c.SecureCookies
	if err := checkProductionOrigin(c); err != nil {
		return config{}, err
	}
	if c.BaseURL == "" && c.Production {
		c.SecureCookies = true
	}
	c.Secret = getenv("BETTER_AUTH_SECRET")
	switch {
	case len(c.Secret) >= 32:
	case c.Production:
		return config{}, errors.New("BETTER_AUTH_SECRET must be set to at least 32 characters in production")
	case c.Secret != "":
		slog.Warn("BETTER_AUTH_SECRET is shorter than 32 characters; use a long random value")
	default:
		b := make([]byte, 32)
		rand.Read(b)
		c.Secret = hex.EncodeToString(b)
		slog.Warn("!!! BETTER_AUTH_SECRET is not set: using a random secret for this run only. " +
			"Every session and signed cookie dies at restart. Set BETTER_AUTH_SECRET before going to production. !!!")
	}
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func serve(ctx context.Context, cfg config) error {
	db, err := openDB(ctx, cfg.DatabaseURL, int32(cfg.DBMaxConns))
	if err != nil {
		return err
	}
	defer db.Close()
	// Postgres may come up after us (compose, restarts): keep trying rather than exit.
	for {
		err := migrate(ctx, db)
		if err == nil {
			break
		}
		slog.Warn("schema not applied yet; retrying", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
	s := newServer(cfg, db)
	s.watchRevocations(ctx)
	go s.sweepLoop(ctx)
	go s.mailLoop(ctx, time.Second)
	go s.providers.warmUp(ctx)

	srv := newHTTPServer(cfg.Addr, routes(s))
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	slog.Info("authsidecar listening", "addr", cfg.Addr, "baseURL", cfg.BaseURL, "production", cfg.Production,
		"cookieCache", cfg.CookieCacheMaxAge, "rateLimit", cfg.RateLimit)
	select {
	case err := <-errc:
		return fmt.Errorf("listen: %w", err)
	case <-ctx.Done():
	}
	slog.Info("shutting down", "grace", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// newHTTPServer bounds every phase of a connection, so that slow or stalled clients (slowloris,
// a reader that never drains) cannot hold connections and goroutines forever.
func newHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// checkHealth is the container health check: the image has no curl, so the binary asks itself.
func checkHealth(ctx context.Context, addr string) error {
	host, port, ok := strings.Cut(addr, ":")
	if !ok {
		return fmt.Errorf("ADDR %q has no port", addr)
	}
	if host == "" || host == "0.0.0.0" || host == "[::]" {
		host = "127.0.0.1"
	}
	u := url.URL{Scheme: "http", Host: host + ":" + port, Path: basePath + "/ok"}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: status %d", resp.StatusCode)
	}
	return nil
}
