package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkGetSession measures the hot path, GET /get-session, reading Postgres (one indexed
// JOIN) and answering from the session_data cookie cache (no query): over real HTTP ("http/…"),
// and calling the handler directly ("handler/…"), which leaves out the client and the network
// so that the difference the cache makes shows.
func BenchmarkGetSession(b *testing.B) {
	for _, bc := range []struct {
		name   string
		maxAge int
	}{{"postgres", 0}, {"cookie-cache", 300}} {
		ts := newTestServer(b, func(c *config) { c.CookieCacheMaxAge = bc.maxAge })
		c := ts.client(b)
		c.signUp("bench@example.com", "password123", "Bench")
		var pairs []string
		for k, v := range c.cookies {
			pairs = append(pairs, k+"="+v)
		}
		if (bc.maxAge > 0) != strings.Contains(strings.Join(pairs, ";"), "session_data") {
			b.Fatalf("cookies %q", pairs)
		}
		cookie := strings.Join(pairs, "; ")

		b.Run("http/"+bc.name, func(b *testing.B) {
			req, err := http.NewRequest(http.MethodGet, ts.URL+"/api/auth/get-session", nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Cookie", cookie)
			client := &http.Client{}
			b.ReportAllocs()
			for b.Loop() {
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK || len(body) < 100 {
					b.Fatalf("%d %s", res.StatusCode, body)
				}
			}
		})
		b.Run("handler/"+bc.name, func(b *testing.B) {
			h := routes(ts.server)
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/api/auth/get-session", nil)
				req.Header.Set("Cookie", cookie)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK || w.Body.Len() < 100 {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}
