package journal

import "testing"

// TestRingGrowsThenWraps: the ring grows as entries come, never past its size, and then keeps
// the newest entries in order, through a Clear too.
func TestRingGrowsThenWraps(t *testing.T) {
	for _, size := range []int{1, 3, 64, 65, 200} {
		j := New(size)
		for round := range 2 {
			for i := range 3*size + 7 {
				j.Add(Entry{Status: i})
				if n := min(i+1, size); j.Len() != n {
					t.Fatalf("size %d: %d entries after %d adds, want %d", size, j.Len(), i+1, n)
				}
				if cap(j.entries) > size {
					t.Fatalf("size %d: the ring grew to %d", size, cap(j.entries))
				}
			}
			got := j.List(Filter{})
			for k, e := range got {
				if want := 3*size + 7 - size + k; e.Status != want {
					t.Fatalf("size %d round %d: entry %d has status %d, want %d", size, round, k, e.Status, want)
				}
			}
			page, _ := j.Page(Filter{}, 0, size)
			if len(page) != size || page[len(page)-1].Status != 3*size+6 {
				t.Fatalf("size %d: page of %d ends with %+v", size, len(page), page[len(page)-1])
			}
			j.Clear()
			if j.Len() != 0 || j.Cap() != size {
				t.Fatalf("size %d: after Clear Len %d Cap %d", size, j.Len(), j.Cap())
			}
		}
	}
}
