package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// Settings of the username plugin (username.go); upstream: packages/better-auth/src/plugins/
// username/index.ts, UsernameOptions. Off by default, as upstream ships it.

// Upstream's defaults: 3 to 30 characters of defaultUsernameValidator's alphabet.
const (
	defaultMinUsernameLength = 3
	defaultMaxUsernameLength = 30
	defaultUsernamePattern   = `^[a-zA-Z0-9_.]+$`
)

// usernameConfig holds the plugin's serialisable options under upstream's names, as the config
// file's {"id": "username", ...} entry writes them (registerUsernameFlags maps each). Zero values
// mean upstream's defaults.
type usernameConfig struct {
	Enabled           bool `json:"-"`
	MinUsernameLength int  `json:"minUsernameLength"`
	MaxUsernameLength int  `json:"maxUsernameLength"`
	// UsernamePattern stands for upstream's usernameValidator function, which a file cannot
	// hold: a regular expression (Go syntax) a username must match; "": upstream's default.
	UsernamePattern string `json:"usernamePattern"`
	// DisplayUsernamePattern stands for upstream's displayUsernameValidator function: a
	// regular expression a displayUsername must match (INVALID_DISPLAY_USERNAME); "": none, as
	// upstream's default.
	DisplayUsernamePattern string `json:"displayUsernamePattern"`
	// ImmutableUsername: update-user may set a username where there is none, never change one
	// (USERNAME_IS_IMMUTABLE). Admin update-user is not bound by it, as upstream.
	ImmutableUsername bool `json:"immutableUsername"`
	// Schema is upstream's schema option: other column names for the plugin's two fields.
	// Its user.modelName is taken and, as upstream, changes nothing (the user table's name is
	// the core option's).
	Schema struct {
		User struct {
			ModelName string `json:"modelName"`
			Fields    struct {
				Username        string `json:"username"`
				DisplayUsername string `json:"displayUsername"`
			} `json:"fields"`
		} `json:"user"`
	} `json:"schema"`
	// UsernameNormalization false keeps usernames as typed; upstream lower-cases them.
	UsernameNormalization *bool `json:"usernameNormalization"`
	// DisplayUsername false drops the displayUsername field, as upstream's option does.
	DisplayUsername *bool `json:"displayUsername"`
	// ValidationOrder: "post-normalization" validates the normalised username.
	ValidationOrder struct {
		Username string `json:"username"`
		// DisplayUsername is accepted and changes nothing: displayUsername's normaliser is the
		// identity here (displayUsernameNormalization can only be false in a file).
		DisplayUsername string `json:"displayUsername"`
	} `json:"validationOrder"`
	pattern, displayPattern *regexp.Regexp
}

// check validates the options and compiles the pattern.
func (c *usernameConfig) check() error {
	switch {
	case c.MinUsernameLength < 0:
		return fmt.Errorf("minUsernameLength: want a positive length, got %d", c.MinUsernameLength)
	case c.MaxUsernameLength < 0 || (c.MaxUsernameLength > 0 && c.MaxUsernameLength < c.minLength()):
		return fmt.Errorf("maxUsernameLength: want a length of at least minUsernameLength, got %d", c.MaxUsernameLength)
	case c.ValidationOrder.Username != "" && c.ValidationOrder.Username != "pre-normalization" && c.ValidationOrder.Username != "post-normalization":
		return fmt.Errorf("validationOrder.username: want pre-normalization or post-normalization, got %q", c.ValidationOrder.Username)
	}
	re, err := regexp.Compile(cmp.Or(c.UsernamePattern, defaultUsernamePattern))
	if err != nil {
		return fmt.Errorf("usernamePattern: %w", err)
	}
	c.pattern = re
	if c.DisplayUsernamePattern != "" {
		if c.displayPattern, err = regexp.Compile(c.DisplayUsernamePattern); err != nil {
			return fmt.Errorf("displayUsernamePattern: %w", err)
		}
	}
	return nil
}

// validDisplay applies displayUsernamePattern (upstream's displayUsernameValidator), if any.
func (c usernameConfig) validDisplay(display string) bool {
	re := c.displayPattern
	if re == nil && c.DisplayUsernamePattern != "" { // a config built in code (tests)
		re = regexp.MustCompile(c.DisplayUsernamePattern)
	}
	return re == nil || re.MatchString(display)
}

// validChars applies the pattern; a config built in code (tests) that skipped check gets it
// compiled here.
func (c usernameConfig) validChars(username string) bool {
	re := c.pattern
	if re == nil {
		re = regexp.MustCompile(cmp.Or(c.UsernamePattern, defaultUsernamePattern))
	}
	return re.MatchString(username)
}

func (c usernameConfig) minLength() int { return cmp.Or(c.MinUsernameLength, defaultMinUsernameLength) }
func (c usernameConfig) maxLength() int { return cmp.Or(c.MaxUsernameLength, defaultMaxUsernameLength) }

func (c usernameConfig) withDisplayUsername() bool {
	return c.DisplayUsername == nil || *c.DisplayUsername
}

// normalize is upstream's default normaliser: lower case, unless usernameNormalization is false.
func (c usernameConfig) normalize(username string) string {
	if c.UsernameNormalization != nil && !*c.UsernameNormalization {
		return username
	}
	return jsToLower(username)
}

// jsToLower is JavaScript's String.prototype.toLowerCase, so that both servers store and look up
// one username alike: Unicode's full lower-case mapping, which differs from Go's simple one
// (strings.ToLower) in İ (U+0130: i and U+0307, SpecialCasing.txt) and a capital sigma ending a
// word (the final sigma ς, Final_Sigma in the Unicode Standard, section 3.13). x/text's root
// lower caser does both; a Caser keeps state, so each call makes its own.
func jsToLower(s string) string {
	if !strings.ContainsAny(s, "\u0130\u03a3") {
		return strings.ToLower(s)
	}
	return cases.Lower(language.Und).String(s)
}

// checkColumns refuses plugin columns (renamed by schema) that another user column or
// additional field has.
func (c usernameConfig) checkColumns(fields additionalFields) error {
	taken := map[string]bool{}
	for _, col := range reservedColumns["user"] {
		if col != "username" && col != "displayUsername" {
			taken[strings.ToLower(col)] = true
		}
	}
	for _, fs := range fields {
		taken[strings.ToLower(fs.Column)] = true
	}
	for _, fs := range c.fields() {
		if taken[strings.ToLower(fs.Column)] {
			return keyError("plugins.username.schema.user.fields."+fs.Key, "column %q is taken by another field of user", fs.Column)
		}
	}
	return nil
}

func (c usernameConfig) usernameColumn() string {
	return cmp.Or(c.Schema.User.Fields.Username, "username")
}

func (c usernameConfig) displayUsernameColumn() string {
	return cmp.Or(c.Schema.User.Fields.DisplayUsername, "displayUsername")
}

// fields are the plugin's user columns (upstream plugins/username/schema.ts): username unique.
func (c usernameConfig) fields() additionalFields {
	if !c.Enabled {
		return nil
	}
	f := additionalFields{{Key: "username", Column: c.usernameColumn(), Type: "string", Input: true, Returned: true, Unique: true, normalize: c.normalize}}
	if c.withDisplayUsername() {
		f = append(f, fieldSpec{Key: "displayUsername", Column: c.displayUsernameColumn(), Type: "string", Input: true, Returned: true})
	}
	return f
}

type usernameFlags struct {
	enabled  bool
	min, max int
	pattern  string
}

// registerUsernameFlags adds the username plugin's flags, under the README's "Username" group.
func registerUsernameFlags(s *settings) *usernameFlags {
	f := &usernameFlags{}
	s.Bool(&f.enabled, "username", "USERNAME_ENABLED", false, "serve upstream's username plugin: sign-in/username, is-username-available, username on sign-up and update-user")
	s.Int(&f.min, "username-min-length", "USERNAME_MIN_LENGTH", defaultMinUsernameLength, "shortest username accepted (upstream minUsernameLength)")
	s.Int(&f.max, "username-max-length", "USERNAME_MAX_LENGTH", defaultMaxUsernameLength, "longest username accepted (upstream maxUsernameLength)")
	s.String(&f.pattern, "username-pattern", "USERNAME_PATTERN", defaultUsernamePattern, "regular expression a username must match (upstream's usernameValidator)")
	s.filePlugin("username", "username")
	s.fileFlag("plugins.username.minUsernameLength", "username-min-length", fileInt)
	s.fileFlag("plugins.username.maxUsernameLength", "username-max-length", fileInt)
	s.fileFlag("plugins.username.usernamePattern", "username-pattern", fileString)
	s.fileSection("plugins.username.usernameNormalization", func(path string, raw json.RawMessage, c *config) error {
		return decodeFileBool(path, raw, &c.Username.UsernameNormalization)
	})
	s.fileSection("plugins.username.displayUsername", func(path string, raw json.RawMessage, c *config) error {
		return decodeFileBool(path, raw, &c.Username.DisplayUsername)
	})
	s.fileSection("plugins.username.schema", func(path string, raw json.RawMessage, c *config) error {
		sc := &c.Username.Schema
		if err := decodeFileObject(raw, sc); err != nil {
			return keyError(path, "%v", err)
		}
		cols := map[string]string{"username": sc.User.Fields.Username, "displayUsername": sc.User.Fields.DisplayUsername}
		for key, col := range cols {
			if col != "" && !identifierPattern.MatchString(col) {
				return keyError(path+".user.fields."+key, "a column name is letters, digits and _, not starting with a digit, at most 63")
			}
		}
		if u, d := c.Username.usernameColumn(), c.Username.displayUsernameColumn(); strings.EqualFold(u, d) {
			return keyError(path+".user.fields", "username and displayUsername need columns of their own")
		}
		return nil
	})
	s.fileSection("plugins.username.immutableUsername", func(path string, raw json.RawMessage, c *config) error {
		var v *bool
		err := decodeFileBool(path, raw, &v)
		if v != nil {
			c.Username.ImmutableUsername = *v
		}
		return err
	})
	s.fileSection("plugins.username.displayUsernamePattern", func(path string, raw json.RawMessage, c *config) error {
		if json.Unmarshal(raw, &c.Username.DisplayUsernamePattern) != nil {
			return keyError(path, "want a regular expression as a string, got %s", raw)
		}
		if err := c.Username.check(); err != nil {
			return keyError(path, "%v", err)
		}
		return nil
	})
	// upstream's displayUsernameNormalization is a function or false; false, the one a file can
	// hold, is what leaving it out does (displayUsername stored as given).
	s.fileSection("plugins.username.displayUsernameNormalization", func(path string, raw json.RawMessage, c *config) error {
		if string(raw) != "false" {
			return keyError(path, "want false (a normalising function cannot be written in a file), got %s", raw)
		}
		return nil
	})
	s.fileSection("plugins.username.validationOrder", func(path string, raw json.RawMessage, c *config) error {
		v := &c.Username.ValidationOrder
		if err := decodeFileObject(raw, v); err != nil {
			return keyError(path, "%v", err)
		}
		for key, order := range map[string]string{"username": v.Username, "displayUsername": v.DisplayUsername} {
			if order != "" && order != "pre-normalization" && order != "post-normalization" {
				return keyError(path+"."+key, "want pre-normalization or post-normalization, got %q", order)
			}
		}
		return nil
	})
	return f
}

// decodeFileBool reads a config file boolean into an optional setting.
func decodeFileBool(path string, raw json.RawMessage, dst **bool) error {
	var v bool
	if json.Unmarshal(raw, &v) != nil {
		return keyError(path, "want true or false, got %s", raw)
	}
	*dst = &v
	return nil
}

func (f *usernameFlags) parse() (usernameConfig, error) {
	c := usernameConfig{Enabled: f.enabled, MinUsernameLength: f.min, MaxUsernameLength: f.max, UsernamePattern: f.pattern}
	if err := c.check(); err != nil {
		return usernameConfig{}, fmt.Errorf("USERNAME_*: %w", err)
	}
	return c, nil
}
