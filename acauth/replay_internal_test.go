package acauth

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// checkInvariants verifies the cache's structure against the keys inserted so far, oldest
// first (each insertion adds one entry, so the ring holds the last c.n of them, in order):
// every ring entry holds the hashes of its key; the table is a power of two at least twice the
// ring; its slots refer to entries in the ring, each to the newest entry of a distinct hash pair
// and every such entry has a slot; a probe from a slot's home reaches it without crossing an
// empty slot; and nothing exceeds its bound.
func (c *replayCache) checkInvariants(t *testing.T, keys []string) {
	t.Helper()
	if c.n > c.max || len(c.ring) > c.max || c.n > len(c.ring) || c.used > c.n || c.n > len(keys) {
		t.Fatalf("sizes: %d entries, ring %d, %d keys, max %d, %d keys inserted", c.n, len(c.ring), c.used, c.max, len(keys))
	}
	if len(c.slots) > 0 && (len(c.slots)&(len(c.slots)-1) != 0 || len(c.slots) < 2*len(c.ring)) {
		t.Fatalf("table of %d slots for a ring of %d", len(c.slots), len(c.ring))
	}
	type pair struct{ h1, h2 uint64 }
	newest := map[pair]int{} // hash pair -> ring index of its newest entry
	for i := 0; i < c.n; i++ {
		at := (c.head + i) % len(c.ring)
		e := c.ring[at]
		key := keys[len(keys)-c.n+i]
		client, nonce, _ := strings.Cut(key, ":")
		if h1, h2 := c.hash(client, nonce); e.h1 != h1 || e.h2 != h2 {
			t.Fatalf("entry %d (ring %d) has hashes %x %x, not those of %q", i, at, e.h1, e.h2, key)
		}
		newest[pair{e.h1, e.h2}] = at
	}
	used, referred := 0, map[int]bool{}
	mask := len(c.slots) - 1
	for j, s := range c.slots {
		if s == 0 {
			continue
		}
		used++
		at := s.ring()
		if at >= len(c.ring) || (at-c.head+len(c.ring))%len(c.ring) >= c.n {
			t.Fatalf("slot %d refers to ring index %d, outside the %d entries from %d", j, at, c.n, c.head)
		}
		e := c.ring[at]
		if s.h1() != uint64(uint32(e.h1)) {
			t.Fatalf("slot %d keeps the hash bits %x, not those of its entry's hash %x", j, s.h1(), e.h1)
		}
		if newest[pair{e.h1, e.h2}] != at {
			t.Fatalf("slot %d refers to ring index %d, not to the newest entry of its hashes (%d)", j, at, newest[pair{e.h1, e.h2}])
		}
		if referred[at] {
			t.Fatalf("two slots refer to ring index %d", at)
		}
		referred[at] = true
		for k := c.home(e.h1); k != j; k = (k + 1) & mask {
			if c.slots[k] == 0 {
				t.Fatalf("slot %d is cut off from its home %d by the empty slot %d", j, c.home(e.h1), k)
			}
		}
	}
	if used != c.used || used != len(newest) {
		t.Fatalf("%d slots in use, counted %d, %d distinct keys in the ring", used, c.used, len(newest))
	}
}

// remembers reports whether the cache holds client:nonce and the table finds it.
func (c *replayCache) remembers(clientID, nonce string) bool {
	if c.n == 0 {
		return false
	}
	h1, h2 := c.hash(clientID, nonce)
	slot, found := c.find(h1, h2)
	return found && (c.slots[slot].ring()-c.head+len(c.ring))%len(c.ring) < c.n
}

func TestReplayCacheExpiry(t *testing.T) {
	t.Parallel()
	const skew = 300
	c := newReplayCache(10)
	if c.checkAndAdd("a", "1", 1000, 1000, skew) {
		t.Fatal("first insert reported as replay")
	}
	if !c.checkAndAdd("a", "1", 1000, 1000+skew, skew) {
		t.Fatal("replay at the edge of the window not caught")
	}
	// Once ts+skew has passed the entry is dropped: a replay would fail
	// the timestamp check anyway.
	if c.checkAndAdd("b", "2", 2000, 1000+skew+1, skew) {
		t.Fatal("unrelated insert reported as replay")
	}
	if c.remembers("a", "1") {
		t.Error("expired entry still remembered")
	}
	if got := c.len(); got != 1 {
		t.Errorf("len = %d, want 1", got)
	}
	c.checkInvariants(t, []string{"a:1", "b:2"})
}

// TestReplayCacheReinsert checks that a key re-added after expiring is not
// deleted from the table when its old ring slot is later evicted.
func TestReplayCacheReinsert(t *testing.T) {
	t.Parallel()
	c := newReplayCache(3)
	c.checkAndAdd("z", "9", 2000, 1000, 10) // unexpired head shields "a" from expire()
	c.checkAndAdd("a", "1", 1000, 1000, 10) // expired by t=2000
	if c.checkAndAdd("a", "1", 2000, 2000, 10) {
		t.Fatal("expired key reported as replay")
	}
	c.checkAndAdd("y", "1", 2000, 2000, 10) // evicts "z"
	c.checkAndAdd("w", "1", 2000, 2000, 10) // evicts the old "a" slot
	h1, h2 := c.hash("a", "1")
	if head := c.ring[c.head]; c.n != 3 || head.h1 != h1 || head.h2 != h2 || head.ts != 2000 {
		t.Fatalf("unexpected ring state %+v head %d", c.ring, c.head)
	}
	if !c.checkAndAdd("a", "1", 2000, 2000, 10) {
		t.Error("re-added key lost when its old slot was evicted")
	}
	c.checkInvariants(t, []string{"z:9", "a:1", "a:1", "y:1", "w:1"})
}

// clusteredHash is a hash whose first half takes only eight values, so that every key's probe
// starts at one of eight slots: long runs of full slots, probes that wrap around the table and
// deletions that move many slots back. The second half keeps keys apart.
func clusteredHash(clientID, nonce string) (uint64, uint64) {
	sum := sha256.Sum256([]byte(clientID + ":" + nonce))
	return binary.LittleEndian.Uint64(sum[:]) % 8 * 0x9E3779B97F4A7C15, binary.LittleEndian.Uint64(sum[8:])
}

// TestReplayCacheAgainstModel inserts random keys of random lengths (short ones, and the longest)
// with random timestamps, and after every call checks the cache's structure and its answer
// against a model: a key is refused as a replay exactly when the model holds it unexpired and
// the cache has not evicted it, that is, when it is no older than the entries the cache still
// holds. No fresh nonce is refused and no replay of a held one passes. It runs with the cache's
// own hash and with a clustered one (see clusteredHash) that strains the table.
func TestReplayCacheAgainstModel(t *testing.T) {
	t.Parallel()
	for _, hash := range []string{"maphash", "clustered"} {
		for _, size := range []int{1, 3, 50, 500} {
			t.Run(hash+"/"+strconv.Itoa(size), func(t *testing.T) {
				t.Parallel()
				const skew = 300
				c := newReplayCache(size)
				if hash == "clustered" {
					c.hash = clusteredHash
				}
				rng := rand.New(rand.NewPCG(uint64(size), 2))
				now := int64(1_700_000_000)
				var keys []string           // every key inserted, oldest first
				latest := map[string]int{}  // key -> its place in keys, for its latest insertion
				stamp := map[string]int64{} // key -> timestamp of that insertion
				for i := range 10_000 {
					if i%500 == 0 {
						now += int64(rng.IntN(200))
					}
					ts := now - skew + int64(rng.IntN(2*skew+1))
					client := "client" + strconv.Itoa(rng.IntN(3))
					nonce := strconv.Itoa(rng.IntN(300))
					if rng.IntN(4) == 0 { // a long nonce
						nonce = strings.Repeat(nonce, MaxNonceLen)[:MaxNonceLen-rng.IntN(10)]
					}
					key := client + ":" + nonce
					oldest := len(keys) - c.n // the place in keys of the oldest entry still held
					replayed := c.checkAndAdd(client, nonce, ts, now, skew)
					at, seen := latest[key]
					live := seen && !expired(stamp[key], now, skew)
					switch held := live && at >= oldest; {
					case replayed && !live:
						t.Fatalf("call %d: %q refused as a replay, but the model does not hold it", i, key)
					case replayed && !held:
						t.Fatalf("call %d: %q refused as a replay, but the cache had evicted it", i, key)
					case !replayed && held:
						t.Fatalf("call %d: replay of %q (key %d) missed while the cache holds it", i, key, at)
					}
					if !replayed {
						latest[key], stamp[key] = len(keys), ts
						keys = append(keys, key)
					}
					if size <= 50 || i%101 == 0 { // a full check of the big cache on every call is slow under -race
						c.checkInvariants(t, keys)
					}
				}
				c.checkInvariants(t, keys)
			})
		}
	}
}

func BenchmarkReplayCacheSaturated(b *testing.B) {
	c := newReplayCache(DefaultReplayCacheSize)
	nonces := make([]string, 1<<16)
	for i := range nonces {
		nonces[i] = strconv.FormatUint(uint64(i)<<40|uint64(i), 10)
	}
	now := int64(1_700_000_000)
	var i int
	for b.Loop() {
		i++
		c.checkAndAdd("c9b5062204254e5bb972ae06e4bbb315", nonces[i%len(nonces)], now+int64(i>>16), now+int64(i>>16), 300)
	}
	if c.len() > DefaultReplayCacheSize {
		b.Fatalf("cache grew to %d", c.len())
	}
}

// BenchmarkReplayCacheMemory fills a cache of the default size with the keys of the official
// client (a 32-character application ID, 19-20 decimal digits), of the mobile SDK (16 hex
// digits) and with the longest nonces, and reports the heap it holds per entry and how many
// entries it holds, the figures behind the memory bound in the package documentation.
func BenchmarkReplayCacheMemory(b *testing.B) {
	for _, nonce := range []struct {
		name   string
		format func(uint64) string
	}{
		{"decimal", func(n uint64) string { return strconv.FormatUint(n|1<<63, 10) }},
		{"hex", FormatNonceHex},
		{"max-length", func(n uint64) string { return fmt.Sprintf("%064d", n) }},
	} {
		b.Run(nonce.name, func(b *testing.B) {
			texts := make([]string, DefaultReplayCacheSize)
			for i := range texts {
				texts[i] = nonce.format(uint64(i))
			}
			var perEntry float64
			var held int
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				c := newReplayCache(DefaultReplayCacheSize)
				for _, n := range texts {
					c.checkAndAdd("c9b5062204254e5bb972ae06e4bbb315", n, 1_700_000_000, 1_700_000_000, 300)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				held = c.len()
				perEntry = float64(after.HeapAlloc-before.HeapAlloc) / float64(held)
				runtime.KeepAlive(c)
			}
			b.ReportMetric(perEntry, "B/entry")
			b.ReportMetric(float64(held), "entries")
		})
	}
}

// BenchmarkReplayCacheEvicting records fresh keys in a full cache of the default size, so that
// every call also evicts the oldest: the cache's work for each request under sustained load.
func BenchmarkReplayCacheEvicting(b *testing.B) {
	c := newReplayCache(DefaultReplayCacheSize)
	nonces := make([]string, 1<<18) // more than the cache holds: a nonce comes back after it went
	for i := range nonces {
		nonces[i] = strconv.FormatUint(uint64(i)<<40|uint64(i)|1<<63, 10)
	}
	now := int64(1_700_000_000)
	for _, n := range nonces[:DefaultReplayCacheSize] {
		c.checkAndAdd("c9b5062204254e5bb972ae06e4bbb315", n, now, now, 300)
	}
	i := DefaultReplayCacheSize
	for b.Loop() {
		if c.checkAndAdd("c9b5062204254e5bb972ae06e4bbb315", nonces[i%len(nonces)], now, now, 300) {
			b.Fatal("a fresh key taken for a replay")
		}
		i++
	}
}

// TestReplayKeysAreExact: the key is the exact client ID and nonce text, so the same nonce from
// two clients, nonces that spell the same number differently, and neighbouring nonces are all
// different entries. (Neither part can hold a ':', which keeps the joined key unambiguous.)
func TestReplayKeysAreExact(t *testing.T) {
	t.Parallel()
	c := newReplayCache(100)
	var keys []string
	for _, k := range [][2]string{
		{"a", "7"}, {"b", "7"}, {"a", "07"}, {"a", "0x7"}, {"a", "0000000000000007"}, {"a", "8"},
		{"ab", "7"}, {"a", "b7"}, {"", "a7"}, {"a", " 7"}, {"a", "7 "},
		{"a", "7f"}, {"a", "7F"}, {"A", "7f"}, // letter case counts, in nonces and client IDs
	} {
		if c.checkAndAdd(k[0], k[1], 1000, 1000, 300) {
			t.Errorf("(%q, %q) taken for a replay of an earlier key", k[0], k[1])
		}
		keys = append(keys, k[0]+":"+k[1])
	}
	if !c.checkAndAdd("a", "0x7", 1000, 1000, 300) {
		t.Error("the exact key again is not a replay")
	}
	c.checkInvariants(t, keys)
}

// TestReplayHashIsKeyed: the two halves of a key's hash come from two seeds, and another cache
// (another process) has others, so nothing outside the process can aim at a collision. Keys
// longer than the hash's stack buffer are hashed as those shorter are.
func TestReplayHashIsKeyed(t *testing.T) {
	t.Parallel()
	a, b := newReplayCache(1), newReplayCache(1)
	long := strings.Repeat("n", 200)
	for _, nonce := range []string{"9223372036854775807", long} {
		a1, a2 := a.hash("client", nonce)
		b1, b2 := b.hash("client", nonce)
		if a1 == a2 || a1 == b1 || a2 == b2 {
			t.Errorf("nonce of %d bytes: hashes %x %x and %x %x, want four different", len(nonce), a1, a2, b1, b2)
		}
		var h maphash.Hash
		h.SetSeed(a.seeds[1])
		h.WriteString("client:" + nonce)
		if h.Sum64() != a2 {
			t.Errorf("nonce of %d bytes: second hash %x, want maphash of client:nonce, %x", len(nonce), a2, h.Sum64())
		}
	}
}

// TestReplayCacheHashCollision: keys that share the first half of their hash (forced here: every
// key's is 42) are told apart by the second; each is refused when it comes again. Keys that
// share both halves are one key to the cache, as documented: the second is taken for a replay
// of the first.
func TestReplayCacheHashCollision(t *testing.T) {
	t.Parallel()
	c := newReplayCache(10)
	c.hash = func(client, nonce string) (uint64, uint64) {
		_, h2 := clusteredHash(client, nonce)
		return 42, h2
	}
	steps := []struct {
		nonce    string
		replayed bool
	}{
		{"1", false}, {"1", true}, // first key, then its replay
		{"2", false}, {"2", true}, // a key of the same first half is not a replay; its own replay is
		{"3", false}, {"1", true}, {"3", true},
	}
	for i, st := range steps {
		if got := c.checkAndAdd("a", st.nonce, 1000, 1000, 300); got != st.replayed {
			t.Fatalf("step %d: a:%s replayed = %v, want %v", i, st.nonce, got, st.replayed)
		}
	}
	c.checkInvariants(t, []string{"a:1", "a:2", "a:3"})

	c = newReplayCache(10)
	c.hash = func(string, string) (uint64, uint64) { return 42, 43 }
	if c.checkAndAdd("a", "1", 1000, 1000, 300) || !c.checkAndAdd("b", "2", 1000, 1000, 300) {
		t.Error("keys of the same 128-bit hash are not one key")
	}
}

// TestReplayCacheHoldsLongKeys backs the figures in the package documentation: a cache of the
// default size filled with the longest nonces of an official application ID holds 100,000 of
// them, as many as of short ones, in a ring of 100,000 entries of 24 bytes and a table of
// 262,144 slots of 8 bytes: 4,497,152 bytes. The numbers are written out, not taken from the
// constants, so that a change to the bound fails here.
func TestReplayCacheHoldsLongKeys(t *testing.T) {
	t.Parallel()
	const entries = 100_000
	c := newReplayCache(DefaultReplayCacheSize)
	const app = "c9b5062204254e5bb972ae06e4bbb315"
	for i := range entries + 1000 {
		c.checkAndAdd(app, fmt.Sprintf("%064d", i), 1_700_000_000, 1_700_000_000, 300)
	}
	if held := c.len(); held != entries {
		t.Errorf("holds %d keys of 97 bytes, want %d", held, entries)
	}
	if len(c.ring) != entries || len(c.slots) != 262_144 {
		t.Errorf("ring of %d entries, table of %d slots", len(c.ring), len(c.slots))
	}
	if size := len(c.ring)*int(unsafe.Sizeof(c.ring[0])) + len(c.slots)*int(unsafe.Sizeof(c.slots[0])); size != 4_497_152 {
		t.Errorf("a full cache takes %d bytes, the documentation says 4,497,152", size)
	}
	if c.remembers(app, fmt.Sprintf("%064d", 999)) || !c.remembers(app, fmt.Sprintf("%064d", 1000)) {
		t.Error("the cache did not keep the newest 100,000 keys")
	}
}

// TestReplayCacheGrowsAfterExpiry: when the ring grows after expired entries left its head
// mid-way, the entries move to the new ring in order, the table still finds each key's newest
// entry, and an entry no slot referred to (the older of a key verified again after it expired)
// stays unreferred.
func TestReplayCacheGrowsAfterExpiry(t *testing.T) {
	t.Parallel()
	const skew = 300
	c := newReplayCache(1000)
	var keys []string
	add := func(nonce string, ts, now int64) {
		t.Helper()
		if c.checkAndAdd("a", nonce, ts, now, skew) {
			t.Fatalf("fresh nonce %s taken for a replay", nonce)
		}
		keys = append(keys, "a:"+nonce)
		c.checkInvariants(t, keys)
	}
	for i := range 10 {
		add(strconv.Itoa(i), 1000, 1000)
	}
	const now = 1000 + skew + 1
	add("s", now, now)   // expires the ten: the head is now mid-way
	add("x", 1000, now)  // already expired, but shielded by "s"
	add("x", now, now)   // verified again: the older "x" is referred to by no slot
	for i := range 200 { // the ring of 64 wraps, then grows twice
		add("later"+strconv.Itoa(i), now, now)
	}
	if len(c.ring) != 256 {
		t.Fatalf("ring of %d, want 256", len(c.ring))
	}
	for _, nonce := range []string{"s", "x", "later0", "later199"} {
		if !c.checkAndAdd("a", nonce, now, now, skew) {
			t.Fatalf("%s not remembered after the ring grew", nonce)
		}
	}
}
