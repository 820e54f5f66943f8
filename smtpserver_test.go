package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// testSMTP is an SMTP server in the test process that speaks the real protocol (EHLO, STARTTLS,
// AUTH PLAIN, MAIL, RCPT, DATA, QUIT) and keeps every message it accepts.
type testSMTP struct {
	Addr        string
	starttls    bool // offer STARTTLS
	implicitTLS bool // TLS from the first byte
	user, pass  string
	rcptReply   map[string]string // a RCPT address answered with this reply instead of 250

	mu    sync.Mutex
	ln    net.Listener
	conns sync.WaitGroup
	mails []capturedMail
	read  map[string]int // messages per recipient already returned by nextMail
}

// capturedMail is one accepted message and how it arrived.
type capturedMail struct {
	From, To string
	TLS      bool
	AuthUser string
	Raw      []byte
}

type smtpOpts func(*testSMTP)

func withoutSTARTTLS(s *testSMTP) { s.starttls = false }
func withImplicitTLS(s *testSMTP) { s.implicitTLS, s.starttls = true, false }
func withSMTPAuth(user, pass string) smtpOpts {
	return func(s *testSMTP) { s.user, s.pass = user, pass }
}
func withRcptReply(addr, reply string) smtpOpts {
	return func(s *testSMTP) { s.rcptReply[addr] = reply }
}

// newTestSMTP starts a server on a free loopback port; it offers STARTTLS unless told otherwise.
func newTestSMTP(t testing.TB, opts ...smtpOpts) *testSMTP {
	t.Helper()
	s := &testSMTP{starttls: true, rcptReply: map[string]string{}, read: map[string]int{}}
	for _, o := range opts {
		o(s)
	}
	s.listen(t, "127.0.0.1:0")
	t.Cleanup(s.stop)
	return s
}

func (s *testSMTP) listen(t testing.TB, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("smtp listen: %v", err)
	}
	if s.implicitTLS {
		ln = tls.NewListener(ln, testTLS.server)
	}
	s.mu.Lock()
	s.ln, s.Addr = ln, ln.Addr().String()
	s.mu.Unlock()
	s.conns.Add(1)
	go func() {
		defer s.conns.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			go func() { defer s.conns.Done(); s.serve(c) }()
		}
	}()
}

// stop closes the listener ("the mail server is down") and waits for open sessions.
func (s *testSMTP) stop() {
	s.mu.Lock()
	ln := s.ln
	s.ln = nil
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	s.conns.Wait()
}

// restart brings the server back on the address it had.
func (s *testSMTP) restart(t testing.TB) { s.listen(t, s.Addr) }

func (s *testSMTP) serve(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, secure := conn.(*tls.Conn)
	r := textproto.NewReader(bufio.NewReader(conn))
	reply := func(lines ...string) { io.WriteString(conn, strings.Join(lines, "\r\n")+"\r\n") }
	reply("220 test.local ESMTP")
	var m capturedMail
	for {
		line, err := r.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			lines := []string{"250-test.local"}
			if s.starttls && !secure {
				lines = append(lines, "250-STARTTLS")
			}
			if s.user != "" {
				lines = append(lines, "250-AUTH PLAIN")
			}
			reply(append(lines, "250 8BITMIME")...)
		case "HELO", "NOOP", "RSET":
			reply("250 ok")
		case "STARTTLS":
			reply("220 go ahead")
			tc := tls.Server(conn, testTLS.server)
			if err := tc.Handshake(); err != nil {
				return
			}
			conn, secure = tc, true
			r = textproto.NewReader(bufio.NewReader(conn))
		case "AUTH":
			mech, initial, _ := strings.Cut(arg, " ")
			raw, err := base64.StdEncoding.DecodeString(initial)
			parts := strings.Split(string(raw), "\x00")
			if !strings.EqualFold(mech, "PLAIN") || err != nil || len(parts) != 3 || parts[1] != s.user || parts[2] != s.pass {
				reply("535 5.7.8 authentication failed")
				continue
			}
			m.AuthUser = parts[1]
			reply("235 2.7.0 authenticated")
		case "MAIL":
			m.From = addressArg(arg)
			reply("250 ok")
		case "RCPT":
			m.To = addressArg(arg)
			if rep, ok := s.rcptReply[m.To]; ok {
				reply(rep)
				continue
			}
			reply("250 ok")
		case "DATA":
			reply("354 end with <CRLF>.<CRLF>")
			data, err := r.ReadDotBytes()
			if err != nil {
				return
			}
			m.Raw, m.TLS = data, secure
			s.mu.Lock()
			s.mails = append(s.mails, m)
			s.mu.Unlock()
			m = capturedMail{AuthUser: m.AuthUser}
			reply("250 queued")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 unknown command")
		}
	}
}

// addressArg takes the address out of "FROM:<a@b> BODY=8BITMIME".
func addressArg(arg string) string {
	_, rest, _ := strings.Cut(arg, "<")
	addr, _, _ := strings.Cut(rest, ">")
	return addr
}

// nextMail waits for the next message to `to` that this test has not read yet.
func (s *testSMTP) nextMail(t testing.TB, to string) capturedMail {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		seen := 0
		for _, m := range s.mails {
			if m.To != to {
				continue
			}
			if seen == s.read[to] {
				s.read[to]++
				s.mu.Unlock()
				return m
			}
			seen++
		}
		s.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no new mail to %s", to)
	return capturedMail{}
}

// count returns how many messages to `to` arrived.
func (s *testSMTP) count(to string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.mails {
		if m.To == to {
			n++
		}
	}
	return n
}

// parsed is a captured message taken apart: decoded subject and the two bodies.
type parsedMail struct {
	Header  netmail.Header
	Subject string
	Text    string
	HTML    string
}

func (m capturedMail) parse(t testing.TB) parsedMail {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		t.Fatalf("read message: %v", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject: %v", err)
	}
	p := parsedMail{Header: msg.Header, Subject: subject}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("part: %v", err)
		}
		body, err := io.ReadAll(part) // quoted-printable is decoded by the reader
		if err != nil {
			t.Fatalf("part body: %v", err)
		}
		switch ct := part.Header.Get("Content-Type"); {
		case strings.HasPrefix(ct, "text/plain"):
			p.Text = string(body)
		case strings.HasPrefix(ct, "text/html"):
			p.HTML = string(body)
		}
	}
	if p.Text == "" || p.HTML == "" {
		t.Fatalf("message lacks a text or html part:\n%s", m.Raw)
	}
	return p
}

var (
	linkPattern = regexp.MustCompile(`(?m)^(https?://\S+)$`)
	codePattern = regexp.MustCompile(`(?m)^\s+(\d{6})$`)
)

// link is the URL a reader of the plain-text body would open.
func (m capturedMail) link(t testing.TB) string {
	t.Helper()
	text := m.parse(t).Text
	match := linkPattern.FindStringSubmatch(strings.ReplaceAll(text, "\r\n", "\n"))
	if match == nil {
		t.Fatalf("no link in mail:\n%s", text)
	}
	return match[1]
}

// code is the one-time code in the plain-text body.
func (m capturedMail) code(t testing.TB) string {
	t.Helper()
	text := m.parse(t).Text
	match := codePattern.FindStringSubmatch(strings.ReplaceAll(text, "\r\n", "\n"))
	if match == nil {
		t.Fatalf("no code in mail:\n%s", text)
	}
	return match[1]
}

// testTLS is a self-signed certificate for 127.0.0.1, made once per test binary.
var testTLS = func() (v struct {
	server *tls.Config
	roots  *x509.CertPool
}) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "test smtp"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	v.roots = x509.NewCertPool()
	v.roots.AddCert(cert)
	v.server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	return v
}()

// emailDefaults gives a test config the email settings a server started with an empty
// environment has (change-email and delete-user on, and so on).
func emailDefaults(c *config) {
	d, err := loadConfig(nil, func(string) string { return "" })
	if err != nil {
		panic(err)
	}
	c.Email = d.Email
}

// newMailServer starts the sidecar with the product's email defaults, sending through a test
// SMTP server (STARTTLS offered), then applies opts.
func newMailServer(t testing.TB, opts ...func(*config)) (*testServer, *testSMTP) {
	t.Helper()
	smtpd := newTestSMTP(t)
	ts := newTestServer(t, append([]func(*config){emailDefaults, useSMTP(smtpd)}, opts...)...)
	return ts, smtpd
}

// useSMTP points the sidecar's mailer at smtpd.
func useSMTP(smtpd *testSMTP) func(*config) {
	return func(c *config) {
		host, port, _ := net.SplitHostPort(smtpd.Addr)
		c.Email.SMTPHost, c.Email.SMTPFrom, c.Email.rootCAs = host, "Test App <no-reply@example.com>", testTLS.roots
		fmt.Sscan(port, &c.Email.SMTPPort)
	}
}

// follow opens a link from a mail in this client, which must point at the test server.
func (c *testClient) follow(link string) *testResponse {
	c.t.Helper()
	path, ok := strings.CutPrefix(link, c.ts.URL)
	if !ok {
		c.t.Fatalf("link %q does not point at %s", link, c.ts.URL)
	}
	return c.get(path)
}

// location returns the response's Location header, failing unless it is a 302.
func (r *testResponse) location(t testing.TB) string {
	t.Helper()
	r.wantStatus(t, 302)
	return r.Header.Get("Location")
}
