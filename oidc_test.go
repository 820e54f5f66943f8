package main

import (
	"encoding/base64"
	"testing"
)

// FuzzJWTClaims ensures reading an ID token's claims never panics and either fails or returns an
// object.
func FuzzJWTClaims(f *testing.F) {
	enc := base64.RawURLEncoding.EncodeToString
	f.Add("h." + enc([]byte(`{"sub":"1","id":12345}`)) + ".s")
	f.Add("h." + enc([]byte(`null`)) + ".s")
	f.Add("h." + enc([]byte(`[1]`)) + ".s")
	f.Add("a.b")
	f.Add("..")
	f.Fuzz(func(t *testing.T, raw string) {
		claims, err := jwtClaims(raw)
		if (err == nil) == (claims == nil) {
			t.Fatalf("jwtClaims(%q) = %v, %v: want claims or an error", raw, claims, err)
		}
		_ = claimID(claims, "sub")
	})
}

// TestClaimID ensures account ids are upstream's String(value): numbers as written, never in
// exponent form, and no id from empty or non-scalar values.
func TestClaimID(t *testing.T) {
	t.Parallel()
	claims, err := jwtClaims("h." + base64.RawURLEncoding.EncodeToString([]byte(
		`{"big":80351110224678912,"num":12345,"str":"abc","blank":" ","obj":{},"null":null}`)) + ".s")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"big": "80351110224678912", "num": "12345", "str": "abc", "blank": "", "obj": "", "null": "", "absent": ""} {
		if got := claimID(claims, name); got != want {
			t.Errorf("claimID(%s) = %q, want %q", name, got, want)
		}
	}
}
