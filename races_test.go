package main

import (
	"maps"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// recordRace adds a race's outcome to the reliability figures: n uses at once, how many
// succeeded, and every status answered.
func recordRace(t testing.TB, thing string, n, successes int, statuses map[int]int) {
	t.Helper()
	recordFigures(t, "race", map[string]any{"thing": thing, "attempts": n, "successes": successes, "statuses": statuses})
}

// tabs returns n clients sharing c's cookies, as tabs of one browser would.
func tabs(t testing.TB, c *testClient, n int) []*testClient {
	out := make([]*testClient, n)
	for i := range out {
		out[i] = c.ts.client(t)
		maps.Copy(out[i].cookies, c.cookies)
	}
	return out
}

// TestSingleUseThingsWorkOnceUnderRace uses each single-use thing that no other test races fifty
// times at once: exactly one use succeeds. (Reset tokens, magic links, email OTPs, backup codes,
// passkey challenges, OAuth and SSO states, delete tokens and trusted devices have their own race
// tests beside their features.)
func TestSingleUseThingsWorkOnceUnderRace(t *testing.T) {
	t.Parallel()
	const n = 50
	tests := []struct {
		thing string
		// setup prepares one thing and returns its use by request i, and the check after the race.
		setup func(t *testing.T) (use func(i int) *testResponse, after func(t *testing.T))
		// succeeded tells a successful use from a refused one; nil: the status is 200.
		succeeded func(*testResponse) bool
	}{
		{"verification link (auto sign-in)", func(t *testing.T) (func(int) *testResponse, func(*testing.T)) {
			ts := newTestServer(t, func(c *config) { c.Email.SendOnSignUp, c.Email.AutoSignInAfterVerification = true, true })
			ts.client(t).signUp("verify@example.com", "password123", "V")
			link := ts.waitMail(t, "verify-email", "verify@example.com").URL
			sessions := ts.rowCount(t, "session")
			return func(int) *testResponse { return ts.client(t).follow(link) }, func(t *testing.T) {
				if got := ts.rowCount(t, "session") - sessions; got != 1 {
					t.Errorf("%d sessions made, want 1", got)
				}
			}
		}, func(r *testResponse) bool { return r.setCookie("better-auth.session_token") != "" }},
		{"change-email link", func(t *testing.T) (func(int) *testResponse, func(*testing.T)) {
			ts := newTestServer(t, emailDefaults, func(c *config) { c.Email.ChangeEmailConfirmation = false })
			c := ts.client(t)
			c.signUp("first@example.com", "password123", "F")
			c.post("/api/auth/change-email", map[string]any{"newEmail": "second@example.com"}).wantStatus(t, http.StatusOK)
			link := ts.waitMail(t, "verify-email", "second@example.com").URL
			return func(int) *testResponse { return ts.client(t).follow(link) }, func(t *testing.T) {
				if n := ts.rowCount(t, "user"); n != 1 {
					t.Errorf("%d users", n)
				}
			}
		}, func(r *testResponse) bool {
			return r.Status == http.StatusFound && !strings.Contains(r.Header.Get("Location"), "error=")
		}},
		{"TOTP code (one step, five challenges)", func(t *testing.T) (func(int) *testResponse, func(*testing.T)) {
			ts, u := newEnrolledServer(t, "step@example.com")
			challenges := make([]*testClient, 5)
			for i := range challenges {
				challenges[i] = ts.client(t)
				challenges[i].signInChallenged(u, nil)
			}
			code := u.code(ts, 0)
			return func(i int) *testResponse {
				return challenges[i%len(challenges)].post("/api/auth/two-factor/verify-totp", map[string]any{"code": code})
			}, nil
		}, nil},
		{"two-factor email OTP", func(t *testing.T) (func(int) *testResponse, func(*testing.T)) {
			ts, u := newEnrolledServer(t, "otp@example.com")
			c := ts.client(t)
			c.signInChallenged(u, nil)
			c.post("/api/auth/two-factor/send-otp", nil).wantStatus(t, http.StatusOK)
			code := ts.waitMail(t, "two-factor-otp", u.email).OTP
			browsers := tabs(t, c, n)
			return func(i int) *testResponse {
				return browsers[i].post("/api/auth/two-factor/verify-otp", map[string]any{"code": code})
			}, nil
		}, nil},
		{"organization invitation", func(t *testing.T) (func(int) *testResponse, func(*testing.T)) {
			ts := newTestServer(t)
			owner := newOrgUser(t, ts, "owner")
			joiner := newOrgUser(t, ts, "joiner")
			org := owner.createOrg(t, "racing")
			inv := owner.invite(t, org, joiner.email, "member")
			browsers := tabs(t, joiner.c, n)
			return func(i int) *testResponse {
					return browsers[i].post("/api/auth/organization/accept-invitation", map[string]any{"invitationId": inv})
				}, func(t *testing.T) {
					if got := ts.orgCount(t, "member", org); got != 2 {
						t.Errorf("%d members, want owner and joiner", got)
					}
				}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.thing, func(t *testing.T) {
			t.Parallel()
			use, after := tt.setup(t)
			var successes atomic.Int32
			statuses := parallel(n, func(i int) int {
				resp := use(i)
				if tt.succeeded == nil && resp.Status == http.StatusOK || tt.succeeded != nil && tt.succeeded(resp) {
					successes.Add(1)
				}
				return resp.Status
			})
			recordRace(t, tt.thing, n, int(successes.Load()), statuses)
			if got := successes.Load(); got != 1 {
				t.Errorf("statuses %v: %d successes, want exactly 1", statuses, got)
			}
			if after != nil {
				after(t)
			}
		})
	}
}
