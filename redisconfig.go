package main

import (
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisConfig holds the Redis secondary storage settings (upstream's secondaryStorage with
// @better-auth/redis-storage; see redis.go). Without a URL nothing is kept in Redis.
type redisConfig struct {
	URL       string
	KeyPrefix string
	// SessionsInDB keeps sessions in Postgres as well (upstream session.storeSessionInDatabase).
	SessionsInDB bool
	// VerificationInDB keeps verification values in Postgres as well (upstream
	// verification.storeInDatabase).
	VerificationInDB bool
	// RateLimitStorage is where the shared rate-limit counters live: "database" or
	// "secondary-storage" (upstream rateLimit.storage).
	RateLimitStorage string
	options          *redis.Options
}

// enabled reports whether REDIS_URL is set.
func (c redisConfig) enabled() bool { return c.URL != "" }

// sessionsInDB: sessions are in Postgres without Redis, and with it when asked to be.
func (c redisConfig) sessionsInDB() bool { return !c.enabled() || c.SessionsInDB }

// verificationInDB: verification values are in Postgres without Redis, and with it when asked to be.
func (c redisConfig) verificationInDB() bool { return !c.enabled() || c.VerificationInDB }

type redisFlags struct{ c redisConfig }

// registerRedisFlags adds the Redis group's settings.
func registerRedisFlags(s *settings) *redisFlags {
	f := &redisFlags{}
	s.String(&f.c.URL, "redis-url", "REDIS_URL", "", "redis:// or rediss:// URL (password, database number) of the secondary storage; empty: everything in Postgres")
	s.String(&f.c.KeyPrefix, "redis-key-prefix", "REDIS_KEY_PREFIX", "better-auth:", "prefix of every Redis key, @better-auth/redis-storage's keyPrefix; may be empty")
	s.Bool(&f.c.SessionsInDB, "session-store-in-database", "SESSION_STORE_IN_DATABASE", false, "with REDIS_URL: keep sessions in Postgres too, serving from Postgres while Redis is down")
	s.Bool(&f.c.VerificationInDB, "verification-store-in-database", "VERIFICATION_STORE_IN_DATABASE", false, "with REDIS_URL: keep verification values (reset tokens, OTPs, OAuth state) in Postgres too")
	s.String(&f.c.RateLimitStorage, "rate-limit-storage", "RATE_LIMIT_STORAGE", "", "database or secondary-storage; empty: secondary-storage with REDIS_URL, else database")
	return f
}

func (f *redisFlags) parse() (redisConfig, error) {
	c := f.c
	if c.RateLimitStorage == "" {
		c.RateLimitStorage = "database"
		if c.enabled() {
			c.RateLimitStorage = "secondary-storage"
		}
	}
	switch c.RateLimitStorage {
	case "database":
	case "secondary-storage":
		if !c.enabled() {
			return redisConfig{}, fmt.Errorf("RATE_LIMIT_STORAGE=secondary-storage needs REDIS_URL")
		}
	default:
		return redisConfig{}, fmt.Errorf("RATE_LIMIT_STORAGE: want database or secondary-storage, got %q", c.RateLimitStorage)
	}
	if !c.enabled() {
		return c, nil
	}
	if !strings.HasPrefix(c.URL, "redis://") && !strings.HasPrefix(c.URL, "rediss://") {
		return redisConfig{}, fmt.Errorf("REDIS_URL: want a redis:// or rediss:// URL")
	}
	opts, err := redis.ParseURL(c.URL)
	if err != nil {
		// The URL may carry a password: name the problem, not the value.
		return redisConfig{}, fmt.Errorf("REDIS_URL: not a valid Redis URL")
	}
	c.options = opts
	return c, nil
}
