package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Domain verification for enterprise SSO (upstream packages/sso/src/routes/domain-verification.ts,
// SSO_DOMAIN_VERIFICATION): before a provider may sign anyone in, its owner proves control of its
// domain with a DNS TXT record `_better-auth-token-<providerId>.<domain>` holding the token we
// issued. Without it, anyone could register a provider for someone else's domain and be handed that
// company's sign-ins.

const domainVerificationTTL = 7 * 24 * time.Hour

// dnsLabelMax is the longest DNS label (RFC 1035 section 2.3.4); the record name's first label is the
// verification identifier.
const dnsLabelMax = 63

var (
	errDomainVerified       = apiErr(409, "DOMAIN_VERIFIED", "Domain has already been verified")
	errIdentifierTooLong    = apiErr(400, "IDENTIFIER_TOO_LONG", fmt.Sprintf("Verification identifier exceeds the DNS label limit of %d characters", dnsLabelMax))
	errNoPendingVerify      = apiErr(404, "NO_PENDING_VERIFICATION", "No pending domain verification exists")
	errInvalidDomain        = apiErr(400, "INVALID_DOMAIN", "Invalid domain")
	errProviderChangedMidDV = apiErr(409, "SSO_PROVIDER_CHANGED", "SSO provider changed while domain verification was in progress. Reload the provider and try again")
)

// txtResolver looks up DNS TXT records; *net.Resolver is one, tests give their own.
type txtResolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

func domainVerificationID(providerID string) string {
	return "_better-auth-token-" + providerID
}

// domainVerificationRequest reads the body and the provider of both endpoints. Without domain
// verification the routes do not exist, as upstream registers them only then.
func (s *server) domainVerificationRequest(w http.ResponseWriter, r *http.Request) (*ssoProvider, error) {
	if !s.cfg.SSO.DomainVerification {
		return nil, errNotFoundEmpty
	}
	var body ssoProviderIDBody
	if err := s.decode(r, &body, jsonOnly); err != nil {
		return nil, err
	}
	as, err := s.requireSession(w, r, anySession)
	if err != nil {
		return nil, err
	}
	p, err := s.accessibleProvider(r.Context(), as, body.ProviderID)
	if err != nil {
		return nil, err
	}
	if s.domainVerified(p) {
		return nil, errDomainVerified
	}
	return p, nil
}

// activeVerification is the provider's newest unexpired verification token, or nil.
func (s *server) activeVerification(ctx context.Context, p *ssoProvider) (*verification, error) {
	v, err := s.findVerification(ctx, s.db, domainVerificationID(p.ProviderID))
	if err != nil || v == nil || !v.ExpiresAt.After(s.now()) {
		return nil, err
	}
	return v, nil
}

// handleRequestDomainVerification issues the token to publish (201), or the one still pending.
func (s *server) handleRequestDomainVerification(w http.ResponseWriter, r *http.Request) error {
	p, err := s.domainVerificationRequest(w, r)
	if err != nil {
		return err
	}
	v, err := s.activeVerification(r.Context(), p)
	if err != nil {
		return err
	}
	token := ""
	if v != nil {
		token = v.Value
	} else {
		token = randomString(24, defaultAlpha)
		if err := s.createVerification(r.Context(), s.db, domainVerificationID(p.ProviderID), token, s.now().Add(domainVerificationTTL)); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusCreated, map[string]string{"domainVerificationToken": token})
	return nil
}

// handleVerifyDomain looks the token up in DNS for every domain of the provider and, when each
// has it, marks the domain verified (204).
func (s *server) handleVerifyDomain(w http.ResponseWriter, r *http.Request) error {
	p, err := s.domainVerificationRequest(w, r)
	if err != nil {
		return err
	}
	identifier := domainVerificationID(p.ProviderID)
	if len(identifier) > dnsLabelMax {
		return errIdentifierTooLong
	}
	ctx := r.Context()
	v, err := s.activeVerification(ctx, p)
	if err != nil {
		return err
	}
	if v == nil {
		return errNoPendingVerify
	}
	domains := providerDomains(p.Domain)
	if domains == nil {
		return errInvalidDomain
	}
	for _, d := range domains {
		records, err := s.resolver.LookupTXT(ctx, identifier+"."+d)
		if err != nil {
			slog.WarnContext(ctx, "dns lookup for domain verification failed", "domain", d, "err", err)
		}
		found := false
		for _, rec := range records {
			rec = strings.TrimSpace(rec)
			found = found || rec == identifier+"="+v.Value || rec == v.Value
		}
		if !found {
			return apiErr(502, "DOMAIN_VERIFICATION_FAILED", fmt.Sprintf("Unable to verify domain ownership for %s. Try again later", d))
		}
	}
	// The domain checked must still be the provider's: an update in between makes it unverified.
	tag, err := s.db.Exec(ctx, `UPDATE "ssoProvider" SET "domainVerified" = true WHERE id = $1 AND domain = $2`, p.ID, p.Domain)
	if err != nil {
		return fmt.Errorf("mark domain verified: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return errProviderChangedMidDV
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
