package main

import (
	"strings"
	"testing"
)

// TestSignedCookiesMatchReference ensures our signed values are byte for byte the reference
// server's for the same secret: the Set-Cookie lines in testdata/cookiecache/ were written by it.
func TestSignedCookiesMatchReference(t *testing.T) {
	t.Parallel()
	f := loadCacheFixture(t, "reference-dont-remember")
	s := newServer(config{Secret: f.Secret}, nil)
	var checked int
	for _, line := range f.SetCookie {
		pair, attrs, _ := strings.Cut(line, "; ")
		name, value, _ := strings.Cut(pair, "=")
		if strings.HasSuffix(name, "session_data") {
			continue
		}
		signed := decodeCookieValue(t, value)
		plain, ok := s.verifySigned(signed)
		if !ok {
			t.Fatalf("%s: the reference's signature does not verify", name)
		}
		if got := encodeURIComponent(s.sign(plain)); got != value {
			t.Fatalf("%s: we sign %q as %q, the reference as %q", name, plain, got, value)
		}
		if want := "Path=/; HttpOnly; SameSite=Lax"; attrs != want {
			t.Fatalf("%s: reference attributes %q; a browser-session cookie has %q", name, attrs, want)
		}
		checked++
	}
	if checked != 2 {
		t.Fatalf("checked %d signed cookies, want session_token and dont_remember", checked)
	}
}

// TestEncodeURIComponent ensures the escaping is JavaScript's, which keeps !'()*-._~ and escapes
// everything else byte by byte.
func TestEncodeURIComponent(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"abc.DEF_123-~": "abc.DEF_123-~",
		"a+b/c=":        "a%2Bb%2Fc%3D",
		"!'()*":         "!'()*",
		" é;,":          "%20%C3%A9%3B%2C",
		"\u2028":        "%E2%80%A8",
		"x.sig+/=":      "x.sig%2B%2F%3D",
	} {
		if got := encodeURIComponent(in); got != want {
			t.Errorf("encodeURIComponent(%q) = %q, want %q", in, got, want)
		}
	}
}
