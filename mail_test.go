package main

import (
	"bufio"
	"context"
	"encoding/json"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMailTemplatesRenderEveryType ensures each mail type, including those other features send
// (two-factor-otp, organization-invitation), renders a one-line subject and both bodies carrying
// what the reader needs, with HTML escaping in the HTML body.
func TestMailTemplatesRenderEveryType(t *testing.T) {
	t.Parallel()
	cases := []struct {
		m    mail
		want []string // in the text body
	}{
		{mail{Type: "verify-email", Email: "a@example.com", URL: "https://app.example.com/v?t=1"}, []string{"https://app.example.com/v?t=1", "valid for one hour"}},
		{mail{Type: "reset-password", Email: "a@example.com", URL: "https://app.example.com/r"}, []string{"https://app.example.com/r", "valid for one hour"}},
		{mail{Type: "change-email", Email: "a@example.com", NewEmail: "b@example.com", URL: "https://app.example.com/c"}, []string{"b@example.com", "https://app.example.com/c"}},
		{mail{Type: "delete-account", Email: "a@example.com", URL: "https://app.example.com/d"}, []string{"https://app.example.com/d"}},
		{mail{Type: "magic-link", Email: "a@example.com", URL: "https://app.example.com/m"}, []string{"https://app.example.com/m", "valid for five minutes"}},
		{mail{Type: "email-otp", Email: "a@example.com", OTP: "123456", OTPType: "sign-in"}, []string{"123456", "sign in", "valid for five minutes"}},
		{mail{Type: "email-otp", Email: "a@example.com", OTP: "123456", OTPType: "forget-password"}, []string{"123456", "reset the password"}},
		{mail{Type: "email-otp", Email: "a@example.com", OTP: "123456", OTPType: "email-verification"}, []string{"123456", "verify"}},
		{mail{Type: "two-factor-otp", Email: "a@example.com", OTP: "654321"}, []string{"654321"}},
		{mail{Type: "organization-invitation", Email: "a@example.com", ID: "inv123", URL: "https://app.example.com/accept-invitation/inv123"}, []string{"inv123", "https://app.example.com/accept-invitation/inv123"}},
	}
	for _, c := range cases {
		t.Run(c.m.Type+"/"+c.m.OTPType, func(t *testing.T) {
			subject, text, html, err := defaultMailTemplates.render(c.m, emailConfig{}.validFor(c.m.Type))
			if err != nil {
				t.Fatal(err)
			}
			if subject == "" || strings.ContainsAny(subject, "\r\n") {
				t.Fatalf("subject = %q", subject)
			}
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("text body lacks %q:\n%s", w, text)
				}
			}
			if !strings.Contains(html, c.m.Email) || !strings.Contains(html, "<html") {
				t.Errorf("html body:\n%s", html)
			}
		})
	}
	t.Run("html escapes what it shows", func(t *testing.T) {
		_, _, html, err := defaultMailTemplates.render(mail{Type: "magic-link", Email: `x"><script>@example.com`, URL: "https://e.com/?a=1&b=2"}, "")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(html, "<script>") || !strings.Contains(html, "&amp;b=2") {
			t.Fatalf("html not escaped:\n%s", html)
		}
	})
	t.Run("unknown type fails", func(t *testing.T) {
		if _, _, _, err := defaultMailTemplates.render(mail{Type: "nope"}, ""); err == nil {
			t.Fatal("rendered an unknown type")
		}
	})
}

// TestMailTemplatesDirOverridesFileByFile ensures MAIL_TEMPLATES_DIR replaces only the files it
// holds, and that a broken or subject-less override is refused at load.
func TestMailTemplatesDirOverridesFileByFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("magic-link.txt", `{{define "subject"}}Custom {{.Email}}{{end}}Go: {{.URL}}`)
	ts, err := loadMailTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	subject, text, html, err := ts.render(mail{Type: "magic-link", Email: "a@example.com", URL: "https://e.com/x"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := subject, "Custom a@example.com"; got != want {
		t.Fatalf("subject = %q, want %q", got, want)
	}
	if got, want := text, "Go: https://e.com/x\n"; got != want {
		t.Fatalf("text = %q, want %q", got, want)
	}
	if !strings.Contains(html, "Sign in") {
		t.Fatalf("html is not the built-in one:\n%s", html)
	}

	for name, body := range map[string]string{
		"verify-email.txt":   `{{define "subject"}}x{{end}}{{.Nope}}`,
		"reset-password.txt": `no subject {{.URL}}`,
		"delete-account.txt": `{{define "subject"}}x{{end}}{{.URL`,
	} {
		bad := t.TempDir()
		if err := os.WriteFile(filepath.Join(bad, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := loadMailTemplates(bad); err == nil {
			t.Errorf("%s %q: loaded", name, body)
		}
	}
}

// TestSMTPDeliversOverSTARTTLSWithAuth ensures mail goes over STARTTLS when offered, with AUTH
// PLAIN, as a multipart message with the configured sender and a decodable subject.
func TestSMTPDeliversOverSTARTTLSWithAuth(t *testing.T) {
	t.Parallel()
	smtpd := newTestSMTP(t, withSMTPAuth("mailer", "s3cret"))
	ts := newTestServer(t, emailDefaults, useSMTP(smtpd), func(c *config) { c.Email.SMTPUser, c.Email.SMTPPassword = "mailer", "s3cret" })
	c := ts.client(t)
	c.signUp("smtp@example.com", "password123", "S")
	c.post("/api/auth/request-password-reset", map[string]any{"email": "smtp@example.com"}).wantStatus(t, http.StatusOK)
	m := smtpd.nextMail(t, "smtp@example.com")
	if !m.TLS || m.AuthUser != "mailer" || m.From != "no-reply@example.com" {
		t.Fatalf("tls=%v auth=%q from=%q", m.TLS, m.AuthUser, m.From)
	}
	p := m.parse(t)
	if got, want := p.Subject, "Reset your password"; got != want {
		t.Fatalf("subject = %q, want %q", got, want)
	}
	if got := p.Header.Get("From"); !strings.Contains(got, "no-reply@example.com") {
		t.Fatalf("From = %q", got)
	}
	if got := p.Header.Get("To"); got != "<smtp@example.com>" {
		t.Fatalf("To = %q", got)
	}
	if !strings.Contains(m.link(t), "/api/auth/reset-password/") {
		t.Fatalf("link = %q", m.link(t))
	}
}

// TestSMTPImplicitTLS ensures the SMTPS mode (port 465) speaks TLS from the first byte.
func TestSMTPImplicitTLS(t *testing.T) {
	t.Parallel()
	smtpd := newTestSMTP(t, withImplicitTLS)
	cfg := config{}
	emailDefaults(&cfg)
	useSMTP(smtpd)(&cfg)
	if cfg.Email.SMTPPort == 465 {
		t.Skip("the test server got port 465")
	}
	m := newMailer(cfg).(*smtpMailer)
	if m.implicitTLS {
		t.Fatal("implicit TLS on a port other than 465")
	}
	m.implicitTLS = true // what port 465 selects
	if err := m.send(context.Background(), mail{Type: "magic-link", Email: "tls@example.com", URL: "https://e.com"}); err != nil {
		t.Fatal(err)
	}
	if got := smtpd.nextMail(t, "tls@example.com"); !got.TLS {
		t.Fatal("delivered without TLS")
	}
	cfg.Email.SMTPPort = 465
	if !newMailer(cfg).(*smtpMailer).implicitTLS {
		t.Fatal("port 465 does not select implicit TLS")
	}
}

// TestSMTPCredentialsNeedTLS ensures credentials cross an unencrypted connection only to a
// loopback relay: to another host without STARTTLS the mailer refuses before AUTH.
func TestSMTPCredentialsNeedTLS(t *testing.T) {
	t.Parallel()
	smtpd := newTestSMTP(t, withoutSTARTTLS, withSMTPAuth("mailer", "s3cret"))
	cfg := config{}
	emailDefaults(&cfg)
	useSMTP(smtpd)(&cfg)
	cfg.Email.SMTPUser, cfg.Email.SMTPPassword = "mailer", "s3cret"

	if err := newMailer(cfg).send(context.Background(), mail{Type: "magic-link", Email: "plain@example.com", URL: "https://e.com"}); err != nil {
		t.Fatalf("loopback relay without TLS: %v", err)
	}
	if got := smtpd.nextMail(t, "plain@example.com"); got.TLS || got.AuthUser != "mailer" {
		t.Fatalf("tls=%v auth=%q", got.TLS, got.AuthUser)
	}

	for _, c := range []struct {
		host string
		want bool
	}{{"localhost", true}, {"127.0.0.1", true}, {"::1", true}, {"127.0.0.2", true}, {"192.0.2.10", false}, {"smtp.example.com", false}, {"localhost.evil.com", false}} {
		if got := isLoopbackHost(c.host); got != c.want {
			t.Errorf("isLoopbackHost(%q) = %v, want %v", c.host, got, c.want)
		}
	}

	// A non-loopback address of this machine, if it has one, stands in for a remote relay.
	ip := nonLoopbackIPv4()
	if ip == "" {
		return
	}
	remote := newTestSMTP(t, withoutSTARTTLS, withSMTPAuth("mailer", "s3cret"))
	remote.stop()
	remote.listen(t, net.JoinHostPort(ip, "0"))
	useSMTP(remote)(&cfg)
	err := newMailer(cfg).send(context.Background(), mail{Type: "magic-link", Email: "remote@example.com", URL: "https://e.com"})
	if err == nil || !strings.Contains(err.Error(), "without TLS") {
		t.Fatalf("err = %v, want a refusal to send credentials without TLS", err)
	}
	if remote.count("remote@example.com") != 0 {
		t.Fatal("mail delivered")
	}
}

func nonLoopbackIPv4() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String()
		}
	}
	return ""
}

// TestMailServerDownDoesNotFailRequest ensures a request that mails answers normally while the
// SMTP server is down, the mail waits in the outbox with its failed attempt counted, and it is
// delivered once the server is back.
func TestMailServerDownDoesNotFailRequest(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t)
	c := ts.client(t)
	c.signUp("down@example.com", "password123", "D")
	smtpd.stop()
	c.post("/api/auth/request-password-reset", map[string]any{"email": "down@example.com"}).wantStatus(t, http.StatusOK)

	deadline := time.Now().Add(5 * time.Second)
	var attempts int
	for time.Now().Before(deadline) {
		err := ts.db.QueryRow(context.Background(), `SELECT attempts FROM "mailOutbox"`).Scan(&attempts)
		if err == nil && attempts >= 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if attempts < 1 {
		t.Fatalf("attempts = %d, want a failed attempt recorded", attempts)
	}
	if ts.rowCount(t, "mailOutbox") != 1 {
		t.Fatal("the undelivered mail left the outbox")
	}

	smtpd.restart(t)
	// Time passes: the retry is due.
	if _, err := ts.db.Exec(context.Background(), `UPDATE "mailOutbox" SET "nextAttemptAt" = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	m := smtpd.nextMail(t, "down@example.com")
	if !strings.Contains(m.link(t), "/reset-password/") {
		t.Fatalf("link = %q", m.link(t))
	}
	waitOutboxEmpty(t, ts)
}

func waitOutboxEmpty(t *testing.T, ts *testServer) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for ts.rowCount(t, "mailOutbox") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("outbox not empty")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMailRefusedForGoodIsDropped ensures a permanent refusal (SMTP 5xx on RCPT) removes the
// mail, while a temporary one (4xx) keeps it for a later attempt.
func TestMailRefusedForGoodIsDropped(t *testing.T) {
	t.Parallel()
	smtpd := newTestSMTP(t, withRcptReply("gone@example.com", "550 5.1.1 no such user"), withRcptReply("busy@example.com", "451 4.3.0 try later"))
	ts := newTestServer(t, emailDefaults, useSMTP(smtpd))
	ctx := context.Background()
	for _, to := range []string{"gone@example.com", "busy@example.com"} {
		if err := ts.enqueueMail(ctx, ts.db, mail{Type: "magic-link", Email: to, URL: "https://e.com"}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var busyAttempts, rows int
		ts.db.QueryRow(ctx, `SELECT count(*), COALESCE(max(attempts), 0) FROM "mailOutbox"`).Scan(&rows, &busyAttempts)
		if rows == 1 && busyAttempts >= 1 {
			var payload string
			ts.db.QueryRow(ctx, `SELECT payload->>'email' FROM "mailOutbox"`).Scan(&payload)
			if payload != "busy@example.com" {
				t.Fatalf("kept %q", payload)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("rows = %d, attempts = %d", rows, busyAttempts)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOutboxDeliversEachMailOnce ensures workers racing over one outbox (replicas) send every
// message exactly once.
func TestOutboxDeliversEachMailOnce(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	const n = 60
	for i := range n {
		if err := ts.enqueueMail(ctx, ts.db, mail{Type: "magic-link", Email: "m" + string(rune('a'+i%26)) + "@example.com", Token: generateID(8)}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				claimed, err := ts.deliverMail(ctx)
				if err != nil {
					t.Error(err)
				}
				if claimed == 0 || err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	waitOutboxEmpty(t, ts)
	ts.mails.mu.Lock()
	defer ts.mails.mu.Unlock()
	seen := map[string]int{}
	for _, m := range ts.mails.sent {
		seen[m.Token]++
	}
	if len(ts.mails.sent) != n || len(seen) != n {
		t.Fatalf("sent %d mails, %d distinct, want %d", len(ts.mails.sent), len(seen), n)
	}
}

// TestMailRetryDelayBacksOff ensures retries wait 5 s, then twice as long each time, at most an hour.
func TestMailRetryDelayBacksOff(t *testing.T) {
	t.Parallel()
	for attempts, want := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 3: 20 * time.Second, 10: 2560 * time.Second, 11: time.Hour, 1000: time.Hour} {
		if got := mailRetryDelay(attempts); got != want {
			t.Errorf("mailRetryDelay(%d) = %v, want %v", attempts, got, want)
		}
	}
}

// TestDevMailerWritesReferenceShape ensures MAIL_LOG gets one JSON line per mail in the reference
// server's shape: codes and invitation ids repeated as "token", "&" left readable.
func TestDevMailerWritesReferenceShape(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "mail.log")
	d := &devMailer{path: path}
	for _, m := range []mail{
		{Type: "magic-link", Email: "a@example.com", URL: "https://e.com/v?token=x&callbackURL=%2F", Token: "x"},
		{Type: "two-factor-otp", Email: "a@example.com", OTP: "123456"},
		{Type: "organization-invitation", Email: "a@example.com", ID: "inv1", URL: "https://e.com/accept-invitation/inv1"},
	} {
		if err := d.send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `\u0026`) {
			t.Errorf("escaped &: %s", sc.Text())
		}
		var m map[string]string
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 3 {
		t.Fatalf("%d lines", len(lines))
	}
	if _, err := time.Parse(jsTimeLayout, lines[0]["at"]); err != nil {
		t.Errorf("at = %q", lines[0]["at"])
	}
	if lines[0]["url"] != "https://e.com/v?token=x&callbackURL=%2F" || lines[0]["token"] != "x" {
		t.Errorf("magic-link line = %v", lines[0])
	}
	if lines[1]["otp"] != "123456" || lines[1]["token"] != "123456" {
		t.Errorf("two-factor line = %v", lines[1])
	}
	if lines[2]["id"] != "inv1" || lines[2]["token"] != "inv1" {
		t.Errorf("invitation line = %v", lines[2])
	}
}

// TestEmailConfigDefaultsAndErrors ensures the email settings' defaults and that bad values stop
// the server at start.
func TestEmailConfigDefaultsAndErrors(t *testing.T) {
	t.Parallel()
	load := func(env map[string]string) (config, error) {
		return loadConfig(nil, func(k string) string { return env[k] })
	}
	c, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := c.Email
	if !e.ChangeEmail || !e.DeleteUser || !e.ChangeEmailConfirmation || !e.SendOnSignIn || !e.PasswordlessSignUp ||
		e.RequireVerification || e.SendOnSignUp || e.DeleteUserVerification || e.AutoSignInAfterVerification || e.RevokeSessionsOnPasswordReset ||
		e.SMTPPort != 587 {
		t.Fatalf("defaults = %+v", e)
	}
	c, err = load(map[string]string{"REQUIRE_EMAIL_VERIFICATION": "true"})
	if err != nil || !c.Email.SendOnSignUp {
		t.Fatalf("sign-up mail does not follow REQUIRE_EMAIL_VERIFICATION: %v %+v", err, c.Email)
	}
	c, err = load(map[string]string{"REQUIRE_EMAIL_VERIFICATION": "true", "SEND_VERIFICATION_ON_SIGN_UP": "false"})
	if err != nil || c.Email.SendOnSignUp {
		t.Fatalf("SEND_VERIFICATION_ON_SIGN_UP=false ignored: %v", err)
	}
	c, err = load(map[string]string{"SMTP_HOST": "smtp.example.com", "SMTP_FROM": "a@example.com", "SMTP_PASSWORD": "pw"})
	if err != nil || c.Email.SMTPPassword != "pw" {
		t.Fatalf("SMTP: %v %+v", err, c.Email)
	}
	for _, env := range []map[string]string{
		{"SMTP_HOST": "smtp.example.com"},
		{"SMTP_HOST": "smtp.example.com", "SMTP_FROM": "not an address"},
		{"SMTP_PORT": "0"},
		{"SMTP_PORT": "smtp"},
		{"DELETE_USER_ENABLED": "maybe"},
		{"MAIL_TEMPLATES_DIR": filepath.Join(t.TempDir(), "missing")},
	} {
		if _, err := load(env); err == nil {
			t.Errorf("%v: accepted", env)
		}
	}
}

// TestLeasedMailIsRetriedAfterWorkerDies ensures a message claimed by a worker that died before
// sending is not lost: no one takes it while its lease runs, anyone may once it has run out.
func TestLeasedMailIsRetriedAfterWorkerDies(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ctx := context.Background()
	// What a worker leaves behind when it dies right after its claim.
	if _, err := ts.db.Exec(ctx, `INSERT INTO "mailOutbox" (id, payload, "createdAt", "nextAttemptAt", attempts)
		VALUES ('dead', '{"type":"magic-link","email":"lease@example.com","token":"t"}', now(), now() + interval '2 minutes', 1)`); err != nil {
		t.Fatal(err)
	}
	if n, err := ts.deliverMail(ctx); err != nil || n != 0 {
		t.Fatalf("claimed %d leased mails (err %v)", n, err)
	}
	if ts.rowCount(t, "mailOutbox") != 1 {
		t.Fatal("leased mail gone")
	}
	if _, err := ts.db.Exec(ctx, `UPDATE "mailOutbox" SET "nextAttemptAt" = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if m := ts.waitMail(t, "magic-link", "lease@example.com"); m.Token != "t" {
		t.Fatalf("mail = %+v", m)
	}
	waitOutboxEmpty(t, ts)
}

// TestAnswersThatCouldRevealAnAccountWaitTheFloor ensures every endpoint whose answer must not
// tell whether an email has an account takes at least answerFloor on both paths, so the extra
// INSERT of the path with an account cannot be timed.
func TestAnswersThatCouldRevealAnAccountWaitTheFloor(t *testing.T) {
	t.Parallel()
	ts, _ := newMailServer(t, otpChangeEmailOn)
	ts.client(t).signUp("known@example.com", "password123", "K")
	mover := ts.client(t)
	mover.signUp("mover@example.com", "password123", "M")
	requests := []struct {
		path string
		body map[string]any
	}{
		{"/api/auth/send-verification-email", map[string]any{}},
		{"/api/auth/request-password-reset", map[string]any{}},
		{"/api/auth/email-otp/send-verification-otp", map[string]any{"type": "forget-password"}},
		{"/api/auth/email-otp/request-password-reset", map[string]any{}},
		{"/api/auth/forget-password/email-otp", map[string]any{}},
		{"/api/auth/change-email", map[string]any{}},
		{"/api/auth/email-otp/request-email-change", map[string]any{}},
	}
	var wg sync.WaitGroup
	for _, r := range requests {
		for _, email := range []string{"known@example.com", "unknown@example.com"} {
			body := maps.Clone(r.body)
			c := ts.client(t)
			if r.path == "/api/auth/change-email" || r.path == requestEmailChange {
				body["newEmail"] = email
				maps.Copy(c.cookies, mover.cookies) // signed in as mover
			} else {
				body["email"] = email
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				status := c.post(r.path, body).Status
				if elapsed := time.Since(start); status != http.StatusOK || elapsed < answerFloor {
					t.Errorf("%s %s: status %d after %v, want 200 after at least %v", r.path, email, status, elapsed, answerFloor)
				}
			}()
		}
	}
	wg.Wait()
}
