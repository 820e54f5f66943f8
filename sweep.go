package main

import (
	"context"
	"log/slog"
	"time"
)

// sweepInterval spaces the clean-ups; each replica runs its own, and racing deletes are harmless.
const sweepInterval = 10 * time.Minute

// sweepLoop keeps tables that grow with traffic bounded: expired sessions and verification rows,
// and rate-limit counters whose window closed long ago.
func (s *server) sweepLoop(ctx context.Context) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		s.sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sweepStatements delete in batches so that no sweep holds locks on a large table for long.
var sweepStatements = []string{
	`DELETE FROM session WHERE id IN (SELECT id FROM session WHERE "expiresAt" < $1 LIMIT 5000)`,
	`DELETE FROM verification WHERE id IN (SELECT id FROM verification WHERE "expiresAt" < $1 LIMIT 5000)`,
	`DELETE FROM "rateLimit" WHERE id IN (SELECT id FROM "rateLimit" WHERE "lastRequest" < (extract(epoch FROM $1::timestamptz) * 1000)::bigint - 3600000 LIMIT 5000)`,
	`DELETE FROM "usedIdToken" WHERE id IN (SELECT id FROM "usedIdToken" WHERE "expiresAt" < $1 LIMIT 5000)`,
	// A week outlasts any cookie cache a revocation must outlive (revocation.go).
	`DELETE FROM "sessionRevocation" WHERE id IN (SELECT id FROM "sessionRevocation" WHERE "revokedAt" < $1::timestamptz - interval '7 days' LIMIT 5000)`,
	// Folds the user count's deltas (schema.sql) into one row. It deletes only rows it sees and
	// adds back their sum, so a sign-up or another replica's fold meanwhile keeps the sum exact.
	`WITH folded AS (DELETE FROM "userCount" WHERE $1::timestamptz IS NOT NULL AND (SELECT count(*) FROM "userCount") > 1 RETURNING delta)
		INSERT INTO "userCount" SELECT sum(delta) FROM folded HAVING count(*) > 0`,
}

func (s *server) sweep(ctx context.Context) {
	now := s.now()
	for _, stmt := range sweepStatements {
		for {
			tag, err := s.db.Exec(ctx, stmt, now)
			if err != nil {
				if ctx.Err() == nil {
					slog.Warn("sweep", "err", err)
				}
				break
			}
			if tag.RowsAffected() < 5000 {
				break
			}
		}
	}
}
