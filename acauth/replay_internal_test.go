package acauth

import (
	"math/rand/v2"
	"testing"
)

func TestReplayCacheExpiry(t *testing.T) {
	t.Parallel()
	const skew = 300
	c := newReplayCache(10)
	if c.checkAndAdd("a", 1, 1000, 1000, skew) {
		t.Fatal("first insert reported as replay")
	}
	if !c.checkAndAdd("a", 1, 1000, 1000+skew, skew) {
		t.Fatal("replay at the edge of the window not caught")
	}
	// Once ts+skew has passed the entry is dropped: a replay would fail
	// the timestamp check anyway.
	if c.checkAndAdd("b", 2, 2000, 1000+skew+1, skew) {
		t.Fatal("unrelated insert reported as replay")
	}
	if _, ok := c.m[c.key("a", 1)]; ok {
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
	c.checkAndAdd("z", 9, 2000, 1000, 10) // unexpired head shields "a" from expire()
	c.checkAndAdd("a", 1, 1000, 1000, 10) // expired by t=2000
	if c.checkAndAdd("a", 1, 2000, 2000, 10) {
		t.Fatal("expired key reported as replay")
	}
	c.checkAndAdd("y", 1, 2000, 2000, 10) // evicts "z"
	c.checkAndAdd("w", 1, 2000, 2000, 10) // evicts the old "a" slot
	if c.n != 3 || c.ring[c.head].key != c.key("a", 1) || c.ring[c.head].ts != 2000 {
		t.Fatalf("unexpected ring state %+v head %d", c.ring, c.head)
	}
	if !c.checkAndAdd("a", 1, 2000, 2000, 10) {
		t.Error("re-added key lost when its old slot was evicted")
	}
}

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
		c.checkAndAdd("client"+string(rune('a'+rng.IntN(3))), rng.Uint64N(5000), ts, now, 300)
		if len(c.m) > max || c.n > max || len(c.ring) > max {
			t.Fatalf("after %d inserts: map %d, ring %d/%d, max %d", i+1, len(c.m), c.n, len(c.ring), max)
		}
		if len(c.m) > c.n {
			t.Fatalf("map %d larger than ring %d", len(c.m), c.n)
		}
	}
}

func BenchmarkReplayCacheSaturated(b *testing.B) {
	c := newReplayCache(DefaultReplayCacheSize)
	var i uint64
	for b.Loop() {
		i++
		c.checkAndAdd("c9b5062204254e5bb972ae06e4bbb315", i, 1_700_000_000, 1_700_000_000, 300)
	}
	if c.len() > DefaultReplayCacheSize {
		b.Fatalf("cache grew to %d", c.len())
	}
}

// TestReplayKeysDistinguishClientsAndNonces guards the hashed key: the same nonce from two clients,
// and neighbouring nonces from one, are different entries.
func TestReplayKeysDistinguishClientsAndNonces(t *testing.T) {
	t.Parallel()
	c := newReplayCache(100)
	seen := map[replayKey]bool{}
	for _, client := range []string{"a", "b", "ab", ""} {
		for nonce := range uint64(20) {
			k := c.key(client, nonce)
			if seen[k] {
				t.Fatalf("key of (%q, %d) collides", client, nonce)
			}
			seen[k] = true
		}
	}
	if c.key("a", 1) != c.key("a", 1) {
		t.Fatal("the key is not deterministic")
	}
}
