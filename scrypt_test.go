package main

import (
	"bytes"
	"encoding/hex"
	"testing"

	"golang.org/x/crypto/scrypt"
)

// TestScryptKeyMatchesXCrypto proves that scryptKey derives what x/crypto's scrypt.Key does (so
// stored hashes, ours and upstream's, still verify), whatever V it is handed: none, one left by a
// larger hash, one too short; and that it gives RFC 7914's p=1 test vectors.
func TestScryptKeyMatchesXCrypto(t *testing.T) {
	var v []uint32
	for _, c := range []struct {
		n, r     int
		password string
	}{
		{4096, scryptR, "password123"}, // leaves the largest V for the smaller cases
		{2, 1, ""},
		{16, scryptR, "pässwörd ﬁ"},
		{1024, 8, "correct horse battery staple"},
		{testScryptN, scryptR, "password123"},
		{4096, scryptR, "another password"}, // a V of the same size, dirty
	} {
		salt := []byte("0123456789abcdef0123456789abcdef")
		want, err := scrypt.Key([]byte(c.password), salt, c.n, c.r, 1, scryptKeyLen)
		if err != nil {
			t.Fatal(err)
		}
		got, err := scryptKey(c.password, salt, c.n, c.r, scryptKeyLen, &v)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("N=%d r=%d %q: got %x (%v), x/crypto %x", c.n, c.r, c.password, got, err, want)
		}
	}
	for _, c := range []struct {
		password, salt string
		n, r           int
		want           string
	}{
		{"", "", 16, 1, "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"},
		{"pleaseletmein", "SodiumChloride", 16384, 8, "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"},
	} {
		var fresh []uint32
		got, err := scryptKey(c.password, []byte(c.salt), c.n, c.r, 64, &fresh)
		if err != nil || hex.EncodeToString(got) != c.want {
			t.Fatalf("RFC 7914 N=%d r=%d %q: got %x (%v), want %s", c.n, c.r, c.password, got, err, c.want)
		}
	}
	for _, n := range []int{0, 1, 3, 1000} {
		if _, err := scryptKey("p", []byte("s"), n, scryptR, scryptKeyLen, &v); err == nil {
			t.Errorf("N=%d: no error", n)
		}
	}
}
