package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestRedisVerificationValuesAreUpstreams proves that with verification values only in Redis a
// password-reset token is upstream's verification:reset-password:{token}, its row as JSON with a
// TTL to expiresAt, that Postgres holds none, and that using it deletes it.
func TestRedisVerificationValuesAreUpstreams(t *testing.T) {
	t.Parallel()
	ts, smtpd := newMailServer(t, withRedis(t, false, false))
	rc := testRedisClient(t)
	user := ts.client(t).signUp("reset@example.com", "password123", "Reset")
	token := resetTokenFromMail(t, ts, smtpd, "reset@example.com")
	key := ts.cfg.Redis.KeyPrefix + "verification:reset-password:" + token
	raw, err := rc.Get(context.Background(), key).Result()
	if err != nil {
		t.Fatalf("no %s: %v", key, err)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatal(err)
	}
	if v["identifier"] != "reset-password:"+token || v["value"] != user["id"] {
		t.Fatalf("stored %s", raw)
	}
	if _, err := time.Parse(time.RFC3339, v["expiresAt"].(string)); err != nil {
		t.Fatalf("expiresAt %v", v["expiresAt"])
	}
	if ttl := rc.TTL(context.Background(), key).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Fatalf("TTL %v, want the hour a reset token lives", ttl)
	}
	if n := ts.rowCount(t, "verification"); n != 0 {
		t.Fatalf("%d verification rows", n)
	}
	ts.client(t).post("/api/auth/reset-password", map[string]any{"newPassword": "brand-new-pass", "token": token}).wantStatus(t, http.StatusOK)
	if n := rc.Exists(context.Background(), key).Val(); n != 0 {
		t.Fatal("reset token still in Redis after use")
	}
}

// TestRedisSingleUseThingsWorkOnceUnderRace uses a reset token and an email OTP fifty times at
// once with verification values in Redis (alone, and beside Postgres): exactly one use succeeds.
func TestRedisSingleUseThingsWorkOnceUnderRace(t *testing.T) {
	t.Parallel()
	for _, a := range []struct {
		name string
		inDB bool
	}{{"redis-only", false}, {"redis+postgres", true}} {
		t.Run("reset token/"+a.name, func(t *testing.T) {
			t.Parallel()
			ts, smtpd := newMailServer(t, withRedis(t, a.inDB, a.inDB))
			ts.client(t).signUp("race@example.com", "password123", "R")
			token := resetTokenFromMail(t, ts, smtpd, "race@example.com")
			statuses := parallel(50, func(i int) int {
				return ts.client(t).post("/api/auth/reset-password", map[string]any{"newPassword": "parallel-pass-" + string(rune('a'+i%26)), "token": token}).Status
			})
			recordRace(t, "password reset token in Redis ("+a.name+")", 50, statuses[http.StatusOK], statuses)
			if statuses[http.StatusOK] != 1 || statuses[http.StatusBadRequest] != 49 {
				t.Fatalf("statuses = %v, want one 200 and 49 400", statuses)
			}
		})
		t.Run("email OTP/"+a.name, func(t *testing.T) {
			t.Parallel()
			ts, smtpd := newMailServer(t, withRedis(t, a.inDB, a.inDB))
			code := sendOTP(t, ts, smtpd, "sign-in", "race@example.com")
			statuses := parallel(50, func(int) int {
				return ts.client(t).post("/api/auth/sign-in/email-otp", map[string]any{"email": "race@example.com", "otp": code}).Status
			})
			recordRace(t, "email OTP sign-in in Redis ("+a.name+")", 50, statuses[http.StatusOK], statuses)
			if statuses[http.StatusOK] != 1 || statuses[http.StatusBadRequest] != 49 {
				t.Fatalf("statuses = %v, want one 200 and 49 400", statuses)
			}
		})
		t.Run("wrong OTPs counted/"+a.name, func(t *testing.T) {
			t.Parallel()
			ts, smtpd := newMailServer(t, withRedis(t, a.inDB, a.inDB))
			code := sendOTP(t, ts, smtpd, "sign-in", "burst@example.com")
			statuses := parallel(50, func(int) int {
				return ts.client(t).post("/api/auth/sign-in/email-otp", map[string]any{"email": "burst@example.com", "otp": wrongCode(code)}).Status
			})
			if statuses[http.StatusForbidden] == 0 || statuses[http.StatusOK] != 0 {
				t.Fatalf("statuses = %v: want the lockout reached and no sign-in", statuses)
			}
			ts.client(t).post("/api/auth/sign-in/email-otp", map[string]any{"email": "burst@example.com", "otp": code}).wantError(t, http.StatusBadRequest, "INVALID_OTP")
		})
	}
}
