package main

import (
	"net/http"
	"strings"
)

// router is the public route table: a ServeMux, and beside it the routes whose pattern has no
// wildcard, by method and path. The middleware must name a request's route before the rate limit
// and the log, and then serve it; the ServeMux can only do that by routing twice (Handler names
// the pattern but sets no path values, ServeHTTP sets them), cleaning and matching the path each
// time, which was a tenth of what a cookie-cache hit cost beyond a bare handler. A request for a
// literal route is found with one map lookup instead, and served without the ServeMux.
type router struct {
	*http.ServeMux
	literal map[routeKey]routeMatch
}

type routeKey struct{ method, path string }

type routeMatch struct {
	pattern string
	h       http.Handler // nil: served by the ServeMux, which sets the path values
}

func newRouter() *router {
	return &router{ServeMux: http.NewServeMux(), literal: make(map[routeKey]routeMatch)}
}

func (rt *router) Handle(pattern string, h http.Handler) {
	rt.ServeMux.Handle(pattern, h)
	method, path, ok := strings.Cut(pattern, " ")
	if ok && strings.HasPrefix(path, "/") && !strings.ContainsAny(path, "{}") && !strings.HasSuffix(path, "/") {
		rt.literal[routeKey{method, path}] = routeMatch{pattern: pattern, h: h}
	}
}

// match is the request's route, as the ServeMux would choose it. A literal route matching the
// method and path exactly is the most specific pattern there can be, so the ServeMux would choose
// it too; it is looked up only when the path as sent is its default encoding (RawPath empty), as
// the ServeMux matches the escaped path ("/a%2Fb" is one segment, not "/a/b"), and never for
// HEAD, which the ServeMux serves with GET's pattern. pattern is "" when no route matches.
func (rt *router) match(r *http.Request) routeMatch {
	if r.URL.RawPath == "" {
		if lr, ok := rt.literal[routeKey{r.Method, r.URL.Path}]; ok {
			return lr
		}
	}
	_, pattern := rt.ServeMux.Handler(r)
	return routeMatch{pattern: pattern}
}
