package main

import (
	"crypto/x509"
	"flag"
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

	ChangeEmail                    bool // upstream user.changeEmail.enabled
	ChangeEmailConfirmation        bool // upstream user.changeEmail.sendChangeEmailConfirmation
	ChangeEmailWithoutVerification bool // upstream user.changeEmail.updateEmailWithoutVerification
	DeleteUser                     bool // upstream user.deleteUser.enabled
	DeleteUserVerification         bool // upstream user.deleteUser.sendDeleteAccountVerification

	PasswordlessSignUp bool // magic link and email OTP may create users (upstream disableSignUp, inverted)

	OTPChangeEmail              bool // upstream emailOTP changeEmail.enabled (off by default there too)
	OTPChangeEmailVerifyCurrent bool // upstream emailOTP changeEmail.verifyCurrentEmail

	answerFloor time.Duration // answerFloor, unless a test shortens it
}

// emailFlags are the raw flag values, read once the flag set is parsed.
type emailFlags struct {
	host, port, user, from, templates                                    string
	require, onSignUp, onSignIn, autoSignIn, revokeOnReset               string
	changeEmail, changeConfirm, changeNoVerify, deleteUser, deleteVerify string
	passwordlessSignUp, otpChangeEmail, otpVerifyCurrent                 string
}

// registerEmailFlags adds the email flags to fs, each defaulting to its environment variable.
func registerEmailFlags(fs *flag.FlagSet, env func(name, def string) string) *emailFlags {
	f := &emailFlags{}
	str := func(p *string, flagName, envName, def, usage string) {
		fs.StringVar(p, flagName, env(envName, def), "["+envName+"] "+usage)
	}
	str(&f.host, "smtp-host", "SMTP_HOST", "", "SMTP server; empty: mail goes to the development sink (log and MAIL_LOG)")
	str(&f.port, "smtp-port", "SMTP_PORT", "587", "SMTP port; 465 speaks implicit TLS, others STARTTLS when offered")
	str(&f.user, "smtp-user", "SMTP_USER", "", "SMTP user (password from SMTP_PASSWORD); sent only over TLS unless the host is loopback")
	str(&f.from, "smtp-from", "SMTP_FROM", "", "From address of every mail, e.g. 'App <no-reply@example.com>'")
	str(&f.templates, "mail-templates-dir", "MAIL_TEMPLATES_DIR", "", "directory of <type>.txt / <type>.html files overriding the built-in mail templates")
	str(&f.require, "require-email-verification", "REQUIRE_EMAIL_VERIFICATION", "false", "refuse email+password sign-in (403 EMAIL_NOT_VERIFIED) until the email is verified")
	str(&f.onSignUp, "send-verification-on-sign-up", "SEND_VERIFICATION_ON_SIGN_UP", "", "mail a verification link at sign-up; empty: the value of REQUIRE_EMAIL_VERIFICATION")
	str(&f.onSignIn, "send-verification-on-sign-in", "SEND_VERIFICATION_ON_SIGN_IN", "true", "mail a new verification link when an unverified user is refused at sign-in")
	str(&f.autoSignIn, "auto-sign-in-after-verification", "AUTO_SIGN_IN_AFTER_VERIFICATION", "false", "sign the user in when they open the verification link")
	str(&f.revokeOnReset, "revoke-sessions-on-password-reset", "REVOKE_SESSIONS_ON_PASSWORD_RESET", "false", "sign out every session of a user whose password is reset")
	str(&f.changeEmail, "change-email-enabled", "CHANGE_EMAIL_ENABLED", "true", "serve /change-email")
	str(&f.changeConfirm, "change-email-confirmation", "CHANGE_EMAIL_CONFIRMATION", "true", "a verified user confirms an email change from the old address before the new one is verified")
	str(&f.changeNoVerify, "change-email-without-verification", "CHANGE_EMAIL_WITHOUT_VERIFICATION", "false", "an unverified user's email changes at once (a verification link goes to the new address)")
	str(&f.deleteUser, "delete-user-enabled", "DELETE_USER_ENABLED", "true", "serve /delete-user")
	str(&f.deleteVerify, "delete-user-verification", "DELETE_USER_VERIFICATION", "false", "delete-user mails a confirmation link instead of deleting at once")
	str(&f.passwordlessSignUp, "passwordless-sign-up", "PASSWORDLESS_SIGN_UP", "true", "magic link and email OTP sign-in create unknown users")
	str(&f.otpChangeEmail, "email-otp-change-email", "EMAIL_OTP_CHANGE_EMAIL", "false", "serve /email-otp/request-email-change and /email-otp/change-email (a code mailed to the new address)")
	str(&f.otpVerifyCurrent, "email-otp-change-email-verify-current", "EMAIL_OTP_CHANGE_EMAIL_VERIFY_CURRENT", "false", "/email-otp/request-email-change also needs an email-verification code mailed to the current address")
	return f
}

// parse turns the flag values into an emailConfig, loading any template overrides so that a broken
// template stops the server at start rather than at its first mail.
func (f *emailFlags) parse(getenv func(string) string) (emailConfig, error) {
	c := emailConfig{answerFloor: answerFloor, SMTPHost: f.host, SMTPUser: f.user, SMTPPassword: getenv("SMTP_PASSWORD"), SMTPFrom: f.from, TemplatesDir: f.templates}
	var err error
	if c.SMTPPort, err = strconv.Atoi(f.port); err != nil || c.SMTPPort <= 0 || c.SMTPPort > 65535 {
		return emailConfig{}, fmt.Errorf("SMTP_PORT: want a port, got %q", f.port)
	}
	if c.SMTPHost != "" {
		if _, err := netmail.ParseAddress(c.SMTPFrom); err != nil {
			return emailConfig{}, fmt.Errorf("SMTP_FROM: want an address like 'App <no-reply@example.com>' with SMTP_HOST, got %q", c.SMTPFrom)
		}
	}
	if f.onSignUp == "" {
		f.onSignUp = f.require
	}
	bools := []struct {
		name string
		raw  string
		dst  *bool
	}{
		{"REQUIRE_EMAIL_VERIFICATION", f.require, &c.RequireVerification},
		{"SEND_VERIFICATION_ON_SIGN_UP", f.onSignUp, &c.SendOnSignUp},
		{"SEND_VERIFICATION_ON_SIGN_IN", f.onSignIn, &c.SendOnSignIn},
		{"AUTO_SIGN_IN_AFTER_VERIFICATION", f.autoSignIn, &c.AutoSignInAfterVerification},
		{"REVOKE_SESSIONS_ON_PASSWORD_RESET", f.revokeOnReset, &c.RevokeSessionsOnPasswordReset},
		{"CHANGE_EMAIL_ENABLED", f.changeEmail, &c.ChangeEmail},
		{"CHANGE_EMAIL_CONFIRMATION", f.changeConfirm, &c.ChangeEmailConfirmation},
		{"CHANGE_EMAIL_WITHOUT_VERIFICATION", f.changeNoVerify, &c.ChangeEmailWithoutVerification},
		{"DELETE_USER_ENABLED", f.deleteUser, &c.DeleteUser},
		{"DELETE_USER_VERIFICATION", f.deleteVerify, &c.DeleteUserVerification},
		{"PASSWORDLESS_SIGN_UP", f.passwordlessSignUp, &c.PasswordlessSignUp},
		{"EMAIL_OTP_CHANGE_EMAIL", f.otpChangeEmail, &c.OTPChangeEmail},
		{"EMAIL_OTP_CHANGE_EMAIL_VERIFY_CURRENT", f.otpVerifyCurrent, &c.OTPChangeEmailVerifyCurrent},
	}
	for _, b := range bools {
		if *b.dst, err = strconv.ParseBool(b.raw); err != nil {
			return emailConfig{}, fmt.Errorf("%s: want true or false, got %q", b.name, b.raw)
		}
	}
	if c.TemplatesDir != "" {
		if c.templates, err = loadMailTemplates(c.TemplatesDir); err != nil {
			return emailConfig{}, err
		}
	}
	return c, nil
}
