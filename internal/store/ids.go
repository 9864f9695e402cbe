package store

import (
	"crypto/rand"
	"encoding/hex"
	mrand "math/rand/v2"
	"sync"
)

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// RandomIDs returns an IDs source backed by crypto/rand, shaped like the real service's: 32
// lowercase hex for tokens, 32 uppercase letters and digits for secrets.
func RandomIDs() IDs { return randomIDs{} }

type randomIDs struct{}

func (randomIDs) SessionToken() string  { return hex.EncodeToString(randomBytes(16)) }
func (randomIDs) SessionSecret() string { return fromAlphabet(randomBytes(32)) }
func (randomIDs) LinkCode() string      { return hex.EncodeToString(randomBytes(12)) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return b
}

func fromAlphabet(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = secretAlphabet[int(c)%len(secretAlphabet)]
	}
	return string(out)
}

// SeededIDs returns an IDs source that yields the same sequence for the same seed, for tests that
// want fixed tokens.
func SeededIDs(seed uint64) IDs {
	return &seededIDs{rng: mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

type seededIDs struct {
	mu  sync.Mutex
	rng *mrand.Rand
}

func (s *seededIDs) bytes(n int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(s.rng.Uint32())
	}
	return b
}

func (s *seededIDs) SessionToken() string  { return hex.EncodeToString(s.bytes(16)) }
func (s *seededIDs) SessionSecret() string { return fromAlphabet(s.bytes(32)) }
func (s *seededIDs) LinkCode() string      { return hex.EncodeToString(s.bytes(12)) }
