package acauth

import (
	"hash/maphash"
	"math"
	"sync"
)

// DefaultReplayCacheSize is the default hard cap on remembered nonces.
const DefaultReplayCacheSize = 100_000

// replayKeyBytes is the room the cache keeps per entry for keys: a key is the client ID, ':' and
// the nonce, and the official client's (a 32-character application ID and a decimal nonce) take
// 52 bytes. Longer keys share the same room, so fewer of them fit.
const replayKeyBytes = 64

// replayEntry is one remembered nonce, in the ring in insertion order. Its key (client ID, ':',
// nonce; neither part can hold a ':', so the joining is unambiguous) is stored exactly, in the
// cache's key arena at keys[off:off+n], and hash is the key's hash under the cache's seed, the
// index of the map. Every insertion takes the next sequence number, so the entry with sequence
// number s sits (s - headSeq) places after the head and the map need only store s.
//
// Nothing in the cache holds a pointer per entry: a full cache is a few large pointer-free
// arrays, which the garbage collector never scans. (A cache of 100,000 strings made the collector
// of a memory-limited emulator spend half its CPU on it.)
type replayEntry struct {
	ts   int64  // request timestamp (Unix seconds), which the signature pins
	hash uint64 // hash of the key
	off  uint32 // where the key starts in the arena
	n    uint32 // key length
}

// replayCache remembers the (client ID, nonce) pairs that verified, keyed on their exact text.
// It is a map from the key's hash to the ring slot, a FIFO ring of entries for eviction, and a
// circular arena holding the keys in the same order. Memory is bounded by max entries and
// max*replayKeyBytes bytes of keys, whichever fills first, no matter the request rate: when
// either is full the oldest entry goes.
//
// The map is indexed by a 64-bit hash, but a lookup compares the stored key byte for byte, so a
// request is a replay only if its exact key was seen. Should two keys ever share a hash (about
// n²/2⁶⁵ for n entries), the newer takes the map slot and the older loses its protection early,
// as if evicted; a fresh nonce is never refused.
//
// An entry must outlive the time a replay could still pass the timestamp
// check: a replay carries the same signed timestamp ts, so it is only
// accepted while now <= ts+skew. Expiry is therefore ts+skew, evaluated with
// the skew current at lookup time so widening the window at run time does
// not resurrect replays of entries still in the cache.
type replayCache struct {
	seed     maphash.Seed
	hash     func(clientID, nonce string) uint64 // hashKey; tests force collisions
	mu       sync.Mutex
	max      int               // entries
	maxBytes int               // arena size limit
	m        map[uint64]uint64 // key hash -> sequence number of the entry that has it
	ring     []replayEntry     // circular; grows up to max
	head     int               // index of the oldest entry
	n        int               // entries in ring
	headSeq  uint64            // sequence number of the entry at head
	keys     []byte            // circular arena; grows up to maxBytes
	keyTail  int               // where the next key goes
}

func newReplayCache(max int) *replayCache {
	if max < 1 {
		max = 1
	}
	// Offsets are uint32; a cache of more than 33 million entries gets no more key room.
	maxBytes := min(max, math.MaxUint32/2/replayKeyBytes) * replayKeyBytes
	c := &replayCache{seed: maphash.MakeSeed(), max: max, maxBytes: maxBytes, m: make(map[uint64]uint64), headSeq: 1}
	c.hash = c.hashKey
	return c
}

// checkAndAdd records (clientID, nonce) with timestamp ts and reports whether
// it was already present and unexpired (a replay). nowSec and skewSec define expiry.
func (c *replayCache) checkAndAdd(clientID, nonce string, ts, nowSec, skewSec int64) (replayed bool) {
	hash := c.hash(clientID, nonce)
	size := len(clientID) + 1 + len(nonce)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(nowSec, skewSec)
	if seq, ok := c.m[hash]; ok {
		e := c.at(seq)
		if c.holds(e, clientID, nonce) && !expired(e.ts, nowSec, skewSec) {
			return true
		}
	}
	if c.n == c.max {
		c.popOldest()
	}
	off := c.room(size)
	copy(c.keys[off:], clientID)
	c.keys[off+len(clientID)] = ':'
	copy(c.keys[off+len(clientID)+1:], nonce)
	c.keyTail = off + size
	c.m[hash] = c.headSeq + uint64(c.n)
	c.push(replayEntry{ts: ts, hash: hash, off: uint32(off), n: uint32(size)})
	return false
}

// hashKey is the default hash: maphash of clientID:nonce under the cache's seed, without
// building the string.
func (c *replayCache) hashKey(clientID, nonce string) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(clientID)
	h.WriteByte(':')
	h.WriteString(nonce)
	return h.Sum64()
}

// holds reports whether e's key is exactly clientID:nonce.
func (c *replayCache) holds(e *replayEntry, clientID, nonce string) bool {
	k := c.keys[e.off : e.off+e.n]
	return len(k) == len(clientID)+1+len(nonce) && string(k[:len(clientID)]) == clientID &&
		k[len(clientID)] == ':' && string(k[len(clientID)+1:]) == nonce
}

// at returns the ring entry with sequence number seq, which must be in the ring.
func (c *replayCache) at(seq uint64) *replayEntry {
	return &c.ring[(c.head+int(seq-c.headSeq))%len(c.ring)]
}

func expired(ts, nowSec, skewSec int64) bool {
	return nowSec > ts+skewSec
}

// room returns where a key of size bytes can go: after the newest key, or at the start of the
// arena when it does not fit before the end (the rest of the end stays unused until the keys
// before it go). It grows the arena, or evicts the oldest entries, until there is room. A key
// larger than the arena's whole limit (only possible with a tiny cache) gets an arena of its
// own size.
func (c *replayCache) room(size int) int {
	for {
		if c.n == 0 {
			c.keyTail = 0
			if len(c.keys) < size {
				c.growKeys(size)
			}
			return 0
		}
		headOff := int(c.ring[c.head].off)
		if c.keyTail > headOff { // live keys are keys[headOff:keyTail]
			if c.keyTail+size <= len(c.keys) {
				return c.keyTail
			}
			if size <= headOff {
				return 0
			}
		} else if c.keyTail+size <= headOff { // live keys wrap: keys[headOff:] and keys[:keyTail]
			return c.keyTail
		}
		if len(c.keys) < c.maxBytes {
			c.growKeys(size)
			continue
		}
		c.popOldest()
	}
}

// growKeys doubles the arena (up to maxBytes, and at least enough for size more bytes), moving
// the live keys to its start in order.
func (c *replayCache) growKeys(size int) {
	used := 0
	for i := 0; i < c.n; i++ {
		used += int(c.ring[(c.head+i)%len(c.ring)].n)
	}
	newSize := max(2*len(c.keys), 4096)
	newSize = max(min(newSize, c.maxBytes), used+size)
	keys := make([]byte, newSize)
	off := 0
	for i := 0; i < c.n; i++ {
		e := &c.ring[(c.head+i)%len(c.ring)]
		copy(keys[off:], c.keys[e.off:e.off+e.n])
		e.off = uint32(off)
		off += int(e.n)
	}
	c.keys, c.keyTail = keys, off
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
	// Only delete if the map still refers to this insertion, not a newer one.
	if seq, ok := c.m[e.hash]; ok && seq == c.headSeq {
		delete(c.m, e.hash)
	}
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
