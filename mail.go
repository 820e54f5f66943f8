package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Mail goes through an outbox: the handler inserts the message in the same transaction as the
// token it carries, and a background worker delivers it. No response waits on delivery, so the
// time a request takes does not tell whether an email exists, and a crash loses no mail.

// mail is one message. Type names its kind, as the reference server's mail log does:
// verify-email, reset-password, change-email, delete-account, magic-link, email-otp,
// two-factor-otp, organization-invitation.
type mail struct {
	Type  string `json:"type"`
	Email string `json:"email"`
	URL   string `json:"url,omitempty"`
	Token string `json:"token,omitempty"`
	OTP   string `json:"otp,omitempty"`
	ID    string `json:"id,omitempty"`
}

// mailer delivers one message or fails; the worker retries failures.
type mailer interface {
	send(ctx context.Context, m mail) error
}

// enqueueMail stores m for delivery; pass the transaction that writes m's token.
func (s *server) enqueueMail(ctx context.Context, q querier, m mail) error {
	payload, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode mail: %w", err)
	}
	if _, err := q.Exec(ctx, `INSERT INTO "mailOutbox" (id, payload, "createdAt", "nextAttemptAt", attempts)
		VALUES ($1, $2, $3, $3, 0)`, generateID(32), payload, s.now()); err != nil {
		return fmt.Errorf("enqueue mail: %w", err)
	}
	return nil
}

// deliverMail sends what is due. Rows are claimed with FOR UPDATE SKIP LOCKED, so replicas share
// the outbox without sending a message twice; a row leaves the outbox only once it is sent.
func (s *server) deliverMail(ctx context.Context) (int, error) {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("deliver mail: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	rows, err := tx.Query(ctx, `SELECT id, payload FROM "mailOutbox" WHERE "nextAttemptAt" <= $1
		ORDER BY "createdAt" LIMIT 20 FOR UPDATE SKIP LOCKED`, s.now())
	if err != nil {
		return 0, fmt.Errorf("claim mail: %w", err)
	}
	type row struct {
		id      string
		payload []byte
	}
	var due []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.payload); err != nil {
			rows.Close()
			return 0, fmt.Errorf("claim mail: %w", err)
		}
		due = append(due, r)
	}
	rows.Close()
	sent := 0
	for _, r := range due {
		var m mail
		if err := json.Unmarshal(r.payload, &m); err != nil {
			slog.Error("drop undecodable mail", "id", r.id, "err", err)
			if _, err := tx.Exec(ctx, `DELETE FROM "mailOutbox" WHERE id = $1`, r.id); err != nil {
				return sent, fmt.Errorf("drop mail: %w", err)
			}
			continue
		}
		if err := s.mailer.send(ctx, m); err != nil {
			slog.Warn("mail delivery failed; will retry", "type", m.Type, "err", err)
			if _, err := tx.Exec(ctx, `UPDATE "mailOutbox" SET attempts = attempts + 1,
				"nextAttemptAt" = $2 + make_interval(secs => least(3600, 5 * power(2, attempts))) WHERE id = $1`, r.id, s.now()); err != nil {
				return sent, fmt.Errorf("reschedule mail: %w", err)
			}
			continue
		}
		if _, err := tx.Exec(ctx, `DELETE FROM "mailOutbox" WHERE id = $1`, r.id); err != nil {
			return sent, fmt.Errorf("remove sent mail: %w", err)
		}
		sent++
	}
	if err := tx.Commit(ctx); err != nil {
		return sent, fmt.Errorf("deliver mail: %w", err)
	}
	return sent, nil
}

// mailLoop delivers the outbox until ctx ends, waking every poll interval.
func (s *server) mailLoop(ctx context.Context, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := s.deliverMail(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("mail outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// devMailer is the development sink used when no SMTP server is configured: it logs each mail and,
// with MAIL_LOG set, appends it as one JSON line in the reference server's shape, so that tests and
// local tooling can follow the links and codes.
type devMailer struct {
	path string
	mu   sync.Mutex
}

func (d *devMailer) send(_ context.Context, m mail) error {
	slog.Info("mail (development sink)", "type", m.Type, "to", m.Email)
	if d.path == "" {
		return nil
	}
	line, err := json.Marshal(struct {
		At string `json:"at"`
		mail
	}{time.Now().UTC().Format(jsTimeLayout), m})
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := os.OpenFile(d.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("open MAIL_LOG: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write MAIL_LOG: %w", err)
	}
	return nil
}
