package store

import "sort"

// seqIndex keeps items in increasing order of a sequence number that only grows, so adding is an
// append. Removing leaves a hole, found by binary search; the holes are squeezed out once they
// outnumber the items. Every operation is O(log n) amortised, whatever the number of items, and
// pages can start after any sequence number, even one whose item is gone.
type seqIndex[T any] struct {
	seqs  []uint64
	items []*T // nil where an item was removed
	head  int  // no item before this position
	holes int
}

func (x *seqIndex[T]) len() int { return len(x.items) - x.holes }

// add appends an item; seq must be larger than every sequence number added before.
func (x *seqIndex[T]) add(seq uint64, item *T) {
	x.seqs = append(x.seqs, seq)
	x.items = append(x.items, item)
}

func (x *seqIndex[T]) find(seq uint64) int {
	return x.head + sort.Search(len(x.seqs)-x.head, func(i int) bool { return x.seqs[x.head+i] >= seq })
}

// remove takes out the item with this sequence number, if it is there.
func (x *seqIndex[T]) remove(seq uint64) {
	i := x.find(seq)
	if i == len(x.seqs) || x.seqs[i] != seq || x.items[i] == nil {
		return
	}
	x.items[i] = nil
	x.holes++
	for x.head < len(x.items) && x.items[x.head] == nil {
		x.head++
	}
	if x.holes > 32 && x.holes > len(x.items)/2 {
		x.compact()
	}
}

func (x *seqIndex[T]) compact() {
	n := 0
	for i := x.head; i < len(x.items); i++ {
		if x.items[i] != nil {
			x.seqs[n], x.items[n] = x.seqs[i], x.items[i]
			n++
		}
	}
	clear(x.items[n:])
	x.seqs, x.items = x.seqs[:n:n], x.items[:n:n]
	x.head, x.holes = 0, 0
}

// first returns the item with the smallest sequence number, or nil.
func (x *seqIndex[T]) first() *T {
	if x.head < len(x.items) {
		return x.items[x.head]
	}
	return nil
}

// ascend calls f for the items with a sequence number above after, smallest first, until f returns
// false.
func (x *seqIndex[T]) ascend(after uint64, f func(seq uint64, item *T) bool) {
	if after == ^uint64(0) {
		return
	}
	for i := x.find(after + 1); i < len(x.items); i++ {
		if x.items[i] != nil && !f(x.seqs[i], x.items[i]) {
			return
		}
	}
}

// descend calls f for the items with a sequence number below before (every item when before is
// 0), largest first, until f returns false.
func (x *seqIndex[T]) descend(before uint64, f func(seq uint64, item *T) bool) {
	i := len(x.items) - 1
	if before != 0 {
		i = x.find(before) - 1
	}
	for ; i >= x.head; i-- {
		if x.items[i] != nil && !f(x.seqs[i], x.items[i]) {
			return
		}
	}
}

// collect returns the items in order, for a caller about to remove them.
func collect[T any](x *seqIndex[T]) []*T {
	out := make([]*T, 0, x.len())
	x.ascend(0, func(_ uint64, item *T) bool {
		out = append(out, item)
		return true
	})
	return out
}

// slab allocates items in chunks of slabChunk, so that a million users or sessions are a thousand
// objects for the garbage collector to find rather than a million, and reuses released slots. It
// holds as many slots as were ever in use at once.
type slab[T any] struct {
	chunk []T
	free  []*T
}

const slabChunk = 1024

func (a *slab[T]) alloc() *T {
	if n := len(a.free); n > 0 {
		item := a.free[n-1]
		a.free = a.free[:n-1]
		return item
	}
	if len(a.chunk) == cap(a.chunk) {
		a.chunk = make([]T, 0, slabChunk) // a full chunk lives on through its items
	}
	a.chunk = a.chunk[:len(a.chunk)+1]
	return &a.chunk[len(a.chunk)-1]
}

// release zeroes an item that nothing refers to any more and keeps its slot for the next alloc.
func (a *slab[T]) release(item *T) {
	var zero T
	*item = zero
	a.free = append(a.free, item)
}
