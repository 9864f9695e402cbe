package acauth

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// checkInvariants verifies the cache's structure against the keys inserted so far (keys[s-1] is
// the key of sequence number s; longest is the length of the longest): every ring entry holds
// its exact key inside the arena, live keys do not overlap, the map points only at entries with
// that hash, and nothing exceeds its bound.
func (c *replayCache) checkInvariants(t *testing.T, keys []string, longest int) {
	t.Helper()
	if c.n > c.max || len(c.ring) > c.max || len(c.m) > c.n {
		t.Fatalf("sizes: %d entries, ring %d, map %d, max %d", c.n, len(c.ring), len(c.m), c.max)
	}
	if len(c.keys) > max(c.maxBytes, longest) {
		t.Fatalf("arena %d bytes, limit %d", len(c.keys), c.maxBytes)
	}
	used := make([]bool, len(c.keys))
	for i := 0; i < c.n; i++ {
		seq := c.headSeq + uint64(i)
		e := c.at(seq)
		if int(e.off+e.n) > len(c.keys) {
			t.Fatalf("entry %d at %d+%d outside the arena of %d", seq, e.off, e.n, len(c.keys))
		}
		if got := string(c.keys[e.off : e.off+e.n]); got != keys[seq-1] {
			t.Fatalf("entry %d holds %q, want %q", seq, got, keys[seq-1])
		}
		for j := e.off; j < e.off+e.n; j++ {
			if used[j] {
				t.Fatalf("entry %d overlaps another at byte %d", seq, j)
			}
			used[j] = true
		}
	}
	for hash, seq := range c.m {
		if seq < c.headSeq || seq >= c.headSeq+uint64(c.n) || c.at(seq).hash != hash {
			t.Fatalf("map %x -> %d does not match the ring (head seq %d, %d entries)", hash, seq, c.headSeq, c.n)
		}
	}
}

// remembers reports whether the cache holds client:nonce and the map finds it.
func (c *replayCache) remembers(clientID, nonce string) bool {
	for i := 0; i < c.n; i++ {
		seq := c.headSeq + uint64(i)
		e := c.at(seq)
		if c.holds(e, clientID, nonce) && c.m[e.hash] == seq {
			return true
		}
	}
	return false
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
	c.checkInvariants(t, []string{"a:1", "b:2"}, 3)
}

// TestReplayCacheReinsert checks that a key re-added after expiring is not
// deleted from the map when its old ring slot is later evicted.
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
	if c.n != 3 || !c.holds(&c.ring[c.head], "a", "1") || c.ring[c.head].ts != 2000 {
		t.Fatalf("unexpected ring state %+v head %d", c.ring, c.head)
	}
	if !c.checkAndAdd("a", "1", 2000, 2000, 10) {
		t.Error("re-added key lost when its old slot was evicted")
	}
	c.checkInvariants(t, []string{"z:9", "a:1", "a:1", "y:1", "w:1"}, 3)
}

// TestReplayCacheAgainstModel inserts random keys of random lengths (short ones, and long ones
// that fill the key arena before the entry count) with random timestamps, and after every call
// checks the cache's structure and its answer against a model:
//   - a replay is reported only for a key the model holds unexpired (no fresh nonce is refused);
//   - a key the model holds unexpired is missed only if the cache has since evicted it, that is,
//     only if it is older than the entries the cache still holds.
func TestReplayCacheAgainstModel(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 3, 50, 500} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			t.Parallel()
			const skew = 300
			c := newReplayCache(size)
			rng := rand.New(rand.NewPCG(uint64(size), 2))
			now := int64(1_700_000_000)
			var keys []string           // by sequence number - 1
			latest := map[string]int{}  // key -> sequence number of its latest insertion
			stamp := map[string]int64{} // key -> timestamp of that insertion
			longest := 0
			for i := range 10_000 {
				if i%500 == 0 {
					now += int64(rng.IntN(200))
				}
				ts := now - skew + int64(rng.IntN(2*skew+1))
				client := "client" + strconv.Itoa(rng.IntN(3))
				nonce := strconv.Itoa(rng.IntN(300))
				if rng.IntN(4) == 0 { // a long nonce: the arena fills before the ring
					nonce = strings.Repeat(nonce, MaxNonceLen)[:MaxNonceLen-rng.IntN(10)]
				}
				key := client + ":" + nonce
				oldest := c.headSeq // the oldest sequence number still held before this call
				replayed := c.checkAndAdd(client, nonce, ts, now, skew)
				seq, seen := latest[key]
				live := seen && !expired(stamp[key], now, skew)
				switch {
				case replayed && !live:
					t.Fatalf("call %d: %q refused as a replay, but the model does not hold it", i, key)
				case !replayed && live && uint64(seq) >= oldest && c.remembersSeq(uint64(seq)):
					t.Fatalf("call %d: replay of %q (seq %d) missed while the cache holds it", i, key, seq)
				}
				if !replayed {
					keys = append(keys, key)
					latest[key], stamp[key] = len(keys), ts
					longest = max(longest, len(key))
				}
				if size <= 50 || i%101 == 0 { // a full check of the big cache on every call is slow under -race
					c.checkInvariants(t, keys, longest)
				}
			}
			c.checkInvariants(t, keys, longest)
		})
	}
}

// remembersSeq reports whether the entry with sequence number seq is still in the ring.
func (c *replayCache) remembersSeq(seq uint64) bool {
	return seq >= c.headSeq && seq < c.headSeq+uint64(c.n)
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
	c.checkInvariants(t, keys, len("a:0000000000000007"))
}

// TestReplayCacheHashCollision: keys that share a hash (forced here: every key hashes alike) are
// told apart by their bytes. A second key is not taken for a replay of the first, each is refused
// when it comes again while it holds the map slot, and the older loses its protection when the
// newer takes the slot, as documented.
func TestReplayCacheHashCollision(t *testing.T) {
	t.Parallel()
	c := newReplayCache(10)
	c.hash = func(string, string) uint64 { return 42 }
	steps := []struct {
		nonce    string
		replayed bool
	}{
		{"1", false}, {"1", true}, // first key, then its replay
		{"2", false}, {"2", true}, // a colliding key is not a replay; its own replay is
		{"1", false}, // the first key lost the slot to the second
	}
	for i, st := range steps {
		if got := c.checkAndAdd("a", st.nonce, 1000, 1000, 300); got != st.replayed {
			t.Fatalf("step %d: a:%s replayed = %v, want %v", i, st.nonce, got, st.replayed)
		}
	}
	c.checkInvariants(t, []string{"a:1", "a:2", "a:1"}, 3)
}

// TestReplayKeyRoomOfTheDefaultCache backs the figure in the package documentation: a cache of the
// default size (100,000 entries, 64 bytes of key room each) filled with the longest nonces of an
// official application ID (32 characters, ':' and 64 bytes: 97-byte keys) holds about 66,000 of
// them, and its key arena never grows past 6,400,000 bytes. The numbers are written out, not taken
// from the constants, so that a change to the bound fails here.
func TestReplayKeyRoomOfTheDefaultCache(t *testing.T) {
	t.Parallel()
	const entries, room, keyLen = 100_000, 64, 97
	c := newReplayCache(DefaultReplayCacheSize)
	const app = "c9b5062204254e5bb972ae06e4bbb315"
	for i := range entries {
		c.checkAndAdd(app, fmt.Sprintf("%064d", i), 1_700_000_000, 1_700_000_000, 300)
		if len(c.keys) > entries*room {
			t.Fatalf("after %d keys the arena holds %d bytes, more than %d", i+1, len(c.keys), entries*room)
		}
	}
	held := c.len()
	if limit := entries * room / keyLen; held > limit || held < limit-1 {
		t.Errorf("holds %d keys of %d bytes, want %d (a key or so less for the arena's wrap)", held, keyLen, limit)
	}
	if held < 65_900 || held > 66_000 {
		t.Errorf("holds %d, the documentation says about 66,000", held)
	}
}
