package main

import (
	"crypto/rand"
)

// Alphabets of upstream's generators (upstream packages/better-auth/src/crypto/random.ts,
// packages/better-auth/src/utils/id.ts). Only the character sets matter for compatibility; the
// order is kept anyway.
const (
	alphaNum      = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	defaultAlpha  = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
	lowerAlphaNum = "abcdefghijklmnopqrstuvwxyz0123456789"
	letters       = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits        = "0123456789"
)

// generateID returns upstream's default id: n characters of [a-zA-Z0-9].
func generateID(n int) string { return randomString(n, alphaNum) }

// randomString draws n characters uniformly from alphabet with crypto/rand, rejecting bytes past
// the largest multiple of len(alphabet) so that no character is more likely than another.
func randomString(n int, alphabet string) string {
	limit := 256 - 256%len(alphabet)
	// On the stack when small (every request draws a 20-character id), so that the string is
	// the only allocation.
	var outStack, bufStack [64]byte
	out, buf := outStack[:0], bufStack[:]
	if n > len(outStack) {
		out = make([]byte, 0, n)
	}
	if need := n + n/4 + 8; need <= len(bufStack) {
		buf = bufStack[:need]
	} else {
		buf = make([]byte, need)
	}
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic("crypto/rand failed: " + err.Error()) // never returns an error on supported platforms
		}
		for _, b := range buf {
			if int(b) < limit {
				out = append(out, alphabet[int(b)%len(alphabet)])
				if len(out) == n {
					break
				}
			}
		}
	}
	return string(out)
}
