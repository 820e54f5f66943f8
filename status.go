package main

import (
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

func (s *server) handleOK(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	return nil
}

// handleReady is the readiness probe on METRICS_ADDR: Postgres answers and every table and
// column schema.sql creates exists. Liveness (/api/auth/ok) depends on nothing, so that a
// database outage takes replicas out of the load balancer without restarting them.
func (s *server) handleReady(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	reason := ""
	err := s.schemaApplied(ctx)
	if err != nil {
		reason = "database unreachable or schema not applied"
	} else if s.redis != nil {
		// Redis is always checked (a failure is logged and counted), but only a replica that
		// cannot serve without it is unready: with sessions and verification values in Postgres
		// too, it answers from Postgres while Redis is away.
		if perr := s.redis.ping(ctx); perr != nil && s.redisRequired() {
			err, reason = perr, "redis unreachable"
		}
	}
	if err != nil {
		slog.WarnContext(ctx, "not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, struct {
			Ready  bool   `json:"ready"`
			Reason string `json:"reason"`
		}{false, reason})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
	return nil
}

// schemaObjects lists the (table, column) pairs schema.sql creates; column "" is the table itself.
var schemaObjects = sync.OnceValues(func() (tables, columns []string) {
	for _, m := range regexp.MustCompile(`(?i)create table if not exists "(\w+)"`).FindAllStringSubmatch(schemaSQL, -1) {
		tables, columns = append(tables, m[1]), append(columns, "")
	}
	for _, m := range regexp.MustCompile(`(?i)alter table "(\w+)" add column if not exists "(\w+)"`).FindAllStringSubmatch(schemaSQL, -1) {
		tables, columns = append(tables, m[1]), append(columns, m[2])
	}
	return tables, columns
})

// schemaApplied reports the first table or column of schema.sql the database lacks, in one query
// that also proves Postgres reachable.
func (s *server) schemaApplied(ctx context.Context) error {
	tables, columns := schemaObjects()
	var table, column string
	err := s.db.QueryRow(ctx, `SELECT t.tbl, t.col FROM unnest($1::text[], $2::text[]) AS t(tbl, col)
		WHERE NOT EXISTS (SELECT 1 FROM information_schema.columns c
			WHERE c.table_schema = current_schema() AND c.table_name = t.tbl AND (t.col = '' OR c.column_name = t.col))
		LIMIT 1`, tables, columns).Scan(&table, &column)
	switch {
	case isNoRows(err):
		return nil
	case err != nil:
		return fmt.Errorf("check schema: %w", err)
	}
	return fmt.Errorf("schema not applied: %s %s missing", table, column)
}

// checkReady is `authsidecar health --ready`: it asks the running server's /readyz.
func checkReady(ctx context.Context, metricsAddr string) error {
	if metricsAddr == "" {
		return fmt.Errorf("health --ready asks /readyz on METRICS_ADDR, which is not set")
	}
	return probe(ctx, "METRICS_ADDR", metricsAddr, "/readyz")
}

// probe GETs path from the server listening at addr (a listen address, from the setting named:
// an empty or wildcard host means this machine) and wants 200.
func probe(ctx context.Context, setting, addr, path string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s %q: %w", setting, addr, err)
	}
	// A wildcard address listens on every interface; Go's [::] listener takes IPv4 too, so
	// IPv4 loopback answers for either spelling.
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	u := url.URL{Scheme: "http", Host: net.JoinHostPort(host, port), Path: path}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d", path, resp.StatusCode)
	}
	return nil
}

// takeReadyFlag removes --ready (or -ready) from args, reporting whether it was there: it belongs
// to the health command alone, not to the server's flags.
func takeReadyFlag(args *[]string) bool {
	for i, a := range *args {
		if a == "--ready" || a == "-ready" {
			*args = append((*args)[:i:i], (*args)[i+1:]...)
			return true
		}
	}
	return false
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
