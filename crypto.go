package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// symmetricEncrypt is upstream's symmetricEncrypt (upstream
// packages/better-auth/src/crypto/index.ts, symmetricEncrypt): XChaCha20-Poly1305 under
// SHA-256(secret), written as lowercase hex of nonce(24) || ciphertext || tag(16). Values written
// by the Node server decrypt here and the other way round (2FA secrets, backup codes, OAuth
// tokens).
func (s *server) symmetricEncrypt(plaintext string) (string, error) {
	return encryptWithKey(s.cfg.Secret, plaintext)
}

var errDecrypt = errors.New("decrypt: not a value encrypted with this secret")

func (s *server) symmetricDecrypt(ciphertext string) (string, error) {
	return decryptWithKey(s.cfg.Secret, ciphertext)
}

// encryptWithKey is symmetricEncrypt under another key string, such as a purpose-derived one.
func encryptWithKey(key, plaintext string) (string, error) {
	k := sha256.Sum256([]byte(key))
	aead, err := chacha20poly1305.NewX(k[:])
	if err != nil {
		return "", fmt.Errorf("encrypt: %w", err)
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("encrypt: %w", err)
	}
	return hex.EncodeToString(aead.Seal(nonce, nonce, []byte(plaintext), nil)), nil
}

func decryptWithKey(key, ciphertext string) (string, error) {
	raw, err := hex.DecodeString(ciphertext)
	if err != nil || len(raw) < chacha20poly1305.NonceSizeX+chacha20poly1305.Overhead {
		return "", errDecrypt
	}
	k := sha256.Sum256([]byte(key))
	aead, err := chacha20poly1305.NewX(k[:])
	if err != nil {
		return "", fmt.Errorf("decrypt: %w", err)
	}
	plain, err := aead.Open(nil, raw[:chacha20poly1305.NonceSizeX], raw[chacha20poly1305.NonceSizeX:], nil)
	if err != nil {
		return "", errDecrypt
	}
	return string(plain), nil
}
