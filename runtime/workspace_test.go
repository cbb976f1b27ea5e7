package runtime

import (
	"context"
	"errors"
	goruntime "runtime"
	"testing"
)

// cancelLayer cancels the call's context when it runs, so that the graph
// must stop before the next node.
type cancelLayer struct {
	cancel context.CancelFunc
	ran    *int
}

func (l cancelLayer) Name() string      { return "cancel" }
func (l cancelLayer) ClassName() string { return "Cancel" }
func (l cancelLayer) Call(ctx *Workspace, call *Call) ([]Value, error) {
	*l.ran++
	l.cancel()
	return []Value{call.Inputs()[0]}, nil
}

func TestWorkspaceContext(t *testing.T) {
	ws := NewWorkspace(false)
	if err := ws.Err(); err != nil {
		t.Fatalf("Err without a context: %v", err)
	}
	if ws.Context() != context.Background() {
		t.Error("Context without SetContext is not Background")
	}
	ctx, cancel := context.WithCancel(context.Background())
	ws.SetContext(ctx)
	if err := ws.Err(); err != nil {
		t.Fatalf("Err before cancel: %v", err)
	}
	cancel()
	if err := ws.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Err after cancel: %v, want context.Canceled", err)
	}
	ws.ClearContext()
	if err := ws.Err(); err != nil {
		t.Fatalf("Err after SetContext(nil): %v", err)
	}
	var nilWS *Workspace
	if nilWS.Err() != nil || nilWS.Threads() < 1 {
		t.Error("a nil Workspace has a context error or no threads")
	}
}

func TestWorkspaceErrAllocs(t *testing.T) {
	ws := NewWorkspace(false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ws.SetContext(ctx)
	if n := testing.AllocsPerRun(100, func() { _ = ws.Err() }); n != 0 {
		t.Errorf("Err allocates %v times", n)
	}
}

func TestWorkspaceThreads(t *testing.T) {
	ws := NewWorkspace(false)
	for _, tc := range []struct{ set, want int }{
		{0, goruntime.GOMAXPROCS(0)},
		{-3, goruntime.GOMAXPROCS(0)},
		{1, 1},
		{7, 7},
	} {
		ws.SetThreads(tc.set)
		if got := ws.Threads(); got != tc.want {
			t.Errorf("SetThreads(%d): Threads() = %d, want %d", tc.set, got, tc.want)
		}
	}
}

func TestGraphStopsBetweenNodes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := 0
	first := cancelLayer{cancel, &ran}
	second := cancelLayer{func() {}, &ran}
	g := mustGraph(t, "g", 3, []int{0}, []GraphNode{
		{Layer: first, Args: []ArgRef{one(0)}, Outputs: []int{1}},
		{Layer: second, Args: []ArgRef{one(1)}, Outputs: []int{2}},
	}, []int{2})
	ws := NewWorkspace(false)
	ws.SetContext(ctx)
	_, err := g.Run(ws, []Value{vec(1, 2)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	if ran != 1 {
		t.Errorf("%d nodes ran, want 1 (the graph must stop after the node that cancelled)", ran)
	}
}

func TestTensorRows(t *testing.T) {
	x := &Tensor{Shape: []int{2, 3, 2}, Data: []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}}
	if x.Rows() != 6 {
		t.Fatalf("Rows = %d, want 6", x.Rows())
	}
	if r := x.Row(4); len(r) != 2 || r[0] != 8 || r[1] != 9 || cap(r) != 2 {
		t.Errorf("Row(4) = %v (cap %d), want [8 9] (cap 2)", r, cap(r))
	}
	v := &Tensor{Shape: []int{3}, Data: []float32{1, 2, 3}}
	if v.Rows() != 1 || len(v.Row(0)) != 3 {
		t.Errorf("vector: Rows %d, Row(0) %v", v.Rows(), v.Row(0))
	}
	for _, i := range []int{-1, 6} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Row(%d) did not panic", i)
				}
			}()
			x.Row(i)
		}()
	}
}
