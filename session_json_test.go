package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSessionKeepsUnsetPluginKeysOut proves a session read without the plugin keys (as upstream
// stores one kept only in Redis) is written back and answered without them, while a key set
// since is written, and a session read with them (a database row's nulls) keeps them.
func TestSessionKeepsUnsetPluginKeysOut(t *testing.T) {
	t.Parallel()
	const sparse = `{"id":"s1","expiresAt":"2030-01-01T00:00:00.000Z","token":"t","createdAt":"2030-01-01T00:00:00.000Z","updatedAt":"2030-01-01T00:00:00.000Z","ipAddress":null,"userAgent":null,"userId":"u1"}`
	var s session
	if err := json.Unmarshal([]byte(sparse), &s); err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(s); string(b) != sparse {
		t.Fatalf("round trip of a sparse session:\n got %s\nwant %s", b, sparse)
	}
	org := "o1"
	s.ActiveOrganizationID = &org
	b, _ := json.Marshal(s)
	if !strings.Contains(string(b), `"activeOrganizationId":"o1"`) || strings.Contains(string(b), "activeTeamId") {
		t.Fatalf("a key set since is written, the others stay out: %s", b)
	}

	full := strings.TrimSuffix(sparse, "}") + `,"activeOrganizationId":null,"activeTeamId":null,"impersonatedBy":null}`
	var row session
	if err := json.Unmarshal([]byte(full), &row); err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(row); string(b) != full {
		t.Fatalf("round trip of a session with null keys:\n got %s\nwant %s", b, full)
	}
}
