package runtime

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// addLayer sums its list input elementwise and passes on the first input's
// mask, as Keras merge layers do.
type addLayer struct{ name string }

func (l *addLayer) Name() string      { return l.name }
func (l *addLayer) ClassName() string { return "Add" }
func (l *addLayer) Call(ctx *Workspace, call *Call) ([]Value, error) {
	in := call.Inputs()
	if len(in) == 0 {
		return nil, errors.New("no inputs")
	}
	out := NewTensor(in[0].T.Shape...)
	for _, v := range in {
		if v.T.Len() != out.Len() {
			return nil, fmt.Errorf("shape %v vs %v", v.T.Shape, out.Shape)
		}
		for i, x := range v.T.Data {
			out.Data[i] += x
		}
	}
	return []Value{{T: out, Mask: in[0].Mask}}, nil
}

// scaleLayer multiplies its input by the constant second argument and
// reports the mask it saw (explicit mask kwarg first) as its second output.
type scaleLayer struct{ name string }

func (l *scaleLayer) Name() string      { return l.name }
func (l *scaleLayer) ClassName() string { return "Scale" }
func (l *scaleLayer) Call(ctx *Workspace, call *Call) ([]Value, error) {
	in := call.Inputs()[0]
	f := float32(call.Args[1].Const.(float64))
	out := NewTensor(in.T.Shape...)
	for i, x := range in.T.Data {
		out.Data[i] = f * x
	}
	mask := in.Mask
	if m, ok := call.Kwarg("mask"); ok {
		mask = m.Values[0].T
	}
	seen := NewTensor(1)
	if mask != nil {
		seen.Data[0] = 1
	}
	return []Value{{T: out, Mask: mask}, {T: seen}}, nil
}

// counterLayer adds a running count kept in the Workspace to its input when
// stateful or streaming, the way RNN layers carry state.
type counterLayer struct {
	name     string
	stateful bool
}

func (l *counterLayer) Name() string      { return l.name }
func (l *counterLayer) ClassName() string { return "Counter" }
func (l *counterLayer) Call(ctx *Workspace, call *Call) ([]Value, error) {
	in := call.Inputs()[0]
	var count float32
	if s := ctx.State(l); s != nil {
		count = s[0].Data[0]
	}
	count++
	if l.stateful || ctx.Streaming() {
		ctx.SetState(l, []*Tensor{{Shape: []int{1}, Data: []float32{count}}})
	}
	out := in.T.Clone()
	for i := range out.Data {
		out.Data[i] += count
	}
	return []Value{{T: out}}, nil
}
func (l *counterLayer) ResetState(ctx *Workspace) { ctx.SetState(l, nil) }

type failLayer struct{}

var errBoom = errors.New("boom")

func (failLayer) Name() string                                     { return "dense_7" }
func (failLayer) ClassName() string                                { return "Dense" }
func (failLayer) Call(ctx *Workspace, call *Call) ([]Value, error) { return nil, errBoom }

func vec(xs ...float32) Value { return Value{T: &Tensor{Shape: []int{len(xs)}, Data: xs}} }

func one(s ...int) ArgRef { return ArgRef{Slots: s} }

func mustGraph(t *testing.T, name string, numSlots int, inputs []int, nodes []GraphNode, outputs []int) *Graph {
	t.Helper()
	g, err := NewGraph(name, "Functional", numSlots, inputs, nodes, outputs)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func wantData(t *testing.T, what string, got *Tensor, want ...float32) {
	t.Helper()
	if got == nil || len(got.Data) != len(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
	for i := range want {
		if got.Data[i] != want[i] {
			t.Fatalf("%s = %v, want %v", what, got.Data, want)
		}
	}
}

// diamond: a, b inputs; s = 2a (shared scale layer, also used for 3b);
// out0 = s + b + 3b, out1 = s.
func diamond(t *testing.T) *Graph {
	scale := &scaleLayer{"scale"}
	add := &addLayer{"add"}
	nodes := []GraphNode{
		{Layer: scale, Args: []ArgRef{one(0), {Const: 2.0}}, Outputs: []int{2, -1}},
		{Layer: scale, Args: []ArgRef{one(1), {Const: 3.0}}, Outputs: []int{3, -1}},
		{Layer: add, Args: []ArgRef{{Slots: []int{2, 1, 3}, IsList: true}}, Outputs: []int{4}},
	}
	return mustGraph(t, "diamond", 5, []int{0, 1}, nodes, []int{4, 2})
}

func TestGraphRun(t *testing.T) {
	g := diamond(t)
	ctx := NewWorkspace(false)
	var seen []string
	outs, err := g.RunObserved(ctx, []Value{vec(1, 2), vec(10, 20)}, func(node int, outs []Value) {
		seen = append(seen, fmt.Sprintf("%d:%v", node, outs[0].T.Shape))
	})
	if err != nil {
		t.Fatal(err)
	}
	wantData(t, "out0", outs[0].T, 2+10+30, 4+20+60)
	wantData(t, "out1", outs[1].T, 2, 4)
	if got := strings.Join(seen, " "); got != "0:[2] 1:[2] 2:[2]" {
		t.Fatalf("observed %q", got)
	}
	if _, err := g.Run(ctx, []Value{vec(1)}); err == nil || !strings.Contains(err.Error(), "got 1 inputs, want 2") {
		t.Fatalf("wrong input count: err = %v", err)
	}
	if g.NumInputs() != 2 || g.NumOutputs() != 2 || len(g.Nodes()) != 3 {
		t.Fatalf("graph shape: %d inputs, %d outputs, %d nodes", g.NumInputs(), g.NumOutputs(), len(g.Nodes()))
	}
}

func TestGraphMasks(t *testing.T) {
	scale := &scaleLayer{"scale"}
	// inner: x -> scale(x, 2); outputs scaled value and whether it saw a mask.
	inner := mustGraph(t, "inner", 3, []int{0}, []GraphNode{
		{Layer: scale, Args: []ArgRef{one(0), {Const: 2.0}}, Outputs: []int{1, 2}},
	}, []int{1, 2})
	// outer: x -> inner(x) ; x -> inner(x, mask=m)
	outer := mustGraph(t, "outer", 6, []int{0, 1}, []GraphNode{
		{Layer: inner, Args: []ArgRef{one(0)}, Outputs: []int{2, 3}},
		{Layer: inner, Args: []ArgRef{one(0)}, Kwargs: map[string]ArgRef{"mask": one(1)}, Outputs: []int{4, 5}},
	}, []int{3, 5, 4})
	ctx := NewWorkspace(false)
	mask := &Tensor{Shape: []int{2}, Data: []float32{1, 0}}

	// No mask anywhere: neither call sees one.
	outs, err := outer.Run(ctx, []Value{vec(1, 2), vec(1, 1)})
	if err != nil {
		t.Fatal(err)
	}
	wantData(t, "implicit mask seen", outs[0].T, 0)
	wantData(t, "explicit mask seen", outs[1].T, 1)
	if outs[2].Mask == nil || outs[2].Mask.Data[1] != 1 {
		t.Fatalf("explicit mask not carried to the output: %v", outs[2].Mask)
	}

	// A mask on the input Value reaches the nested graph's layer.
	outs, err = outer.Run(ctx, []Value{{T: vec(1, 2).T, Mask: mask}, vec(1, 1)})
	if err != nil {
		t.Fatal(err)
	}
	wantData(t, "implicit mask seen", outs[0].T, 1)
}

func TestGraphErrors(t *testing.T) {
	g := mustGraph(t, "m", 3, []int{0}, []GraphNode{
		{Layer: &addLayer{"add"}, Args: []ArgRef{one(0)}, Outputs: []int{1}},
		{Layer: failLayer{}, Args: []ArgRef{one(1)}, Outputs: []int{2}},
	}, []int{2})
	outer := mustGraph(t, "outer", 2, []int{0}, []GraphNode{
		{Layer: g, Args: []ArgRef{one(0)}, Outputs: []int{1}},
	}, []int{1})
	_, err := outer.Run(NewWorkspace(false), []Value{vec(1)})
	if !errors.Is(err, errBoom) || err.Error() != `layer "m" (Functional): layer "dense_7" (Dense): boom` {
		t.Fatalf("err = %v", err)
	}

	add := &addLayer{"add"}
	bad := []struct {
		name     string
		slots    int
		inputs   []int
		nodes    []GraphNode
		outputs  []int
		contains string
	}{
		{"read before write", 3, []int{0}, []GraphNode{
			{Layer: add, Args: []ArgRef{one(2)}, Outputs: []int{1}},
			{Layer: add, Args: []ArgRef{one(0)}, Outputs: []int{2}},
		}, []int{1}, "read before any node writes it"},
		{"written twice", 2, []int{0}, []GraphNode{
			{Layer: add, Args: []ArgRef{one(0)}, Outputs: []int{1}},
			{Layer: add, Args: []ArgRef{one(0)}, Outputs: []int{1}},
		}, []int{1}, "written twice"},
		{"overwrites input", 2, []int{0}, []GraphNode{
			{Layer: add, Args: []ArgRef{one(0)}, Outputs: []int{0}},
		}, []int{0}, "written twice"},
		{"kwarg out of range", 2, []int{0}, []GraphNode{
			{Layer: add, Args: []ArgRef{one(0)}, Kwargs: map[string]ArgRef{"mask": one(7)}, Outputs: []int{1}},
		}, []int{1}, `keyword argument "mask": slot 7 out of range`},
		{"output never written", 3, []int{0}, []GraphNode{
			{Layer: add, Args: []ArgRef{one(0)}, Outputs: []int{1}},
		}, []int{2}, "never written"},
		{"no layer", 2, []int{0}, []GraphNode{{Args: []ArgRef{one(0)}, Outputs: []int{1}}}, []int{1}, "no layer"},
		{"input out of range", 1, []int{1}, nil, nil, "out of range"},
		{"duplicate input", 1, []int{0, 0}, nil, nil, "already an input"},
	}
	for _, c := range bad {
		_, err := NewGraph("m", "Functional", c.slots, c.inputs, c.nodes, c.outputs)
		if err == nil || !strings.Contains(err.Error(), c.contains) || !strings.Contains(err.Error(), `graph "m"`) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.contains)
		}
	}

	// A layer returning too few outputs is caught at run time.
	g2 := mustGraph(t, "m", 3, []int{0}, []GraphNode{
		{Layer: add, Args: []ArgRef{one(0)}, Outputs: []int{1, 2}},
	}, []int{1})
	if _, err := g2.Run(NewWorkspace(false), []Value{vec(1)}); err == nil || !strings.Contains(err.Error(), `layer "add" (Add): returned 1 outputs, want 2`) {
		t.Fatalf("err = %v", err)
	}
}

// TestGraphImmutable checks that the caller's slices cannot change a built
// graph.
func TestGraphImmutable(t *testing.T) {
	args := []ArgRef{one(0), {Const: 2.0}}
	outs := []int{1, -1}
	g := mustGraph(t, "m", 2, []int{0}, []GraphNode{{Layer: &scaleLayer{"s"}, Args: args, Outputs: outs}}, []int{1})
	args[0].Slots[0] = 1
	outs[0] = 0
	res, err := g.Run(NewWorkspace(false), []Value{vec(3)})
	if err != nil {
		t.Fatal(err)
	}
	wantData(t, "out", res[0].T, 6)
}

func TestSession(t *testing.T) {
	stateful := &counterLayer{name: "stateful", stateful: true}
	plain := &counterLayer{name: "plain"}
	inner := mustGraph(t, "inner", 2, []int{0}, []GraphNode{
		{Layer: stateful, Args: []ArgRef{one(0)}, Outputs: []int{1}},
	}, []int{1})
	g := mustGraph(t, "m", 3, []int{0}, []GraphNode{
		{Layer: inner, Args: []ArgRef{one(0)}, Outputs: []int{1}},
		{Layer: plain, Args: []ArgRef{one(1)}, Outputs: []int{2}},
	}, []int{2})

	s := NewSession(g, false)
	for call, want := range []float32{2, 3, 4} { // stateful count 1,2,3 + plain 1
		outs, err := s.Run([]Value{vec(0)})
		if err != nil {
			t.Fatal(err)
		}
		wantData(t, fmt.Sprintf("call %d", call), outs[0].T, want)
	}
	s.Reset()
	outs, _ := s.Run([]Value{vec(0)})
	wantData(t, "after reset", outs[0].T, 2)

	st := NewSession(g, true)
	for call, want := range []float32{2, 4, 6} { // both layers carry state
		outs, err := st.Run([]Value{vec(0)})
		if err != nil {
			t.Fatal(err)
		}
		wantData(t, fmt.Sprintf("streaming call %d", call), outs[0].T, want)
	}
	st.Reset()
	outs, _ = st.Run([]Value{vec(0)})
	wantData(t, "streaming after reset", outs[0].T, 2)
}

// TestSessionCopiesOutputs checks that an identity model's output is not
// the caller's input, and outputs survive the next call.
func TestSessionCopiesOutputs(t *testing.T) {
	g := mustGraph(t, "id", 1, []int{0}, nil, []int{0})
	s := NewSession(g, false)
	in := vec(1, 2)
	outs, err := s.Run([]Value{in})
	if err != nil {
		t.Fatal(err)
	}
	outs[0].T.Data[0] = 99
	wantData(t, "input", in.T, 1, 2)
	shared, err := s.RunShared([]Value{in})
	if err != nil || shared[0].T != in.T {
		t.Fatalf("RunShared should pass the tensor through: %v", err)
	}
}

// noAllocLayer returns preallocated per-Workspace outputs, so a steady-state
// graph run can be checked for allocations of the executor alone.
type noAllocLayer struct {
	mu   sync.Mutex
	outs map[*Workspace][]Value
}

func (l *noAllocLayer) Name() string      { return "noalloc" }
func (l *noAllocLayer) ClassName() string { return "NoAlloc" }
func (l *noAllocLayer) Call(ctx *Workspace, call *Call) ([]Value, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.outs[ctx]
	if !ok {
		o = []Value{{T: NewTensor(1)}}
		l.outs[ctx] = o
	}
	o[0].T.Data[0] = call.Inputs()[0].T.Data[0] + 1
	return o, nil
}

func TestGraphRunAllocs(t *testing.T) {
	l := &noAllocLayer{outs: map[*Workspace][]Value{}}
	var nodes []GraphNode
	for i := 0; i < 10; i++ {
		nodes = append(nodes, GraphNode{Layer: l, Args: []ArgRef{one(i)}, Kwargs: map[string]ArgRef{"training": {Const: false}}, Outputs: []int{i + 1}})
	}
	g := mustGraph(t, "chain", 11, []int{0}, nodes, []int{10})
	ctx := NewWorkspace(false)
	in := []Value{vec(1)}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := g.Run(ctx, in); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("steady-state Graph.Run allocates %v times", allocs)
	}
}

// TestGraphConcurrent runs one Graph from many goroutines, each with its own
// Session; run with -race.
func TestGraphConcurrent(t *testing.T) {
	g := diamond(t)
	stateful := &counterLayer{name: "c", stateful: true}
	outer := mustGraph(t, "outer", 4, []int{0, 1}, []GraphNode{
		{Layer: g, Args: []ArgRef{{Slots: []int{0, 1}, IsList: true}}, Outputs: []int{2, -1}},
		{Layer: stateful, Args: []ArgRef{one(2)}, Outputs: []int{3}},
	}, []int{3})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s := NewSession(outer, false)
			a := float32(w)
			for i := 1; i <= 50; i++ {
				outs, err := s.Run([]Value{vec(a), vec(1)})
				if err != nil {
					errs <- err
					return
				}
				if want := 2*a + 4 + float32(i); outs[0].T.Data[0] != want {
					errs <- fmt.Errorf("worker %d call %d: got %v, want %v", w, i, outs[0].T.Data[0], want)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestWorkspaceScratch(t *testing.T) {
	ctx := NewWorkspace(false)
	a, b := new(int), new(int)
	a0 := ctx.Scratch(a, 0, 4)
	a1 := ctx.Scratch(a, 1, 4)
	b0 := ctx.Scratch(b, 0, 4)
	big := ctx.Scratch(a, 1000, 2)
	neg := ctx.Scratch(b, -3, 2)
	a0[0], a1[0], b0[0], big[0], neg[0] = 1, 2, 3, 4, 5
	// Same keys give the same memory back, whatever was asked in between.
	if ctx.Scratch(a, 0, 3)[0] != 1 || ctx.Scratch(b, 0, 4)[0] != 3 || ctx.Scratch(a, 1, 4)[0] != 2 ||
		ctx.Scratch(a, 1000, 2)[0] != 4 || ctx.Scratch(b, -3, 1)[0] != 5 {
		t.Fatal("scratch buffers not kept per (owner, slot)")
	}
	// Growing returns a buffer of the new size.
	if got := len(ctx.Scratch(a, 0, 100)); got != 100 {
		t.Fatalf("len = %d, want 100", got)
	}
	if allocs := testing.AllocsPerRun(100, func() {
		ctx.Scratch(a, 0, 50)
		ctx.Scratch(b, 0, 4)
		ctx.Scratch(a, 1, 4)
	}); allocs != 0 {
		t.Fatalf("steady-state Scratch allocates %v times", allocs)
	}
}

// TestWorkspaceStates checks that State, whose last lookup is cached, always
// sees the latest SetState and ResetStates, whatever key was asked in between.
func TestWorkspaceStates(t *testing.T) {
	ctx := NewWorkspace(true)
	a, b := new(int), new(int)
	if ctx.State(a) != nil {
		t.Fatal("fresh context has a state")
	}
	sa := []*Tensor{NewTensor(1)}
	ctx.SetState(a, sa)
	if got := ctx.State(a); len(got) != 1 || got[0] != sa[0] {
		t.Fatalf("State(a) = %v after SetState", got)
	}
	if ctx.State(b) != nil {
		t.Fatal("State(b) returns a's state")
	}
	sb := []*Tensor{NewTensor(2)}
	ctx.SetState(b, sb)
	if got := ctx.State(a); len(got) != 1 || got[0] != sa[0] {
		t.Fatalf("State(a) = %v after SetState(b)", got)
	}
	ctx.SetState(a, nil)
	if ctx.State(a) != nil {
		t.Fatal("State(a) not cleared by SetState(a, nil)")
	}
	ctx.State(b)
	ctx.ResetStates()
	if ctx.State(b) != nil || ctx.State(a) != nil {
		t.Fatal("ResetStates left a state")
	}
}

// TestWorkspaceAlternatingGraphs runs two graphs in turn on one Workspace: the
// cached frame of the last top-level run must never serve the other graph.
func TestWorkspaceAlternatingGraphs(t *testing.T) {
	ctx := NewWorkspace(false)
	d := diamond(t)
	single := mustGraph(t, "single", 2, []int{0}, []GraphNode{
		{Layer: &scaleLayer{"scale"}, Args: []ArgRef{one(0), {Const: 5.0}}, Outputs: []int{1, -1}},
	}, []int{1})
	for i := range 3 {
		outs, err := d.Run(ctx, []Value{vec(1), vec(2)})
		if err != nil {
			t.Fatal(err)
		}
		wantData(t, fmt.Sprintf("diamond run %d", i), outs[0].T, 10)
		wantData(t, fmt.Sprintf("diamond run %d, out1", i), outs[1].T, 2)
		outs, err = single.Run(ctx, []Value{vec(3)})
		if err != nil {
			t.Fatal(err)
		}
		if len(outs) != 1 {
			t.Fatalf("single run %d: %d outputs, want 1", i, len(outs))
		}
		wantData(t, fmt.Sprintf("single run %d", i), outs[0].T, 15)
	}
}

// TestNestedCallsKeepOutputs calls one nested graph twice in a row (a
// shared sub-model) and checks that the first call's outputs survive.
func TestNestedCallsKeepOutputs(t *testing.T) {
	inner := mustGraph(t, "enc", 2, []int{0}, []GraphNode{
		{Layer: &scaleLayer{"s"}, Args: []ArgRef{one(0), {Const: 2.0}}, Outputs: []int{1, -1}},
	}, []int{1})
	ctx := NewWorkspace(false)
	first, err := inner.Call(ctx, &Call{Args: []Arg{{Values: []Value{vec(1)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inner.Call(ctx, &Call{Args: []Arg{{Values: []Value{vec(5)}}}}); err != nil {
		t.Fatal(err)
	}
	wantData(t, "first call's output", first[0].T, 2)
	// A siamese outer graph: the shared encoder on two inputs, then added.
	outer := mustGraph(t, "siamese", 5, []int{0, 1}, []GraphNode{
		{Layer: inner, Args: []ArgRef{one(0)}, Outputs: []int{2}},
		{Layer: inner, Args: []ArgRef{one(1)}, Outputs: []int{3}},
		{Layer: &addLayer{"add"}, Args: []ArgRef{{Slots: []int{2, 3}, IsList: true}}, Outputs: []int{4}},
	}, []int{4})
	outs, err := outer.Run(nil, []Value{vec(1), vec(10)})
	if err != nil {
		t.Fatal(err)
	}
	wantData(t, "siamese", outs[0].T, 22)
}

// BenchmarkGraphRun measures the executor's own cost per node, with layers
// that do (almost) nothing.
func BenchmarkGraphRun(b *testing.B) {
	l := &noAllocLayer{outs: map[*Workspace][]Value{}}
	const n = 20
	var nodes []GraphNode
	for i := 0; i < n; i++ {
		nodes = append(nodes, GraphNode{Layer: l, Args: []ArgRef{one(i)}, Kwargs: map[string]ArgRef{"mask": one(i)}, Outputs: []int{i + 1}})
	}
	g, err := NewGraph("chain", "Functional", n+1, []int{0}, nodes, []int{n})
	if err != nil {
		b.Fatal(err)
	}
	ctx := NewWorkspace(false)
	in := []Value{vec(1)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Run(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/n, "ns/node")
}

// noneLayer reports which entries of its list argument carry a tensor.
type noneLayer struct{}

func (noneLayer) Name() string      { return "concat" }
func (noneLayer) ClassName() string { return "Concatenate" }
func (noneLayer) Call(ctx *Workspace, call *Call) ([]Value, error) {
	m, _ := call.Kwarg("mask")
	out := NewTensor(len(m.Values))
	for i, v := range m.Values {
		if v.T != nil {
			out.Data[i] = 1
		}
	}
	return []Value{{T: out}, {T: out}}, nil
}

// TestNoneSlotsAndDroppedOutputs checks slot -1 as a None list entry and
// that outputs past a node's Outputs are dropped.
func TestNoneSlotsAndDroppedOutputs(t *testing.T) {
	g := mustGraph(t, "m", 3, []int{0, 1}, []GraphNode{
		{Layer: noneLayer{}, Args: []ArgRef{{Slots: []int{0, 1}, IsList: true}},
			Kwargs: map[string]ArgRef{"mask": {Slots: []int{-1, 1}, IsList: true}}, Outputs: []int{2}},
	}, []int{2})
	outs, err := g.Run(NewWorkspace(false), []Value{vec(1), vec(2)})
	if err != nil {
		t.Fatal(err)
	}
	wantData(t, "tensor entries", outs[0].T, 0, 1)
	if _, err := NewGraph("m", "Functional", 2, []int{0}, []GraphNode{
		{Layer: noneLayer{}, Args: []ArgRef{{Slots: []int{-2}}}, Outputs: []int{1}},
	}, []int{1}); err == nil {
		t.Fatal("slot -2 accepted")
	}
}
