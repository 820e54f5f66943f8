package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRouterMatchesAsTheServeMux: for every route of routes.go, and for the forms of its path a
// client can bend (another method, HEAD, encoded characters, an encoded slash, a trailing slash,
// an unclean path, a query), the router names the pattern the ServeMux names, and a literal
// route found without the ServeMux is served by the handler the ServeMux would serve.
func TestRouterMatchesAsTheServeMux(t *testing.T) {
	rt := newRouter()
	for _, r := range routeTable(t) {
		pattern := r.method + " " + r.pattern
		rt.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Served-By", pattern)
		}))
	}
	if len(rt.literal) < 100 {
		t.Fatalf("%d literal routes: the table was not read", len(rt.literal))
	}
	var targets []string
	for _, r := range routeTable(t) {
		p := r.path()
		last := p[strings.LastIndexByte(p, '/')+1:]
		targets = append(targets, p, p+"/", p+"?x=1", "/"+p, strings.Replace(p, "/api/", "/api/./", 1),
			strings.Replace(p, "/api/", "/api//", 1), strings.Replace(p, "/auth/", "/auth/x/../", 1),
			strings.Replace(p, "/api/auth/", "/api%2Fauth/", 1), strings.Replace(p, "-", "%2D", 1),
			strings.TrimSuffix(p, last)+strings.ToUpper(last), strings.Replace(p, "a", "%61", 1))
	}
	methods := []string{"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"}
	for _, target := range targets {
		for _, method := range methods {
			req := httptest.NewRequest(method, target, nil)
			_, want := rt.ServeMux.Handler(req)
			got := rt.match(req)
			if got.pattern != want {
				t.Errorf("%s %s: router %q, ServeMux %q", method, target, got.pattern, want)
			}
			if got.h == nil {
				continue
			}
			w := httptest.NewRecorder()
			got.h.ServeHTTP(w, req)
			if served := w.Header().Get("X-Served-By"); served != want {
				t.Errorf("%s %s: served by %q, ServeMux %q", method, target, served, want)
			}
		}
	}
}
