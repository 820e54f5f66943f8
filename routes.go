package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"path"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// handler is an endpoint: it writes its own success response and returns any error for
// writeError, the single place errors become responses.
type handler func(w http.ResponseWriter, r *http.Request) error

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h(w, r); err != nil {
		writeError(w, r, err)
	}
}

// routes lists every endpoint the sidecar serves; no route is registered anywhere else.
func routes(s *server) http.Handler {
	mux := newRouter()

	// Core: email + password, sessions, users (emailpassword.go, session.go, user.go, status.go)
	mux.Handle("POST /api/auth/sign-up/email", s.loginCSRF(s.handleSignUpEmail))
	mux.Handle("POST /api/auth/sign-in/email", s.loginCSRF(s.handleSignInEmail))
	mux.Handle("POST /api/auth/sign-out", handler(s.handleSignOut))
	mux.Handle("GET /api/auth/get-session", handler(s.handleGetSession))
	mux.Handle("POST /api/auth/get-session", handler(s.handleGetSession))
	mux.Handle("GET /api/auth/list-sessions", handler(s.handleListSessions))
	mux.Handle("POST /api/auth/revoke-session", handler(s.handleRevokeSession))
	mux.Handle("POST /api/auth/revoke-sessions", handler(s.handleRevokeSessions))
	mux.Handle("POST /api/auth/revoke-other-sessions", handler(s.handleRevokeOtherSessions))
	mux.Handle("POST /api/auth/update-user", handler(s.handleUpdateUser))
	mux.Handle("POST /api/auth/update-session", handler(s.handleUpdateSession))
	mux.Handle("POST /api/auth/change-password", handler(s.handleChangePassword))
	mux.Handle("POST /api/auth/verify-password", handler(s.handleVerifyPassword))
	mux.Handle("GET /api/auth/ok", handler(s.handleOK))
	mux.Handle("GET /api/auth/error", handler(s.handleErrorPage))

	// Email verification, password reset, change email, delete user (emailverification.go,
	// passwordreset.go, changeemail.go, deleteuser.go; email-link tokens in emailtoken.go)
	mux.Handle("POST /api/auth/send-verification-email", handler(s.handleSendVerificationEmail))
	mux.Handle("GET /api/auth/verify-email", handler(s.handleVerifyEmail))
	mux.Handle("POST /api/auth/request-password-reset", handler(s.handleRequestPasswordReset))
	mux.Handle("GET /api/auth/reset-password/{token}", handler(s.handleResetPasswordCallback))
	mux.Handle("POST /api/auth/reset-password", handler(s.handleResetPassword))
	mux.Handle("POST /api/auth/change-email", handler(s.handleChangeEmail))
	mux.Handle("POST /api/auth/delete-user", handler(s.handleDeleteUser))
	mux.Handle("GET /api/auth/delete-user/callback", handler(s.handleDeleteUserCallback))

	// Magic link and email OTP (magiclink.go, emailotp.go; stored codes in otp.go)
	mux.Handle("POST /api/auth/sign-in/magic-link", s.loginCSRF(s.handleSignInMagicLink))
	mux.Handle("GET /api/auth/magic-link/verify", handler(s.handleMagicLinkVerify))
	mux.Handle("POST /api/auth/email-otp/send-verification-otp", s.loginCSRF(s.handleSendVerificationOTP))
	mux.Handle("POST /api/auth/email-otp/check-verification-otp", handler(s.handleCheckVerificationOTP))
	mux.Handle("POST /api/auth/email-otp/verify-email", handler(s.handleVerifyEmailOTP))
	mux.Handle("POST /api/auth/sign-in/email-otp", handler(s.handleSignInEmailOTP))
	mux.Handle("POST /api/auth/email-otp/request-password-reset", handler(s.handleRequestPasswordResetOTP))
	mux.Handle("POST /api/auth/forget-password/email-otp", handler(s.handleRequestPasswordResetOTP))
	mux.Handle("POST /api/auth/email-otp/reset-password", handler(s.handleResetPasswordOTP))
	mux.Handle("POST /api/auth/email-otp/request-email-change", handler(s.handleRequestEmailChangeOTP))
	mux.Handle("POST /api/auth/email-otp/change-email", handler(s.handleChangeEmailOTP))

	// Social sign-in and linked accounts (oauth.go, oauthproviders.go, linkedaccounts.go)
	mux.Handle("POST /api/auth/sign-in/social", handler(s.handleSignInSocial))
	mux.Handle("GET /api/auth/callback/{id}", handler(s.handleOAuthCallback))
	mux.Handle("POST /api/auth/callback/{id}", handler(s.handleOAuthCallback))
	mux.Handle("POST /api/auth/link-social", handler(s.handleLinkSocial))
	mux.Handle("GET /api/auth/list-accounts", handler(s.handleListAccounts))
	mux.Handle("POST /api/auth/unlink-account", handler(s.handleUnlinkAccount))
	mux.Handle("POST /api/auth/get-access-token", handler(s.handleGetAccessToken))
	mux.Handle("POST /api/auth/refresh-token", handler(s.handleRefreshToken))
	mux.Handle("GET /api/auth/account-info", handler(s.handleAccountInfo))

	// Two-factor (twofactor.go, twofactorverify.go, otp.go; sign-in is intercepted in handleSignInEmail)
	mux.Handle("POST /api/auth/two-factor/enable", handler(s.handleTwoFactorEnable))
	mux.Handle("POST /api/auth/two-factor/disable", handler(s.handleTwoFactorDisable))
	mux.Handle("POST /api/auth/two-factor/get-totp-uri", handler(s.handleGetTOTPURI))
	mux.Handle("POST /api/auth/two-factor/verify-totp", handler(s.handleVerifyTOTP))
	mux.Handle("POST /api/auth/two-factor/send-otp", handler(s.handleSendTwoFactorOTP))
	mux.Handle("POST /api/auth/two-factor/verify-otp", handler(s.handleVerifyTwoFactorOTP))
	mux.Handle("POST /api/auth/two-factor/generate-backup-codes", handler(s.handleGenerateBackupCodes))
	mux.Handle("POST /api/auth/two-factor/verify-backup-code", handler(s.handleVerifyBackupCode))

	// Passkeys (passkey.go)
	mux.Handle("GET /api/auth/passkey/generate-register-options", handler(s.handleGeneratePasskeyRegisterOptions))
	mux.Handle("POST /api/auth/passkey/verify-registration", handler(s.handleVerifyPasskeyRegistration))
	mux.Handle("GET /api/auth/passkey/generate-authenticate-options", handler(s.handleGeneratePasskeyAuthenticateOptions))
	mux.Handle("POST /api/auth/passkey/verify-authentication", handler(s.handleVerifyPasskeyAuthentication))
	mux.Handle("GET /api/auth/passkey/list-user-passkeys", handler(s.handleListPasskeys))
	mux.Handle("POST /api/auth/passkey/delete-passkey", handler(s.handleDeletePasskey))
	mux.Handle("POST /api/auth/passkey/update-passkey", handler(s.handleUpdatePasskey))

	// Organizations and teams (org.go, orgmembers.go, orginvitations.go, orgteams.go)
	mux.Handle("POST /api/auth/organization/create", handler(s.handleCreateOrganization))
	mux.Handle("POST /api/auth/organization/update", handler(s.handleUpdateOrganization))
	mux.Handle("POST /api/auth/organization/delete", handler(s.handleDeleteOrganization))
	mux.Handle("POST /api/auth/organization/check-slug", handler(s.handleCheckSlug))
	mux.Handle("POST /api/auth/organization/set-active", handler(s.handleSetActiveOrganization))
	mux.Handle("GET /api/auth/organization/get-organization", handler(s.handleGetOrganization))
	mux.Handle("GET /api/auth/organization/get-full-organization", handler(s.handleGetFullOrganization))
	mux.Handle("GET /api/auth/organization/list", handler(s.handleListOrganizations))
	mux.Handle("POST /api/auth/organization/invite-member", handler(s.handleInviteMember))
	mux.Handle("POST /api/auth/organization/accept-invitation", handler(s.handleAcceptInvitation))
	mux.Handle("POST /api/auth/organization/reject-invitation", handler(s.handleRejectInvitation))
	mux.Handle("POST /api/auth/organization/cancel-invitation", handler(s.handleCancelInvitation))
	mux.Handle("GET /api/auth/organization/get-invitation", handler(s.handleGetInvitation))
	mux.Handle("GET /api/auth/organization/list-invitations", handler(s.handleListInvitations))
	mux.Handle("GET /api/auth/organization/list-user-invitations", handler(s.handleListUserInvitations))
	mux.Handle("POST /api/auth/organization/remove-member", handler(s.handleRemoveMember))
	mux.Handle("POST /api/auth/organization/update-member-role", handler(s.handleUpdateMemberRole))
	mux.Handle("GET /api/auth/organization/get-active-member", handler(s.handleGetActiveMember))
	mux.Handle("GET /api/auth/organization/get-active-member-role", handler(s.handleGetActiveMemberRole))
	mux.Handle("POST /api/auth/organization/leave", handler(s.handleLeaveOrganization))
	mux.Handle("GET /api/auth/organization/list-members", handler(s.handleListMembers))
	mux.Handle("POST /api/auth/organization/has-permission", handler(s.handleHasPermission))
	mux.Handle("POST /api/auth/organization/create-team", handler(s.handleCreateTeam))
	mux.Handle("GET /api/auth/organization/list-teams", handler(s.handleListTeams))
	mux.Handle("POST /api/auth/organization/update-team", handler(s.handleUpdateTeam))
	mux.Handle("POST /api/auth/organization/remove-team", handler(s.handleRemoveTeam))
	mux.Handle("POST /api/auth/organization/set-active-team", handler(s.handleSetActiveTeam))
	mux.Handle("GET /api/auth/organization/list-user-teams", handler(s.handleListUserTeams))
	mux.Handle("GET /api/auth/organization/list-team-members", handler(s.handleListTeamMembers))
	mux.Handle("POST /api/auth/organization/add-team-member", handler(s.handleAddTeamMember))
	mux.Handle("POST /api/auth/organization/remove-team-member", handler(s.handleRemoveTeamMember))

	// Username plugin (username.go; username on sign-up and update-user through fields.go)
	mux.Handle("POST /api/auth/sign-in/username", handler(s.handleSignInUsername))
	mux.Handle("POST /api/auth/is-username-available", handler(s.handleIsUsernameAvailable))

	// Bearer and JWT plugins (bearer.go: no routes, the header is read by sessionToken; jwtplugin.go, jwks.go)
	mux.Handle("GET /api/auth/token", handler(s.handleToken))
	mux.Handle("GET /api/auth/jwks", handler(s.handleJWKS))

	// Enterprise SSO (sso.go, ssosignin.go, ssodomain.go, oidcdiscovery.go; SAML: saml.go, samlacs.go, samlslo.go)
	mux.Handle("POST /api/auth/sso/register", handler(s.handleSSORegister))
	mux.Handle("GET /api/auth/sso/providers", handler(s.handleSSOListProviders))
	mux.Handle("GET /api/auth/sso/get-provider", handler(s.handleSSOGetProvider))
	mux.Handle("POST /api/auth/sso/update-provider", handler(s.handleSSOUpdateProvider))
	mux.Handle("POST /api/auth/sso/delete-provider", handler(s.handleSSODeleteProvider))
	mux.Handle("POST /api/auth/sso/request-domain-verification", handler(s.handleRequestDomainVerification))
	mux.Handle("POST /api/auth/sso/verify-domain", handler(s.handleVerifyDomain))
	mux.Handle("POST /api/auth/sign-in/sso", handler(s.handleSignInSSO))
	mux.Handle("GET /api/auth/sso/callback", handler(s.handleSSOSharedCallback))
	mux.Handle("GET /api/auth/sso/callback/{providerId}", handler(s.handleSSOCallback))
	mux.Handle("GET /api/auth/sso/saml2/sp/metadata", handler(s.handleSAMLMetadata))
	mux.Handle("POST /api/auth/sso/saml2/sp/acs/{providerId}", handler(s.handleSAMLACS))
	mux.Handle("GET /api/auth/sso/saml2/sp/acs/{providerId}", handler(s.handleSAMLACS))
	mux.Handle("POST /api/auth/sso/saml2/sp/slo/{providerId}", handler(s.handleSAMLSLO))
	mux.Handle("GET /api/auth/sso/saml2/sp/slo/{providerId}", handler(s.handleSAMLSLO))
	mux.Handle("POST /api/auth/sso/saml2/logout/{providerId}", handler(s.handleSAMLLogout))

	// Admin (admin.go, adminusers.go for list-users, impersonate.go; bans are enforced in ban.go)
	mux.Handle("POST /api/auth/admin/create-user", handler(s.handleAdminCreateUser))
	mux.Handle("GET /api/auth/admin/get-user", handler(s.handleAdminGetUser))
	mux.Handle("POST /api/auth/admin/update-user", handler(s.handleAdminUpdateUser))
	mux.Handle("GET /api/auth/admin/list-users", handler(s.handleAdminListUsers))
	mux.Handle("POST /api/auth/admin/set-role", handler(s.handleAdminSetRole))
	mux.Handle("POST /api/auth/admin/ban-user", handler(s.handleAdminBanUser))
	mux.Handle("POST /api/auth/admin/unban-user", handler(s.handleAdminUnbanUser))
	mux.Handle("POST /api/auth/admin/list-user-sessions", handler(s.handleAdminListUserSessions))
	mux.Handle("POST /api/auth/admin/revoke-user-session", handler(s.handleAdminRevokeUserSession))
	mux.Handle("POST /api/auth/admin/revoke-user-sessions", handler(s.handleAdminRevokeUserSessions))
	mux.Handle("POST /api/auth/admin/impersonate-user", handler(s.handleAdminImpersonateUser))
	mux.Handle("POST /api/auth/admin/stop-impersonating", handler(s.handleAdminStopImpersonating))
	mux.Handle("POST /api/auth/admin/remove-user", handler(s.handleAdminRemoveUser))
	mux.Handle("POST /api/auth/admin/set-user-password", handler(s.handleAdminSetUserPassword))
	mux.Handle("POST /api/auth/admin/has-permission", handler(s.handleAdminHasPermission))

	return s.middleware(mux)
}

// metricsRoutes is the METRICS_ADDR listener's table: metrics, readiness and, when asked, pprof.
// None of it is ever served on the public port.
func metricsRoutes(s *server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.Handle("GET /readyz", handler(s.handleReady))
	mux.Handle("GET /livez", handler(s.handleOK))
	if s.cfg.Ops.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// middleware runs around every request, in upstream's order where upstream has one: recover,
// body limit, CORS, rate limit (before routing), route match, origin check, handler.
func (s *server) middleware(mux *router) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, info, rec := s.beginRequest(w, r)
		var start time.Time // read only for the debug line and the metrics (endRequest)
		if s.timesRequests(r.Context()) {
			start = time.Now()
		}
		r, mounted := s.mount(r)
		// Known before routing so that every log line, the rate limit's included, can name the
		// route rather than the path (see logRoute). A path outside BASE_PATH has no route.
		var rt routeMatch
		if mounted {
			rt = mux.match(r)
		}
		pattern := rt.pattern
		r.Pattern = pattern
		defer func() {
			if p := recover(); p != nil {
				slog.ErrorContext(r.Context(), "panic", "method", r.Method, "route", logRoute(r), "panic", p)
				if !rec.wrote {
					writeError(rec, r, errInternal)
				}
			}
			s.endRequest(rec, r, info, rec.status, start)
			if !info.hashed {
				s.otherRequests.note(monoNow())
			}
		}()
		if r.Body != nil && r.Body != http.NoBody { // a GET's body is NoBody: nothing to limit
			r.Body = http.MaxBytesReader(rec, r.Body, s.cfg.MaxBodyBytes)
		}
		if s.cors(rec, r) {
			return
		}
		if s.rateLimit(rec, r, mounted) {
			return
		}
		if s.refuseUntrustedHost(rec, r) {
			return
		}
		// Upstream's router answers 404 with an empty body for unknown paths, other methods
		// (HEAD included, which ServeMux would serve as GET), trailing slashes and unclean paths
		// ("//", ".."); ServeMux would redirect or say 405.
		if pattern == "" || r.Method == http.MethodHead || !isCleanPath(r.URL.Path) {
			rec.WriteHeader(http.StatusNotFound)
			return
		}
		if strings.Contains(r.URL.RawQuery, "%00") {
			writeError(rec, r, validationError("[query] Invalid input: NUL characters are not allowed"))
			return
		}
		r.URL.RawQuery = upstreamQuery(r.URL.RawQuery)
		// The SAML ACS and SLO take the IdP's cross-site POST, whose Origin is the IdP's; the
		// signed message is their proof, as upstream's SAML_SKIP_ORIGIN_CHECK_PATHS.
		samlPost := strings.HasPrefix(pattern, "POST "+basePath+"/sso/saml2/sp/")
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions && !samlPost {
			if err := s.checkOrigin(r, false); err != nil {
				// Upstream parses the body before its origin check, so a malformed or
				// unsupported body is answered as such even from a foreign origin. The
				// request is refused either way, before any handler runs.
				if _, perr := parseBody(r, formAllowed); perr != nil {
					err = perr
				}
				writeError(rec, r, err)
				return
			}
		}
		if rt.h != nil {
			rt.h.ServeHTTP(s.withBearerHeader(rec), r)
			return
		}
		// Routed a second time: mux.Handler names the pattern but does not set the path values
		// ({token}, {id}) that handlers read; ServeHTTP does.
		mux.ServeHTTP(s.withBearerHeader(rec), r)
	})
}

// isCleanPath reports path.Clean(p) == p. An absolute path with no empty element ("//"), no
// element starting with a dot and no trailing slash is clean without cleaning it (every request
// asked, and path.Clean walks the path element by element); anything else is cleaned to see.
func isCleanPath(p string) bool {
	if strings.HasPrefix(p, "/") && !strings.Contains(p, "//") && !strings.Contains(p, "/.") && (p == "/" || !strings.HasSuffix(p, "/")) {
		return true
	}
	return path.Clean(p) == p
}

// logRoute names a request in logs by its route pattern, never its path or query: links carry
// their tokens in both (/reset-password/{token}, ?token=).
func logRoute(r *http.Request) string {
	if r.Pattern == "" {
		return "(no route)"
	}
	return r.Pattern
}

type statusRecorder struct {
	http.ResponseWriter
	status     int
	wrote      bool
	varyOrigin bool            // the request had an Origin (cors)
	ctx        context.Context // the request's, for responseContext
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status = code
		r.commit()
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.commit()
	}
	return r.ResponseWriter.Write(b)
}

// commit runs once, as the headers go out. Vary: Origin goes on every answer to a request with
// an Origin, except one that no cache may store at all (Cache-Control: no-store, as get-session's),
// where Vary, which only picks among stored answers (RFC 9111, section 4.1), has nothing to do:
// writing it was ~1 800 instructions of each cookie-cache hit (BENCHMARKS.md).
func (r *statusRecorder) commit() {
	r.wrote = true
	if r.varyOrigin && !isNoStore(r.Header()) {
		addHeaderValue(r.Header(), "Vary", varyOrigin)
	}
}

// isNoStore says whether h forbids every cache to store the answer.
func isNoStore(h http.Header) bool {
	for _, v := range h["Cache-Control"] {
		if strings.Contains(v, "no-store") {
			return true
		}
	}
	return false
}
