package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"time"
)

// The config file's rateLimit options beyond enabled (upstream
// packages/better-auth/src/api/rate-limiter/index.ts, resolveRateLimitConfig): window and max
// are flags (configkeys.go); customRules is a section, decoded in its key order because upstream
// takes the first key that matches.

func registerRateLimitKeys(s *settings) {
	s.fileSection("rateLimit.customRules", decodeCustomRateRules)
}

// decodeCustomRateRules reads rateLimit.customRules: an object from path (exact, or a wildcard
// pattern such as "/two-factor/*") to {"window": seconds, "max": count}, to false (that path is
// not limited) or to null (the rule in place stays). Functions, upstream's other form, have no
// JSON shape.
func decodeCustomRateRules(path string, raw json.RawMessage, c *config) error {
	if _, err := fileObject(raw); err != nil {
		return keyError(path, "%v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.Token() // {
	var rules []customRateRule
	for dec.More() {
		tok, _ := dec.Token()
		key := tok.(string)
		at := path + "." + key
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return keyError(at, "%v", err)
		}
		if !strings.HasPrefix(key, "/") && !strings.HasPrefix(key, "*") {
			return keyError(at, "want a path such as /sign-in/email (without the base path) or a pattern such as /two-factor/*")
		}
		rule := customRateRule{path: key}
		if strings.ContainsRune(key, '*') {
			rule.pattern = wildcardPattern(key)
		}
		switch string(value) {
		case "false":
			rule.off = true
		case "null":
			rule.keep = true
		default:
			var v struct {
				Window *int64 `json:"window"`
				Max    *int64 `json:"max"`
			}
			if err := decodeFileObject(value, &v); err != nil {
				if sub, ok := err.(subKeyError); ok {
					return keyError(at+"."+sub.key, "%s", sub.msg)
				}
				return keyError(at, "want {\"window\": seconds, \"max\": count} or false, got %s", value)
			}
			if v.Window == nil || v.Max == nil || *v.Window < 0 || *v.Max < 0 {
				return keyError(at, "want {\"window\": seconds, \"max\": count}, both whole numbers, got %s", value)
			}
			rule.window, rule.max = time.Duration(*v.Window)*time.Second, int(*v.Max)
		}
		rules = append(rules, rule)
	}
	c.RateLimitRules.Custom = rules
	return nil
}

// wildcardPattern compiles upstream's wildcardMatch(pattern) with "/" as separator (upstream
// packages/better-auth/src/utils/wildcard.ts): "*" and "?" stay within a segment, "**" spans
// segments, "\" escapes, and one or more separators match each "/" (trailing ones optional).
func wildcardPattern(pattern string) *regexp.Regexp {
	const sep, notSep = `[/\\]`, `[^/\\]`
	segments := strings.Split(pattern, "/")
	var b strings.Builder
	for i, seg := range segments {
		if seg == "" && i > 0 {
			continue
		}
		var after string
		switch {
		case i == len(segments)-1:
			after = sep + "*?"
		case segments[i+1] != "**":
			after = sep + "+?"
		}
		if seg == "**" {
			if after != "" {
				if i > 0 {
					b.WriteString(after)
				}
				b.WriteString("(?:" + notSep + "*?" + after + ")*?")
			}
			continue
		}
		runes := []rune(seg)
		for j := 0; j < len(runes); j++ {
			switch c := runes[j]; c {
			case '\\':
				if j < len(runes)-1 {
					j++
					b.WriteString(regexp.QuoteMeta(string(runes[j])))
				}
			case '?':
				b.WriteString(notSep)
			case '*':
				b.WriteString(notSep + "*?")
			default:
				b.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		b.WriteString(after)
	}
	return regexp.MustCompile("^" + b.String() + "$")
}
