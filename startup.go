package main

// Reaching Postgres at start-up: the log names the database reached and the schema applied; a
// database missing in development is created when the role may; every failure says what to do.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// waitForDatabase prepares the database, retrying every interval until it works or ctx ends:
// Postgres may come up after us (compose, restarts), and a database may be created meanwhile.
func waitForDatabase(ctx context.Context, cfg config, db *pgxpool.Pool, interval time.Duration) error {
	for {
		err := prepareDatabase(ctx, cfg, db)
		if err == nil {
			return nil
		}
		var p *startupProblem
		if errors.As(err, &p) {
			slog.Warn("database not ready; retrying in "+interval.String(), append(target(db), "why", p.why, "fix", p.fix)...)
		} else {
			slog.Warn("database not ready; retrying in "+interval.String(), append(target(db), "err", err)...)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// prepareDatabase connects (creating a missing database in development), applies the schema and
// logs both steps.
func prepareDatabase(ctx context.Context, cfg config, db *pgxpool.Pool) error {
	err := db.Ping(ctx)
	if isMissingDatabase(err) && !cfg.Production {
		if err := createDatabase(ctx, db.Config().ConnConfig); err != nil {
			return err
		}
		err = db.Ping(ctx)
	}
	if err != nil {
		return explainConnectError(err, db.Config().ConnConfig, cfg.Production)
	}
	slog.Info("connected to Postgres", target(db)...)
	if err := migrate(ctx, db); err != nil {
		return err
	}
	if err := applyFieldColumns(ctx, db, cfg); err != nil {
		return err
	}
	var tables int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()`).Scan(&tables); err != nil {
		return fmt.Errorf("count tables: %w", err)
	}
	slog.Info(fmt.Sprintf("schema applied (%d tables)", tables))
	return nil
}

// target names the database a pool reaches, for the log; the password never appears.
func target(db *pgxpool.Pool) []any {
	c := db.Config().ConnConfig
	return []any{"host", c.Host, "port", c.Port, "database", c.Database, "user", c.User}
}

// startupProblem is a failure to reach the database with what the operator can do about it.
type startupProblem struct {
	why, fix string
	err      error
}

func (p *startupProblem) Error() string { return p.why + "; " + p.fix }
func (p *startupProblem) Unwrap() error { return p.err }

// Postgres error codes start-up tells apart.
const (
	pgInvalidCatalogName   = "3D000" // the database does not exist
	pgInvalidAuthorization = "28000" // the role does not exist (or pg_hba refuses it)
	pgInvalidPassword      = "28P01"
	pgInsufficientPrivs    = "42501"
	pgDuplicateDatabase    = "42P04"
)

// pgFailure is the SQLSTATE of a Postgres error, "" for any other error.
func pgFailure(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// pgMessage is the server's own words, without pgx's connection preamble.
func pgMessage(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Message
	}
	return err.Error()
}

// lastPart is the cause at the end of a wrapped dial error ("connect: connection refused").
func lastPart(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		if j := strings.LastIndex(msg[:i], ": "); j >= 0 {
			return msg[j+2:]
		}
	}
	return msg
}

func isMissingDatabase(err error) bool { return pgFailure(err) == pgInvalidCatalogName }

// createdbHint is the command that creates the database c names, run as a role that may.
func createdbHint(c *pgx.ConnConfig, role string) string {
	return fmt.Sprintf("createdb -h %s -p %d -U %s %s", c.Host, c.Port, role, c.Database)
}

// exampleURL is a DATABASE_URL like c's for another user and database, without the password.
func exampleURL(c *pgx.ConnConfig, user, database string) string {
	host := c.Host
	if strings.HasPrefix(host, "/") { // a Unix socket directory
		return fmt.Sprintf("postgres://%s@/%s?host=%s&port=%d", user, database, host, c.Port)
	}
	return fmt.Sprintf("postgres://%s@%s/%s", user, net.JoinHostPort(host, strconv.Itoa(int(c.Port))), database)
}

// explainConnectError turns a failed first connection into why and what to do.
func explainConnectError(err error, c *pgx.ConnConfig, production bool) error {
	p := &startupProblem{err: err}
	switch pgFailure(err) {
	case pgInvalidCatalogName:
		p.why = fmt.Sprintf("database %q does not exist", c.Database)
		p.fix = fmt.Sprintf("create it (%s) or set DATABASE_URL=%s", createdbHint(c, c.User), exampleURL(c, c.User, "<an existing database>"))
		if production {
			p.fix += "; production never creates it"
		}
	case pgInvalidAuthorization:
		p.why = fmt.Sprintf("Postgres refused role %q (%s)", c.User, pgMessage(err))
		p.fix = "set DATABASE_URL=" + exampleURL(c, "<role>", c.Database) + " with a role that exists, e.g. postgres"
	case pgInvalidPassword:
		p.why = fmt.Sprintf("password authentication failed for role %q", c.User)
		p.fix = "check the password in DATABASE_URL (or PGPASSWORD)"
	default:
		if !isUnavailable(err) {
			return fmt.Errorf("connect to Postgres: %w", err)
		}
		p.why = fmt.Sprintf("no Postgres answers at %s port %d (%s)", c.Host, c.Port, lastPart(err))
		p.fix = "start Postgres, or set DATABASE_URL=" + exampleURL(c, c.User, c.Database) + " to where it runs"
	}
	return p
}

// createDatabase creates the missing database c names through the maintenance database, as the
// same role; a role without CREATEDB gets the command that would do it instead.
func createDatabase(ctx context.Context, c *pgx.ConnConfig) error {
	admin := c.Copy()
	admin.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return explainConnectError(err, c, false)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{c.Database}.Sanitize())
	switch failure := pgFailure(err); {
	case err == nil:
		slog.Info("created database (development)", "database", c.Database, "user", c.User)
		return nil
	case failure == pgDuplicateDatabase: // another replica was first
		return nil
	case failure == pgInsufficientPrivs:
		return &startupProblem{err: err,
			why: fmt.Sprintf("database %q does not exist and role %q may not create it", c.Database, c.User),
			fix: fmt.Sprintf("run %s, or set DATABASE_URL=%s", createdbHint(c, "postgres"), exampleURL(c, c.User, "<an existing database>"))}
	default:
		return fmt.Errorf("create database %q: %w", c.Database, err)
	}
}
