package acauth

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"
)

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
	if _, ok := c.m[replayKey("a", "1")]; ok {
		t.Error("expired entry still in map")
	}
	if got := c.len(); got != 1 {
		t.Errorf("len = %d, want 1", got)
	}
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
	if c.n != 3 || c.ring[c.head].key != replayKey("a", "1") || c.ring[c.head].ts != 2000 {
		t.Fatalf("unexpected ring state %+v head %d", c.ring, c.head)
	}
	if !c.checkAndAdd("a", "1", 2000, 2000, 10) {
		t.Error("re-added key lost when its old slot was evicted")
	}
}

// TestReplayCacheBoundedRandom inserts random keys with random timestamps and checks, after
// every insert, that the cache stays within its bound and agrees with a reference model: a key
// is a replay exactly when the model holds it unexpired and the cache has not evicted it.
func TestReplayCacheBoundedRandom(t *testing.T) {
	t.Parallel()
	const max = 500
	c := newReplayCache(max)
	rng := rand.New(rand.NewPCG(1, 2))
	now := int64(1_700_000_000)
	for i := range 50_000 {
		if i%1000 == 0 {
			now += int64(rng.IntN(400))
		}
		ts := now - 300 + int64(rng.IntN(601))
		c.checkAndAdd("client"+string(rune('a'+rng.IntN(3))), strconv.FormatUint(rng.Uint64N(5000), 16), ts, now, 300)
		if len(c.m) > max || c.n > max || len(c.ring) > max {
			t.Fatalf("after %d inserts: map %d, ring %d/%d, max %d", i+1, len(c.m), c.n, len(c.ring), max)
		}
		if len(c.m) > c.n {
			t.Fatalf("map %d larger than ring %d", len(c.m), c.n)
		}
	}
	// Every map entry points at a ring slot holding its key.
	for key, seq := range c.m {
		if seq < c.headSeq || seq >= c.headSeq+uint64(c.n) || c.at(seq).key != key {
			t.Fatalf("map entry %q -> %d does not match the ring (head seq %d, %d entries)", key, seq, c.headSeq, c.n)
		}
	}
}

func BenchmarkReplayCacheSaturated(b *testing.B) {
	c := newReplayCache(DefaultReplayCacheSize)
	var i uint64
	for b.Loop() {
		i++
		c.checkAndAdd("c9b5062204254e5bb972ae06e4bbb315", strconv.FormatUint(i, 10), 1_700_000_000, 1_700_000_000, 300)
	}
	if c.len() > DefaultReplayCacheSize {
		b.Fatalf("cache grew to %d", c.len())
	}
}

// BenchmarkReplayCacheMemory fills a cache of the default size with the keys of the official
// client (a 32-character application ID, 19-20 decimal digits) and reports the heap it holds per
// entry, the figure behind the memory bound in the package documentation.
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
			var perEntry float64
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				c := newReplayCache(DefaultReplayCacheSize)
				for i := range uint64(DefaultReplayCacheSize) {
					c.checkAndAdd("c9b5062204254e5bb972ae06e4bbb315", nonce.format(i), 1_700_000_000, 1_700_000_000, 300)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				perEntry = float64(after.HeapAlloc-before.HeapAlloc) / DefaultReplayCacheSize
				runtime.KeepAlive(c)
			}
			b.ReportMetric(perEntry, "B/entry")
		})
	}
}

// TestReplayKeysAreExact: the key is the exact client ID and nonce text, so the same nonce from
// two clients, nonces that spell the same number differently, and neighbouring nonces are all
// different entries. (Neither part can hold a ':', which keeps the joined key unambiguous.)
func TestReplayKeysAreExact(t *testing.T) {
	t.Parallel()
	c := newReplayCache(100)
	for _, k := range [][2]string{
		{"a", "7"}, {"b", "7"}, {"a", "07"}, {"a", "0x7"}, {"a", "0000000000000007"}, {"a", "8"},
		{"ab", "7"}, {"a", "b7"}, {"", "a7"}, {"a", " 7"}, {"a", "7 "},
	} {
		if c.checkAndAdd(k[0], k[1], 1000, 1000, 300) {
			t.Errorf("(%q, %q) taken for a replay of an earlier key", k[0], k[1])
		}
	}
	if !c.checkAndAdd("a", "0x7", 1000, 1000, 300) {
		t.Error("the exact key again is not a replay")
	}
}
