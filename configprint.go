package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// printEffectiveConfig is `authsidecar config`: every setting's value, with where it came from
// (default, file with its key path, env with its variable, flag), then the secrets, which are
// only said to be set or not, and the file's sections.
func printEffectiveConfig(w io.Writer, s *settings, c config, getenv func(string) string) {
	byFlag := map[string]string{} // flag -> key path that may fill it
	for path, k := range s.fileKeys {
		if k.flag != "" && (byFlag[k.flag] == "" || path < byFlag[k.flag]) {
			byFlag[k.flag] = path
		}
	}
	for _, g := range s.groups {
		fmt.Fprintf(w, "%s:\n", g.title)
		for _, name := range g.flags {
			env, ok := s.envNames[name]
			if !ok {
				continue // -version
			}
			value := s.fs.Lookup(name).Value.String()
			if name == "database-url" {
				value = redactURL(value)
			}
			line := fmt.Sprintf("  %s = %q", env, value)
			if p := byFlag[name]; p != "" {
				line += "  [" + p + "]"
			}
			fmt.Fprintf(w, "%s  (%s)\n", line, s.source(name))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Derived:\n  production = %v\n  secure cookies = %v (session cookie %s)\n\n",
		c.Production, c.SecureCookies, (&server{cfg: c}).cookieName(cookieSessionToken))
	fmt.Fprintln(w, "Secrets (environment only):")
	secrets := []string{"BETTER_AUTH_SECRET", "SMTP_PASSWORD"}
	for _, p := range c.OAuth.Providers {
		secrets = append(secrets, "AUTH_"+strings.ToUpper(strings.ReplaceAll(p.ID, "-", "_"))+"_CLIENT_SECRET")
	}
	for _, name := range secrets {
		state := "not set"
		if getenv(name) != "" {
			state = "set (redacted)"
		}
		fmt.Fprintf(w, "  %s: %s\n", name, state)
	}
	// Sections have no variable: each is the file's value or upstream's default.
	fmt.Fprintln(w, "\nFile only:")
	given := map[string]json.RawMessage{}
	for _, v := range s.fileSections {
		given[v.path] = v.raw
	}
	for _, path := range slices.Sorted(maps.Keys(s.fileKeys)) {
		if s.fileKeys[path].section == nil {
			continue
		}
		if raw, ok := given[path]; ok {
			var one bytes.Buffer
			json.Compact(&one, raw) // valid: the file parsed
			fmt.Fprintf(w, "  %s = %s  (file)\n", path, one.Bytes())
		} else {
			fmt.Fprintf(w, "  %s: not set  (default)\n", path)
		}
	}
}

// source says where a flag's value came from; the command line beats the environment, which
// beats the file.
func (s *settings) source(name string) string {
	switch {
	case s.fromFlags[name]:
		return "flag"
	case s.fromEnv[name]:
		return "env"
	}
	if _, ok := s.fromFile[name]; ok {
		return "file"
	}
	return "default"
}

// redactURL hides the password of a URL such as DATABASE_URL.
func redactURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return v
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "redacted")
	}
	return u.String()
}
