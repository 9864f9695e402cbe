package store

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSeqIndexAgainstASlice runs random adds, removes and walks against a plain sorted slice.
func TestSeqIndexAgainstASlice(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	var x seqIndex[int]
	var model []uint64
	seq := uint64(0)
	for step := range 20_000 {
		switch op := rng.IntN(10); {
		case op < 5 || len(model) == 0:
			seq += 1 + uint64(rng.IntN(3))
			v := int(seq)
			x.add(seq, &v)
			model = append(model, seq)
		case op < 8:
			i := rng.IntN(len(model))
			if rng.IntN(3) == 0 {
				i = 0 // oldest first, as the store forgets
			}
			x.remove(model[i])
			model = slices.Delete(model, i, i+1)
		default:
			x.remove(seq + 100) // not there: nothing happens
		}
		if x.len() != len(model) {
			t.Fatalf("step %d: len %d, want %d", step, x.len(), len(model))
		}
		if step%97 != 0 {
			continue
		}
		from := uint64(rng.IntN(int(seq) + 2))
		var up, down []uint64
		x.ascend(from, func(s uint64, v *int) bool {
			if uint64(*v) != s {
				t.Fatalf("item %d filed under %d", *v, s)
			}
			up = append(up, s)
			return true
		})
		x.descend(from, func(s uint64, _ *int) bool { down = append(down, s); return true })
		var wantUp, wantDown []uint64
		for _, s := range model {
			if s > from {
				wantUp = append(wantUp, s)
			}
			if s < from || from == 0 {
				wantDown = append(wantDown, s)
			}
		}
		slices.Reverse(wantDown)
		if !slices.Equal(up, wantUp) || !slices.Equal(down, wantDown) {
			t.Fatalf("step %d from %d: ascend %v want %v; descend %v want %v", step, from, up, wantUp, down, wantDown)
		}
		if f := x.first(); (f == nil) != (len(model) == 0) || (f != nil && uint64(*f) != model[0]) {
			t.Fatalf("step %d: first %v, want %v", step, f, model[:min(1, len(model))])
		}
	}
	if cap(x.items) > 4*max(len(model), 64) {
		t.Fatalf("%d slots kept for %d items: holes are not squeezed out", cap(x.items), len(model))
	}
}
