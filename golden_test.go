package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Golden responses: testdata/golden/<name>.json holds a response's status, Set-Cookie lines and
// JSON body with every generated value (ids, tokens, signatures, timestamps) replaced by a stable
// alias, so the file changes only when the wire shape does. `go test -run X -update` rewrites them.

var jsDateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// aliaser names generated values in order of first appearance: the same id in user.id and
// session.userId gets the same alias, so the file still shows which objects are linked.
type aliaser struct {
	names map[string]string
	count map[string]int
}

func newAliaser() *aliaser { return &aliaser{names: map[string]string{}, count: map[string]int{}} }

func (a *aliaser) alias(kind, v string) string {
	if n, ok := a.names[v]; ok {
		return n
	}
	a.count[kind]++
	n := fmt.Sprintf("<%s-%d>", kind, a.count[kind])
	a.names[v] = n
	return n
}

// volatileKeys hold generated values; a value seen under one of them is aliased wherever it recurs.
var volatileKeys = map[string]string{"id": "id", "userId": "id", "token": "token", "accountId": "id"}

// collect records the generated values of v (a decoded JSON value) before anything is replaced.
func (a *aliaser) collect(v any) {
	switch t := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(t) {
			if kind, ok := volatileKeys[k]; ok {
				if s, ok := t[k].(string); ok && s != "" {
					a.alias(kind, s)
				}
			}
			a.collect(t[k])
		}
	case []any:
		for _, e := range t {
			a.collect(e)
		}
	}
}

// replace returns v with aliases in place of generated values and "<date>" for every JS date;
// a date in any other shape is left as is, so the golden file shows it.
func (a *aliaser) replace(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = a.replace(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = a.replace(e)
		}
		return out
	case string:
		if n, ok := a.names[t]; ok {
			return n
		}
		if jsDateRE.MatchString(t) {
			return "<date>"
		}
		return t
	}
	return v
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// cookieLine aliases one Set-Cookie line: a signed value becomes "<alias>.<sig>" once its
// signature is checked, the cookie cache "<session_data>".
func (a *aliaser) cookieLine(s *server, line string) string {
	nameValue, attrs, _ := strings.Cut(line, ";")
	name, value, _ := strings.Cut(nameValue, "=")
	if value == "" {
		return line
	}
	if strings.Contains(name, "session_data") {
		return name + "=<session_data>;" + attrs
	}
	decoded, err := url.PathUnescape(value)
	if err != nil {
		return line
	}
	if v, ok := s.verifySigned(decoded); ok {
		if v != "true" { // dont_remember's value is fixed; anything else was generated
			v = a.alias("token", v)
		}
		return name + "=" + v + ".<sig>;" + attrs
	}
	return name + "=<unsigned:" + value + ">;" + attrs
}

// wantGolden compares resp with testdata/golden/<name>.json (rewriting it with -update).
func wantGolden(t testing.TB, s *server, name string, resp *testResponse) {
	t.Helper()
	a := newAliaser()
	var body any
	if len(resp.Body) > 0 {
		if err := json.Unmarshal(resp.Body, &body); err != nil {
			t.Fatalf("golden %s: body is not JSON: %q", name, resp.Body)
		}
	}
	a.collect(body)
	var cookies []string
	for _, line := range resp.Header.Values("Set-Cookie") {
		cookies = append(cookies, a.cookieLine(s, line))
	}
	got := map[string]any{"status": resp.Status, "body": a.replace(body)}
	if len(cookies) > 0 {
		got["setCookie"] = cookies
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		got["location"] = a.replace(loc)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatal(err)
	}
	compareGolden(t, filepath.Join("testdata", "golden", name+".json"), buf.Bytes())
}

// compareGolden wants got to equal the golden file at path; -update rewrites the file instead.
func compareGolden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run with -update to create it)", path, err)
	}
	if !bytes.Equal(want, got) {
		t.Fatalf("%s differs (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// tableCounts counts the rows of every table in the test server's database.
func (ts *testServer) tableCounts(t testing.TB) map[string]int {
	t.Helper()
	ctx := context.Background()
	rows, err := ts.db.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	counts := map[string]int{}
	for _, table := range tables {
		counts[table] = ts.rowCount(t, table)
	}
	return counts
}
