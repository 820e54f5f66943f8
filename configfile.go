package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The config file (AUTH_CONFIG, flag -config) is JSON shaped like the options of upstream's
// betterAuth({...}): the same key names and nesting, plugins as a list of {"id": …, …options}.
// Each key path is registered against the setting it fills, so the file is one more way to give a
// flag's value: the file's value replaces the default, the environment variable replaces the
// file's, the command line replaces both. Unknown keys, wrong types and secrets stop start-up
// with one line naming the key path.
//
// Registering (in a register<Plugin>Flags function, next to the flags):
//
//	s.fileFlag("session.expiresIn", "session-expires-in", fileSeconds)  // a key that sets a flag
//	s.fileSection("user.additionalFields", decodeAdditionalFields)      // a key decoded into config
//	s.fileSecret("socialProviders.github.clientSecret", "AUTH_GITHUB_CLIENT_SECRET")
//	s.filePlugin("username", "username")  // a plugin id; its entry turns the bool flag on ("" if always on)
//	s.fileFlag("plugins.username.minUsernameLength", "username-min-length", fileInt)

// fileKey says what one key path of the config file fills.
type fileKey struct {
	flag    string                                                  // setting the value is given to
	convert func(json.RawMessage) (string, error)                   // the flag's text for the JSON value
	section func(path string, raw json.RawMessage, c *config) error // or: decoded into the config
	secret  string                                                  // or: a secret, which only this variable gives
}

// filePlugin is a plugin id the plugins list may name; flag, when set, is the bool that turns it on.
type filePlugin struct{ flag string }

func (s *settings) fileFlag(path, flag string, convert func(json.RawMessage) (string, error)) {
	s.fileKeys[path] = fileKey{flag: flag, convert: convert}
}

// fileSection registers a key whose whole value decode reads into the config once every flag is
// parsed. decode names the key path of any error it returns (keyError(path+".x", …)).
func (s *settings) fileSection(path string, decode func(path string, raw json.RawMessage, c *config) error) {
	s.fileKeys[path] = fileKey{section: decode}
}

func (s *settings) fileSecret(path, envName string) {
	s.fileKeys[path] = fileKey{secret: envName}
}

func (s *settings) filePlugin(id, enableFlag string) {
	s.filePlugins[id] = filePlugin{flag: enableFlag}
}

// keyError is a config file error naming the key path it is about.
func keyError(path, format string, args ...any) error {
	return fmt.Errorf("config: %s: %s", path, fmt.Sprintf(format, args...))
}

// subKeyError is a converter's error about a key inside the object it converts.
type subKeyError struct{ key, msg string }

func (e subKeyError) Error() string { return e.key + ": " + e.msg }

// decodeFileObject decodes an object into dst (a pointer to a struct with json tags), refusing
// unknown keys and wrong types with a subKeyError naming the key.
func decodeFileObject(raw json.RawMessage, dst any) error {
	if _, err := fileObject(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr):
		return subKeyError{typeErr.Field, "want " + typeErr.Type.String() + ", got " + typeErr.Value}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		key, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return subKeyError{key, "unknown key"}
	}
	return err
}

// fileValue is a value the file gave, kept for `authsidecar config` and the sections.
type fileValue struct {
	path string
	raw  json.RawMessage
}

// readConfigFile reads the file at name and gives each flag it names the file's value, unless the
// environment or the command line already set it. Sections are kept for applyFileSections.
func (s *settings) readConfigFile(name string) error {
	data, err := os.ReadFile(name)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var syntax *json.SyntaxError
	if err := json.Unmarshal(data, new(any)); errors.As(err, &syntax) {
		return fmt.Errorf("config: %s: not JSON at byte %d: %v", name, syntax.Offset, err)
	}
	found := map[string]json.RawMessage{}
	if err := s.walkFile("", bytes.TrimSpace(data), found); err != nil {
		return err
	}
	for _, p := range slices.Sorted(maps.Keys(found)) {
		if err := s.applyFileKey(p, found[p]); err != nil {
			return err
		}
	}
	return nil
}

func (s *settings) applyFileKey(path string, raw json.RawMessage) error {
	k := s.fileKeys[path]
	switch {
	case k.secret != "":
		return keyError(path, "secrets come only from the environment (%s)", k.secret)
	case k.section != nil:
		s.fileSections = append(s.fileSections, fileValue{path, raw})
		return nil
	}
	v, err := k.convert(raw)
	if sub := (subKeyError{}); errors.As(err, &sub) {
		return keyError(path+"."+sub.key, "%s", sub.msg)
	}
	if err != nil {
		return keyError(path, "%v", err)
	}
	if k.flag == "" {
		return nil // a key we check but that sets nothing
	}
	s.fromFile[k.flag] = fileValue{path, raw}
	if s.isSet(k.flag) {
		return nil // the environment or the command line wins
	}
	if err := s.fs.Set(k.flag, v); err != nil {
		return keyError(path, "%v", err)
	}
	return nil
}

// applyFileSections decodes the registered sections the file holds into c.
func (s *settings) applyFileSections(c *config) error {
	for _, v := range s.fileSections {
		if err := s.fileKeys[v.path].section(v.path, v.raw, c); err != nil {
			return err
		}
	}
	return nil
}

// walkFile records in found the value of each registered key under path, refusing keys that are
// neither registered nor above one. null counts as absent, as undefined does in auth.ts.
func (s *settings) walkFile(path string, raw json.RawMessage, found map[string]json.RawMessage) error {
	if string(raw) == "null" {
		return nil
	}
	if _, ok := s.fileKeys[path]; ok && path != "" {
		found[path] = raw
		return nil
	}
	if path == "plugins" {
		return s.walkPlugins(raw, found)
	}
	if path != "" && !s.hasFileKeysUnder(path) {
		return keyError(path, "unknown key")
	}
	obj, err := fileObject(raw)
	if err != nil {
		return keyError(orTop(path), "%v", err)
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if err := s.walkFile(joinPath(path, k), obj[k], found); err != nil {
			return err
		}
	}
	return nil
}

// walkPlugins reads the plugins list: each entry names a registered plugin id once; its other
// keys are that plugin's options, at the key path plugins.<id>.<option>.
func (s *settings) walkPlugins(raw json.RawMessage, found map[string]json.RawMessage) error {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return keyError("plugins", "want a list of {\"id\": …} entries")
	}
	seen := map[string]bool{}
	for i, entry := range list {
		at := "plugins[" + strconv.Itoa(i) + "]"
		obj, err := fileObject(entry)
		if err != nil {
			return keyError(at, "%v", err)
		}
		var id string
		if json.Unmarshal(obj["id"], &id) != nil || id == "" {
			return keyError(at+".id", "want a plugin id string")
		}
		p, ok := s.filePlugins[id]
		if !ok {
			return keyError(at+".id", "unknown plugin %q (want one of %s)", id, strings.Join(slices.Sorted(maps.Keys(s.filePlugins)), ", "))
		}
		if seen[id] {
			return keyError(at+".id", "plugin %q listed twice", id)
		}
		seen[id] = true
		if p.flag != "" {
			s.fileKeys["plugins."+id] = fileKey{flag: p.flag, convert: func(json.RawMessage) (string, error) { return "true", nil }}
			found["plugins."+id] = json.RawMessage(`{}`)
		}
		delete(obj, "id")
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			if err := s.walkFile("plugins."+id+"."+k, obj[k], found); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *settings) hasFileKeysUnder(path string) bool {
	for k := range s.fileKeys {
		if strings.HasPrefix(k, path+".") {
			return true
		}
	}
	return false
}

func fileObject(raw json.RawMessage) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
		return nil, fmt.Errorf("want an object")
	}
	return obj, nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orTop(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}

// Converters from a JSON value to the text its flag parses.

func fileString(raw json.RawMessage) (string, error) {
	var v string
	if json.Unmarshal(raw, &v) != nil {
		return "", fmt.Errorf("want a string, got %s", raw)
	}
	return v, nil
}

func fileBool(raw json.RawMessage) (string, error) {
	var v bool
	if json.Unmarshal(raw, &v) != nil {
		return "", fmt.Errorf("want true or false, got %s", raw)
	}
	return strconv.FormatBool(v), nil
}

func fileInt(raw json.RawMessage) (string, error) {
	var v int64
	if json.Unmarshal(raw, &v) != nil {
		return "", fmt.Errorf("want a whole number, got %s", raw)
	}
	return strconv.FormatInt(v, 10), nil
}

// fileSeconds is a number of seconds (as upstream's expiresIn options are) for a duration flag.
func fileSeconds(raw json.RawMessage) (string, error) {
	v, err := fileInt(raw)
	if err != nil {
		return "", fmt.Errorf("want a whole number of seconds, got %s", raw)
	}
	return v + "s", nil
}

// fileList is a list of strings for a comma-separated flag.
func fileList(raw json.RawMessage) (string, error) {
	var v []string
	if json.Unmarshal(raw, &v) != nil || slices.ContainsFunc(v, func(x string) bool { return strings.Contains(x, ",") }) {
		return "", fmt.Errorf("want a list of strings without commas, got %s", raw)
	}
	return strings.Join(v, ","), nil
}

// fileTrue is a switch we only serve on (emailAndPassword.enabled: email and password is served).
func fileTrue(raw json.RawMessage) (string, error) {
	if v, err := fileBool(raw); err != nil || v != "true" {
		return "", fmt.Errorf("want true (authsidecar always serves it), got %s", raw)
	}
	return "", nil
}

// fileCookieCache is session.cookieCache, {enabled, maxAge}, as COOKIE_CACHE_MAX_AGE: upstream
// caches only when enabled, for maxAge seconds (300 unset).
func fileCookieCache(raw json.RawMessage) (string, error) {
	var v struct {
		Enabled bool   `json:"enabled"`
		MaxAge  *int64 `json:"maxAge"`
	}
	if err := decodeFileObject(raw, &v); err != nil {
		return "", err
	}
	switch {
	case !v.Enabled:
		return "0", nil
	case v.MaxAge == nil:
		return "300", nil
	}
	return strconv.FormatInt(*v.MaxAge, 10), nil
}

// fileStringOrList is an option upstream takes as a string or a list (passkey origin, adminRoles).
func fileStringOrList(raw json.RawMessage) (string, error) {
	if v, err := fileString(raw); err == nil {
		return v, nil
	}
	return fileList(raw)
}

// fileTimeSpan is a lifetime upstream takes as seconds or as a time span such as "15m" (the jwt
// plugin's expirationTime), for a duration flag.
func fileTimeSpan(raw json.RawMessage) (string, error) {
	if v, err := fileSeconds(raw); err == nil {
		return v, nil
	}
	var v string
	json.Unmarshal(raw, &v)
	m := timeSpan.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return "", fmt.Errorf("want seconds or a span like \"15m\", got %s", raw)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]int{"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m[2]]
	return strconv.Itoa(n*unit) + "s", nil
}

var timeSpan = regexp.MustCompile(`^(\d+)\s*(s|m|h|d|w)$`)
