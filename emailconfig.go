package main

import (
	"cmp"
	"crypto/x509"
	"fmt"
	netmail "net/mail"
	"strconv"
	"time"
)

// emailConfig holds the mail transport and the switches of the email flows. Upstream leaves
// change-email and delete-user off by default; this product ships them on.
type emailConfig struct {
	SMTPHost     string
	SMTPPort     int
	SMTPUser     string
	SMTPPassword string // from the environment only, like every secret
	SMTPFrom     string
	TemplatesDir string
	templates    mailTemplates  // parsed from TemplatesDir; nil means the embedded defaults
	rootCAs      *x509.CertPool // trusted for SMTP TLS; nil means the system roots (tests set their own)

	RequireVerification           bool // upstream emailAndPassword.requireEmailVerification
	SendOnSignUp                  bool // upstream emailVerification.sendOnSignUp
	SendOnSignIn                  bool // upstream emailVerification.sendOnSignIn
	AutoSignInAfterVerification   bool // upstream emailVerification.autoSignInAfterVerification
	RevokeSessionsOnPasswordReset bool // upstream emailAndPassword.revokeSessionsOnPasswordReset

	// Token lifetimes; zero (a config built in code) is upstream's default.
	VerificationExpiresIn  time.Duration // upstream emailVerification.expiresIn (1 h)
	ResetPasswordExpiresIn time.Duration // upstream emailAndPassword.resetPasswordTokenExpiresIn (1 h)
	DeleteTokenExpiresIn   time.Duration // upstream user.deleteUser.deleteTokenExpiresIn (24 h)

	ChangeEmail                    bool // upstream user.changeEmail.enabled
	ChangeEmailConfirmation        bool // upstream user.changeEmail.sendChangeEmailConfirmation
	ChangeEmailWithoutVerification bool // upstream user.changeEmail.updateEmailWithoutVerification
	DeleteUser                     bool // upstream user.deleteUser.enabled
	DeleteUserVerification         bool // upstream user.deleteUser.sendDeleteAccountVerification

	PasswordlessSignUp bool // magic link and email OTP may create users (upstream disableSignUp, inverted)
	// Per method, as upstream's magicLink({disableSignUp}) and emailOTP({disableSignUp}).
	MagicLinkDisableSignUp bool
	OTPDisableSignUp       bool

	OTPChangeEmail              bool // upstream emailOTP changeEmail.enabled (off by default there too)
	OTPChangeEmailVerifyCurrent bool // upstream emailOTP changeEmail.verifyCurrentEmail

	// The plugins' other options; zero (a config built in code) is upstream's default.
	OTPExpiresIn       time.Duration   // emailOTP expiresIn (5 min)
	OTPLength          int             // emailOTP otpLength (6)
	OTPAllowedAttempts int             // emailOTP allowedAttempts (3)
	OTPRateLimit       pluginRateLimit // emailOTP rateLimit (60 s, 3)
	MagicLinkExpiresIn time.Duration   // magicLink expiresIn (5 min)
	MagicLinkRateLimit pluginRateLimit // magicLink rateLimit (60 s, 5)

	answerFloor time.Duration // answerFloor, unless a test shortens it
}

// emailFlags are the flag values, read once the flag set is parsed.
type emailFlags struct {
	settings *settings
	cfg      emailConfig // set by the flags; parse completes it
	// Lifetimes in seconds, as upstream's options.
	verificationExpiresIn, resetExpiresIn, deleteExpiresIn int
	otpExpiresIn, magicLinkExpiresIn                       int
}

// pluginRateLimit is a plugin's rateLimit option, {window (seconds), max}; zero: the plugin's default.
type pluginRateLimit struct{ Window, Max int }

// registerEmailFlags adds the email flags, each defaulting to its environment variable.
func registerEmailFlags(s *settings) *emailFlags {
	f := &emailFlags{settings: s}
	c := &f.cfg
	s.String(&c.SMTPHost, "smtp-host", "SMTP_HOST", "", "SMTP server; empty: mail goes to the development sink (log and MAIL_LOG)")
	s.Int(&c.SMTPPort, "smtp-port", "SMTP_PORT", 587, "SMTP port; 465 speaks implicit TLS, others STARTTLS when offered")
	s.String(&c.SMTPUser, "smtp-user", "SMTP_USER", "", "SMTP user (password from SMTP_PASSWORD); sent only over TLS unless the host is loopback")
	s.String(&c.SMTPFrom, "smtp-from", "SMTP_FROM", "", "From address of every mail, e.g. 'App <no-reply@example.com>'")
	s.String(&c.TemplatesDir, "mail-templates-dir", "MAIL_TEMPLATES_DIR", "", "directory of <type>.txt / <type>.html files overriding the built-in mail templates")
	s.Bool(&c.RequireVerification, "require-email-verification", "REQUIRE_EMAIL_VERIFICATION", false, "refuse email+password sign-in (403 EMAIL_NOT_VERIFIED) until the email is verified")
	s.Bool(&c.SendOnSignUp, "send-verification-on-sign-up", "SEND_VERIFICATION_ON_SIGN_UP", false, "mail a verification link at sign-up; unset: the value of REQUIRE_EMAIL_VERIFICATION")
	s.Bool(&c.SendOnSignIn, "send-verification-on-sign-in", "SEND_VERIFICATION_ON_SIGN_IN", true, "mail a new verification link when an unverified user is refused at sign-in")
	s.Bool(&c.AutoSignInAfterVerification, "auto-sign-in-after-verification", "AUTO_SIGN_IN_AFTER_VERIFICATION", false, "sign the user in when they open the verification link")
	s.Bool(&c.RevokeSessionsOnPasswordReset, "revoke-sessions-on-password-reset", "REVOKE_SESSIONS_ON_PASSWORD_RESET", false, "sign out every session of a user whose password is reset")
	s.Int(&f.verificationExpiresIn, "email-verification-expires-in", "EMAIL_VERIFICATION_EXPIRES_IN", 3600, "seconds a verification link (and a change-email link) stays valid")
	s.Int(&f.resetExpiresIn, "reset-password-token-expires-in", "RESET_PASSWORD_TOKEN_EXPIRES_IN", 3600, "seconds a password-reset link stays valid; 0: 3600")
	s.Bool(&c.ChangeEmail, "change-email-enabled", "CHANGE_EMAIL_ENABLED", true, "serve /change-email")
	s.Bool(&c.ChangeEmailConfirmation, "change-email-confirmation", "CHANGE_EMAIL_CONFIRMATION", true, "a verified user confirms an email change from the old address before the new one is verified")
	s.Bool(&c.ChangeEmailWithoutVerification, "change-email-without-verification", "CHANGE_EMAIL_WITHOUT_VERIFICATION", false, "an unverified user's email changes at once (a verification link goes to the new address)")
	s.Bool(&c.DeleteUser, "delete-user-enabled", "DELETE_USER_ENABLED", true, "serve /delete-user")
	s.Bool(&c.DeleteUserVerification, "delete-user-verification", "DELETE_USER_VERIFICATION", false, "delete-user mails a confirmation link instead of deleting at once")
	s.Int(&f.deleteExpiresIn, "delete-user-token-expires-in", "DELETE_USER_TOKEN_EXPIRES_IN", 86400, "seconds a delete-user confirmation link stays valid; 0: 86400")
	s.Bool(&c.PasswordlessSignUp, "passwordless-sign-up", "PASSWORDLESS_SIGN_UP", true, "magic link and email OTP sign-in create unknown users")
	s.Bool(&c.MagicLinkDisableSignUp, "magic-link-disable-sign-up", "MAGIC_LINK_DISABLE_SIGN_UP", false, "magic link sign-in does not create users, whatever PASSWORDLESS_SIGN_UP says")
	s.Bool(&c.OTPDisableSignUp, "email-otp-disable-sign-up", "EMAIL_OTP_DISABLE_SIGN_UP", false, "email OTP sign-in does not create users, whatever PASSWORDLESS_SIGN_UP says")
	s.Bool(&c.OTPChangeEmail, "email-otp-change-email", "EMAIL_OTP_CHANGE_EMAIL", false, "serve /email-otp/request-email-change and /email-otp/change-email (a code mailed to the new address)")
	s.Int(&f.otpExpiresIn, "email-otp-expires-in", "EMAIL_OTP_EXPIRES_IN", 300, "seconds an email OTP code stays valid")
	s.Int(&c.OTPLength, "email-otp-length", "EMAIL_OTP_LENGTH", 6, "digits of an email OTP code")
	s.Int(&c.OTPAllowedAttempts, "email-otp-allowed-attempts", "EMAIL_OTP_ALLOWED_ATTEMPTS", 3, "wrong codes after which an email OTP code is spent; 0: 3")
	s.Int(&c.OTPRateLimit.Window, "email-otp-rate-limit-window", "EMAIL_OTP_RATE_LIMIT_WINDOW", 60, "seconds of the rate-limit window of the email OTP routes; 0: 60")
	s.Int(&c.OTPRateLimit.Max, "email-otp-rate-limit-max", "EMAIL_OTP_RATE_LIMIT_MAX", 3, "requests per window to each email OTP route; 0: 3")
	s.Int(&f.magicLinkExpiresIn, "magic-link-expires-in", "MAGIC_LINK_EXPIRES_IN", 300, "seconds a magic link stays valid; 0: 300")
	s.Int(&c.MagicLinkRateLimit.Window, "magic-link-rate-limit-window", "MAGIC_LINK_RATE_LIMIT_WINDOW", 60, "seconds of the rate-limit window of the magic link routes; 0: 60")
	s.Int(&c.MagicLinkRateLimit.Max, "magic-link-rate-limit-max", "MAGIC_LINK_RATE_LIMIT_MAX", 5, "requests per window to each magic link route; 0: 5")
	s.Bool(&c.OTPChangeEmailVerifyCurrent, "email-otp-change-email-verify-current", "EMAIL_OTP_CHANGE_EMAIL_VERIFY_CURRENT", false, "/email-otp/request-email-change also needs an email-verification code mailed to the current address")
	return f
}

// parse completes the emailConfig, loading any template overrides so that a broken template
// stops the server at start rather than at its first mail.
func (f *emailFlags) parse(getenv func(string) string) (emailConfig, error) {
	c := f.cfg
	c.answerFloor, c.SMTPPassword = answerFloor, getenv("SMTP_PASSWORD")
	if c.SMTPPort <= 0 || c.SMTPPort > 65535 {
		return emailConfig{}, fmt.Errorf("SMTP_PORT: want a port, got %d", c.SMTPPort)
	}
	switch {
	case f.verificationExpiresIn < 1:
		// Upstream would sign links that are expired when sent.
		return emailConfig{}, fmt.Errorf("EMAIL_VERIFICATION_EXPIRES_IN: want 1 or more seconds, got %d", f.verificationExpiresIn)
	case f.resetExpiresIn < 0 || f.deleteExpiresIn < 0 || f.magicLinkExpiresIn < 0:
		return emailConfig{}, fmt.Errorf("RESET_PASSWORD_TOKEN_EXPIRES_IN, DELETE_USER_TOKEN_EXPIRES_IN, MAGIC_LINK_EXPIRES_IN: want seconds, got %d, %d, %d", f.resetExpiresIn, f.deleteExpiresIn, f.magicLinkExpiresIn)
	case f.otpExpiresIn < 1:
		// Upstream would store codes that are expired when sent.
		return emailConfig{}, fmt.Errorf("EMAIL_OTP_EXPIRES_IN: want 1 or more seconds, got %d", f.otpExpiresIn)
	case c.OTPLength < 1 || c.OTPLength > 32:
		return emailConfig{}, fmt.Errorf("EMAIL_OTP_LENGTH: want 1 to 32 digits, got %d", c.OTPLength)
	case c.OTPAllowedAttempts < 0 || min(c.OTPRateLimit.Window, c.OTPRateLimit.Max, c.MagicLinkRateLimit.Window, c.MagicLinkRateLimit.Max) < 0:
		return emailConfig{}, fmt.Errorf("EMAIL_OTP_ALLOWED_ATTEMPTS, *_RATE_LIMIT_WINDOW, *_RATE_LIMIT_MAX: want 0 or more")
	}
	c.OTPExpiresIn = time.Duration(f.otpExpiresIn) * time.Second
	c.MagicLinkExpiresIn = time.Duration(f.magicLinkExpiresIn) * time.Second
	c.VerificationExpiresIn = time.Duration(f.verificationExpiresIn) * time.Second
	c.ResetPasswordExpiresIn = time.Duration(f.resetExpiresIn) * time.Second
	c.DeleteTokenExpiresIn = time.Duration(f.deleteExpiresIn) * time.Second
	if c.SMTPHost != "" {
		if _, err := netmail.ParseAddress(c.SMTPFrom); err != nil {
			return emailConfig{}, fmt.Errorf("SMTP_FROM: want an address like 'App <no-reply@example.com>' with SMTP_HOST, got %q", c.SMTPFrom)
		}
	}
	if !f.settings.isSet("send-verification-on-sign-up") {
		c.SendOnSignUp = c.RequireVerification
	}
	var err error
	if c.TemplatesDir != "" {
		if c.templates, err = loadMailTemplates(c.TemplatesDir); err != nil {
			return emailConfig{}, err
		}
	}
	return c, nil
}

// verificationTTL, resetTTL and deleteTTL are the token lifetimes, upstream's defaults when unset
// (upstream reads resetPasswordTokenExpiresIn and deleteTokenExpiresIn with ||, so 0 is the default).
func (c emailConfig) verificationTTL() time.Duration {
	return cmp.Or(c.VerificationExpiresIn, emailTokenExpiresIn)
}
func (c emailConfig) resetTTL() time.Duration {
	return cmp.Or(c.ResetPasswordExpiresIn, resetPasswordExpiresIn)
}
func (c emailConfig) deleteTTL() time.Duration {
	return cmp.Or(c.DeleteTokenExpiresIn, deleteTokenExpiresIn)
}

// otpTTL, otpLength, otpAttempts and magicLinkTTL are the plugins' options, upstream's defaults
// when unset.
func (c emailConfig) otpTTL() time.Duration { return cmp.Or(c.OTPExpiresIn, otpExpiresIn) }
func (c emailConfig) otpLength() int        { return cmp.Or(c.OTPLength, otpLength) }
func (c emailConfig) otpAttempts() int      { return cmp.Or(c.OTPAllowedAttempts, otpAllowedAttempts) }
func (c emailConfig) magicLinkTTL() time.Duration {
	return cmp.Or(c.MagicLinkExpiresIn, magicLinkExpiresIn)
}

// validFor is how long the link or code of a mail of type typ works, in words for its template.
func (c emailConfig) validFor(typ string) string {
	d := map[string]time.Duration{
		"verify-email": c.verificationTTL(), "change-email": c.verificationTTL(), "reset-password": c.resetTTL(),
		"delete-account": c.deleteTTL(), "magic-link": c.magicLinkTTL(), "email-otp": c.otpTTL(),
	}[typ]
	return inWords(d)
}

// inWords says a lifetime as a mail would: "one hour", "five minutes", "90 seconds".
func inWords(d time.Duration) string {
	n, unit := int64(d/time.Second), "second"
	for _, u := range []struct {
		name string
		secs int64
	}{{"day", 86400}, {"hour", 3600}, {"minute", 60}} {
		if n >= u.secs && n%u.secs == 0 {
			n, unit = n/u.secs, u.name
			break
		}
	}
	words := []string{"", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}
	count := strconv.FormatInt(n, 10)
	if n < int64(len(words)) {
		count = words[n]
	}
	if n != 1 {
		unit += "s"
	}
	return count + " " + unit
}
