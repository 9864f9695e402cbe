package heapq

import (
	"math/rand/v2"
	"slices"
	"testing"
)

type item struct {
	key int
	at  int
}

type byKey struct{}

func (byKey) Less(a, b *item) bool { return a.key < b.key }
func (byKey) At(x *item) *int      { return &x.at }

// TestHeapAgainstASortedList pushes and removes at random and checks, after each step, that the
// heap's minimum, its length and an Ascend of a random length match a sorted copy.
func TestHeapAgainstASortedList(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	var h Heap[*item, byKey]
	var in []*item
	for step := range 3_000 {
		if len(in) == 0 || r.IntN(3) > 0 {
			x := &item{key: r.IntN(500)}
			h.Push(x)
			in = append(in, x)
		} else {
			i := r.IntN(len(in))
			h.Remove(in[i])
			if in[i].at != -1 {
				t.Fatalf("step %d: a removed item keeps position %d", step, in[i].at)
			}
			in = slices.Delete(in, i, i+1)
		}
		keys := make([]int, len(in))
		for i, x := range in {
			keys[i] = x.key
		}
		slices.Sort(keys)
		if h.Len() != len(in) {
			t.Fatalf("step %d: Len %d, want %d", step, h.Len(), len(in))
		}
		if len(in) == 0 {
			continue
		}
		if m, ok := h.Min(); !ok || m.key != keys[0] {
			t.Fatalf("step %d: Min %v %v, want %d", step, m, ok, keys[0])
		}
		k := r.IntN(len(keys) + 2)
		var got []int
		h.Ascend(func(x *item) bool {
			got = append(got, x.key)
			return len(got) < k
		})
		if want := keys[:min(max(k, 1), len(keys))]; !slices.Equal(got, want) {
			t.Fatalf("step %d: Ascend(%d) = %v, want %v", step, k, got, want)
		}
	}
	h.Clear()
	if _, ok := h.Min(); ok || h.Len() != 0 || (len(in) > 0 && in[0].at != -1) {
		t.Fatal("Clear left items")
	}
}

// TestAscendVisitsOnlyWhatItLists: listing the 10 smallest of 100,000 compares a few hundred
// times, not once per item.
func TestAscendVisitsOnlyWhatItLists(t *testing.T) {
	t.Parallel()
	var h Heap[*item, counting]
	for i := range 100_000 {
		h.Push(&item{key: 100_000 - i})
	}
	compares = 0
	n := 0
	h.Ascend(func(*item) bool { n++; return n < 10 })
	if compares > 200 {
		t.Fatalf("listing 10 of 100,000 made %d comparisons", compares)
	}
}

var compares int

type counting struct{}

func (counting) Less(a, b *item) bool { compares++; return a.key < b.key }
func (counting) At(x *item) *int      { return &x.at }
