package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Instant revocation (ours; upstream serves a revoked session from the session_data cookie cache
// until the cache's maxAge, see COMPATIBILITY.md). Deleting a session row that had not expired (sign-out,
// revoke-session(s), password change or reset with revocation, delete-user's cascade) runs the
// "session_revoked" trigger of schema.sql, which records the id in "sessionRevocation" and
// announces it with NOTIFY. Every replica listens and keeps the ids revoked within the cache's
// lifetime in memory; a cache hit for one of them, or any cache hit while the feed is down, falls
// back to Postgres, so a revoked session is refused on every replica as soon as the NOTIFY lands.

// revocationChannel is the NOTIFY channel the schema's trigger announces revoked session ids on.
const revocationChannel = "authsidecar_session_revoked"

// revocationSource delivers revoked session ids from every replica. Postgres LISTEN/NOTIFY is
// the one we have; a Redis pub/sub source would implement the same method, its resync reading
// the same "sessionRevocation" rows.
type revocationSource interface {
	// listen subscribes, then calls synced with every id revoked within window (read after
	// subscribing, so that nothing revoked in between is missed), then revoked for each id
	// announced, until the subscription fails or ctx ends.
	listen(ctx context.Context, window time.Duration, synced func(ids []string), revoked func(id string)) error
}

// revocationSet is the replica's view of recently revoked sessions.
type revocationSet struct {
	// unwatched: no feed runs (the cookie cache off, or a test of upstream's behaviour), so a
	// cache hit is trusted until its maxAge, as upstream trusts it.
	unwatched bool
	watched   atomic.Bool // a feed was started
	live      atomic.Bool // the feed is subscribed and synced
	window    time.Duration
	mu        sync.RWMutex
	ids       map[string]time.Time // session id -> when this replica learnt of it
	pruned    time.Time
}

// refuses reports whether a cache hit for session id must not be trusted: the session was
// revoked, or the feed that would say so is down. This runs on every cache hit: a read lock and
// one map lookup.
func (rs *revocationSet) refuses(id string) bool {
	if !rs.watched.Load() {
		return false
	}
	if !rs.live.Load() {
		return true
	}
	rs.mu.RLock()
	_, revoked := rs.ids[id]
	rs.mu.RUnlock()
	return revoked
}

// reset replaces the set with ids, after a (re)subscription.
func (rs *revocationSet) reset(ids []string) {
	now := time.Now()
	m := make(map[string]time.Time, len(ids))
	for _, id := range ids {
		m[id] = now
	}
	rs.mu.Lock()
	rs.ids, rs.pruned = m, now
	rs.mu.Unlock()
	rs.live.Store(true)
}

// add records one revoked id announced by the feed.
func (rs *revocationSet) add(id string) { rs.record(id) }

// record adds revoked ids, dropping ids learnt longer than window ago (their cache cookies have
// expired) at most once per window, which bounds the set by the revocations of one window. The
// replica that revokes a session records it here itself, before its NOTIFY comes back, so that
// it refuses the session's cache from the moment it answers the revoking request. Without a feed
// (the cookie cache off, or unwatched) nothing reads the set, so nothing is kept.
func (rs *revocationSet) record(ids ...string) {
	if !rs.watched.Load() {
		return
	}
	now := time.Now()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.ids == nil { // revoked before the feed's first sync, which reloads it from Postgres too
		rs.ids = map[string]time.Time{}
	}
	if now.Sub(rs.pruned) > rs.window {
		for k, at := range rs.ids {
			if now.Sub(at) > rs.window {
				delete(rs.ids, k)
			}
		}
		rs.pruned = now
	}
	for _, id := range ids {
		if id != "" {
			rs.ids[id] = now
		}
	}
}

// watchRevocations starts the revocation feed when the cookie cache is on. It waits (briefly)
// for the first subscription so that a replica starts with cache hits allowed; until the feed is
// live, and whenever it drops, cache hits are checked against Postgres. done closes when the
// feed has stopped after ctx ends.
func (s *server) watchRevocations(ctx context.Context) (done <-chan struct{}) {
	stopped := make(chan struct{})
	if s.cfg.CookieCacheMaxAge <= 0 || s.revocations.unwatched {
		close(stopped)
		return stopped
	}
	// A revoked session's cache cookie lives up to maxAge after its last write; a minute more
	// covers clocks that disagree between replicas and Postgres.
	s.revocations.window = time.Duration(s.cfg.CookieCacheMaxAge)*time.Second + time.Minute
	s.revocations.watched.Store(true)
	var src revocationSource = pgRevocations{db: s.db}
	first := make(chan struct{})
	var once sync.Once
	synced := func(ids []string) { s.revocations.reset(ids); once.Do(func() { close(first) }) }
	go func() {
		defer close(stopped)
		for {
			err := src.listen(ctx, s.revocations.window, synced, s.revocations.add)
			s.revocations.live.Store(false)
			if ctx.Err() != nil {
				return
			}
			slog.Warn("revocation feed lost; cookie cache hits are checked against Postgres until it is back", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
	select {
	case <-first:
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
	}
	return stopped
}

// pgRevocations is the Postgres LISTEN/NOTIFY revocation source. It holds one connection of its
// own, taken out of the pool for as long as it listens.
type pgRevocations struct{ db *pgxpool.Pool }

func (p pgRevocations) listen(ctx context.Context, window time.Duration, synced func([]string), revoked func(string)) error {
	pooled, err := p.db.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire listener: %w", err)
	}
	conn := pooled.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+revocationChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT id FROM "sessionRevocation" WHERE "revokedAt" > now() - make_interval(secs => $1)`, window.Seconds())
	if err != nil {
		return fmt.Errorf("load revocations: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("load revocations: %w", err)
	}
	synced(ids)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for revocation: %w", err)
		}
		revoked(n.Payload)
	}
}
