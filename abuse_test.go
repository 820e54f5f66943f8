package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestUnknownEmailCostsOneScrypt ensures a sign-in costs exactly one scrypt run whether the email
// is unknown, has no password, or has one that is wrong or right, so that response time does not
// tell which emails have accounts. Counting runs proves it without timing anything.
func TestUnknownEmailCostsOneScrypt(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.client(t).signUp("known@example.com", "password123", "Known")
	if _, err := ts.db.Exec(t.Context(), `INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt")
		VALUES ('social', 'Social', 'social@example.com', true, now(), now())`); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, email, password string
		status                int
	}{
		{"unknown email", "nobody@example.com", "password123", 401},
		{"account without a password", "social@example.com", "password123", 401},
		{"wrong password", "known@example.com", "wrong-password", 401},
		{"right password", "known@example.com", "password123", 200},
	} {
		before := ts.scryptRuns.Load()
		resp := ts.client(t).post("/api/auth/sign-in/email", map[string]any{"email": tt.email, "password": tt.password})
		resp.wantStatus(t, tt.status)
		if runs := ts.scryptRuns.Load() - before; runs != 1 {
			t.Errorf("%s: %d scrypt runs, want 1", tt.name, runs)
		}
	}
}

// secretName matches identifiers that hold secrets or values derived from them. HTTP status
// codes are the one kind of "code" that is not.
var secretName = regexp.MustCompile(`(?i)(token|secret|hash|signature|otp|password|verifier|challenge|state|nonce|code)$`)

// TestSecretsAreComparedInConstantTime walks every comparison in the server's source: none may
// use == or != on a value named like a token, secret, hash, signature, code, state or nonce
// (compare those with hmac.Equal or subtle.ConstantTimeCompare), except against a literal, as in
// token == "".
func TestSecretsAreComparedInConstantTime(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	name := func(e ast.Expr) string {
		for {
			switch x := e.(type) {
			case *ast.Ident:
				return x.Name
			case *ast.SelectorExpr:
				return x.Sel.Name
			case *ast.CallExpr:
				e = x.Fun
			case *ast.IndexExpr:
				e = x.X
			case *ast.StarExpr:
				e = x.X
			case *ast.ParenExpr:
				e = x.X
			default:
				return ""
			}
		}
	}
	literal := func(e ast.Expr) bool {
		switch x := e.(type) {
		case *ast.BasicLit:
			return true
		case *ast.Ident:
			// A constant of the same file (a cookie's name, say) is as public as a literal.
			return x.Name == "nil" || x.Name == "true" || x.Name == "false" || x.Obj != nil && x.Obj.Kind == ast.Con
		}
		return false
	}
	secret := func(e ast.Expr) bool {
		n := name(e)
		return secretName.MatchString(n) && !strings.HasSuffix(n, "StatusCode")
	}
	fset := token.NewFileSet()
	comparisons := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			b, ok := n.(*ast.BinaryExpr)
			if !ok || b.Op != token.EQL && b.Op != token.NEQ {
				return true
			}
			comparisons++
			if !literal(b.X) && !literal(b.Y) && (secret(b.X) || secret(b.Y)) {
				t.Errorf("%s: %s %s %s compares a secret with %s", fset.Position(b.Pos()), name(b.X), b.Op, name(b.Y), b.Op)
			}
			return true
		})
	}
	if comparisons < 100 {
		t.Fatalf("walked %d comparisons; is the source where the test looks?", comparisons)
	}
	recordFigures(t, "constant time", map[string]any{"comparisons": comparisons})
}

// TestSignInFloodAcrossReplicasPassesOnlyTheLimit sends 200 sign-in attempts from one address at
// once, half to each of two replicas on one database: no more than the limit (3 per 10 s) reach
// the handler in total.
func TestSignInFloodAcrossReplicasPassesOnlyTheLimit(t *testing.T) {
	t.Parallel()
	clock := newTestClock()
	a := rateLimited(t, clock)
	b := rateLimited(t, clock, a)
	const n = 200
	clients := make([]*testClient, n)
	for i := range clients {
		clients[i] = a.client(t)
		if i%2 == 1 {
			clients[i] = b.client(t)
		}
	}
	statuses := parallel(n, func(i int) int {
		return clients[i].post("/api/auth/sign-in/email", map[string]any{"email": "nobody@example.com", "password": "password123"},
			"X-Forwarded-For", "203.0.113.9").Status
	})
	passed := n - statuses[http.StatusTooManyRequests]
	recordFigures(t, "rate limit", map[string]any{"attempts": n, "replicas": 2, "limit": 3, "passed": passed, "statuses": statuses})
	if passed > 3 || statuses[http.StatusUnauthorized] != passed {
		t.Fatalf("statuses %v: %d passed the limiter, want at most 3, each a refused sign-in", statuses, passed)
	}
	if passed == 0 {
		t.Fatal("nothing passed: the limiter refused the allowed attempts too")
	}
}

// TestOnlyRequestsThatHashNoPasswordCountAsOtherRequests: get-session marks the server busy with
// other requests, for which hashes leave a CPU free; a sign-in, which hashes, does not.
func TestOnlyRequestsThatHashNoPasswordCountAsOtherRequests(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.client(t)
	c.signUp("busy@example.com", "password123", "Busy")
	const longAgo = 1
	ts.otherRequests.last.Store(longAgo)
	ts.client(t).post("/api/auth/sign-in/email", map[string]any{"email": "busy@example.com", "password": "password123"}).wantStatus(t, 200)
	ts.client(t).post("/api/auth/sign-in/email", map[string]any{"email": "busy@example.com", "password": "wrong-password"}).wantStatus(t, 401)
	if last := ts.otherRequests.last.Load(); last != longAgo {
		t.Fatalf("sign-ins were noted as other requests (at %v)", time.Duration(last))
	}
	c.get("/api/auth/get-session").wantStatus(t, 200)
	if last := ts.otherRequests.last.Load(); last == longAgo {
		t.Fatal("get-session was not noted as another request")
	}
}
