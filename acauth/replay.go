package acauth

import (
	"hash/maphash"
	"sync"
)

// DefaultReplayCacheSize is the default hard cap on remembered nonces.
const DefaultReplayCacheSize = 100_000

// replayKey is a 64-bit hash of (client ID, nonce) under a per-cache random seed. Keeping a hash
// instead of the client ID string cuts an entry from about 240 bytes to about 70, which is what
// keeps a full cache (100,000 entries) near 7 MiB. Two different pairs collide with a probability
// of about n²/2⁶⁵ (under 10⁻⁹ for a full cache), and a collision can only refuse a request as
// replayed, never accept one.
type replayKey uint64

type replayEntry struct {
	key replayKey
	ts  int64  // request timestamp (Unix seconds), which the signature pins
	seq uint64 // distinguishes a re-inserted key from its expired predecessor
}

// replayCache remembers (client ID, nonce) pairs that verified. It is a map
// for lookups plus a FIFO ring in insertion order for eviction, so memory is
// bounded by max entries no matter the request rate.
//
// An entry must outlive the time a replay could still pass the timestamp
// check: a replay carries the same signed timestamp ts, so it is only
// accepted while now <= ts+skew. Expiry is therefore ts+skew, evaluated with
// the skew current at lookup time so widening the window at run time does
// not resurrect replays of entries still in the cache.
type replayCache struct {
	seed maphash.Seed
	mu   sync.Mutex
	max  int
	m    map[replayKey]replayEntry
	ring []replayEntry // circular; grows up to max
	head int           // index of the oldest entry
	n    int           // entries in ring
	seq  uint64
}

func newReplayCache(max int) *replayCache {
	if max < 1 {
		max = 1
	}
	return &replayCache{seed: maphash.MakeSeed(), max: max, m: make(map[replayKey]replayEntry)}
}

// checkAndAdd records key with timestamp ts and reports whether it was
// already present and unexpired (a replay). nowSec and skewSec define expiry.
func (c *replayCache) checkAndAdd(clientID string, nonce uint64, ts, nowSec, skewSec int64) (replayed bool) {
	key := c.key(clientID, nonce)
	c.mu.Lock()
	defer c.mu.Unlock()

	c.expire(nowSec, skewSec)
	if e, ok := c.m[key]; ok && !expired(e.ts, nowSec, skewSec) {
		return true
	}
	if c.n == c.max {
		c.popOldest()
	}
	c.seq++
	e := replayEntry{key: key, ts: ts, seq: c.seq}
	c.m[key] = e
	c.push(e)
	return false
}

func (c *replayCache) key(clientID string, nonce uint64) replayKey {
	return replayKey(mix(maphash.String(c.seed, clientID) ^ mix(nonce)))
}

func expired(ts, nowSec, skewSec int64) bool {
	return nowSec > ts+skewSec
}

// expire drops expired entries from the oldest end. Insertion order is not
// timestamp order, so an unexpired head can shield expired entries behind
// it; they still cannot outstay 2*skew (timestamps are within skew of the
// insert time) nor exceed max, and lookups check expiry explicitly.
func (c *replayCache) expire(nowSec, skewSec int64) {
	for c.n > 0 && expired(c.ring[c.head].ts, nowSec, skewSec) {
		c.popOldest()
	}
}

func (c *replayCache) popOldest() {
	e := c.ring[c.head]
	c.head = (c.head + 1) % len(c.ring)
	c.n--
	// Only delete if the map still refers to this insertion, not a newer one.
	if cur, ok := c.m[e.key]; ok && cur.seq == e.seq {
		delete(c.m, e.key)
	}
}

func (c *replayCache) push(e replayEntry) {
	if c.n == len(c.ring) {
		c.grow()
	}
	c.ring[(c.head+c.n)%len(c.ring)] = e
	c.n++
}

// grow doubles the ring (up to max) so an idle verifier does not hold
// max entries' worth of memory.
func (c *replayCache) grow() {
	size := 2 * len(c.ring)
	if size < 64 {
		size = 64
	}
	if size > c.max {
		size = c.max
	}
	ring := make([]replayEntry, size)
	for i := 0; i < c.n; i++ {
		ring[i] = c.ring[(c.head+i)%len(c.ring)]
	}
	c.ring, c.head = ring, 0
}

// len returns the number of remembered nonces.
func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// mix is SplitMix64's finaliser: it spreads every input bit over the output, so nonces that differ
// in a few low bits do not land on neighbouring keys.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
