package main

import (
	"path"
	"testing"
)

// TestIsCleanPathAgreesWithPathClean proves the shortcut the middleware takes for every request
// answers as path.Clean would, on clean and unclean paths alike.
func TestIsCleanPathAgreesWithPathClean(t *testing.T) {
	for _, p := range []string{
		"/", "/api/auth/get-session", "/api/auth/get-session/", "//api/auth/ok", "/api//auth",
		"/api/auth/.", "/api/auth/..", "/api/./auth", "/api/../auth", "/.well-known/x", "/api/.x",
		"/a/b..", "", ".", "api/auth", "*", "/api/auth/reset-password/abc.def", "/..", "/a/",
	} {
		if got, want := isCleanPath(p), path.Clean(p) == p; got != want {
			t.Errorf("isCleanPath(%q) = %v, path.Clean says %v", p, got, want)
		}
	}
}
