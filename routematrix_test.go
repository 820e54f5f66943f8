package main

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// route is one entry of the route table in routes.go.
type route struct{ method, pattern string }

// path is the route with every wildcard filled in, as a client would call it.
func (r route) path() string {
	return regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(r.pattern, "x")
}

// routeTable reads every mux.Handle registration out of routes.go, so that tests walking all
// routes follow the table as it changes.
func routeTable(t testing.TB) []route {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "routes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var routes []route
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) != 2 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Handle" {
			return true
		}
		lit, ok := call.Args[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			t.Fatalf("a route registered with a non-literal pattern at offset %d", call.Pos())
		}
		pattern, _ := strconv.Unquote(lit.Value)
		method, p, ok := strings.Cut(pattern, " ")
		if !ok {
			t.Fatalf("route %q has no method", pattern)
		}
		routes = append(routes, route{method, p})
		return true
	})
	if len(routes) < 50 {
		t.Fatalf("found %d routes in routes.go; has the registration changed shape?", len(routes))
	}
	return routes
}

// queryParams lists every query parameter name the handlers read, from their source, so that
// hostile query values reach the code that reads them.
func queryParams(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?:queryString\(r, |queryBool\(r, |[qQ]uery(?:\(\))?\.Get\()"(\w+)"`)
	seen := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			seen[m[1]] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) < 5 {
		t.Fatalf("found %d query parameters; has the source changed shape?", len(names))
	}
	return names
}

// hostileStrings are values a validator must cope with: none is a valid answer to anything, each
// may be stored as text where text is free.
var hostileStrings = map[string]string{
	"300-character email":  strings.Repeat("a", 288) + "@example.com",
	"RTL override":         "\u202eexe.txt\u202c@example.com",
	"combining characters": "e" + strings.Repeat("\u0301", 200),
	"SQL-looking":          `x' OR '1'='1'; DROP TABLE "user"; --`,
	"LIKE wildcards":       `%_\`,
	// In a query, %FF: upstream reads it as U+FFFD; Postgres refuses the raw byte.
	"bytes that are not UTF-8": "a\xff\xfeb",
}

// probeRoute asks a route, signed out, which body fields it requires, from its own validation
// answer to an object it cannot accept: "[body.email] Invalid input: expected string, received
// undefined". A route refusing the method outright answers 405 whatever the body.
func probeRoute(c *testClient, path string) (status int, code string, required map[string]string) {
	resp := c.post(path, map[string]any{"isAdmin": true})
	var e struct{ Code, Message string }
	json.Unmarshal(resp.Body, &e)
	fields := map[string]string{}
	for _, m := range regexp.MustCompile(`\[body\.(\w+)\] Invalid input: expected (\w+), received undefined`).FindAllStringSubmatch(e.Message, -1) {
		fields[m[1]] = m[2]
	}
	return resp.Status, e.Code, fields
}

// wrongTypeFor is a JSON value of a kind other than kind.
func wrongTypeFor(kind string) any {
	if kind == "array" {
		return 5
	}
	return []any{[]any{}}
}

// matrixCase is one bad input sent to one route.
type matrixCase struct {
	input  string
	path   string
	body   any
	header []string
	want   func(status int, code string) bool // nil: any 4xx
	// middleware: refused by the middleware before any handler runs, whatever the route
	middleware bool
}

func is4xx(status int) bool { return status >= 400 && status < 500 }

// redirectForms are adversarial callback forms: one slash, protocol-relative, backslashes,
// user-info, script URLs in mixed case, encoded slashes, upper case, a trailing dot and look-alike
// hosts. Every route refuses each of them in any of the four callback fields.
var redirectForms = []string{"https:/evil.com", "//evil.com", `\\evil.com`, "https://good@evil.com", "javascript:alert(1)",
	"JaVaScRiPt:alert(1)", "/%2F%2Fevil.com", "HTTPS://EVIL.COM", "https://app.example.com.", "https://app.example.com.evil.com", "https://аpp.example.com"}

// TestEveryRouteRefusesBadInput walks the route table in routes.go: every POST route gets every
// kind of malformed body, signed in and signed out, and answers each with a 4xx Better Auth error
// (JSON with a message), never a 5xx; every callback-like field pointing away is refused with its
// own code; hostile strings in the route's required fields and in every query parameter the
// handlers read are never a 5xx. No table gains or loses a row from any refused request.
func TestEveryRouteRefusesBadInput(t *testing.T) {
	t.Parallel()
	routes := routeTable(t)
	params := queryParams(t)
	huge := `{"x":"` + strings.Repeat("x", 1<<20) + `"}`
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	var mu sync.Mutex
	statuses := map[string]map[int]int{} // state -> status -> count
	count := func(state string, status int) {
		mu.Lock()
		defer mu.Unlock()
		if statuses[state] == nil {
			statuses[state] = map[int]int{}
		}
		statuses[state][status]++
	}
	var requests, postRoutes, getRoutes int
	for _, r := range routes {
		if r.method == http.MethodPost {
			postRoutes++
		} else {
			getRoutes++
		}
	}

	for _, signedIn := range []bool{false, true} {
		state := "signed out"
		if signedIn {
			state = "signed in"
		}
		// Domain verification and the username plugin on, so that their routes are served rather than 404.
		ts := newTestServer(t, originConfig, strictBody, func(c *config) {
			c.SSO.DomainVerification = true
			c.Username.Enabled = true
		})
		owner := ts.client(t)
		owner.header.Set("Origin", appOrigin)
		owner.signUp("owner@example.com", "password123", "Owner")
		client := func(t *testing.T) *testClient {
			c := ts.client(t)
			c.header.Set("Origin", appOrigin)
			if signedIn {
				maps.Copy(c.cookies, owner.cookies)
			}
			return c
		}
		if client(t).signedIn() != signedIn {
			t.Fatalf("%s: the client's session state is not what the test means", state)
		}

		var refused, hostile []matrixCase
		for ri, r := range routes {
			p := r.path()
			if r.method != http.MethodPost {
				for name, v := range hostileStrings {
					q := url.Values{}
					for _, param := range params {
						q.Set(param, v)
					}
					hostile = append(hostile, matrixCase{input: "query " + name, path: p + "?" + q.Encode()})
				}
				continue
			}
			var cases []matrixCase
			cases = append(cases,
				matrixCase{input: "malformed JSON", path: p, body: `{"email":`},
				matrixCase{input: "two JSON values", path: p, body: `{} {}`},
				matrixCase{input: "raw invalid UTF-8", path: p, body: "{\xff}"},
				matrixCase{input: "nesting 10000 deep", path: p, body: deep},
				matrixCase{input: "JSON array", path: p, body: `[]`},
				matrixCase{input: "JSON number", path: p, body: `5`},
				matrixCase{input: "JSON null", path: p, body: `null`},
				matrixCase{input: "unknown field", path: p, body: `{"isAdmin":true}`},
				matrixCase{input: "NUL in a string", path: p, body: `{"x":"a\u0000b"}`},
				matrixCase{input: "NUL in a key", path: p, body: `{"a\u0000":1}`},
				matrixCase{input: "NUL in the query", path: p + "?x=%00", body: `{}`, middleware: true},
				matrixCase{input: "oversized body", path: p, body: huge, want: func(s int, c string) bool { return s == 413 && c == "PAYLOAD_TOO_LARGE" }},
				matrixCase{input: "text/plain body", path: p, body: `{}`, header: []string{"Content-Type", "text/plain"},
					want: func(s int, c string) bool { return s == 415 && c == "UNSUPPORTED_MEDIA_TYPE" }},
				matrixCase{input: "body without Content-Type", path: p, body: `{}`, header: []string{"Content-Type", ""},
					want: func(s int, c string) bool { return s == 415 && c == "UNSUPPORTED_MEDIA_TYPE" }},
			)
			// Every route checks every callback field; the forms rotate over the routes so that
			// each form meets each field on several routes (TestRedirectTargetsAdversarial runs
			// the whole table on one).
			for fi, field := range slices.Sorted(maps.Keys(urlFieldErrors)) {
				code := urlFieldErrors[field].Code
				form := redirectForms[(ri+fi)%len(redirectForms)]
				cases = append(cases, matrixCase{input: field + " " + form, path: p, body: map[string]any{field: form},
					want: func(s int, c string) bool { return s == 403 && c == code }})
			}
			// A route that refuses the method outright (POST get-session without deferred
			// refresh, as upstream) answers every input with that refusal.
			status, code, required := probeRoute(ts.client(t), p)
			if status == http.StatusMethodNotAllowed {
				for i := range cases {
					if cases[i].middleware {
						continue
					}
					cases[i].want = func(s int, c string) bool { return s == status && c == code }
				}
			}
			refused = append(refused, cases...)
			if len(required) == 0 {
				continue
			}
			wrong := map[string]any{}
			for f, kind := range required {
				wrong[f] = wrongTypeFor(kind)
			}
			refused = append(refused,
				matrixCase{input: "empty body", path: p, body: ""},
				matrixCase{input: "wrong types", path: p, body: wrong})
			for name, v := range hostileStrings {
				body := map[string]any{}
				for f, kind := range required {
					if kind == "string" {
						body[f] = v
					} else {
						body[f] = wrongTypeFor(kind)
					}
				}
				hostile = append(hostile, matrixCase{input: name, path: p, body: body})
			}
		}

		t.Run(state, func(t *testing.T) {
			t.Parallel()
			before := ts.tableCounts(t)
			t.Run("refused", func(t *testing.T) {
				for _, tc := range refused {
					t.Run(strings.TrimPrefix(strings.Split(tc.path, "?")[0], "/api/auth/")+"/"+tc.input, func(t *testing.T) {
						t.Parallel()
						resp := client(t).post(tc.path, tc.body, tc.header...)
						count(state, resp.Status)
						var e struct{ Message, Code string }
						if err := json.Unmarshal(resp.Body, &e); err != nil || e.Message == "" || resp.Header.Get("Content-Type") != "application/json" {
							t.Fatalf("%d %.200s: not a Better Auth error", resp.Status, resp.Body)
						}
						if ok := is4xx(resp.Status); tc.want != nil && !tc.want(resp.Status, e.Code) || !ok {
							t.Fatalf("%d %s %.200s", resp.Status, e.Code, resp.Body)
						}
					})
				}
			})
			if after := ts.tableCounts(t); !equalCounts(before, after) {
				t.Fatalf("rows changed by refused requests: before %v, after %v", before, after)
			}
			t.Run("hostile", func(t *testing.T) {
				for _, tc := range hostile {
					t.Run(strings.TrimPrefix(strings.Split(tc.path, "?")[0], "/api/auth/")+"/"+tc.input, func(t *testing.T) {
						t.Parallel()
						method := http.MethodPost
						if tc.body == nil {
							method = http.MethodGet
						}
						resp := client(t).do(method, tc.path, tc.body)
						count(state, resp.Status)
						if resp.Status >= 500 {
							t.Fatalf("%d %.200s", resp.Status, resp.Body)
						}
					})
				}
			})
			if client(t).signedIn() != signedIn {
				t.Fatalf("%s: the session state changed", state)
			}
			mu.Lock()
			requests += len(refused) + len(hostile)
			mu.Unlock()
		})
	}
	t.Cleanup(func() {
		recordFigures(t, "bad input", map[string]any{"post_routes": postRoutes, "get_routes": getRoutes,
			"query_params": len(params), "requests": requests, "statuses": statuses})
	})
}

// TestNoRouteRedirectsToAnUntrustedURL sends every route adversarial callback forms in every
// callback-like query parameter at once: each answer is a refusal or a redirect to a trusted URL,
// never one to where the query pointed.
func TestNoRouteRedirectsToAnUntrustedURL(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, originConfig, strictBody, func(c *config) { c.SSO.DomainVerification = true })
	owner := ts.client(t)
	owner.header.Set("Origin", appOrigin)
	owner.signUp("owner@example.com", "password123", "Owner")
	requests, redirects := 0, 0
	for ri, r := range routeTable(t) {
		// Three forms a route, rotating, so that every form meets every kind of route.
		for _, form := range []string{redirectForms[ri%len(redirectForms)], redirectForms[(ri+4)%len(redirectForms)], redirectForms[(ri+8)%len(redirectForms)]} {
			q := url.Values{"token": {"x"}, "state": {"x"}, "code": {"x"}}
			for name := range urlFieldErrors {
				q.Set(name, form)
			}
			for _, signedIn := range []bool{false, true} {
				c := ts.client(t)
				c.header.Set("Origin", appOrigin)
				if signedIn {
					maps.Copy(c.cookies, owner.cookies)
				}
				resp := c.do(r.method, r.path()+"?"+q.Encode(), nil)
				requests++
				if resp.Status >= 500 {
					t.Errorf("%s %s with %q: %d %s", r.method, r.pattern, form, resp.Status, resp.Body)
				}
				if loc := resp.Header.Get("Location"); loc != "" {
					redirects++
					if !ts.isTrustedURL(httptest.NewRequest(http.MethodGet, "/", nil), loc, true) {
						t.Errorf("%s %s with %q redirected to %q", r.method, r.pattern, form, loc)
					}
				}
			}
		}
	}
	if !owner.signedIn() {
		t.Fatal("the owner's session was lost halfway: later requests ran signed out")
	}
	recordFigures(t, "redirects", map[string]any{"routes": len(routeTable(t)), "forms": len(redirectForms), "forms_per_route": 3, "requests": requests, "redirects_checked": redirects})
}
