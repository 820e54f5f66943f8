package main

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestTransactionOfAGoneClientKeepsItsConnection: when a request's context ends between two
// statements of its transaction (the client went away), the transaction is rolled back and its
// connection goes back to the pool, rather than being closed for a failed rollback.
func TestTransactionOfAGoneClientKeepsItsConnection(t *testing.T) {
	db, _ := newTestDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	err := inTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1`); err != nil {
			return err
		}
		cancel()
		return ctx.Err()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("inTx: %v, want context.Canceled", err)
	}
	st := db.Stat()
	if st.TotalConns() != 1 || st.IdleConns() != 1 {
		t.Fatalf("after the gone client's transaction: %d connections, %d idle; want its one connection back, idle", st.TotalConns(), st.IdleConns())
	}
}
