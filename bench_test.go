package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkGetSession measures the hot path, GET /get-session over real HTTP, reading Postgres
// (one indexed JOIN) and answering from the session_data cookie cache (no query).
func BenchmarkGetSession(b *testing.B) {
	for _, bc := range []struct {
		name   string
		maxAge int
	}{{"postgres", 0}, {"cookie-cache", 300}} {
		b.Run(bc.name, func(b *testing.B) {
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
			req, err := http.NewRequest(http.MethodGet, ts.URL+"/api/auth/get-session", nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Cookie", strings.Join(pairs, "; "))
			client := &http.Client{}
			b.ReportAllocs()
			b.ResetTimer()
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
	}
}
