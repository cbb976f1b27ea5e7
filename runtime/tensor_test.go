package runtime

import "testing"

func TestNewTensor(t *testing.T) {
	for _, shape := range [][]int{{}, {3}, {2, 3}, {2, 3, 4}, {1, 2, 3, 4}, {1, 2, 1, 2, 1}} {
		x := NewTensor(shape...)
		n := 1
		for _, d := range shape {
			n *= d
		}
		if len(x.Data) != n || len(x.Shape) != len(shape) || (len(shape) <= inlineRank && cap(x.Shape) != len(shape)) {
			t.Fatalf("NewTensor(%v): shape %v (cap %d), %d values", shape, x.Shape, cap(x.Shape), len(x.Data))
		}
		for i := range shape {
			if x.Shape[i] != shape[i] {
				t.Fatalf("NewTensor(%v): shape %v", shape, x.Shape)
			}
		}
		// The caller's slice is not shared.
		if len(shape) > 0 {
			shape[0] = 99
			if x.Shape[0] == 99 {
				t.Fatalf("NewTensor shares the caller's shape slice")
			}
		}
	}
	shape := []int{4, 8}
	if allocs := testing.AllocsPerRun(100, func() { NewTensor(shape...) }); allocs > 2 {
		t.Fatalf("NewTensor of rank 2 allocates %v times, want 2", allocs)
	}
}
