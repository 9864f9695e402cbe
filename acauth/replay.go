package acauth

import (
	"hash/maphash"
	"math/bits"
	"sync"
)

// DefaultReplayCacheSize is the default hard cap on remembered nonces.
const DefaultReplayCacheSize = 100_000

// maxReplayCacheSize bounds WithReplayCacheSize so that the table, a power of two at most twice
// the ring, has at most 2³¹ slots: a slot keeps a ring index and 32 bits of the hash, from which
// it finds its home (see slot). A cache that size would hold 40 GiB (a ring of 24 GiB and a table
// of 16 GiB).
const maxReplayCacheSize = 1 << 30

// The build fails here if the bound lets the table outgrow the 32 bits a slot keeps.
const _ = uint32(2*maxReplayCacheSize - 1)

// replayEntry is one remembered (client ID, nonce) pair, in the ring in insertion order: the
// pair's 128-bit keyed hash and the request's timestamp. It holds no pointer and no key text,
// so every entry takes the same 24 bytes whatever the length of its nonce.
type replayEntry struct {
	h1, h2 uint64 // hash of the key under the cache's two seeds
	ts     int64  // request timestamp (Unix seconds), which the signature pins
}

// replayCache remembers the (client ID, nonce) pairs that verified. It is a FIFO ring of
// entries for eviction and an open-addressing hash table (linear probing, deletion by backward
// shift, no tombstones) whose slots hold the ring index of an entry, plus one (0 is an empty
// slot), and the low 32 bits of the entry's first hash (see slot). The table has a power-of-two
// size of at least twice the ring's, so it is at most half full. Memory is bounded by max
// entries no matter the request rate or the nonces' length: when the ring is full the oldest
// entry goes. Both grow by doubling up to that bound, so an idle verifier does not hold a full
// cache's memory; a full default cache is a ring of 2.4 MB and a table of 2 MiB. Nothing in it
// holds a pointer: the garbage collector never scans it.
// (A cache of 100,000 strings made the collector of a memory-limited emulator spend half its
// CPU on it.)
//
// A key is known by its 128-bit hash alone: two maphash sums of the client ID, ':' and the
// nonce (neither part can hold a ':', so the joining is unambiguous), under two random seeds
// made when the cache is. A fresh nonce is taken for a replay only if its key and one that
// verified earlier share both sums, a chance of about n²/2¹²⁹ among n keys by accident (10⁻²⁹
// for a full default cache). maphash is not a cryptographic hash, but its seeds never leave the
// process, and Go's own maps rely on that against collisions chosen from outside.
//
// An entry must outlive the time a replay could still pass the timestamp
// check: a replay carries the same signed timestamp ts, so it is only
// accepted while now <= ts+skew. Expiry is therefore ts+skew, evaluated with
// the skew current at lookup time so widening the window at run time does
// not resurrect replays of entries still in the cache.
//
// A key verified again after its entry expired gets a new entry, and its table slot moves to
// it; the old entry stays in the ring, referred to by no slot, until its turn to go.
type replayCache struct {
	seeds [2]maphash.Seed
	hash  func(clientID, nonce string) (h1, h2 uint64) // hashKey; tests force collisions
	mu    sync.Mutex
	max   int           // entries
	ring  []replayEntry // circular; grows up to max
	head  int           // index of the oldest entry
	n     int           // entries in ring
	slots []slot        // the table; len is a power of two
	used  int           // slots in use: the keys the cache protects
}

func newReplayCache(size int) *replayCache {
	size = min(max(size, 1), maxReplayCacheSize)
	c := &replayCache{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, max: size}
	c.hash = c.hashKey
	return c
}

// checkAndAdd records (clientID, nonce) with timestamp ts and reports whether
// it was already present and unexpired (a replay). nowSec and skewSec define expiry.
func (c *replayCache) checkAndAdd(clientID, nonce string, ts, nowSec, skewSec int64) (replayed bool) {
	h1, h2 := c.hash(clientID, nonce)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.expire(nowSec, skewSec)
	if c.slots == nil {
		c.grow() // the first entry
	}
	slot, found := c.find(h1, h2)
	if found && !expired(c.ring[c.slots[slot].ring()].ts, nowSec, skewSec) {
		return true
	}
	switch {
	case c.n == c.max:
		c.popOldest()
		slot, found = c.find(h1, h2) // the deletion may have moved the slot
	case c.n == len(c.ring):
		c.grow()
		slot, found = c.find(h1, h2)
	}
	i := c.head + c.n
	if i >= len(c.ring) {
		i -= len(c.ring)
	}
	c.ring[i] = replayEntry{h1: h1, h2: h2, ts: ts}
	c.n++
	if !found {
		c.used++
	}
	c.slots[slot] = makeSlot(i, h1)
	return false
}

// hashKey is the default hash: maphash of clientID:nonce under the cache's two seeds, the key
// built on the stack (for keys of real client IDs) or streamed, never on the heap.
func (c *replayCache) hashKey(clientID, nonce string) (h1, h2 uint64) {
	var buf [128]byte
	if len(clientID)+1+len(nonce) <= len(buf) {
		key := append(append(append(buf[:0], clientID...), ':'), nonce...)
		return maphash.Bytes(c.seeds[0], key), maphash.Bytes(c.seeds[1], key)
	}
	var h [2]maphash.Hash
	for i := range h {
		h[i].SetSeed(c.seeds[i])
		h[i].WriteString(clientID)
		h[i].WriteByte(':')
		h[i].WriteString(nonce)
	}
	return h[0].Sum64(), h[1].Sum64()
}

// home is the slot where the probe for a key whose first hash is h1 starts.
func (c *replayCache) home(h1 uint64) int {
	return int(h1 & uint64(len(c.slots)-1))
}

// slot is one place of the table: the ring index of an entry plus one in its low 32 bits (0: an
// empty slot), and the low 32 bits of the entry's first hash in its high ones. With them, a
// probe passes other keys' slots, and a deletion moves slots back, without reading the ring:
// each read of the ring is one more cache miss in a 2.4 MB array, and on a busy server these
// were most of the check's time.
type slot uint64

func makeSlot(ring int, h1 uint64) slot { return slot(uint64(uint32(h1))<<32 | uint64(ring+1)) }

// ring is the index of the slot's entry in the ring.
func (s slot) ring() int { return int(uint32(s)) - 1 }

// h1 is the low 32 bits of the entry's first hash: enough for its home, as the table has at
// most 2³¹ slots.
func (s slot) h1() uint64 { return uint64(s >> 32) }

// find returns the slot that refers to the entry of the key (h1, h2), or the empty slot where
// the key would go. The table must not be full, which it never is: it has twice the ring's room.
func (c *replayCache) find(h1, h2 uint64) (slot int, found bool) {
	mask := len(c.slots) - 1
	for i := c.home(h1); ; i = (i + 1) & mask {
		s := c.slots[i]
		if s == 0 {
			return i, false
		}
		if s.h1() == uint64(uint32(h1)) {
			if e := &c.ring[s.ring()]; e.h1 == h1 && e.h2 == h2 {
				return i, true
			}
		}
	}
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

// popOldest drops the entry at the head, and its key from the table if its slot still refers
// to this entry rather than to a newer one of the same key.
func (c *replayCache) popOldest() {
	mask := len(c.slots) - 1
	for i := c.home(c.ring[c.head].h1); c.slots[i] != 0; i = (i + 1) & mask {
		if c.slots[i].ring() == c.head {
			c.deleteSlot(i)
			break
		}
	}
	c.head++
	if c.head == len(c.ring) {
		c.head = 0
	}
	c.n--
}

// deleteSlot empties slot i and moves back the slots after it that a probe could otherwise no
// longer reach (those whose home is not cyclically within (i, j]), so that no probe sequence
// has a gap: linear probing's deletion without tombstones.
func (c *replayCache) deleteSlot(i int) {
	mask := len(c.slots) - 1
	for j := (i + 1) & mask; c.slots[j] != 0; j = (j + 1) & mask {
		k := c.home(c.slots[j].h1())
		if (j-k)&mask >= (j-i)&mask { // k is not in (i, j]: the entry at j may move to i
			c.slots[i] = c.slots[j]
			i = j
		}
	}
	c.slots[i] = 0
	c.used--
}

// grow doubles the ring (up to max), moving the entries to its start in order, and rebuilds
// the table at twice the ring's size (a power of two). An entry that no slot referred to (the
// older of a key verified again after it expired) stays unreferred.
func (c *replayCache) grow() {
	size := min(max(2*len(c.ring), 64), c.max)
	ring := make([]replayEntry, size)
	for i := 0; i < c.n; i++ {
		ring[i] = c.ring[(c.head+i)%len(c.ring)]
	}
	slots := make([]slot, 1<<bits.Len(uint(2*size-1)))
	mask := len(slots) - 1
	for _, s := range c.slots {
		if s == 0 {
			continue
		}
		i := s.ring() - c.head // the entry's place in the new ring
		if i < 0 {
			i += len(c.ring)
		}
		j := int(ring[i].h1) & mask
		for slots[j] != 0 {
			j = (j + 1) & mask
		}
		slots[j] = makeSlot(i, ring[i].h1)
	}
	c.ring, c.head, c.slots = ring, 0, slots
}

// len returns the number of remembered nonces.
func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}
