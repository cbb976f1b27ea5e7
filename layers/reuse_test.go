package layers

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// Tests of the per-node output reuse (runtime.Workspace.Output): a streaming
// step through a graph allocates nothing, and reuse never lets one node's
// output overwrite another's, for shared layers and shared nested models.

func buildSpec(t *testing.T, spec *convert.Layer) runtime.Layer {
	t.Helper()
	l, err := Standard().Build(spec, &Env{KerasVersion: "3.16.0"})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// callFresh runs l outside any graph, so its outputs are new tensors:
// the reference the reused outputs must match.
func callFresh(t *testing.T, ctx *runtime.Workspace, l runtime.Layer, in ...runtime.Value) []runtime.Value {
	t.Helper()
	outs, err := l.Call(ctx, &runtime.Call{Args: []runtime.Arg{{Values: in}}})
	if err != nil {
		t.Fatal(err)
	}
	return outs
}

func sameValues(t *testing.T, what string, got, want *runtime.Tensor) {
	t.Helper()
	if !slices.Equal(got.Shape, want.Shape) || !slices.Equal(got.Data, want.Data) {
		t.Fatalf("%s: got %v %v, want %v %v", what, got.Shape, got.Data, want.Shape, want.Data)
	}
}

// textGenerator builds InputLayer → Embedding → Dropout → LSTM → Dense
// (softmax), a streaming text generator's graph, and returns it with its
// layers in order.
func textGenerator(t *testing.T) (*runtime.Graph, []runtime.Layer) {
	rng := rand.New(rand.NewPCG(41, 42))
	const vocab, dim, units = 11, 6, 8
	table, _ := randWeights(rng, vocab*dim, 1)
	dense, _, _ := denseSpec(rng, units, vocab, "softmax", true)
	lstm, _ := buildRNNLayer(t, rng, cellCfg{class: "LSTM", units: units, dim: dim, act: "tanh", ract: "sigmoid", useBias: true}, nil)
	ls := []runtime.Layer{
		buildSpec(t, &convert.Layer{Name: "tokens", ClassName: "InputLayer", Config: convert.Config{}}),
		buildSpec(t, &convert.Layer{Name: "emb", ClassName: "Embedding",
			Config:  convert.Config{"input_dim": float64(vocab), "output_dim": float64(dim)},
			Weights: []convert.Weight{{Name: "embeddings", Shape: []int{vocab, dim}, Data: table}}}),
		buildSpec(t, &convert.Layer{Name: "drop", ClassName: "Dropout", Config: convert.Config{"rate": 0.5}}),
		lstm,
		buildSpec(t, dense),
	}
	var nodes []runtime.GraphNode
	for i, l := range ls {
		nodes = append(nodes, runtime.GraphNode{Layer: l, Args: []runtime.ArgRef{{Slots: []int{i}}}, Outputs: []int{i + 1}})
	}
	g, err := runtime.NewGraph("generator", "Functional", len(ls)+1, []int{0}, nodes, []int{len(ls)})
	if err != nil {
		t.Fatal(err)
	}
	return g, ls
}

// TestStreamingGraphAllocs streams tokens one step at a time through a
// runtime graph: steady-state steps allocate nothing, and every step's
// output is what the layers give when called one by one with new outputs.
func TestStreamingGraphAllocs(t *testing.T) {
	g, ls := textGenerator(t)
	s := runtime.NewSession(g, true)
	ref := runtime.NewWorkspace(true)
	tok := runtime.NewTensor(1, 1)
	for _, id := range []float32{3, 0, 10, 7, 7, 1} {
		tok.Data[0] = id
		outs, err := s.RunShared([]runtime.Value{{T: tok}})
		if err != nil {
			t.Fatal(err)
		}
		want := []runtime.Value{{T: tok.Clone()}}
		for _, l := range ls {
			want = callFresh(t, ref, l, want...)
		}
		sameValues(t, "step output", outs[0].T, want[0].T)
	}
	if testing.Short() {
		return
	}
	allocs := testing.AllocsPerRun(50, func() {
		tok.Data[0] = float32(int(tok.Data[0]+1) % 11)
		if _, err := s.RunShared([]runtime.Value{{T: tok}}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("streaming step: %v allocations, want 0", allocs)
	}
}

// TestSharedLayerOutputs calls one LSTM (with return_state), one Dense and
// one nested model at two nodes each: with reuse on, both nodes' outputs
// stay right, run after run.
func TestSharedLayerOutputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	lstm, _ := buildRNNLayer(t, rng, cellCfg{class: "LSTM", units: 4, dim: 3, act: "tanh", ract: "sigmoid", useBias: true},
		convert.Config{"return_state": true})
	ds, _, _ := denseSpec(rng, 4, 5, "tanh", true)
	dense := buildSpec(t, ds)
	ds2, _, _ := denseSpec(rng, 5, 2, "linear", true)
	ds2.Name = "inner_dense"
	inner, err := runtime.NewGraph("inner", "Functional", 2, []int{0},
		[]runtime.GraphNode{{Layer: buildSpec(t, ds2), Args: []runtime.ArgRef{{Slots: []int{0}}}, Outputs: []int{1}}}, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	one := func(s int) []runtime.ArgRef { return []runtime.ArgRef{{Slots: []int{s}}} }
	// Slots: 0, 1 inputs a, b; lstm(a) → 2, 3, 4; lstm(b) → 5, 6, 7;
	// dense → 8, 9; inner → 10, 11.
	nodes := []runtime.GraphNode{
		{Layer: lstm, Args: one(0), Outputs: []int{2, 3, 4}},
		{Layer: lstm, Args: one(1), Outputs: []int{5, 6, 7}},
		{Layer: dense, Args: one(2), Outputs: []int{8}},
		{Layer: dense, Args: one(5), Outputs: []int{9}},
		{Layer: inner, Args: one(8), Outputs: []int{10}},
		{Layer: inner, Args: one(9), Outputs: []int{11}},
	}
	g, err := runtime.NewGraph("siamese", "Functional", 12, []int{0, 1}, nodes, []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	if err != nil {
		t.Fatal(err)
	}
	s := runtime.NewSession(g, false)
	var kept []runtime.Value
	var keptWant []*runtime.Tensor
	for run := range 3 {
		a, _ := randSeq(rng, 2, 5, 3)
		b, _ := randSeq(rng, 2, 5, 3)
		ref := runtime.NewWorkspace(false)
		la := callFresh(t, ref, lstm, runtime.Value{T: a})
		lb := callFresh(t, ref, lstm, runtime.Value{T: b})
		da := callFresh(t, ref, dense, la[0])
		db := callFresh(t, ref, dense, lb[0])
		// A graph called outside a run keeps its outputs in the Workspace
		// like Run: one Workspace per reference call.
		want := []*runtime.Tensor{la[0].T, la[1].T, la[2].T, lb[0].T, lb[1].T, lb[2].T, da[0].T, db[0].T,
			callFresh(t, runtime.NewWorkspace(false), inner, da[0])[0].T,
			callFresh(t, runtime.NewWorkspace(false), inner, db[0])[0].T}
		if run == 0 {
			// Session.Run's copies must survive later runs.
			kept, err = s.Run([]runtime.Value{{T: a}, {T: b}})
			if err != nil {
				t.Fatal(err)
			}
			keptWant = want
		}
		outs, err := s.RunShared([]runtime.Value{{T: a}, {T: b}})
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range want {
			sameValues(t, "output", outs[i].T, w)
		}
		if slices.Equal(outs[0].T.Data, outs[3].T.Data) {
			t.Fatal("the shared LSTM gave equal outputs for different inputs")
		}
	}
	for i, w := range keptWant {
		sameValues(t, "copied output", kept[i].T, w)
	}
}

// TestRunSharedFedBack feeds each RunShared output back as the next input,
// as an autoregressive loop might: reused outputs must not overwrite the
// input the layer is reading.
func TestRunSharedFedBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	ds, _, _ := denseSpec(rng, 4, 4, "tanh", true)
	dense := buildSpec(t, ds)
	g, err := runtime.NewGraph("loop", "Sequential", 2, []int{0},
		[]runtime.GraphNode{{Layer: dense, Args: []runtime.ArgRef{{Slots: []int{0}}}, Outputs: []int{1}}}, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	s := runtime.NewSession(g, true)
	x, _ := randSeq(rng, 1, 2, 4)
	x.Shape = []int{2, 4}
	in := x
	for step := range 6 {
		want := callFresh(t, nil, dense, runtime.Value{T: in.Clone()})[0].T
		outs, err := s.RunShared([]runtime.Value{{T: in}})
		if err != nil {
			t.Fatal(err)
		}
		sameValues(t, "step output", outs[0].T, want)
		in = outs[0].T
		if step%2 == 1 {
			// A view of the output's last row.
			d := outs[0].T.Data
			in, err = runtime.FromData(d[len(d)-4:], 1, 4)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestSharedBidirectionalOutputs calls one Bidirectional LSTM (returning
// sequences and states) at two nodes, merged and unmerged: the merged,
// flipped and state outputs of both nodes stay right, run after run.
func TestSharedBidirectionalOutputs(t *testing.T) {
	for _, mode := range []any{"concat", "sum", nil} {
		rng := rand.New(rand.NewPCG(47, 48))
		opts := convert.Config{"return_sequences": true, "return_state": true}
		fwd := xRNNSpec(rng, "LSTM", "forward_lstm", 3, 4, opts)
		bwd := xRNNSpec(rng, "LSTM", "backward_lstm", 3, 4, convert.Config{"return_sequences": true, "return_state": true, "go_backwards": true})
		bidi := xBuildSpec(t, "3.16.0", &convert.Layer{Name: "bidi", ClassName: "Bidirectional",
			Config: convert.Config{"layer": fwd, "backward_layer": bwd, "merge_mode": mode}})
		n := 5 // merged output and four states
		if mode == nil {
			n = 6
		}
		outA, outB := make([]int, n), make([]int, n)
		var all []int
		for i := range n {
			outA[i], outB[i] = 2+i, 2+n+i
		}
		all = append(append(all, outA...), outB...)
		g, err := runtime.NewGraph("siamese", "Functional", 2+2*n, []int{0, 1}, []runtime.GraphNode{
			{Layer: bidi, Args: []runtime.ArgRef{{Slots: []int{0}}}, Outputs: outA},
			{Layer: bidi, Args: []runtime.ArgRef{{Slots: []int{1}}}, Outputs: outB},
		}, all)
		if err != nil {
			t.Fatal(err)
		}
		s := runtime.NewSession(g, false)
		for range 2 {
			a, _ := randSeq(rng, 2, 5, 3)
			b, _ := randSeq(rng, 2, 5, 3)
			wantA := callFresh(t, runtime.NewWorkspace(false), bidi, runtime.Value{T: a})
			wantB := callFresh(t, runtime.NewWorkspace(false), bidi, runtime.Value{T: b})
			outs, err := s.RunShared([]runtime.Value{{T: a}, {T: b}})
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				sameValues(t, fmt.Sprintf("merge %v: node a output %d", mode, i), outs[i].T, wantA[i].T)
				sameValues(t, fmt.Sprintf("merge %v: node b output %d", mode, i), outs[n+i].T, wantB[i].T)
			}
		}
	}
}
