package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed schema.sql
var schemaSQL string

// querier is what both the pool and a transaction offer, so helpers work inside or outside one.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// openDB connects lazily: the pool dials on first use, so the server starts (and answers 503)
// while Postgres is down, and recovers by itself when it comes back.
func openDB(ctx context.Context, databaseURL string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	// Postgres names a database after the role when none is given; say so, for the log and createdb.
	if cfg.ConnConfig.Database == "" {
		cfg.ConnConfig.Database = cfg.ConnConfig.User
	}
	// Without a bound, a dial to an unreachable Postgres waits for the kernel's TCP timeout
	// (minutes), and so does every request; with one they answer 503 promptly.
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return pool, nil
}

// migrate applies schema.sql. The advisory lock keeps two replicas starting together from racing
// on the same CREATE statements.
func migrate(ctx context.Context, db *pgxpool.Pool) error {
	return inTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7242115)`); err != nil {
			return fmt.Errorf("lock schema: %w", err)
		}
		if _, err := tx.Exec(ctx, schemaSQL); err != nil {
			return fmt.Errorf("apply schema: %w", err)
		}
		return nil
	})
}

// inTx runs fn in a transaction, committing only when fn returns nil.
func inTx(ctx context.Context, db *pgxpool.Pool, fn func(tx pgx.Tx) error) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// A no-op after Commit. Not under ctx: pgx closes a connection whose rollback fails, so a
	// client that went away between two statements would cost the pool a connection (a new
	// Postgres backend for the next request) where a ROLLBACK keeps it.
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// scanOptional scans row into a new T through targets, or answers nil without an error when there
// is no row; what names the row in the error.
func scanOptional[T any](row pgx.Row, what string, targets func(*T) []any) (*T, error) {
	var v T
	if err := row.Scan(targets(&v)...); err != nil {
		if isNoRows(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("find %s: %w", what, err)
	}
	return &v, nil
}

// answerInTx runs do in a transaction and, once it has committed, answers 200 with what do
// returned: the usual last step of a handler whose work is one transaction.
func answerInTx[T any](w http.ResponseWriter, ctx context.Context, db *pgxpool.Pool, do func(tx pgx.Tx) (T, error)) error {
	var out T
	err := inTx(ctx, db, func(tx pgx.Tx) error {
		var err error
		out, err = do(tx)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// isUniqueViolation reports a unique-constraint failure, optionally on one named constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && (constraint == "" || pe.ConstraintName == constraint)
}

// isNotNullViolation reports a null written to a NOT NULL column: a required additional field
// without a default that a row was created without (fields.go addColumnSQL).
func isNotNullViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23502"
}

// isUnavailable reports errors that mean Postgres cannot be reached or is shutting down, which the
// client sees as 503 rather than 500.
func isUnavailable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &pe):
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")
	}
	return strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "failed to connect")
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
