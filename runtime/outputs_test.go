package runtime

import "testing"

// reuseLayer doubles its input into ctx.Output, the way layers keep their
// outputs per node.
type reuseLayer struct{}

func (*reuseLayer) Name() string      { return "double" }
func (*reuseLayer) ClassName() string { return "Double" }
func (l *reuseLayer) Call(ctx *Workspace, call *Call) ([]Value, error) {
	in := call.Inputs()[0].T
	out := ctx.Output(l, 0, in.Shape...)
	for i, v := range in.Data {
		out.Data[i] = 2 * v
	}
	res := ctx.Values(l, 0, 1)
	res[0].T = out
	return res, nil
}

// TestWorkspaceOutputs checks the identities Output hands out: one per
// (node, owner, slot), stable across runs, distinct for a shared layer's
// nodes and for a shared nested graph's calls, and new outside a run.
func TestWorkspaceOutputs(t *testing.T) {
	l := &reuseLayer{}
	inner := mustGraph(t, "inner", 2, []int{0}, []GraphNode{{Layer: l, Args: []ArgRef{one(0)}, Outputs: []int{1}}}, []int{1})
	g := mustGraph(t, "outer", 6, []int{0}, []GraphNode{
		{Layer: l, Args: []ArgRef{one(0)}, Outputs: []int{1}},
		{Layer: l, Args: []ArgRef{one(1)}, Outputs: []int{2}},
		{Layer: inner, Args: []ArgRef{one(1)}, Outputs: []int{3}},
		{Layer: inner, Args: []ArgRef{one(3)}, Outputs: []int{4}},
		{Layer: l, Args: []ArgRef{one(4)}, Outputs: []int{5}},
	}, []int{1, 2, 3, 4, 5})
	ctx := NewWorkspace(false)
	var first []*Tensor
	for run := range 3 {
		x := float32(run + 1)
		outs, err := g.Run(ctx, []Value{vec(x, -x)})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[*Tensor]bool{}
		for i, o := range outs {
			f := []float32{2, 4, 4, 8, 16}[i]
			wantData(t, "output", o.T, f*x, -f*x)
			if seen[o.T] {
				t.Fatalf("run %d: output %d shares a tensor with an earlier output", run, i)
			}
			seen[o.T] = true
			if run == 0 {
				first = append(first, o.T)
			} else if o.T != first[i] {
				t.Errorf("run %d: output %d is a new tensor, want the one reused from run 0", run, i)
			}
		}
	}
	if a, b := ctx.Output(l, 0, 2), ctx.Output(l, 0, 2); a == b {
		t.Error("Output outside a run returned the same tensor twice")
	}
	if v := ctx.Values(l, 0, 3); len(v) != 3 {
		t.Errorf("Values outside a run: got %d values, want 3", len(v))
	}
	if v := ctx.Tensors(l, 0, 2); len(v) != 2 {
		t.Errorf("Tensors outside a run: got %d tensors, want 2", len(v))
	}
	var nilCtx *Workspace
	if o := nilCtx.Output(l, 0, 2, 3); o.Len() != 6 {
		t.Errorf("Output on a nil Workspace: got %v, want [2 3]", o)
	}
}
