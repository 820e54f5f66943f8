package main

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Bounds on client-writable text (ours; upstream stores any length, so that a 900 000-character
// name is kept, a 300 000-character slug is a 500 from its unique index, and a long name made 25
// cookie chunks and then 431 on every request). They are checked by decode, by body key wherever
// the key appears (the body itself, or a nested object such as organization update's `data`),
// before anything is read or stored: over a limit is 400 VALIDATION_ERROR naming the field.
// COMPATIBILITY.md (bounded-fields) lists them.

// textLimits are the longest strings, in characters, a body key takes.
var textLimits = map[string]int{
	"name":       256,  // user, organization, team, passkey
	"image":      2048, // user: a URL, not an inline data: image
	"logo":       2048, // organization
	"slug":       256,  // organization; its unique index refuses rows past ~2700 bytes
	"issuer":     2048, // SSO provider
	"domain":     1024, // SSO provider: one or more comma-separated domains
	"providerId": 256,  // SSO provider id
}

// objectLimits are the largest JSON objects, in bytes as sent, a body key takes.
var objectLimits = map[string]int{
	"metadata":   8 << 10,   // organization
	"oidcConfig": 16 << 10,  // SSO provider, its mapping included
	"samlConfig": 256 << 10, // IdP metadata XML with its certificates
}

// maxUserAgent bounds the user agent a session row records (and the cookie cache carries).
const maxUserAgent = 512

// fieldTooBig returns the validation issue when raw, the value of body key key at path, is
// over its bound, else "".
func fieldTooBig(path, key string, raw json.RawMessage) string {
	if limit, ok := textLimits[key]; ok && len(raw) > limit {
		var s string
		if json.Unmarshal(raw, &s) == nil && utf8.RuneCountInString(s) > limit {
			return fmt.Sprintf("[%s.%s] Too big: expected string to have <=%d characters", path, key, limit)
		}
	}
	if limit, ok := objectLimits[key]; ok && len(raw) > limit {
		return fmt.Sprintf("[%s.%s] Too big: expected at most %d bytes of JSON", path, key, limit)
	}
	return ""
}

// truncateText cuts s to at most n characters.
func truncateText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
