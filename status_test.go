package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestOK ensures /ok answers upstream's {"ok":true}.
func TestOK(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	resp := ts.client(t).get("/api/auth/ok").wantStatus(t, http.StatusOK)
	if string(resp.Body) != `{"ok":true}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s %q", resp.Body, resp.Header.Get("Content-Type"))
	}
}

// TestErrorPage ensures /error shows only a plain error code (anything else is UNKNOWN), escapes
// the description, and redirects instead where upstream does: to ERROR_URL, or in production to
// the site root.
func TestErrorPage(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.client(t)
	resp := c.get("/api/auth/error?error=access_denied&error_description=%3Cscript%3Ealert(1)%3C/script%3E").wantStatus(t, http.StatusOK)
	body := string(resp.Body)
	if resp.Header.Get("Content-Type") != "text/html" || !strings.Contains(body, "<code>access_denied</code>") ||
		strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Fatalf("page %q\n%s", resp.Header.Get("Content-Type"), body)
	}
	resp = c.get("/api/auth/error?error=%3Cimg%20src=x%3E").wantStatus(t, http.StatusOK)
	if !strings.Contains(string(resp.Body), "<code>UNKNOWN</code>") || strings.Contains(string(resp.Body), "<img") {
		t.Fatalf("unsafe code shown:\n%s", resp.Body)
	}

	prod := newTestServer(t, func(c *config) { c.Production = true })
	resp = prod.client(t).get("/api/auth/error?error=bad%20code&error_description=d").wantStatus(t, http.StatusFound)
	if got := resp.Header.Get("Location"); got != "/?error=UNKNOWN&error_description=d" || len(resp.Body) != 0 {
		t.Fatalf("Location %q, body %q", got, resp.Body)
	}
	custom := newTestServer(t, func(c *config) { c.ErrorURL = "https://app.example.com/oops?from=auth#top" })
	resp = custom.client(t).get("/api/auth/error?error=state_mismatch").wantStatus(t, http.StatusFound)
	if got := resp.Header.Get("Location"); got != "https://app.example.com/oops?from=auth&error=state_mismatch#top" {
		t.Fatalf("Location %q", got)
	}
}

// TestErrorPageCannotBeFramedOrRunScript: the error page (which echoes error_description) is
// served with a CSP that allows no script and no framing, nosniff and DENY, so that markup that
// escaped the template could still neither run nor be overlaid for clickjacking.
func TestErrorPageCannotBeFramedOrRunScript(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	resp := ts.client(t).get("/api/auth/error?error=access_denied&error_description=x").wantStatus(t, http.StatusOK)
	csp := resp.Header.Get("Content-Security-Policy")
	for _, directive := range []string{"default-src 'none'", "frame-ancestors 'none'", "style-src 'unsafe-inline'"} {
		if !strings.Contains(csp, directive) {
			t.Errorf("Content-Security-Policy %q lacks %s", csp, directive)
		}
	}
	if strings.Contains(csp, "script-src") || resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers %v", resp.Header)
	}
}
