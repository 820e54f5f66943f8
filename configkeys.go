package main

import (
	"encoding/json"
	"strings"
)

// registerFileKeys maps each betterAuth() option the config file may hold onto the setting it
// fills (configfile.go). Options a plugin adds may equally be registered in its
// register<Plugin>Flags with the same calls.
func registerFileKeys(s *settings) {
	flags := []struct {
		path, flag string
		convert    func(json.RawMessage) (string, error)
	}{
		{"baseURL", "base-url", fileString},
		{"basePath", "base-path", fileString},
		{"trustedOrigins", "trusted-origins", fileList},

		{"emailAndPassword.enabled", "", fileTrue},
		{"emailAndPassword.disableSignUp", "disable-sign-up", fileBool},
		{"emailAndPassword.requireEmailVerification", "require-email-verification", fileBool},
		{"emailAndPassword.minPasswordLength", "min-password-length", fileInt},
		{"emailAndPassword.maxPasswordLength", "max-password-length", fileInt},
		{"emailAndPassword.autoSignIn", "auto-sign-in", fileBool},
		{"emailAndPassword.revokeSessionsOnPasswordReset", "revoke-sessions-on-password-reset", fileBool},
		{"emailAndPassword.resetPasswordTokenExpiresIn", "reset-password-token-expires-in", fileInt},
		{"emailVerification.sendOnSignUp", "send-verification-on-sign-up", fileBool},
		{"emailVerification.sendOnSignIn", "send-verification-on-sign-in", fileBool},
		{"emailVerification.autoSignInAfterVerification", "auto-sign-in-after-verification", fileBool},
		{"emailVerification.expiresIn", "email-verification-expires-in", fileInt},

		{"session.expiresIn", "session-expires-in", fileInt},
		{"session.updateAge", "session-update-age", fileInt},
		{"session.freshAge", "session-fresh-age", fileInt},
		{"session.cookieCache", "cookie-cache-max-age", fileCookieCache},

		{"user.changeEmail.enabled", "change-email-enabled", fileBool},
		{"user.changeEmail.updateEmailWithoutVerification", "change-email-without-verification", fileBool},
		{"user.deleteUser.enabled", "delete-user-enabled", fileBool},
		{"user.deleteUser.deleteTokenExpiresIn", "delete-user-token-expires-in", fileInt},

		{"account.accountLinking.enabled", "account-linking", fileBool},
		{"account.accountLinking.trustedProviders", "trusted-providers", fileList},
		{"account.accountLinking.allowDifferentEmails", "account-linking-allow-different-emails", fileBool},
		{"account.accountLinking.requireLocalEmailVerified", "account-linking-require-local-email-verified", fileBool},
		{"account.accountLinking.disableImplicitLinking", "account-linking-disable-implicit", fileBool},
		{"account.accountLinking.allowUnlinkingAll", "account-linking-allow-unlinking-all", fileBool},
		{"account.encryptOAuthTokens", "encrypt-oauth-tokens", fileBool},

		{"advanced.cookiePrefix", "cookie-prefix", fileString},
		{"advanced.useSecureCookies", "use-secure-cookies", fileBool},
		{"advanced.crossSubDomainCookies.enabled", "cross-subdomain-cookies", fileBool},
		{"advanced.crossSubDomainCookies.domain", "cookie-domain", fileString},
		{"advanced.ipAddress.ipAddressHeaders", "ip-address-headers", fileList},
		{"advanced.strictBody", "strict-body", fileBool},

		{"rateLimit.enabled", "rate-limit", fileBool},
		{"rateLimit.window", "rate-limit-window", fileInt},
		{"rateLimit.max", "rate-limit-max", fileInt},

		{"plugins.two-factor.issuer", "two-factor-issuer", fileString},
		{"plugins.passkey.rpID", "passkey-rp-id", fileString},
		{"plugins.passkey.rpName", "passkey-rp-name", fileString},
		{"plugins.passkey.origin", "passkey-origin", fileStringOrList},
		{"plugins.passkey.authenticatorSelection.userVerification", "passkey-user-verification", fileString},
		{"plugins.organization.organizationLimit", "org-limit", fileInt},
		{"plugins.organization.membershipLimit", "org-membership-limit", fileInt},
		{"plugins.organization.invitationLimit", "org-invitation-limit", fileInt},
		{"plugins.organization.invitationExpiresIn", "org-invitation-expires-in", fileInt},
		{"plugins.magic-link.disableSignUp", "magic-link-disable-sign-up", fileBool},
		{"plugins.magic-link.expiresIn", "magic-link-expires-in", fileInt},
		{"plugins.magic-link.rateLimit.window", "magic-link-rate-limit-window", fileInt},
		{"plugins.magic-link.rateLimit.max", "magic-link-rate-limit-max", fileInt},
		{"plugins.email-otp.disableSignUp", "email-otp-disable-sign-up", fileBool},
		{"plugins.email-otp.expiresIn", "email-otp-expires-in", fileInt},
		{"plugins.email-otp.otpLength", "email-otp-length", fileInt},
		{"plugins.email-otp.allowedAttempts", "email-otp-allowed-attempts", fileInt},
		{"plugins.email-otp.rateLimit.window", "email-otp-rate-limit-window", fileInt},
		{"plugins.email-otp.rateLimit.max", "email-otp-rate-limit-max", fileInt},
		{"plugins.email-otp.changeEmail.enabled", "email-otp-change-email", fileBool},
		{"plugins.email-otp.changeEmail.verifyCurrentEmail", "email-otp-change-email-verify-current", fileBool},
		{"plugins.sso.providersLimit", "sso-providers-limit", fileInt},
		{"plugins.sso.trustEmailVerified", "sso-trust-email-verified", fileBool},
		{"plugins.sso.domainVerification.enabled", "sso-domain-verification", fileBool},
		{"plugins.sso.organizationProvisioning.defaultRole", "sso-default-role", fileString},
		{"plugins.sso.saml.enableSingleLogout", "sso-saml-single-logout", fileBool},
		{"plugins.sso.defaultSSO.allowIdpInitiated", "sso-saml-allow-idp-initiated", fileBool},
		{"plugins.admin.defaultRole", "admin-default-role", fileString},
		{"plugins.admin.adminRoles", "admin-roles", fileStringOrList},
		{"plugins.admin.adminUserIds", "admin-user-ids", fileList},
		{"plugins.admin.impersonationSessionDuration", "admin-impersonation-session-duration", fileInt},
		{"plugins.admin.defaultBanReason", "admin-default-ban-reason", fileString},
		{"plugins.admin.defaultBanExpiresIn", "admin-default-ban-expires-in", fileInt},
		{"plugins.admin.bannedUserMessage", "admin-banned-user-message", fileString},
		{"plugins.bearer.requireSignature", "bearer-require-signature", fileBool},
		{"plugins.jwt.jwt.issuer", "jwt-issuer", fileString},
		{"plugins.jwt.jwt.audience", "jwt-audience", fileString},
		{"plugins.jwt.jwt.expirationTime", "jwt-expires-in", fileTimeSpan},
		{"plugins.jwt.jwks.keyPairConfig.alg", "jwks-key-alg", fileString},
		{"plugins.jwt.jwks.rotationInterval", "jwks-rotation-interval", fileSeconds},
		{"plugins.jwt.jwks.gracePeriod", "jwks-grace-period", fileSeconds},
	}
	for _, f := range flags {
		s.fileFlag(f.path, f.flag, f.convert)
	}
	s.fileSecret("secret", "BETTER_AUTH_SECRET")
	for _, id := range builtinProviders {
		at := "socialProviders." + id + "."
		s.fileFlag(at+"clientId", id+"-client-id", fileString)
		s.fileFlag(at+"scope", id+"-scopes", fileList)
		s.fileFlag(at+"disableSignUp", id+"-disable-sign-up", fileBool)
		s.fileFlag(at+"disableImplicitSignUp", id+"-disable-implicit-sign-up", fileBool)
		s.fileSecret(at+"clientSecret", "AUTH_"+strings.ToUpper(id)+"_CLIENT_SECRET")
	}
	s.fileFlag("socialProviders.microsoft.tenantId", "microsoft-tenant-id", fileString)
	s.fileFlag("socialProviders.microsoft.authority", "microsoft-authority", fileString)
	s.fileFlag("socialProviders.gitlab.issuer", "gitlab-issuer", fileString)
	s.fileFlag("socialProviders.apple.appBundleIdentifier", "apple-app-bundle-identifier", fileString)
	for _, p := range []struct{ id, enable string }{
		{"two-factor", ""}, {"passkey", ""}, {"organization", ""}, {"email-otp", ""},
		{"magic-link", ""}, {"sso", ""}, {"admin", ""}, {"bearer", "bearer"}, {"jwt", "jwt"},
	} {
		s.filePlugin(p.id, p.enable)
	}
}
