package main

import (
	"cmp"
	"fmt"
	"time"
)

// twoFactorConfig is upstream's twoFactor() options that vary between deployments.
type twoFactorConfig struct {
	Issuer string // TOTP issuer authenticator apps show (options.issuer, default appName)
	// The plugin's other options; zero (a config built in code) is upstream's default.
	TrustDeviceMaxAge  int // seconds a trusted device skips the second factor (trustDeviceMaxAge, 30 days)
	CookieMaxAge       int // seconds a sign-in challenge lasts (twoFactorCookieMaxAge, 600)
	OTPPeriod          int // minutes a mailed code works (otpOptions.period, 3)
	OTPDigits          int // digits of a mailed code (otpOptions.digits, 6)
	OTPAllowedAttempts int // wrong mailed codes per code (otpOptions.allowedAttempts, 5)
}

func (c twoFactorConfig) trustDeviceTTL() time.Duration {
	return cmp.Or(time.Duration(c.TrustDeviceMaxAge)*time.Second, trustDeviceTTL)
}
func (c twoFactorConfig) challengeTTL() time.Duration {
	return cmp.Or(time.Duration(c.CookieMaxAge)*time.Second, twoFactorChallengeTTL)
}
func (c twoFactorConfig) otpTTL() time.Duration {
	return cmp.Or(time.Duration(c.OTPPeriod)*time.Minute, twoFactorOTPTTL)
}
func (c twoFactorConfig) otpDigits() int   { return cmp.Or(c.OTPDigits, twoFactorOTPLength) }
func (c twoFactorConfig) otpAttempts() int { return cmp.Or(c.OTPAllowedAttempts, twoFactorOTPAttempts) }

// registerTwoFactorFlags adds the plugin's options after TWO_FACTOR_ISSUER.
func registerTwoFactorFlags(s *settings, c *twoFactorConfig) {
	s.Int(&c.TrustDeviceMaxAge, "two-factor-trust-device-max-age", "TWO_FACTOR_TRUST_DEVICE_MAX_AGE", 30*24*60*60, "seconds a device trusted at sign-in skips the second factor")
	s.Int(&c.CookieMaxAge, "two-factor-cookie-max-age", "TWO_FACTOR_COOKIE_MAX_AGE", 600, "seconds a sign-in has to answer its second factor")
	s.Int(&c.OTPPeriod, "two-factor-otp-period", "TWO_FACTOR_OTP_PERIOD", 3, "minutes a mailed two-factor code works; 0: 3")
	s.Int(&c.OTPDigits, "two-factor-otp-digits", "TWO_FACTOR_OTP_DIGITS", 6, "digits of a mailed two-factor code")
	s.Int(&c.OTPAllowedAttempts, "two-factor-otp-allowed-attempts", "TWO_FACTOR_OTP_ALLOWED_ATTEMPTS", 5, "wrong mailed codes after which a code is spent; 0: 5")
	for _, k := range []struct{ path, flag string }{
		{"plugins.two-factor.trustDeviceMaxAge", "two-factor-trust-device-max-age"},
		{"plugins.two-factor.twoFactorCookieMaxAge", "two-factor-cookie-max-age"},
		{"plugins.two-factor.otpOptions.period", "two-factor-otp-period"},
		{"plugins.two-factor.otpOptions.digits", "two-factor-otp-digits"},
		{"plugins.two-factor.otpOptions.allowedAttempts", "two-factor-otp-allowed-attempts"},
	} {
		s.fileFlag(k.path, k.flag, fileInt)
	}
}

// check refuses values upstream would turn into cookies or codes that never work.
func (c twoFactorConfig) check() error {
	if c.TrustDeviceMaxAge < 1 || c.CookieMaxAge < 1 || c.OTPDigits < 1 || c.OTPDigits > 32 || c.OTPPeriod < 0 || c.OTPAllowedAttempts < 0 {
		return fmt.Errorf("TWO_FACTOR_TRUST_DEVICE_MAX_AGE, TWO_FACTOR_COOKIE_MAX_AGE (1 or more seconds), TWO_FACTOR_OTP_DIGITS (1 to 32), TWO_FACTOR_OTP_PERIOD, TWO_FACTOR_OTP_ALLOWED_ATTEMPTS: got %d, %d, %d, %d, %d",
			c.TrustDeviceMaxAge, c.CookieMaxAge, c.OTPDigits, c.OTPPeriod, c.OTPAllowedAttempts)
	}
	return nil
}
