package main

import (
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

func (s *server) handleOK(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	return nil
}

var safeErrorCode = regexp.MustCompile(`^['A-Za-z0-9_-]+$`)

var errorPage = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Error</title>
<style>
body{font-family:system-ui,sans-serif;background:#fafafa;color:#111;display:flex;min-height:100vh;align-items:center;justify-content:center;margin:0}
main{background:#fff;border:1px solid #e5e5e5;border-radius:8px;padding:2rem 2.5rem;max-width:32rem}
h1{font-size:1.25rem;margin:0 0 1rem}code{background:#f2f2f2;padding:.15rem .4rem;border-radius:4px}
p{color:#555;line-height:1.5}
</style>
</head>
<body><main>
<h1>Something went wrong</h1>
<p>Error code: <code>{{.Code}}</code></p>
{{if .Description}}<p>{{.Description}}</p>{{end}}
<p><a href="/">Go back home</a></p>
</main></body>
</html>
`))

// handleErrorPage is where failed OAuth flows land without an error URL of their own (upstream
// packages/better-auth/src/api/routes/error.ts, error). The code is shown only when it is a plain
// identifier; the description is HTML-escaped.
func (s *server) handleErrorPage(w http.ResponseWriter, r *http.Request) error {
	code := r.URL.Query().Get("error")
	if !safeErrorCode.MatchString(code) {
		code = "UNKNOWN"
	}
	description := r.URL.Query().Get("error_description")
	params := url.Values{"error": {code}}
	if description != "" {
		params.Set("error_description", description)
	}
	switch {
	case s.cfg.ErrorURL != "":
		redirect(w, appendQuery(s.cfg.ErrorURL, params))
		return nil
	case s.cfg.Production:
		redirect(w, "/?"+params.Encode())
		return nil
	}
	w.Header().Set("Content-Type", "text/html")
	setPageSecurityHeaders(w.Header())
	return errorPage.Execute(w, struct{ Code, Description string }{code, description})
}

// setPageSecurityHeaders locks down the one HTML page we serve (ours; upstream sends none): no
// script, no resource but its own inline style, no framing (clickjacking), no MIME sniffing, so
// that an error description that slipped past escaping could still do nothing.
func setPageSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
}

// appendQuery adds params to target, keeping its own query and fragment.
func appendQuery(target string, params url.Values) string {
	base, fragment, _ := strings.Cut(target, "#")
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	out := base + sep + params.Encode()
	if fragment != "" {
		out += "#" + fragment
	}
	return out
}
