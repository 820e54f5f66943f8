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
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	cmd := "serve"
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-") {
		cmd = os.Args[1]
		os.Args = append(os.Args[:1], os.Args[2:]...)
	}
	if err := runCommand(cmd, os.Args[1:]); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "authsidecar:", err)
		os.Exit(1)
	}
}

func runCommand(cmd string, args []string) error {
	if cmd == hashWorkerCommand { // started by the server itself (hashproc.go), reads no settings
		return runHashWorker(os.Stdin, os.Stdout, slices.Equal(args, []string{hashWorkerPinned}))
	}
	setupLogging(os.Getenv("LOG_FORMAT"))
	ready := cmd == "health" && takeReadyFlag(&args)
	if cmd == "version" {
		fmt.Println(version())
		return nil
	}
	cfg, settings, err := loadSettings(args, os.Getenv)
	if errors.Is(err, errShowVersion) {
		fmt.Println(version())
		return nil
	}
	if err != nil {
		return err
	}
	setupLogging(cfg.Ops.LogFormat)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "config":
		printEffectiveConfig(os.Stdout, settings, cfg, os.Getenv)
		return nil
	case "serve":
		return serve(ctx, cfg)
	case "migrate":
		db, err := openDB(ctx, cfg.DatabaseURL, 2)
		if err != nil {
			return err
		}
		defer db.Close()
		return prepareDatabase(ctx, cfg, db)
	case "health":
		if ready {
			return checkReady(ctx, cfg.Ops.MetricsAddr)
		}
		return checkHealth(ctx, cfg.Addr, (&server{cfg: cfg}).mountPrefix())
	default:
		return fmt.Errorf("unknown command %q (want serve, migrate, health, config or version)", cmd)
	}
}

func logLevel() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(os.Getenv("LOG_LEVEL"))); err != nil {
		return slog.LevelInfo
	}
	return l
}

// readableDurations logs a duration as Go writes it (15s), not as the nanoseconds JSON would get.
func readableDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

// version names the build: the module version and the VCS revision the go command stamped.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "authsidecar (no build information)"
	}
	v := "authsidecar " + info.Main.Version
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = " (modified)"
			}
		}
	}
	if rev != "" {
		v += " revision " + rev + modified
	}
	return v + " " + info.GoVersion
}

// basePathPattern is a base path: "/" or segments of unreserved characters, none of them dots
// only, so that no request path needs cleaning or escaping to match it.
var basePathPattern = regexp.MustCompile(`^(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*/?$`)

// errShowVersion is loadConfig's answer to -version: print the version instead of running.
var errShowVersion = errors.New("show version")

const usageHeader = `usage: authsidecar [serve|migrate|health [--ready]|config|version] [flags]

Every flag defaults to the environment variable named in brackets.
BETTER_AUTH_SECRET (32+ characters) is read from the environment only.
Generic OpenID providers come from the environment only: AUTH_OIDC_<ID>_ISSUER, _CLIENT_ID,
_CLIENT_SECRET and _SCOPES; the provider id is <ID> lowercased with _ as -.

`

// serverFlags are the raw values of the Server group that need checking once parsed.
type serverFlags struct {
	trustedOrigins, trustedProxies, ipAddressHeaders, environment, configFile string
	showVersion                                                               bool
}

// registerServerFlags adds the Server group; its order is the README's.
func registerServerFlags(s *settings, c *config) *serverFlags {
	f := &serverFlags{}
	s.section("Server")
	s.String(&f.configFile, "config", "AUTH_CONFIG", "", "JSON file of betterAuth() options (baseURL, session, advanced, plugins, …); environment variables and flags override it")
	s.String(&c.DatabaseURL, "database-url", "DATABASE_URL", "", "Postgres URL, e.g. postgres://postgres@127.0.0.1:5432/authsidecar; empty uses libpq defaults (PGHOST, PGUSER, …)")
	s.String(&c.BaseURL, "base-url", "BETTER_AUTH_URL", "", "public origin of the app, e.g. https://app.example.com; empty: each request's own")
	s.String(&c.BasePath, "base-path", "BASE_PATH", basePath, "path the routes are served under (upstream basePath), e.g. /auth; / serves them at the root")
	s.String(&f.trustedOrigins, "trusted-origins", "TRUSTED_ORIGINS", "", "comma-separated extra trusted origins; wildcards like https://*.example.com")
	s.String(&c.Addr, "addr", "ADDR", ":4000", "listen address")
	s.String(&f.environment, "env", "ENV", "development", "production or development")
	s.Int(&c.CookieCacheMaxAge, "cookie-cache-max-age", "COOKIE_CACHE_MAX_AGE", 0, "seconds the signed session_data cookie cache is valid; 0 turns it off")
	s.Bool(&c.RateLimit, "rate-limit", "RATE_LIMIT", true, "enforce rate limits")
	s.Int(&c.RateLimitRules.Window, "rate-limit-window", "RATE_LIMIT_WINDOW", 10, "seconds of the rate-limit window of paths without a special rule; 0: 10")
	s.Int(&c.RateLimitRules.Max, "rate-limit-max", "RATE_LIMIT_MAX", 100, "requests per RATE_LIMIT_WINDOW on paths without a special rule; 0: 100")
	s.String(&f.trustedProxies, "trusted-proxies", "TRUSTED_PROXIES", "127.0.0.0/8,::1/128", "CIDRs whose X-Forwarded-For / X-Forwarded-Proto are believed")
	s.String(&f.ipAddressHeaders, "ip-address-headers", "IP_ADDRESS_HEADERS", "x-forwarded-for", "comma-separated headers a trusted proxy sends the client address in, first found wins (e.g. cf-connecting-ip, x-real-ip)")
	s.Duration(&c.ShutdownTimeout, "shutdown-timeout", "SHUTDOWN_TIMEOUT", 15*time.Second, "grace period for in-flight requests on SIGTERM")
	s.Int(&c.DBMaxConns, "db-max-conns", "DB_MAX_CONNS", 0, "Postgres pool size; 0: pgx's default (max(4, CPUs))")
	s.Int(&c.HashSlots, "hash-slots", "HASH_SLOTS", 0, "password hashes in flight, 1 or 2; 0: one per CPU, at most 2")
	s.Int64(&c.MaxBodyBytes, "max-body-bytes", "MAX_BODY_BYTES", 1<<20, "largest request body accepted")
	s.String(&c.ErrorURL, "error-url", "ERROR_URL", "", "page that /api/auth/error redirects to, with ?error=")
	s.fs.BoolVar(&f.showVersion, "version", false, "print the version and exit")
	s.add("version")
	return f
}

// loadConfig reads flags, each defaulting to its environment variable. BETTER_AUTH_SECRET has no
// flag on purpose: a flag would show the secret in every process listing.
func loadConfig(args []string, getenv func(string) string) (config, error) {
	c, _, err := loadSettings(args, getenv)
	return c, err
}

// loadSettings is loadConfig that also answers the settings, which know where each value came from.
func loadSettings(args []string, getenv func(string) string) (config, *settings, error) {
	fs := flag.NewFlagSet("authsidecar", flag.ContinueOnError)
	s := newSettings(fs, getenv)
	var c config
	g := registerGroups(s, &c)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHeader)
		s.printDefaults(fs.Output())
	}
	if err := s.parse(args); err != nil {
		return config{}, nil, err
	}
	if g.server.showVersion {
		return config{}, nil, errShowVersion
	}
	if g.server.configFile != "" {
		if err := s.readConfigFile(g.server.configFile); err != nil {
			return config{}, nil, err
		}
	}
	if err := g.server.check(&c); err != nil {
		return config{}, nil, err
	}
	if err := g.parse(&c, getenv); err != nil {
		return config{}, nil, err
	}
	if err := s.applyFileSections(&c); err != nil {
		return config{}, nil, err
	}
	if err := c.Username.checkColumns(c.Fields.User); err != nil {
		return config{}, nil, err
	}
	err := resolveSecret(&c, getenv)
	return c, s, err
}

// groupFlags are every group's registered flags, kept until they are parsed into the config.
type groupFlags struct {
	server   *serverFlags
	ops      *opsFlags
	core     *coreFlags
	email    *emailFlags
	oauth    *oauthFlags
	passkey  *passkeyFlags
	org      *orgFlags
	sso      *ssoFlags
	admin    *adminFlags
	username *usernameFlags
	redis    *redisFlags
	bearer   *bearerFlags
	jwt      *jwtFlags
}

// registerGroups adds every group's settings, in the sections and order -h lists them.
func registerGroups(s *settings, c *config) *groupFlags {
	g := &groupFlags{server: registerServerFlags(s, c)}
	g.ops = registerOpsFlags(s) // in the Server group, after it
	s.section("Sessions, cookies, sign-up")
	g.core = registerCoreFlags(s)
	s.section("Email, verification, password reset")
	s.String(&c.MailLog, "mail-log", "MAIL_LOG", "", "without SMTP: file that receives one JSON line per mail")
	g.email = registerEmailFlags(s)
	s.section("Social sign-in")
	g.oauth = registerOAuthFlags(s)
	s.section("Two-factor, passkeys, organizations, SSO")
	s.String(&c.TwoFactor.Issuer, "two-factor-issuer", "TWO_FACTOR_ISSUER", "Better Auth", "issuer named in TOTP URIs, shown by authenticator apps")
	registerTwoFactorFlags(s, &c.TwoFactor)
	g.passkey = registerPasskeyFlags(s)
	g.org = registerOrgFlags(s)
	g.sso = registerSSOFlags(s)
	s.section("Admin")
	g.admin = registerAdminFlags(s)
	s.section("Username")
	g.username = registerUsernameFlags(s)
	s.section("Redis secondary storage")
	g.redis = registerRedisFlags(s)
	s.section("Bearer tokens and JWT (other backends)")
	g.bearer = registerBearerFlags(s)
	g.jwt = registerJWTFlags(s)
	registerFileKeys(s)
	registerFieldKeys(s)
	registerRateLimitKeys(s)
	return g
}

// parse checks each group's values into c, after the Server group's: SSO reads the
// organization's roles, passkeys and the operations group the base URL and address, and the core
// group the production mode decided here.
func (g *groupFlags) parse(c *config, getenv func(string) string) error {
	var err error
	if c.Email, err = g.email.parse(getenv); err != nil {
		return err
	}
	if c.OAuth, err = g.oauth.parse(getenv); err != nil {
		return err
	}
	if c.Org, err = g.org.parse(); err != nil {
		return err
	}
	if c.SSO, err = g.sso.parse(c.Org.roles()); err != nil {
		return err
	}
	if err := c.TwoFactor.check(); err != nil {
		return err
	}
	c.Bearer = g.bearer.config()
	if c.JWT, err = g.jwt.parse(); err != nil {
		return err
	}
	if c.Redis, err = g.redis.parse(); err != nil {
		return err
	}
	if c.Admin, err = g.admin.parse(); err != nil {
		return err
	}
	if c.Username, err = g.username.parse(); err != nil {
		return err
	}
	if c.Passkey, err = g.passkey.parse(c.BaseURL); err != nil {
		return err
	}
	if c.Ops, err = g.ops.parse(c.Addr); err != nil {
		return err
	}
	c.SecureCookies = strings.HasPrefix(c.BaseURL, "https://")
	c.Production = g.server.environment == "production" || c.SecureCookies
	if err := checkProductionOrigin(*c); err != nil {
		return err
	}
	if c.BaseURL == "" && c.Production {
		c.SecureCookies = true
	}
	return g.core.parse(c)
}

// check validates the Server group's values and fills in the lists and the origin they name.
func (f *serverFlags) check(c *config) error {
	switch {
	case c.CookieCacheMaxAge < 0:
		return fmt.Errorf("COOKIE_CACHE_MAX_AGE: want seconds, got %d", c.CookieCacheMaxAge)
	case c.DBMaxConns < 0:
		return fmt.Errorf("DB_MAX_CONNS: want a count, got %d", c.DBMaxConns)
	case c.HashSlots < 0 || c.HashSlots > maxHashSlots:
		return fmt.Errorf("HASH_SLOTS: want 0 (one per CPU) to %d, got %d", maxHashSlots, c.HashSlots)
	case c.MaxBodyBytes <= 0:
		return fmt.Errorf("MAX_BODY_BYTES: want bytes, got %d", c.MaxBodyBytes)
	case c.RateLimitRules.Window < 0 || c.RateLimitRules.Max < 0:
		return fmt.Errorf("RATE_LIMIT_WINDOW, RATE_LIMIT_MAX: want seconds and a count, got %d, %d", c.RateLimitRules.Window, c.RateLimitRules.Max)
	}
	if !basePathPattern.MatchString(c.BasePath) {
		return fmt.Errorf("BASE_PATH (basePath): want a path such as /api/auth, got %q", c.BasePath)
	}
	if c.BasePath != "/" {
		c.BasePath = strings.TrimRight(c.BasePath, "/")
	}
	for _, o := range splitList(f.trustedOrigins) {
		c.TrustedOrigins = append(c.TrustedOrigins, strings.TrimRight(o, "/"))
	}
	c.IPAddressHeaders = splitList(strings.ToLower(f.ipAddressHeaders))
	for _, p := range splitList(f.trustedProxies) {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return fmt.Errorf("TRUSTED_PROXIES: %q is neither an address nor a CIDR", p)
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, prefix.Masked())
	}
	if c.BaseURL != "" {
		origin := originOf(c.BaseURL)
		if origin == "" {
			return fmt.Errorf("BETTER_AUTH_URL: %q is not an http(s) URL", c.BaseURL)
		}
		c.BaseURL = origin
	}
	return nil
}

// resolveSecret takes BETTER_AUTH_SECRET, refusing a weak one in production. In development a
// missing one becomes a random secret for this run; the warning is serve's to print, so that
// health and migrate, which sign nothing, stay quiet.
func resolveSecret(c *config, getenv func(string) string) error {
	c.Secret = getenv("BETTER_AUTH_SECRET")
	switch {
	case len(c.Secret) >= 32:
	case c.Production:
		return errors.New("BETTER_AUTH_SECRET must be set to at least 32 characters in production")
	case c.Secret != "":
		c.SecretWarning = "BETTER_AUTH_SECRET is shorter than 32 characters; use a long random value"
	default:
		b := make([]byte, 32)
		rand.Read(b)
		c.Secret = hex.EncodeToString(b)
		c.SecretWarning = "!!! BETTER_AUTH_SECRET is not set: using a random secret for this run only. " +
			"Every session and signed cookie dies at restart. Set BETTER_AUTH_SECRET before going to production. !!!"
	}
	return nil
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

// serverGCPercent is GOGC for the server unless GOGC sets one. With Go's default (100) the heap
// goal is twice the live heap and at least 4 MB; the server's live heap is ~1.3 MB of libraries'
// state (route table, templates, regexps, pgx's statement caches) that every collection marks
// again, so a cookie-cache hit (~3 KB of garbage, most of it net/http's own) paid for a
// collection every ~600 hits: ~8 000 instructions of each, a quarter of what it cost beyond a
// bare handler. With 200 (a goal of at least 8 MB) a collection comes every ~1 600 hits, for ~3 MB
// more resident memory. Password hashes, whose memory dwarfs this, run in their own process
// (hashproc.go).
const serverGCPercent = 200

func setGCPercent(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serverGCPercent)
	}
}

func serve(ctx context.Context, cfg config) error {
	setGCPercent(os.Getenv)
	hashSlotsSetting = cfg.HashSlots // before any request can start the hashing process
	if cfg.SecretWarning != "" {
		slog.Warn(cfg.SecretWarning)
	}
	db, err := openDB(ctx, cfg.DatabaseURL, int32(cfg.DBMaxConns))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := waitForDatabase(ctx, cfg, db, 2*time.Second); err != nil {
		return err
	}
	s := newServer(cfg, db)
	s.watchRevocations(ctx)
	s.watchRedis(ctx, 250*time.Millisecond)
	go s.sweepLoop(ctx)
	go s.mailLoop(ctx, time.Second)
	go s.providers.warmUp(ctx)
	if err := s.serveMetrics(ctx); err != nil {
		return err
	}

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
func checkHealth(ctx context.Context, addr, prefix string) error {
	return probe(ctx, "ADDR", addr, prefix+"/ok")
}
