package runtime

import (
	"errors"
	"testing"
)

func TestShapeSize(t *testing.T) {
	cases := []struct {
		shape []int
		want  int
		ok    bool
	}{
		{nil, 1, true},
		{[]int{3, 4, 5}, 60, true},
		{[]int{0, 7}, 0, true},
		{[]int{1 << 32, 1 << 32}, 0, false}, // wraps to 0 in int arithmetic
		{[]int{0, 1 << 40, 1 << 40}, 0, false},
		{[]int{-1, 3}, 0, false},
		{[]int{1 << 28, 1 << 28}, 1 << 56, true},
		{[]int{1<<28 + 1, 1 << 28}, 0, false},
	}
	for _, tc := range cases {
		got, err := ShapeSize(tc.shape)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ShapeSize(%v) = %d, %v; want %d, ok %v", tc.shape, got, err, tc.want, tc.ok)
		}
		if err != nil && (!errors.Is(err, ErrLimit) || !errors.Is(err, ErrInput)) {
			t.Errorf("ShapeSize(%v): %v is not ErrLimit and ErrInput", tc.shape, err)
		}
	}
	if n, err := MulSize(1<<20, 1<<20, 1<<16); err != nil || n != 1<<56 {
		t.Errorf("MulSize(2^20, 2^20, 2^16) = %d, %v", n, err)
	}
	if _, err := MulSize(1<<20, 1<<20, 1<<17); err == nil {
		t.Error("MulSize(2^20, 2^20, 2^17) did not overflow")
	}
	if _, err := FromData(nil, 1<<32, 1<<32); !errors.Is(err, ErrLimit) {
		t.Errorf("FromData on an overflowing shape: %v", err)
	}
}

// limitLayer allocates what it is told through the Workspace.
type limitLayer struct{ shape []int }

func (*limitLayer) Name() string      { return "big" }
func (*limitLayer) ClassName() string { return "Big" }
func (l *limitLayer) Call(ctx *Workspace, call *Call) ([]Value, error) {
	_ = ctx.Scratch(l, 0, 1000)
	return []Value{{T: ctx.Output(l, 0, l.shape...)}}, nil
}

func TestWorkspaceBudget(t *testing.T) {
	cases := []struct {
		name   string
		shape  []int
		budget int64
		want   error
	}{
		{"fits", []int{10, 10}, 1 << 20, nil},
		{"over budget", []int{1000, 1000}, 1 << 20, &MemoryError{}},
		{"overflow", []int{1 << 32, 1 << 32}, 0, &SizeError{}},
		{"no budget", []int{100, 100}, 0, nil},
	}
	for _, tc := range cases {
		g, err := NewGraph("g", "Functional", 2, []int{0}, []GraphNode{{Layer: &limitLayer{tc.shape}, Args: []ArgRef{{Slots: []int{0}}}, Outputs: []int{1}}}, []int{1})
		if err != nil {
			t.Fatal(err)
		}
		ws := NewWorkspace(false)
		ws.SetMemoryBudget(tc.budget)
		_, err = g.Run(ws, []Value{{T: NewTensor(1)}})
		switch tc.want.(type) {
		case nil:
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
		case *MemoryError:
			var me *MemoryError
			if !errors.As(err, &me) || me.Budget != tc.budget || !errors.Is(err, ErrLimit) {
				t.Errorf("%s: %v, want a MemoryError", tc.name, err)
			}
		case *SizeError:
			var se *SizeError
			if !errors.As(err, &se) || !errors.Is(err, ErrLimit) {
				t.Errorf("%s: %v, want a SizeError", tc.name, err)
			}
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1 << 30: "1 GiB", 3 << 29: "1.5 GiB", 100 << 10: "100 KiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
