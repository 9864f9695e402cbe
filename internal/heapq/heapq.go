// Package heapq is a binary heap whose items know their place in it, so that any item can be
// taken out in O(log n), and whose smallest items can be listed in order, without changing the
// heap, in O(k log k) for the k listed: what a bounded page of "the soonest" or "the newest" needs
// when there are a hundred thousand items.
//
//	type bySeq struct{}
//	func (bySeq) Less(a, b *item) bool { return a.seq < b.seq }
//	func (bySeq) At(x *item) *int      { return &x.at }
//	var h heapq.Heap[*item, bySeq]
//	h.Push(x)
//	h.Ascend(func(x *item) bool { ...; return more })
package heapq

// Order compares items and says where each keeps its position in the heap. An item is in at most
// one heap of an Order at a time.
type Order[T any] interface {
	Less(a, b T) bool
	At(T) *int
}

// Heap is a min-heap of items under O. The zero value is empty and ready to use.
type Heap[T any, O Order[T]] struct {
	items []T
	o     O
}

// Len reports how many items the heap holds.
func (h *Heap[T, O]) Len() int { return len(h.items) }

// Min returns the smallest item, if there is one.
func (h *Heap[T, O]) Min() (T, bool) {
	if len(h.items) == 0 {
		var zero T
		return zero, false
	}
	return h.items[0], true
}

// Push adds an item.
func (h *Heap[T, O]) Push(x T) {
	h.items = append(h.items, x)
	*h.o.At(x) = len(h.items) - 1
	h.up(len(h.items) - 1)
}

// Remove takes out an item the heap holds.
func (h *Heap[T, O]) Remove(x T) {
	i := *h.o.At(x)
	last := len(h.items) - 1
	if i != last {
		h.swap(i, last)
	}
	var zero T
	h.items[last] = zero
	h.items = h.items[:last]
	*h.o.At(x) = -1
	if i != last {
		if !h.down(i) {
			h.up(i)
		}
	}
	if cap(h.items) > 64 && len(h.items) < cap(h.items)/4 {
		h.items = append([]T(nil), h.items...) // give back what a burst left
	}
}

// Clear empties the heap.
func (h *Heap[T, O]) Clear() {
	for _, x := range h.items {
		*h.o.At(x) = -1
	}
	h.items = nil
}

// Ascend calls f with the items smallest first until f returns false or none is left. It walks
// the heap's tree from the root, keeping a frontier of the positions not yet visited, so listing
// k items costs O(k log k) whatever the heap holds. f must not change the heap.
func (h *Heap[T, O]) Ascend(f func(T) bool) {
	if len(h.items) == 0 {
		return
	}
	frontier := []int{0} // a min-heap of positions in h.items
	less := func(a, b int) bool { return h.o.Less(h.items[frontier[a]], h.items[frontier[b]]) }
	for len(frontier) > 0 {
		i := frontier[0]
		if !f(h.items[i]) {
			return
		}
		// Replace the visited root of the frontier by its first child, then add the second.
		last := len(frontier) - 1
		frontier[0] = frontier[last]
		frontier = frontier[:last]
		siftDown(frontier, 0, less)
		for _, c := range [2]int{2*i + 1, 2*i + 2} {
			if c < len(h.items) {
				frontier = append(frontier, c)
				siftUp(frontier, len(frontier)-1, less)
			}
		}
	}
}

func (h *Heap[T, O]) less(i, j int) bool { return h.o.Less(h.items[i], h.items[j]) }

func (h *Heap[T, O]) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	*h.o.At(h.items[i]) = i
	*h.o.At(h.items[j]) = j
}

func (h *Heap[T, O]) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			return
		}
		h.swap(i, parent)
		i = parent
	}
}

// down moves the item at i down to its place and reports whether it moved.
func (h *Heap[T, O]) down(i int) bool {
	start := i
	for {
		small := i
		for _, c := range [2]int{2*i + 1, 2*i + 2} {
			if c < len(h.items) && h.less(c, small) {
				small = c
			}
		}
		if small == i {
			return i != start
		}
		h.swap(i, small)
		i = small
	}
}

func siftUp(xs []int, i int, less func(a, b int) bool) {
	for i > 0 {
		parent := (i - 1) / 2
		if !less(i, parent) {
			return
		}
		xs[i], xs[parent] = xs[parent], xs[i]
		i = parent
	}
}

func siftDown(xs []int, i int, less func(a, b int) bool) {
	for {
		small := i
		for _, c := range [2]int{2*i + 1, 2*i + 2} {
			if c < len(xs) && less(c, small) {
				small = c
			}
		}
		if small == i {
			return
		}
		xs[i], xs[small] = xs[small], xs[i]
		i = small
	}
}
