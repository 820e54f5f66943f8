package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// settings registers the command-line flags. Each flag is typed (so -h says bool, int, duration
// or string, and a bool flag needs no value), defaults to its environment variable, and belongs
// to a group of -h: the groups of the README's Configuration section, in the same order.
type settings struct {
	fs      *flag.FlagSet
	getenv  func(string) string
	group   string
	groups  []settingsGroup
	fromEnv map[string]bool // flag names whose environment variable was set
	// fromFlags are the flags given on the command line.
	fromFlags map[string]bool
	errs      []error // environment values that did not parse
	// envNames maps each flag to its environment variable.
	envNames map[string]string
	// The config file (configfile.go): the key paths it may hold, the plugin ids its plugins list
	// may name, the value it gave each flag, and the sections it held.
	fileKeys     map[string]fileKey
	filePlugins  map[string]filePlugin
	fromFile     map[string]fileValue
	fileSections []fileValue
}

type settingsGroup struct {
	title string
	flags []string // in registration order
}

func newSettings(fs *flag.FlagSet, getenv func(string) string) *settings {
	return &settings{fs: fs, getenv: getenv, fromEnv: map[string]bool{}, envNames: map[string]string{},
		fileKeys: map[string]fileKey{}, filePlugins: map[string]filePlugin{}, fromFile: map[string]fileValue{}}
}

// section starts a group; the flags registered next belong to it.
func (s *settings) section(title string) {
	s.groups = append(s.groups, settingsGroup{title: title})
}

func (s *settings) add(name string) {
	g := &s.groups[len(s.groups)-1]
	g.flags = append(g.flags, name)
}

// env is the raw environment value of a setting, remembered as set when it is not empty.
func (s *settings) env(flagName, envName string) (string, bool) {
	s.envNames[flagName] = envName
	v := s.getenv(envName)
	if v != "" {
		s.fromEnv[flagName] = true
	}
	return v, v != ""
}

func (s *settings) String(p *string, name, envName, def, usage string) {
	*p = def
	if v, ok := s.env(name, envName); ok {
		*p = v
	}
	s.fs.StringVar(p, name, *p, "["+envName+"] "+usage)
	s.add(name)
}

func (s *settings) Bool(p *bool, name, envName string, def bool, usage string) {
	setFromEnv(s, p, name, envName, def, strconv.ParseBool, "true or false")
	s.fs.BoolVar(p, name, *p, "["+envName+"] "+usage)
	s.add(name)
}

func (s *settings) Int(p *int, name, envName string, def int, usage string) {
	setFromEnv(s, p, name, envName, def, strconv.Atoi, "a whole number")
	s.fs.IntVar(p, name, *p, "["+envName+"] "+usage)
	s.add(name)
}

func (s *settings) Int64(p *int64, name, envName string, def int64, usage string) {
	setFromEnv(s, p, name, envName, def, parseInt64, "a whole number")
	s.fs.Int64Var(p, name, *p, "["+envName+"] "+usage)
	s.add(name)
}

func (s *settings) Duration(p *time.Duration, name, envName string, def time.Duration, usage string) {
	setFromEnv(s, p, name, envName, def, time.ParseDuration, "a duration like 15s")
	s.fs.DurationVar(p, name, *p, "["+envName+"] "+usage)
	s.add(name)
}

// setFromEnv sets *p to def, or to its environment variable's value read by parse; a value that
// does not parse is kept as an error for parse to answer, saying what was wanted.
func setFromEnv[T any](s *settings, p *T, name, envName string, def T, parse func(string) (T, error), want string) {
	*p = def
	if v, ok := s.env(name, envName); ok {
		x, err := parse(v)
		if err != nil {
			s.errs = append(s.errs, fmt.Errorf("%s: want %s, got %q", envName, want, v))
		}
		*p = x
	}
}

func parseInt64(v string) (int64, error) { return strconv.ParseInt(v, 10, 64) }

// parse parses the command line; a bad environment value is an error as a bad flag is.
func (s *settings) parse(args []string) error {
	if err := s.fs.Parse(args); err != nil {
		return err
	}
	s.fromFlags = map[string]bool{}
	s.fs.Visit(func(f *flag.Flag) { s.fromFlags[f.Name] = true })
	if len(s.errs) > 0 {
		return s.errs[0]
	}
	return nil
}

// isSet reports whether a flag was given on the command line or through its variable.
func (s *settings) isSet(name string) bool {
	set := s.fromEnv[name]
	s.fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// printDefaults writes the flags group by group, in the shape of flag.PrintDefaults.
func (s *settings) printDefaults(w io.Writer) {
	for _, g := range s.groups {
		fmt.Fprintf(w, "%s:\n", g.title)
		for _, name := range g.flags {
			f := s.fs.Lookup(name)
			typ, usage := flag.UnquoteUsage(f)
			line := "  -" + f.Name
			if typ != "" {
				line += " " + typ
			}
			def := f.DefValue
			if typ == "string" && def != "" {
				def = strconv.Quote(def)
			}
			if def != "" && def != "0" && def != "false" && def != "0s" {
				usage += " (default " + def + ")"
			}
			fmt.Fprintf(w, "%s\n    \t%s\n", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
		}
		fmt.Fprintln(w)
	}
}
