package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// The verification table holds every short-lived secret (reset tokens, OAuth state, challenges,
// OTPs) under an identifier, as upstream does (upstream packages/core/src/db/schema/verification.ts).
//
// With REDIS_URL the values also live in Redis as verification:{identifier} (upstream
// internal-adapter.ts, createVerificationValue and friends), and with
// VERIFICATION_STORE_IN_DATABASE=false only there; the functions below are the storage seam and
// their callers never learn which. With Postgres as a store it stays the authority: a value is
// judged and consumed there, and its Redis copy is written at creation and deleted at every
// change, so that a Node server reading Redis first never sees a stale one.

type verification struct {
	ID         string
	Identifier string
	Value      string
	ExpiresAt  time.Time
	CreatedAt  time.Time
}

// storedVerification is a verification value as Redis holds it (upstream's row as JSON).
type storedVerification struct {
	ID         string `json:"id,omitempty"`
	Identifier string `json:"identifier"`
	Value      string `json:"value"`
	ExpiresAt  jsTime `json:"expiresAt"`
	CreatedAt  jsTime `json:"createdAt"`
	UpdatedAt  jsTime `json:"updatedAt"`
}

func verificationKey(identifier string) string { return "verification:" + identifier }

// verificationInRedisOnly reports whether verification values are kept in Redis alone.
func (s *server) verificationInRedisOnly() bool {
	return s.redis != nil && !s.cfg.Redis.verificationInDB()
}

func (s *server) createVerification(ctx context.Context, q querier, identifier, value string, expiresAt time.Time) error {
	now := s.now()
	id := generateID(32)
	if !s.verificationInRedisOnly() {
		if err := insertVerificationRow(ctx, q, id, identifier, value, expiresAt, now); err != nil {
			return err
		}
	}
	if s.redis == nil {
		return nil
	}
	raw, err := json.Marshal(storedVerification{ID: id, Identifier: identifier, Value: value, ExpiresAt: jsTime(expiresAt), CreatedAt: jsTime(now), UpdatedAt: jsTime(now)})
	if err != nil {
		return fmt.Errorf("encode verification: %w", err)
	}
	err = s.redis.set(ctx, verificationKey(identifier), raw, ttlSeconds(expiresAt, now))
	return s.redisOutcome(ctx, err, !s.verificationInRedisOnly(), verificationKey(identifier))
}

// insertVerificationRow writes one verification row to Postgres.
func insertVerificationRow(ctx context.Context, q querier, id, identifier, value string, expiresAt, now time.Time) error {
	_, err := q.Exec(ctx, `INSERT INTO verification (id, identifier, value, "expiresAt", "createdAt", "updatedAt")
		VALUES ($1, $2, $3, $4, $5, $5)`, id, identifier, value, expiresAt, now)
	if err != nil {
		return fmt.Errorf("create verification: %w", err)
	}
	return nil
}

// forgetVerification deletes the Redis copy of identifier's value after Postgres changed it.
func (s *server) forgetVerification(ctx context.Context, identifier string) error {
	if s.redis == nil {
		return nil
	}
	err := s.redis.del(ctx, verificationKey(identifier))
	return s.redisOutcome(ctx, err, !s.verificationInRedisOnly(), verificationKey(identifier))
}

// deleteVerification removes every value for identifier: a code replaced, spent or given up.
func (s *server) deleteVerification(ctx context.Context, q querier, identifier string) error {
	if !s.verificationInRedisOnly() {
		if _, err := q.Exec(ctx, `DELETE FROM verification WHERE identifier = $1`, identifier); err != nil {
			return fmt.Errorf("delete verification: %w", err)
		}
	}
	return s.forgetVerification(ctx, identifier)
}

// decodeVerification reads a Redis value; nil when it does not decode (upstream's safeJSONParse).
func decodeVerification(raw []byte) *verification {
	var sv storedVerification
	if raw == nil || json.Unmarshal(raw, &sv) != nil {
		return nil
	}
	return &verification{ID: sv.ID, Identifier: sv.Identifier, Value: sv.Value, ExpiresAt: sv.ExpiresAt.Time(), CreatedAt: sv.CreatedAt.Time()}
}

// findVerification returns the newest value for identifier, expired or not (upstream's find does
// not check expiry), or nil.
func (s *server) findVerification(ctx context.Context, q querier, identifier string) (*verification, error) {
	if s.verificationInRedisOnly() {
		raw, err := s.redis.get(ctx, verificationKey(identifier))
		if err != nil {
			return nil, err
		}
		return decodeVerification(raw), nil
	}
	var v verification
	err := q.QueryRow(ctx, `SELECT id, identifier, value, "expiresAt", "createdAt" FROM verification
		WHERE identifier = $1 ORDER BY "createdAt" DESC LIMIT 1`, identifier,
	).Scan(&v.ID, &v.Identifier, &v.Value, &v.ExpiresAt, &v.CreatedAt)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find verification: %w", err)
	}
	return &v, nil
}

// consumeVerification deletes every value for identifier in one statement and returns the newest
// if it has not expired. Because the delete is the read (DELETE … RETURNING, or GETDEL in Redis),
// two concurrent consumers cannot both get the value: the second finds it gone. That is what
// makes every token and code single-use.
func (s *server) consumeVerification(ctx context.Context, q querier, identifier string) (*verification, error) {
	var newest *verification
	if s.verificationInRedisOnly() {
		raw, err := s.redis.getDel(ctx, verificationKey(identifier))
		if err != nil {
			return nil, err
		}
		newest = decodeVerification(raw)
	} else {
		var err error
		if newest, err = consumeVerificationRows(ctx, q, identifier); err != nil {
			return nil, err
		}
		if err := s.forgetVerification(ctx, identifier); err != nil {
			return nil, err
		}
	}
	if newest == nil || newest.ExpiresAt.Before(s.now()) {
		return nil, nil
	}
	return newest, nil
}

func consumeVerificationRows(ctx context.Context, q querier, identifier string) (*verification, error) {
	rows, err := q.Query(ctx, `DELETE FROM verification WHERE identifier = $1
		RETURNING id, identifier, value, "expiresAt", "createdAt"`, identifier)
	if err != nil {
		return nil, fmt.Errorf("consume verification: %w", err)
	}
	defer rows.Close()
	var newest *verification
	for rows.Next() {
		var v verification
		if err := rows.Scan(&v.ID, &v.Identifier, &v.Value, &v.ExpiresAt, &v.CreatedAt); err != nil {
			return nil, fmt.Errorf("consume verification: %w", err)
		}
		if newest == nil || v.CreatedAt.After(newest.CreatedAt) {
			newest = &v
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("consume verification: %w", err)
	}
	return newest, nil
}

// verificationChange is what a judge decides about a stored value.
type verificationChange int

const (
	keepVerification    verificationChange = iota
	rewriteVerification                    // store the judge's new value, same expiry
	dropVerification                       // delete every value under the identifier
)

// judgeVerification reads the newest value for identifier and applies judge's decision
// atomically: concurrent judges of one value run one after the other (a row lock in Postgres, an
// optimistic WATCH transaction in Redis), so that parallel guesses at a code are each counted and
// only one right guess can spend it. judge sees nil when there is no value.
func (s *server) judgeVerification(ctx context.Context, tx pgx.Tx, identifier string, judge func(v *verification) (verificationChange, string)) error {
	if s.verificationInRedisOnly() {
		return s.judgeRedisVerification(ctx, identifier, judge)
	}
	var v verification
	err := tx.QueryRow(ctx, `SELECT id, identifier, value, "expiresAt", "createdAt" FROM verification WHERE identifier = $1
		ORDER BY "createdAt" DESC LIMIT 1 FOR UPDATE`, identifier).Scan(&v.ID, &v.Identifier, &v.Value, &v.ExpiresAt, &v.CreatedAt)
	var found *verification
	switch {
	case isNoRows(err):
	case err != nil:
		return fmt.Errorf("find verification: %w", err)
	default:
		found = &v
	}
	change, next := judge(found)
	switch {
	case found == nil || change == keepVerification:
		return nil
	case change == rewriteVerification:
		if _, err := tx.Exec(ctx, `UPDATE verification SET value = $2, "updatedAt" = $3 WHERE id = $1`, v.ID, next, s.now()); err != nil {
			return fmt.Errorf("update verification: %w", err)
		}
		return s.forgetVerification(ctx, identifier)
	}
	return s.deleteVerification(ctx, tx, identifier)
}

func (s *server) judgeRedisVerification(ctx context.Context, identifier string, judge func(v *verification) (verificationChange, string)) error {
	key := s.redis.key(verificationKey(identifier))
	for range 100 {
		err := s.redis.c.Watch(ctx, func(rtx *redis.Tx) error {
			raw, err := rtx.Get(ctx, key).Bytes()
			if err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
			found := decodeVerification(raw)
			change, next := judge(found)
			if found == nil || change == keepVerification {
				return nil
			}
			_, err = rtx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				if change == dropVerification {
					p.Del(ctx, key)
					return nil
				}
				var sv map[string]any
				if json.Unmarshal(raw, &sv) != nil {
					p.Del(ctx, key)
					return nil
				}
				sv["value"], sv["updatedAt"] = next, jsTime(s.now())
				b, _ := json.Marshal(sv)
				p.SetArgs(ctx, key, b, redis.SetArgs{KeepTTL: true})
				return nil
			})
			return err
		}, key)
		if errors.Is(err, redis.TxFailedErr) {
			continue // another judge changed it first: judge again what it left
		}
		if err != nil {
			return s.redis.fail("judge verification", err)
		}
		return nil
	}
	return fmt.Errorf("judge verification: too much contention on one value")
}
