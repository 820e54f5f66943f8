package main

import (
	"context"
	"testing"
)

// TestSweepDeletesExpiredRowsInBatches ensures the sweep removes every expired session (more than
// one batch of them) and verification row and every rate-limit counter idle for over an hour,
// and nothing still live, so that no table grows with traffic.
func TestSweepDeletesExpiredRowsInBatches(t *testing.T) {
	t.Parallel()
	ts, c := newSignedInServer(t, "sweep@example.com", "Sweep")
	live := c.cookieToken()
	ts.exec(t, `INSERT INTO session (id, "expiresAt", token, "updatedAt", "userId")
		SELECT 'expired' || i, now() - interval '1 minute', 'expired-token' || i, now(), "userId"
		FROM generate_series(1, 12000) i, (SELECT "userId" FROM session LIMIT 1) u`)
	ts.exec(t, `INSERT INTO verification (id, identifier, value, "expiresAt") VALUES
		('v-expired', 'x', 'v', now() - interval '1 minute'), ('v-live', 'y', 'v', now() + interval '1 hour')`)
	ts.exec(t, `INSERT INTO "rateLimit" (id, key, count, "lastRequest") VALUES
		('r-old', 'old', 1, (extract(epoch FROM now() - interval '2 hours') * 1000)::bigint),
		('r-recent', 'recent', 1, (extract(epoch FROM now() - interval '10 minutes') * 1000)::bigint)`)

	ts.sweep(context.Background())

	for _, tc := range []struct {
		table string
		want  int
	}{{"session", 1}, {"verification", 1}, {"rateLimit", 1}} {
		if got := ts.rowCount(t, tc.table); got != tc.want {
			t.Errorf("%s: %d rows after the sweep, want %d", tc.table, got, tc.want)
		}
	}
	if ts.sessionRow(t, live).Token != live || !c.signedIn() {
		t.Fatal("the live session did not survive the sweep")
	}
}
