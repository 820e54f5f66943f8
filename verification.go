package main

import (
	"context"
	"fmt"
	"time"
)

// The verification table holds every short-lived secret (reset tokens, OAuth state, challenges,
// OTPs) under an identifier, as upstream does (upstream packages/core/src/db/schema/verification.ts).

type verification struct {
	ID         string
	Identifier string
	Value      string
	ExpiresAt  time.Time
	CreatedAt  time.Time
}

func (s *server) createVerification(ctx context.Context, q querier, identifier, value string, expiresAt time.Time) error {
	now := s.now()
	_, err := q.Exec(ctx, `INSERT INTO verification (id, identifier, value, "expiresAt", "createdAt", "updatedAt")
		VALUES ($1, $2, $3, $4, $5, $5)`, generateID(32), identifier, value, expiresAt, now)
	if err != nil {
		return fmt.Errorf("create verification: %w", err)
	}
	return nil
}

// deleteVerification removes every row for identifier: a code replaced, spent or given up.
func deleteVerification(ctx context.Context, q querier, identifier string) error {
	if _, err := q.Exec(ctx, `DELETE FROM verification WHERE identifier = $1`, identifier); err != nil {
		return fmt.Errorf("delete verification: %w", err)
	}
	return nil
}

// findVerification returns the newest row for identifier, expired or not (upstream's find does
// not check expiry), or nil.
func (s *server) findVerification(ctx context.Context, q querier, identifier string) (*verification, error) {
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

// consumeVerification deletes every row for identifier in one statement and returns the newest if
// it has not expired. Because the DELETE is the read, two concurrent consumers cannot both get the
// row: the second finds it gone. That is what makes every token and code single-use.
func (s *server) consumeVerification(ctx context.Context, q querier, identifier string) (*verification, error) {
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
	if newest == nil || newest.ExpiresAt.Before(s.now()) {
		return nil, nil
	}
	return newest, nil
}
