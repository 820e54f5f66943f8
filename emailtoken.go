package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Email verification tokens (upstream packages/better-auth/src/api/routes/email-verification.ts,
// createEmailVerificationToken): HS256 JWTs signed with the secret, header {"alg":"HS256"},
// stateless. Nothing is stored, so a token works until it expires; the flows that use it are
// idempotent or check the user's current email.

// emailTokenExpiresIn is upstream's default lifetime (createEmailVerificationToken's expiresIn).
const emailTokenExpiresIn = time.Hour

// Request types of change-email tokens (upstream changeEmail).
const (
	changeEmailConfirmation = "change-email-confirmation"
	changeEmailVerification = "change-email-verification"
)

// emailClaims are the token's claims, in upstream's key order.
type emailClaims struct {
	Email       string `json:"email"`
	UpdateTo    string `json:"updateTo,omitempty"`
	RequestType string `json:"requestType,omitempty"`
	UserID      string `json:"userId,omitempty"`
	IssuedAt    int64  `json:"iat"`
	Expiry      int64  `json:"exp"`
}

var (
	errTokenExpired = apiErr(401, "TOKEN_EXPIRED", "Token expired")
	errTokenInvalid = apiErr(401, "INVALID_TOKEN", "Invalid token")
)

// signEmailToken signs c with iat = now and exp = now + expiresIn.
func (s *server) signEmailToken(c emailClaims, expiresIn time.Duration) (string, error) {
	now := s.now().Unix()
	c.IssuedAt, c.Expiry = now, now+int64(expiresIn/time.Second)
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("sign email token: %w", err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(s.cfg.Secret)}, nil)
	if err != nil {
		return "", fmt.Errorf("sign email token: %w", err)
	}
	jws, err := signer.Sign(payload)
	if errors.Is(err, jose.ErrInvalidKeySize) {
		return "", errors.New("sign email token: BETTER_AUTH_SECRET must be at least 32 bytes for HS256 (RFC 7518 section 3.2)")
	}
	if err != nil {
		return "", fmt.Errorf("sign email token: %w", err)
	}
	return jws.CompactSerialize()
}

// parseEmailToken verifies token as upstream's jwtVerify(token, secret, {algorithms:["HS256"]})
// does and returns its claims, or errTokenExpired / errTokenInvalid. Only HS256 is accepted, so a
// token cannot pick its own algorithm ("none", or a public-key algorithm keyed with the secret).
func (s *server) parseEmailToken(token string) (*emailClaims, error) {
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		return nil, errTokenInvalid
	}
	var std jwt.Claims
	var c emailClaims
	if err := parsed.Claims([]byte(s.cfg.Secret), &std, &c); err != nil {
		return nil, errTokenInvalid
	}
	// jose counts a token as expired from its exp second on; go-jose only after it.
	now := s.now().Unix()
	switch {
	case std.Expiry == nil:
		return nil, errTokenInvalid
	case now >= int64(*std.Expiry):
		return nil, errTokenExpired
	case std.NotBefore != nil && now < int64(*std.NotBefore):
		return nil, errTokenInvalid
	case !validEmail(c.Email):
		return nil, errTokenInvalid
	}
	return &c, nil
}

// isTokenError reports the errors parseEmailToken returns for a bad token.
func isTokenError(err error) bool {
	return errors.Is(err, errTokenExpired) || errors.Is(err, errTokenInvalid)
}
