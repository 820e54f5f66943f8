package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-jose/go-jose/v4"
)

// The jwt plugin's routes (upstream: packages/better-auth/src/plugins/jwt/index.ts, getJwks,
// getToken and the get-session after-hook; sign.ts, getJwtToken and signJWT): a JWT for the
// signed-in user that any service verifies against GET /jwks, with no call to this server.

// handleJWKS is upstream's getJwks. Ours adds cache headers: the set changes only on rotation,
// and verifiers refetch on a kid they do not know. The age ends when a key of the set expires,
// since the next key signs as soon as it is made, and a cache holding the set past that moment
// would answer such a refetch without it.
func (s *server) handleJWKS(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.JWT.Enabled {
		return errNotFoundEmpty
	}
	body, change, err := s.jwksBody(r.Context())
	if err != nil {
		return err
	}
	maxAge := jwksMaxAge
	if !change.IsZero() {
		maxAge = max(0, min(maxAge, change.Sub(s.now())))
	}
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(maxAge.Seconds())))
	writeJSONBytes(w, http.StatusOK, body)
	return nil
}

// handleToken is upstream's getToken: the caller's session as a JWT.
func (s *server) handleToken(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.JWT.Enabled {
		return errNotFoundEmpty
	}
	as, err := s.requireSession(w, r, anySession)
	if err != nil {
		return err
	}
	token, err := s.sessionJWT(r, as)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Token string `json:"token"`
	}{token})
	return nil
}

// setSessionJWT is upstream's get-session after-hook: an answer carrying a session also carries
// its JWT in set-auth-jwt, exposed to scripts of trusted origins.
func (s *server) setSessionJWT(w http.ResponseWriter, r *http.Request, as *authSession) error {
	if !s.cfg.JWT.Enabled || as == nil {
		return nil
	}
	token, err := s.sessionJWT(r, as)
	if err != nil {
		return err
	}
	w.Header().Set("set-auth-jwt", token)
	exposeHeader(w.Header(), "set-auth-jwt")
	return nil
}

// sessionJWT signs upstream's default payload for a session: iat, the user's fields, sub (the
// user id), then exp, iss and aud, in that member order; header {alg, kid}.
func (s *server) sessionJWT(r *http.Request, as *authSession) (string, error) {
	key, err := s.currentSigningKey(r.Context())
	if err != nil {
		return "", err
	}
	payload, err := s.jwtPayload(r, as)
	if err != nil {
		return "", err
	}
	return signCompact(key, payload)
}

func (s *server) jwtPayload(r *http.Request, as *authSession) ([]byte, error) {
	iat := s.now().Unix()
	claims := orderedObject{}
	claims.set("iat", json.RawMessage(strconv.FormatInt(iat, 10)))
	userJSON, err := encodeJSON(as.User)
	if err != nil {
		return nil, fmt.Errorf("jwt payload: %w", err)
	}
	if err := claims.spread(string(userJSON)); err != nil {
		return nil, fmt.Errorf("jwt payload: %w", err)
	}
	str := func(v string) json.RawMessage { b, _ := json.Marshal(v); return b }
	claims.set("sub", str(as.User.ID))
	claims.set("exp", json.RawMessage(strconv.FormatInt(iat+int64(s.cfg.JWT.expiresIn().Seconds()), 10)))
	claims.set("iss", str(s.jwtIssuer(r)))
	claims.set("aud", str(s.jwtAudience(r)))
	return claims.encode(), nil
}

// jwtIssuer and jwtAudience default to the app's origin, upstream's options.baseURL. Upstream
// leaves both empty when no base URL is configured; ours takes the request's origin then, as
// every other link this server makes does.
func (s *server) jwtIssuer(r *http.Request) string {
	if s.cfg.JWT.Issuer != "" {
		return s.cfg.JWT.Issuer
	}
	return s.origin(r)
}

func (s *server) jwtAudience(r *http.Request) string {
	if s.cfg.JWT.Audience != "" {
		return s.cfg.JWT.Audience
	}
	return s.origin(r)
}

// signCompact signs payload as a compact JWS with header {"alg","kid"}, as jose's SignJWT does.
func signCompact(k *signingKey, payload []byte) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.key, KeyID: k.kid}}, nil)
	if err != nil {
		return "", fmt.Errorf("jwt signer: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign jwt: %w", err)
	}
	return jws.CompactSerialize()
}
