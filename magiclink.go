package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Magic link (upstream packages/better-auth/src/plugins/magic-link/index.ts): a single-use
// 32-letter token mailed as a link; opening it signs in, creating the user when
// PASSWORDLESS_SIGN_UP allows. The verification identifier is "magic-link:<token>", as npm
// better-auth 1.7.25 stores it.

const magicLinkExpiresIn = 5 * time.Minute

func magicLinkIdentifier(token string) string { return "magic-link:" + token }

// magicLinkRecord is the verification value: {"type":"magic-link","email":…,"name":…}.
type magicLinkRecord struct {
	Type  string  `json:"type"`
	Email string  `json:"email"`
	Name  *string `json:"name,omitempty"`
}

func (s *server) handleSignInMagicLink(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Email              string         `json:"email" required:"true"`
		Name               *string        `json:"name"`
		CallbackURL        string         `json:"callbackURL"`
		NewUserCallbackURL string         `json:"newUserCallbackURL"`
		ErrorCallbackURL   string         `json:"errorCallbackURL"`
		Metadata           map[string]any `json:"metadata"`
	}
	if err := s.decodeWithEmail(r, &body, jsonOnly, &body.Email); err != nil {
		return err
	}
	token := randomString(32, letters)
	value, err := json.Marshal(magicLinkRecord{Type: "magic-link", Email: body.Email, Name: body.Name})
	if err != nil {
		return fmt.Errorf("encode magic link: %w", err)
	}
	// Parameters in upstream's order, encoded as URLSearchParams does.
	link := s.baseURL(r) + "/magic-link/verify?token=" + token + "&callbackURL=" + url.QueryEscape(cmp.Or(body.CallbackURL, "/"))
	if body.NewUserCallbackURL != "" {
		link += "&newUserCallbackURL=" + url.QueryEscape(body.NewUserCallbackURL)
	}
	if body.ErrorCallbackURL != "" {
		link += "&errorCallbackURL=" + url.QueryEscape(body.ErrorCallbackURL)
	}
	m := mail{Type: "magic-link", Email: body.Email, URL: link, Token: token}
	if err := s.enqueueTokenMail(r.Context(), magicLinkIdentifier(token), string(value), s.cfg.Email.magicLinkTTL(), m); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusTrue)
	return nil
}

// parseMagicLinkRecord accepts exactly upstream's strict record schema, else returns nil.
func parseMagicLinkRecord(value string) *magicLinkRecord {
	dec := json.NewDecoder(strings.NewReader(value))
	dec.DisallowUnknownFields()
	var rec magicLinkRecord
	if err := dec.Decode(&rec); err != nil || rec.Type != "magic-link" || !validEmail(rec.Email) {
		return nil
	}
	return &rec
}

// magicLinkOutcome is what verifying a link led to: a session, or an error code for the redirect.
type magicLinkOutcome struct {
	as          authSession
	newUser     bool
	errCode     string
	description string
}

func (s *server) handleMagicLinkVerify(w http.ResponseWriter, r *http.Request) error {
	token, err := queryString(r, "token", true)
	if err != nil {
		return err
	}
	query := map[string]string{}
	for _, name := range []string{"callbackURL", "errorCallbackURL", "newUserCallbackURL"} {
		if query[name], err = queryString(r, name, false); err != nil {
			return err
		}
	}
	for _, u := range query {
		if err := s.checkQueryURL(r, u); err != nil {
			return err
		}
	}
	callbackURL := s.resolveURL(r, cmp.Or(query["callbackURL"], "/"))
	errorCallbackURL := s.resolveURL(r, cmp.Or(query["errorCallbackURL"], callbackURL))
	newUserCallbackURL := s.resolveURL(r, cmp.Or(query["newUserCallbackURL"], callbackURL))

	var out magicLinkOutcome
	// One transaction spends the token and signs in. An outcome with an error code still commits,
	// so the token stays spent; a failure rolls everything back and the link can be retried.
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		out, err = s.spendMagicLink(tx, r, token)
		return err
	})
	if errors.Is(err, errUserExistsUseAnother) {
		// Someone took the address between our lookup and the insert; nothing was spent.
		out.errCode, out.description = errUserExistsUseAnother.Code, errUserExistsUseAnother.Message
	} else if err != nil {
		return err
	}
	if out.errCode != "" {
		target := s.resolveWithParam(r, errorCallbackURL, "error", out.errCode)
		if out.description != "" {
			target = s.resolveWithParam(r, target, "error_description", out.description)
		}
		redirect(w, target)
		return nil
	}
	s.resetSessionCookie(w, r, &out.as)
	switch {
	case query["callbackURL"] == "":
		writeJSON(w, http.StatusOK, struct {
			Token   string  `json:"token"`
			User    user    `json:"user"`
			Session session `json:"session"`
		}{out.as.Session.Token, out.as.User, out.as.Session})
	case out.newUser:
		redirect(w, newUserCallbackURL)
	default:
		redirect(w, callbackURL)
	}
	return nil
}

// spendMagicLink consumes the link's token in tx and signs its email in; an unknown or spent
// token is the outcome INVALID_TOKEN.
func (s *server) spendMagicLink(tx pgx.Tx, r *http.Request, token string) (magicLinkOutcome, error) {
	v, err := s.consumeVerification(r.Context(), tx, magicLinkIdentifier(token))
	if err != nil {
		return magicLinkOutcome{}, err
	}
	var rec *magicLinkRecord
	if v != nil {
		rec = parseMagicLinkRecord(v.Value)
	}
	if rec == nil {
		return magicLinkOutcome{errCode: "INVALID_TOKEN"}, nil
	}
	return s.passwordlessSignIn(r.Context(), tx, r, rec.Email, deref(rec.Name), nil)
}

// resolveURL resolves a trusted relative callback against the base URL, as new URL(u, baseURL).
func (s *server) resolveURL(r *http.Request, target string) string {
	base, _ := url.Parse(s.baseURL(r))
	u, err := base.Parse(target)
	if err != nil {
		return target
	}
	return u.String()
}

// passwordlessSignIn signs in the owner of a proven email (magic link, email OTP): it creates the
// user when unknown and sign-up is allowed, and strips an unverified account of what it gained
// before the proof. It returns a new session, or an outcome error code.
func (s *server) passwordlessSignIn(ctx context.Context, tx pgx.Tx, r *http.Request, email, name string, image *string) (magicLinkOutcome, error) {
	var out magicLinkOutcome
	u, err := s.userByEmail(ctx, tx, email)
	if err != nil {
		return out, err
	}
	if u == nil {
		noteSignUp(ctx)
	}
	switch {
	case u == nil && (!s.cfg.Email.PasswordlessSignUp || s.cfg.Email.MagicLinkDisableSignUp):
		out.errCode = "new_user_signup_disabled"
		return out, nil
	case u == nil:
		created, err := s.insertUser(ctx, tx, name, email, true, image)
		if err != nil {
			return out, err
		}
		u, out.newUser = &created, true
	case !u.EmailVerified:
		if u, err = s.revokeUnprovenAccess(ctx, tx, u.ID); err != nil {
			return out, err
		}
	}
	sess, err := s.createSession(ctx, tx, r, u.ID, false)
	if err != nil {
		return out, err
	}
	out.as = authSession{Session: sess, User: *u}
	return out, nil
}

// revokeUnprovenAccess is upstream's revokeUnprovenAccountAccess: an account whose email was never
// verified carries no proof that its password, linked providers or sessions belong to the
// mailbox owner (someone may have signed up with another person's address first). Once the owner
// proves the address, all of that is removed and the email marked verified. The row lock makes
// concurrent proofs run this once.
func (s *server) revokeUnprovenAccess(ctx context.Context, tx pgx.Tx, userID string) (*user, error) {
	var u user
	if err := tx.QueryRow(ctx, `SELECT `+s.userColumns+` FROM "user" u WHERE u.id = $1 FOR UPDATE`, userID).Scan(u.scanTargets()...); err != nil {
		return nil, fmt.Errorf("lock user: %w", err)
	}
	if u.EmailVerified {
		return &u, nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM account WHERE "userId" = $1`, userID); err != nil {
		return nil, fmt.Errorf("revoke accounts: %w", err)
	}
	if _, err := s.endUserSessions(ctx, tx, userID, ""); err != nil {
		return nil, fmt.Errorf("revoke sessions: %w", err)
	}
	if _, err := s.markEmailVerified(ctx, tx, userID, false, &u); err != nil {
		return nil, err
	}
	return &u, nil
}
