package acauth

import "sync"

// DefaultReplayCacheSize is the default hard cap on remembered nonces.
const DefaultReplayCacheSize = 100_000

// replayEntry is one remembered nonce in the ring. key is the exact client ID and nonce,
// joined by ':' (a client ID cannot contain one, so the joining is unambiguous); ts is the
// request's timestamp (Unix seconds), which the signature pins. The ring holds entries in
// insertion order and every insertion takes the next sequence number, so the entry with
// sequence number s sits (s - headSeq) places after the head: the map need only store s.
//
// An entry costs its key (the client ID and nonce, copied so that it does not keep the request's
// header alive) plus about 60 bytes of ring slot and map slot.
type replayEntry struct {
	key string
	ts  int64
}

// replayCache remembers the (client ID, nonce) pairs that verified, keyed on their exact text.
// It is a map for lookups plus a FIFO ring in insertion order for eviction, so memory is
// bounded by max entries (each with a nonce of at most MaxNonceLen bytes) no matter the request
// rate.
//
// An entry must outlive the time a replay could still pass the timestamp
// check: a replay carries the same signed timestamp ts, so it is only
// accepted while now <= ts+skew. Expiry is therefore ts+skew, evaluated with
// the skew current at lookup time so widening the window at run time does
// not resurrect replays of entries still in the cache.
type replayCache struct {
	mu      sync.Mutex
	max     int
	m       map[string]uint64 // key -> sequence number of its latest insertion
	ring    []replayEntry     // circular; grows up to max
	head    int               // index of the oldest entry
	n       int               // entries in ring
	headSeq uint64            // sequence number of the entry at head
}

func newReplayCache(max int) *replayCache {
	if max < 1 {
		max = 1
	}
	return &replayCache{max: max, m: make(map[string]uint64), headSeq: 1}
}

// replayKey joins a client ID and a nonce into one exact key.
func replayKey(clientID, nonce string) string {
	return clientID + ":" + nonce
}

// checkAndAdd records (clientID, nonce) with timestamp ts and reports whether
// it was already present and unexpired (a replay). nowSec and skewSec define expiry.
func (c *replayCache) checkAndAdd(clientID, nonce string, ts, nowSec, skewSec int64) (replayed bool) {
	key := replayKey(clientID, nonce) // a fresh string: never a slice of the request's header
	c.mu.Lock()
	defer c.mu.Unlock()

	c.expire(nowSec, skewSec)
	if seq, ok := c.m[key]; ok && !expired(c.at(seq).ts, nowSec, skewSec) {
		return true
	}
	if c.n == c.max {
		c.popOldest()
	}
	c.m[key] = c.headSeq + uint64(c.n)
	c.push(replayEntry{key: key, ts: ts})
	return false
}

// at returns the ring entry with sequence number seq, which must be in the ring.
func (c *replayCache) at(seq uint64) *replayEntry {
	return &c.ring[(c.head+int(seq-c.headSeq))%len(c.ring)]
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
	e := &c.ring[c.head]
	// Only delete if the map still refers to this insertion, not a newer one.
	if seq, ok := c.m[e.key]; ok && seq == c.headSeq {
		delete(c.m, e.key)
	}
	*e = replayEntry{} // let the key be collected
	c.head = (c.head + 1) % len(c.ring)
	c.n--
	c.headSeq++
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
