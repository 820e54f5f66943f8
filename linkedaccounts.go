package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Linked accounts (upstream packages/better-auth/src/api/routes/account.ts): listing, linking and
// unlinking a user's accounts, and handing the provider tokens stored with them to the app,
// refreshed when they are about to expire.

var (
	errAccountNotFound        = apiErr(400, "ACCOUNT_NOT_FOUND", "Account not found")
	errUnlinkLastAccount      = apiErr(400, "FAILED_TO_UNLINK_LAST_ACCOUNT", "You can't unlink your last account")
	errSocialAlreadyLinked    = apiErr(409, "SOCIAL_ACCOUNT_ALREADY_LINKED", "Social account already linked")
	errLinkingNotAllowed      = apiErr(401, "LINKING_NOT_ALLOWED", "Account not linked - linking not allowed")
	errLinkingDifferentEmails = apiErr(401, "LINKING_DIFFERENT_EMAILS_NOT_ALLOWED", "Account not linked - different emails not allowed")
	errLinkingFailed          = apiErr(417, "LINKING_FAILED", "Account not linked - unable to create account")
	errFailedToGetAccessToken = apiErr(400, "FAILED_TO_GET_ACCESS_TOKEN", "Failed to get a valid access token")
	errFailedToRefreshToken   = apiErr(400, "FAILED_TO_REFRESH_ACCESS_TOKEN", "Failed to refresh access token")
	errRefreshTokenNotFound   = apiErr(400, "REFRESH_TOKEN_NOT_FOUND", "Refresh token not found")
	errProviderNotConfigured  = apiErr(400, "PROVIDER_NOT_CONFIGURED", "Account is not associated with a configured social provider.")
	errAccessTokenNotFound    = apiErr(400, "ACCESS_TOKEN_NOT_FOUND", "Access token not found")
)

// accountRow is an account as list-accounts shows it, with the scope split (upstream
// listUserAccounts); the tokens and password are never returned.
type accountRow struct {
	AccountID  string   `json:"accountId"`
	ProviderID string   `json:"providerId"`
	UserID     string   `json:"userId"`
	CreatedAt  jsTime   `json:"createdAt"`
	UpdatedAt  jsTime   `json:"updatedAt"`
	ID         string   `json:"id"`
	Scopes     []string `json:"scopes"`
}

func (s *server) handleListAccounts(w http.ResponseWriter, r *http.Request) error {
	as, err := s.requireSession(w, r, anySession)
	if err != nil {
		return err
	}
	rows, err := s.db.Query(r.Context(), `SELECT id, "accountId", "providerId", "userId", scope, "createdAt", "updatedAt"
		FROM account WHERE "userId" = $1 ORDER BY "createdAt", id`, as.User.ID)
	if err != nil {
		return fmt.Errorf("list accounts: %w", err)
	}
	accounts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (accountRow, error) {
		var a accountRow
		var scope *string
		err := row.Scan(&a.ID, &a.AccountID, &a.ProviderID, &a.UserID, &scope, &a.CreatedAt, &a.UpdatedAt)
		a.Scopes = storedScopes(scope)
		return a, err
	})
	if err != nil {
		return fmt.Errorf("list accounts: %w", err)
	}
	writeJSON(w, http.StatusOK, accounts)
	return nil
}

// storedScopes splits a stored comma-joined scope; never null, as upstream's parseStoredScopes.
func storedScopes(scope *string) []string {
	if scope == nil {
		return []string{}
	}
	out := splitList(*scope)
	if out == nil {
		return []string{}
	}
	return out
}

// handleLinkSocial links another provider account to the signed-in user (upstream
// linkSocialAccount), either through the redirect flow (the callback finishes it) or at once from
// an ID token.
func (s *server) handleLinkSocial(w http.ResponseWriter, r *http.Request) error {
	body, providerID, err := s.decodeSocialStart(r)
	if err != nil {
		return err
	}
	if body.NewUserCallbackURL != nil {
		return validationError(`[body] Unrecognized key: "newUserCallbackURL"`)
	}
	as, err := s.requireSession(w, r, sensitiveSession)
	if err != nil {
		return err
	}
	p, err := s.socialProvider(r.Context(), providerID)
	if err != nil {
		return err
	}
	if body.IDToken != nil {
		if err := s.linkWithIDToken(r.Context(), as, p, body.IDToken); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, struct {
			URL      string `json:"url"`
			Status   bool   `json:"status"`
			Redirect bool   `json:"redirect"`
		}{"", true, false})
		return nil
	}
	sealed, err := encryptWithKey(s.linkSessionKey(), as.Session.Token)
	if err != nil {
		return err
	}
	link := &oauthLink{UserID: as.User.ID, Email: as.User.Email, EncryptedSessionToken: sealed}
	return s.redirectToProvider(w, r, p, body, link)
}

// linkWithIDToken is link-social's ID token branch, with upstream's errors for each refusal.
func (s *server) linkWithIDToken(ctx context.Context, as *authSession, p *oauthProvider, body *idTokenBody) error {
	profile, tokens, err := s.idTokenProfile(ctx, p, body)
	if err != nil {
		return err
	}
	acct := oauthAccount{providerID: p.id, accountID: profile.AccountID,
		tokens: providerTokens{AccessToken: tokens.AccessToken, RefreshToken: tokens.RefreshToken, IDToken: tokens.IDToken}}
	return inTx(ctx, s.db, func(tx pgx.Tx) error {
		accountRowID, owner, err := s.lockProviderAccount(ctx, tx, acct)
		if err != nil {
			return err
		}
		switch {
		case owner != nil && owner.ID == as.User.ID:
			return s.refreshAccountTokens(ctx, tx, accountRowID, acct, nil)
		case owner != nil:
			return errSocialAlreadyLinked
		case !s.providerTrusted(p.id) && !profile.EmailVerified || s.cfg.OAuth.Linking.Disabled:
			return errLinkingNotAllowed
		case !strings.EqualFold(profile.Email, as.User.Email) && !s.cfg.OAuth.Linking.AllowDifferentEmails:
			return errLinkingDifferentEmails
		}
		if err := s.insertProviderAccount(ctx, tx, as.User.ID, acct); err != nil {
			slog.ErrorContext(ctx, "link account", "err", err)
			return errLinkingFailed
		}
		return nil
	})
}

// handleUnlinkAccount removes one of the user's accounts, never the last one (upstream
// unlinkAccount). The user row is locked so that two concurrent unlinks cannot each see two
// accounts and leave none.
func (s *server) handleUnlinkAccount(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		AccountID string `json:"accountId" required:"true"`
	}
	as, err := s.sessionRequest(w, r, &body, freshSession)
	if err != nil {
		return err
	}
	err = inTx(r.Context(), s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(r.Context(), `SELECT 1 FROM "user" WHERE id = $1 FOR UPDATE`, as.User.ID); err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		rows, err := tx.Query(r.Context(), `SELECT id FROM account WHERE "userId" = $1`, as.User.ID)
		if err != nil {
			return fmt.Errorf("list accounts: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("list accounts: %w", err)
		}
		if len(ids) == 1 && !s.cfg.OAuth.Linking.AllowUnlinkingAll {
			return errUnlinkLastAccount
		}
		if !slices.Contains(ids, body.AccountID) {
			return errAccountNotFound
		}
		if _, err := tx.Exec(r.Context(), `DELETE FROM account WHERE id = $1`, body.AccountID); err != nil {
			return fmt.Errorf("unlink account: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusTrue)
	return nil
}

// storedAccount is an account row with its tokens as stored.
type storedAccount struct {
	ID                    string
	AccountID             string
	ProviderID            string
	AccessToken           *string
	RefreshToken          *string
	IDToken               *string
	AccessTokenExpiresAt  *time.Time
	RefreshTokenExpiresAt *time.Time
	Scope                 *string
}

// accountSelection is upstream's strict union {accountId, userId?} | {useAccountCookie: true,
// userId?}. Over HTTP the session's user always wins, so userId only has to be well-formed.
type accountSelection struct {
	AccountID        any                        `json:"accountId" nullable:"true"`
	UseAccountCookie any                        `json:"useAccountCookie" nullable:"true"`
	UserID           any                        `json:"userId" nullable:"true"`
	Unknown          map[string]json.RawMessage `json:"-" unknown:"keep"`
}

// accountID returns the selected account row id. The account cookie is upstream's stateless
// mode, which this server never writes, so selecting it finds no account. Keys of neither member
// fail the union as zod reports it: the one member they would otherwise match names them, else
// the whole input is invalid (`where` is "[body]" or "[query]"). Several are named in sorted
// order; zod names them in the order the body has them, which a decoded map no longer knows.
func (sel accountSelection) accountID(where string) (string, error) {
	invalid := validationError(where + " Invalid input")
	if _, ok := sel.UserID.(string); sel.UserID != nil && !ok {
		return "", invalid
	}
	id, isString := sel.AccountID.(string)
	var err error
	switch {
	case sel.AccountID != nil && sel.UseAccountCookie == nil && isString:
	case sel.AccountID == nil && sel.UseAccountCookie == true:
		err = errAccountNotFound
	default:
		return "", invalid
	}
	if len(sel.Unknown) > 0 {
		keys := slices.Sorted(maps.Keys(sel.Unknown))
		quoted := make([]string, len(keys))
		for i, k := range keys {
			quoted[i] = fmt.Sprintf("%q", k)
		}
		return "", validationError(fmt.Sprintf("%s Unrecognized key%s: %s", where, plural(len(keys)), strings.Join(quoted, ", ")))
	}
	return id, err
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// selectedAccount validates the selection, then requires a session (401 with an empty body, as
// upstream's resolveUserId) and loads the account of the session's user.
func (s *server) selectedAccount(w http.ResponseWriter, r *http.Request, sel accountSelection, where string) (*storedAccount, error) {
	id, err := sel.accountID(where)
	if err != nil && !errors.Is(err, errAccountNotFound) {
		return nil, err
	}
	as, serr := s.loadSession(w, r, sessionOpts{disableCookieCache: true})
	if serr != nil {
		return nil, serr
	}
	if as == nil {
		return nil, errUnauthorizedEmpty
	}
	if err != nil {
		return nil, err
	}
	var a storedAccount
	err = s.db.QueryRow(r.Context(), `SELECT id, "accountId", "providerId", "accessToken", "refreshToken", "idToken",
			"accessTokenExpiresAt", "refreshTokenExpiresAt", scope
		FROM account WHERE id = $1 AND "userId" = $2`, id, as.User.ID).Scan(
		&a.ID, &a.AccountID, &a.ProviderID, &a.AccessToken, &a.RefreshToken, &a.IDToken,
		&a.AccessTokenExpiresAt, &a.RefreshTokenExpiresAt, &a.Scope)
	if isNoRows(err) {
		return nil, errAccountNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find account: %w", err)
	}
	return &a, nil
}

// accessToken is get-access-token's answer.
type accessToken struct {
	AccessToken          string   `json:"accessToken"`
	AccessTokenExpiresAt *jsTime  `json:"accessTokenExpiresAt,omitempty"`
	Scopes               []string `json:"scopes"`
	IDToken              string   `json:"idToken,omitempty"`
}

// validAccessToken returns the account's access token, refreshing it first (and storing the new
// tokens) when it expires within accessTokenRefreshMargin and a refresh token is stored.
func (s *server) validAccessToken(ctx context.Context, p *oauthProvider, a *storedAccount) (*accessToken, error) {
	out := &accessToken{Scopes: storedScopes(a.Scope), IDToken: deref(a.IDToken)}
	expiring := a.AccessTokenExpiresAt != nil && a.AccessTokenExpiresAt.Sub(s.now()) < accessTokenRefreshMargin
	if a.RefreshToken != nil && expiring {
		t, err := s.refreshAccount(ctx, p, a)
		if err != nil {
			slog.WarnContext(ctx, "refresh access token", "provider", a.ProviderID, "err", err)
			return nil, errFailedToGetAccessToken
		}
		out.AccessToken = t.AccessToken
		if t.IDToken != "" {
			out.IDToken = t.IDToken
		}
	} else {
		token, err := s.openToken(deref(a.AccessToken))
		if err != nil {
			return nil, errFailedToGetAccessToken
		}
		out.AccessToken = token
	}
	if a.AccessTokenExpiresAt != nil {
		at := jsTime(*a.AccessTokenExpiresAt)
		out.AccessTokenExpiresAt = &at
	}
	return out, nil
}

// refreshAccount uses the stored refresh token and stores what comes back, keeping the stored
// refresh token, its expiry and the ID token when the provider sends no new ones. The scope is
// left alone: a refresh answer may be narrower. a is updated to the stored values.
func (s *server) refreshAccount(ctx context.Context, p *oauthProvider, a *storedAccount) (providerTokens, error) {
	refresh, err := s.openToken(deref(a.RefreshToken))
	if err != nil {
		return providerTokens{}, err
	}
	t, err := s.refreshTokens(ctx, p, refresh)
	if err != nil {
		return providerTokens{}, err
	}
	access, newRefresh, err := s.sealTokens(t)
	if err != nil {
		return providerTokens{}, err
	}
	err = s.db.QueryRow(ctx, `UPDATE account SET
			"accessToken" = $2,
			"accessTokenExpiresAt" = COALESCE($3, "accessTokenExpiresAt"),
			"refreshToken" = COALESCE($4, "refreshToken"),
			"refreshTokenExpiresAt" = COALESCE($5, "refreshTokenExpiresAt"),
			"idToken" = COALESCE($6, "idToken"),
			"updatedAt" = $7
		WHERE id = $1
		RETURNING "accessTokenExpiresAt", "refreshTokenExpiresAt", "idToken"`,
		a.ID, access, t.AccessTokenExpiresAt, newRefresh, t.RefreshTokenExpiresAt, nullIfEmpty(t.IDToken), s.now(),
	).Scan(&a.AccessTokenExpiresAt, &a.RefreshTokenExpiresAt, &a.IDToken)
	if err != nil {
		return providerTokens{}, fmt.Errorf("store refreshed tokens: %w", err)
	}
	if t.RefreshToken == "" {
		t.RefreshToken = refresh
	}
	return t, nil
}

// tokenAccount reads a token endpoint's account selection and returns the account with its
// provider; an account of no configured provider (a password account) is PROVIDER_NOT_SUPPORTED.
func (s *server) tokenAccount(w http.ResponseWriter, r *http.Request) (*storedAccount, *oauthProvider, error) {
	var sel accountSelection
	if err := s.decode(r, &sel, jsonOnly); err != nil {
		return nil, nil, err
	}
	a, err := s.selectedAccount(w, r, sel, "[body]")
	if err != nil {
		return nil, nil, err
	}
	p := s.providers.get(r.Context(), a.ProviderID)
	if p == nil {
		return nil, nil, apiErr(400, "PROVIDER_NOT_SUPPORTED", "Provider "+a.ProviderID+" is not supported.")
	}
	return a, p, nil
}

func (s *server) handleGetAccessToken(w http.ResponseWriter, r *http.Request) error {
	a, p, err := s.tokenAccount(w, r)
	if err != nil {
		return err
	}
	t, err := s.validAccessToken(r.Context(), p, a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *server) handleRefreshToken(w http.ResponseWriter, r *http.Request) error {
	a, p, err := s.tokenAccount(w, r)
	if err != nil {
		return err
	}
	if a.RefreshToken == nil {
		return errRefreshTokenNotFound
	}
	t, err := s.refreshAccount(r.Context(), p, a)
	if err != nil {
		slog.WarnContext(r.Context(), "refresh token", "provider", a.ProviderID, "err", err)
		return errFailedToRefreshToken
	}
	out := struct {
		AccessToken           string  `json:"accessToken"`
		RefreshToken          string  `json:"refreshToken"`
		AccessTokenExpiresAt  *jsTime `json:"accessTokenExpiresAt,omitempty"`
		RefreshTokenExpiresAt *jsTime `json:"refreshTokenExpiresAt"`
		Scope                 *string `json:"scope"`
		IDToken               *string `json:"idToken"`
		ProviderID            string  `json:"providerId"`
		AccountID             string  `json:"accountId"`
	}{t.AccessToken, t.RefreshToken, optionalTime(t.AccessTokenExpiresAt), optionalTime(a.RefreshTokenExpiresAt), a.Scope, a.IDToken, a.ProviderID, a.ID}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func optionalTime(t *time.Time) *jsTime {
	if t == nil {
		return nil
	}
	v := jsTime(*t)
	return &v
}

// handleAccountInfo asks the provider who the account is, with a valid access token (upstream
// accountInfo).
func (s *server) handleAccountInfo(w http.ResponseWriter, r *http.Request) error {
	sel, err := accountSelectionQuery(r)
	if err != nil {
		return err
	}
	a, err := s.selectedAccount(w, r, sel, "[query]")
	if err != nil {
		return err
	}
	p := s.providers.get(r.Context(), a.ProviderID)
	if p == nil {
		return errProviderNotConfigured
	}
	t, err := s.validAccessToken(r.Context(), p, a)
	if err != nil {
		return err
	}
	if t.AccessToken == "" {
		return errAccessTokenNotFound
	}
	profile, err := p.profile(r.Context(), providerTokens{AccessToken: t.AccessToken, IDToken: t.IDToken})
	if err != nil {
		slog.InfoContext(r.Context(), "account info", "provider", a.ProviderID, "err", err)
		return errFailedUserInfo
	}
	type accountInfoUser struct {
		Name          string  `json:"name"`
		Email         string  `json:"email,omitempty"`
		Image         *string `json:"image,omitempty"`
		EmailVerified bool    `json:"emailVerified"`
	}
	type accountInfoAccount struct {
		ID         string `json:"id"`
		ProviderID string `json:"providerId"`
		AccountID  string `json:"accountId"`
	}
	writeJSON(w, http.StatusOK, struct {
		User    accountInfoUser    `json:"user"`
		Data    map[string]any     `json:"data"`
		Account accountInfoAccount `json:"account"`
	}{
		accountInfoUser{profile.Name, profile.Email, profile.Image, profile.EmailVerified},
		profile.Data,
		accountInfoAccount{a.ID, a.ProviderID, a.AccountID},
	})
	return nil
}

// accountSelectionQuery reads account-info's query as upstream's strict schema: unknown or
// repeated keys are refused; query values are strings, so useAccountCookie (literal true) never
// validates there.
func accountSelectionQuery(r *http.Request) (accountSelection, error) {
	var sel accountSelection
	for k, vs := range r.URL.Query() {
		if len(vs) > 1 {
			return sel, validationError("[query] Invalid input")
		}
		switch k {
		case "accountId":
			sel.AccountID = vs[0]
		case "userId":
			sel.UserID = vs[0]
		case "useAccountCookie":
			sel.UseAccountCookie = vs[0]
		default:
			if sel.Unknown == nil {
				sel.Unknown = map[string]json.RawMessage{}
			}
			sel.Unknown[k] = nil
		}
	}
	return sel, nil
}
