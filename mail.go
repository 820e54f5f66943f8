package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/netip"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Mail goes through an outbox: the handler inserts the message in the same transaction as the
// token it carries, and a background worker delivers it. No response waits on delivery, so the
// time a request takes does not tell whether an email exists, and a crash loses no mail.

// mail is one message. Type names its kind, as the reference server's mail log does:
// verify-email, reset-password, change-email, delete-account, magic-link, email-otp,
// two-factor-otp, organization-invitation. Each kind has its templates in templates/.
type mail struct {
	Type     string `json:"type"`
	Email    string `json:"email"`
	URL      string `json:"url,omitempty"`
	Token    string `json:"token,omitempty"`
	OTP      string `json:"otp,omitempty"`
	ID       string `json:"id,omitempty"`
	NewEmail string `json:"newEmail,omitempty"` // change-email: the address being confirmed
	OTPType  string `json:"otpType,omitempty"`  // email-otp: sign-in, email-verification or forget-password
}

// mailer delivers one message or fails; the worker retries failures that are not permanent.
type mailer interface {
	send(ctx context.Context, m mail) error
}

// permanentError marks a delivery failure that retrying cannot fix, such as a recipient the
// server refuses for good (SMTP 5xx) or a template that cannot render it.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// newMailer picks SMTP when SMTP_HOST is set, else the development sink.
func newMailer(cfg config) mailer {
	templates := cfg.Email.templates
	if templates == nil {
		templates = defaultMailTemplates
	}
	if cfg.Email.SMTPHost == "" {
		return &devMailer{path: cfg.MailLog}
	}
	return &smtpMailer{cfg: cfg.Email, templates: templates, implicitTLS: cfg.Email.SMTPPort == 465}
}

// enqueueMail stores m for delivery; pass the transaction that writes m's token.
func (s *server) enqueueMail(ctx context.Context, q querier, m mail) error {
	payload, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode mail: %w", err)
	}
	if _, err := q.Exec(ctx, `INSERT INTO "mailOutbox" (id, payload, "createdAt", "nextAttemptAt", attempts)
		VALUES ($1, $2, $3, $3, 0)`, generateID(32), payload, s.now()); err != nil {
		return fmt.Errorf("enqueue mail: %w", err)
	}
	return nil
}

// enqueueTokenMail stores a single-use token (a verification row) and the mail that carries it
// in one transaction: the token never exists without its mail, nor the mail without its token.
func (s *server) enqueueTokenMail(ctx context.Context, identifier, value string, ttl time.Duration, m mail) error {
	return inTx(ctx, s.db, func(tx pgx.Tx) error {
		if err := s.createVerification(ctx, tx, identifier, value, s.now().Add(ttl)); err != nil {
			return err
		}
		return s.enqueueMail(ctx, tx, m)
	})
}

const (
	// mailBatch is how many messages one deliverMail call handles before returning.
	mailBatch = 20
	// mailLease is how long a claimed message stays invisible to other workers: longer than one
	// SMTP conversation may take, so no other worker sends it meanwhile. A worker that dies
	// mid-send loses nothing: the message becomes due again when its lease runs out.
	mailLease = 2 * time.Minute
	// mailMaxAge drops mail that could not be delivered for a day: every link and code in it has
	// expired by then.
	mailMaxAge    = 24 * time.Hour
	mailRetryBase = 5 * time.Second
	mailRetryMax  = time.Hour
)

// mailRetryDelay is the backoff after the n-th failed attempt: 5 s, 10 s, 20 s, … capped at an hour.
func mailRetryDelay(attempts int) time.Duration {
	d := mailRetryBase
	for i := 1; i < attempts && d < mailRetryMax; i++ {
		d *= 2
	}
	return min(d, mailRetryMax)
}

// outboxRow is a claimed message.
type outboxRow struct {
	id        string
	payload   []byte
	attempts  int // including the one being made
	createdAt time.Time
}

// claimMail takes the oldest due message and leases it, in one statement: FOR UPDATE SKIP LOCKED
// lets replicas claim side by side, and the lease (nextAttemptAt pushed forward) keeps the row
// theirs without a transaction open during the SMTP conversation. It returns nil when nothing is due.
func (s *server) claimMail(ctx context.Context) (*outboxRow, error) {
	now := s.now()
	var r outboxRow
	err := s.db.QueryRow(ctx, `UPDATE "mailOutbox" SET "nextAttemptAt" = $2, attempts = attempts + 1
		WHERE id = (SELECT id FROM "mailOutbox" WHERE "nextAttemptAt" <= $1
			ORDER BY "nextAttemptAt" LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING id, payload, attempts, "createdAt"`, now, now.Add(mailLease)).Scan(&r.id, &r.payload, &r.attempts, &r.createdAt)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claim mail: %w", err)
	}
	return &r, nil
}

// deliverMail sends up to mailBatch due messages, one claim at a time, and reports how many it
// claimed. A message leaves the outbox only once it is sent, refused for good, or too old;
// otherwise it is due again after a backoff.
func (s *server) deliverMail(ctx context.Context) (int, error) {
	for n := 0; n < mailBatch; n++ {
		r, err := s.claimMail(ctx)
		if err != nil || r == nil {
			return n, err
		}
		if err := s.deliverOne(ctx, r); err != nil {
			return n + 1, err
		}
	}
	return mailBatch, nil
}

func (s *server) deliverOne(ctx context.Context, r *outboxRow) error {
	var m mail
	if err := json.Unmarshal(r.payload, &m); err != nil {
		slog.Error("drop undecodable mail", "id", r.id, "err", err)
		return s.removeMail(ctx, r.id)
	}
	if s.now().Sub(r.createdAt) > mailMaxAge {
		s.metrics.mailAttempt(m.Type, "dropped")
		slog.Error("drop undelivered mail after a day", "id", r.id, "type", m.Type, "attempts", r.attempts-1)
		return s.removeMail(ctx, r.id)
	}
	err := s.mailer.send(ctx, m)
	var permanent *permanentError
	switch {
	case err == nil:
		s.metrics.mailAttempt(m.Type, "sent")
		return s.removeMail(ctx, r.id)
	case errors.As(err, &permanent):
		s.metrics.mailAttempt(m.Type, "dropped")
		slog.Error("mail refused; dropped", "id", r.id, "type", m.Type, "err", err)
		return s.removeMail(ctx, r.id)
	}
	s.metrics.mailAttempt(m.Type, "retry")
	delay := mailRetryDelay(r.attempts)
	slog.Warn("mail delivery failed; will retry", "id", r.id, "type", m.Type, "attempt", r.attempts, "retryIn", delay, "err", err)
	if _, err := s.db.Exec(ctx, `UPDATE "mailOutbox" SET "nextAttemptAt" = $2 WHERE id = $1`, r.id, s.now().Add(delay)); err != nil {
		return fmt.Errorf("reschedule mail: %w", err)
	}
	return nil
}

func (s *server) removeMail(ctx context.Context, id string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM "mailOutbox" WHERE id = $1`, id); err != nil {
		return fmt.Errorf("remove mail: %w", err)
	}
	return nil
}

// outboxStats counts the mail waiting in the outbox and finds when the oldest was queued.
func (s *server) outboxStats(ctx context.Context) (depth int64, oldest time.Time, err error) {
	var first *time.Time
	if err := s.db.QueryRow(ctx, `SELECT count(*), min("createdAt") FROM "mailOutbox"`).Scan(&depth, &first); err != nil {
		return 0, time.Time{}, fmt.Errorf("count outbox: %w", err)
	}
	if first != nil {
		oldest = *first
	}
	return depth, oldest, nil
}

// mailLoop delivers the outbox until ctx ends, waking every poll interval, and at once again
// while there is a backlog.
func (s *server) mailLoop(ctx context.Context, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		n, err := s.deliverMail(ctx)
		if err != nil && ctx.Err() == nil {
			slog.Warn("mail outbox", "err", err)
		}
		if err == nil && n == mailBatch {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// devMailer is the development sink used when no SMTP server is configured: it logs each mail's type
// (never its address: logs hold no emails, development included) and,
// with MAIL_LOG set, appends it as one JSON line in the reference server's shape, so that tests and
// local tooling can follow the links and codes.
type devMailer struct {
	path string
	mu   sync.Mutex
}

func (d *devMailer) send(_ context.Context, m mail) error {
	slog.Info("mail (development sink)", "type", m.Type)
	if d.path == "" {
		return nil
	}
	// The reference sink repeats the code or invitation id as "token"; tooling reads that key.
	if m.Token == "" {
		m.Token = cmp.Or(m.OTP, m.ID)
	}
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false) // keep "&" in URLs readable, as JSON.stringify does
	if err := enc.Encode(struct {
		At string `json:"at"`
		mail
	}{time.Now().UTC().Format(jsTimeLayout), m}); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := os.OpenFile(d.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("open MAIL_LOG: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(line.Bytes()); err != nil {
		return fmt.Errorf("write MAIL_LOG: %w", err)
	}
	return nil
}

// smtpMailer sends over SMTP with net/smtp: implicit TLS on port 465, otherwise STARTTLS whenever
// the server offers it. Credentials never cross an unencrypted connection to another host.
type smtpMailer struct {
	cfg         emailConfig
	templates   mailTemplates
	implicitTLS bool // SMTPS: TLS from the first byte (port 465)
}

// smtpTimeout bounds one whole SMTP conversation, so a stalled server cannot hold the worker.
const smtpTimeout = 30 * time.Second

func (m *smtpMailer) send(ctx context.Context, msg mail) error {
	subject, text, html, err := m.templates.render(msg, m.cfg.validFor(msg.Type))
	if err != nil {
		return &permanentError{err}
	}
	from, err := netmail.ParseAddress(m.cfg.SMTPFrom)
	if err != nil {
		return &permanentError{fmt.Errorf("SMTP_FROM: %w", err)}
	}
	body, err := buildMessage(from, msg.Email, subject, text, html)
	if err != nil {
		return &permanentError{err}
	}
	ctx, cancel := context.WithTimeout(ctx, smtpTimeout)
	defer cancel()
	c, err := m.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("smtp mail from: %w", err)
	}
	if err := c.Rcpt(msg.Email); err != nil {
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 {
			return &permanentError{fmt.Errorf("smtp rcpt: %w", err)}
		}
		return fmt.Errorf("smtp rcpt: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if err := c.Quit(); err != nil {
		slog.Debug("smtp quit", "err", err) // the message was accepted at the end of DATA
	}
	return nil
}

// connect opens the SMTP conversation, bounded by ctx's deadline: TLS (implicit or STARTTLS when
// offered), then the credentials, which never cross an unencrypted connection to another host.
func (m *smtpMailer) connect(ctx context.Context) (*smtp.Client, error) {
	addr := net.JoinHostPort(m.cfg.SMTPHost, strconv.Itoa(m.cfg.SMTPPort))
	tlsConfig := &tls.Config{ServerName: m.cfg.SMTPHost, MinVersion: tls.VersionTLS12, RootCAs: m.cfg.rootCAs}
	var conn net.Conn
	var err error
	if m.implicitTLS {
		conn, err = (&tls.Dialer{Config: tlsConfig}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("smtp dial: %w", err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, m.cfg.SMTPHost)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("smtp greeting: %w", err)
	}
	if err := m.login(c, tlsConfig); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// login upgrades to TLS where the server offers STARTTLS, then gives the credentials, if any.
func (m *smtpMailer) login(c *smtp.Client, tlsConfig *tls.Config) error {
	secure := m.implicitTLS
	if !secure {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConfig); err != nil {
				return fmt.Errorf("smtp starttls: %w", err)
			}
			secure = true
		}
	}
	if m.cfg.SMTPUser == "" {
		return nil
	}
	if !secure && !isLoopbackHost(m.cfg.SMTPHost) {
		return errors.New("smtp: refusing to send credentials without TLS; the server offers no STARTTLS")
	}
	if err := c.Auth(smtp.PlainAuth("", m.cfg.SMTPUser, m.cfg.SMTPPassword, m.cfg.SMTPHost)); err != nil {
		return fmt.Errorf("smtp auth: %w", err)
	}
	return nil
}

// isLoopbackHost: a relay on this machine may take credentials in the clear, as net/smtp allows.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.IsLoopback()
}

// buildMessage writes an RFC 5322 message with plain-text and HTML alternatives, both
// quoted-printable. Header values come from our templates and validated addresses; CR and LF are
// refused anyway, so nothing can inject a header.
func buildMessage(from *netmail.Address, to, subject, text, html string) ([]byte, error) {
	if strings.ContainsAny(to+subject, "\r\n") {
		return nil, errors.New("mail header contains a line break")
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	headers := []string{
		"From: " + from.String(),
		"To: " + (&netmail.Address{Address: to}).String(),
		"Subject: " + mime.QEncoding.Encode("utf-8", subject),
		"Date: " + time.Now().Format(time.RFC1123Z),
		"Message-ID: <" + generateID(32) + "@" + domainOf(from.Address) + ">",
		"MIME-Version: 1.0",
		`Content-Type: multipart/alternative; boundary="` + mw.Boundary() + `"`,
	}
	var out bytes.Buffer
	out.WriteString(strings.Join(headers, "\r\n") + "\r\n\r\n")
	for _, part := range []struct{ contentType, body string }{{"text/plain", text}, {"text/html", html}} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.contentType + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(pw)
		if _, err := qp.Write([]byte(crlf(part.body))); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	out.Write(buf.Bytes())
	return out.Bytes(), nil
}

// crlf gives every line the CRLF ending SMTP requires, whatever a template file used.
func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

func domainOf(address string) string {
	if i := strings.LastIndexByte(address, '@'); i >= 0 {
		return address[i+1:]
	}
	return "localhost"
}
