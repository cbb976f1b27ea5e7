package keras

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/layers"
	"github.com/rnnkit/rnnkit/runtime"
)

// addConst is a test layer: output = sum of its inputs + c. Its builder
// reads c from the config, so tests can tell layers apart by their sums.
type addConst struct {
	name string
	c    float32
}

func (a *addConst) Name() string      { return a.name }
func (a *addConst) ClassName() string { return "AddConst" }
func (a *addConst) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in := call.Inputs()
	out := in[0].T.Clone()
	for _, v := range in[1:] {
		for i := range out.Data {
			out.Data[i] += v.T.Data[i]
		}
	}
	for i := range out.Data {
		out.Data[i] += a.c
	}
	return []runtime.Value{{T: out}}, nil
}

func addConstBuilder(spec *convert.Layer, env *layers.Env) (runtime.Layer, error) {
	return &addConst{name: spec.Name, c: float32(spec.Config.Reader(spec.Name).Float("c", 0))}, nil
}

func ref(layer string, node int) convert.TensorRef {
	return convert.TensorRef{Layer: layer, Node: node}
}

func call1(refs ...convert.TensorRef) convert.Node {
	return convert.Node{Args: []convert.Arg{{Tensors: refs, IsList: len(refs) > 1}}}
}

func inputLayer(name string, shape ...int) *convert.Layer {
	s := make([]any, len(shape))
	for i, d := range shape {
		if d < 0 {
			s[i] = nil
		} else {
			s[i] = float64(d)
		}
	}
	return &convert.Layer{Name: name, ClassName: "InputLayer", Config: convert.Config{"batch_shape": s, "dtype": "float32"}}
}

func addLayer(name string, c float64, nodes ...convert.Node) *convert.Layer {
	return &convert.Layer{Name: name, ClassName: "AddConst", Config: convert.Config{"c": c}, Nodes: nodes,
		Weights: []convert.Weight{{Name: name + "/w", Shape: []int{2}, Data: []float32{0, 0}}}}
}

// A shared layer listed before a layer its second call depends on, and a
// nested model: binding must order nodes by data flow, not list order.
func TestBindSharedAndNested(t *testing.T) {
	inner := &convert.Graph{
		Name: "inner", ClassName: "Sequential",
		Layers: []*convert.Layer{inputLayer("inner_in", -1, 2), addLayer("inner_add", 100, call1(ref("inner_in", 0)))},
		Inputs: []convert.TensorRef{ref("inner_in", 0)}, Outputs: []convert.TensorRef{ref("inner_add", 0)},
	}
	g := &convert.Graph{
		Name: "outer", ClassName: "Functional",
		Layers: []*convert.Layer{
			inputLayer("a", -1, 2),
			// shared: call 0 on a, call 1 on late's output.
			addLayer("shared", 1, call1(ref("a", 0)), call1(ref("late", 0))),
			addLayer("late", 10, call1(ref("shared", 0))),
			{Name: "nested", ClassName: "Sequential", Inner: inner, Nodes: []convert.Node{call1(ref("shared", 1))}},
		},
		Inputs:  []convert.TensorRef{ref("a", 0)},
		Outputs: []convert.TensorRef{ref("nested", 0), ref("shared", 0)},
	}
	m, err := build(&convert.Model{File: "test.h5", Format: "keras-h5", Graph: g}, collectOptions([]Option{WithLayer("AddConst", addConstBuilder)}))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := runtime.FromData([]float32{1, 2}, 1, 2)
	out, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	// shared#0 = x+1; late = x+11; shared#1 = x+12; nested = x+112.
	want0, want1 := []float32{113, 114}, []float32{2, 3}
	if len(out) != 2 || !equal(out[0].Data, want0) || !equal(out[1].Data, want1) {
		t.Fatalf("got %v, %v; want %v, %v", out[0].Data, out[1].Data, want0, want1)
	}
	s := m.Summary()
	if s.TotalParams != 6 {
		t.Errorf("total params %d, want 6 (3 layers with 2 weights each)", s.TotalParams)
	}
	if s.ShapeError != "" {
		t.Errorf("shape error: %s", s.ShapeError)
	}
	var shared LayerSummary
	for _, l := range s.Layers {
		if l.Name == "shared" {
			shared = l
		}
	}
	if len(shared.Inbound) != 2 || shared.Inbound[1][0] != "late[0][0]" {
		t.Errorf("shared inbound %v, want two calls, the second from late[0][0]", shared.Inbound)
	}
	if got := m.Outputs()[0].Shape; !equalInts(got, []int{-1, 2}) {
		t.Errorf("output shape %v, want [-1 2]", got)
	}
}

func TestUnsupportedLayersReportedTogether(t *testing.T) {
	g := &convert.Graph{
		Name: "m", ClassName: "Functional",
		Layers: []*convert.Layer{
			inputLayer("in", -1, 2),
			{Name: "foo", ClassName: "MyAttention", Nodes: []convert.Node{call1(ref("in", 0))}},
			addLayer("ok", 1, call1(ref("foo", 0))),
			{Name: "bar", ClassName: "MyPooling", Nodes: []convert.Node{call1(ref("ok", 0))}},
		},
		Inputs: []convert.TensorRef{ref("in", 0)}, Outputs: []convert.TensorRef{ref("bar", 0)},
	}
	_, err := build(&convert.Model{File: "model.h5", Graph: g}, collectOptions([]Option{WithLayer("AddConst", addConstBuilder)}))
	if err == nil {
		t.Fatal("no error")
	}
	want := `keras: model.h5: 2 unsupported layers: "foo" (MyAttention); "bar" (MyPooling). Implement the class in Go and register it with keras.WithLayer(class, builder) for "MyAttention", "MyPooling"`
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if !errors.Is(err, ErrUnsupported) {
		t.Error("errors.Is(err, ErrUnsupported) is false")
	}
	var u *UnsupportedLayerError
	if !errors.As(err, &u) || u.Name != "foo" {
		t.Errorf("errors.As found %v, want layer foo", u)
	}
	// A custom builder makes the same model load.
	opts := []Option{WithLayer("AddConst", addConstBuilder), WithLayer("MyAttention", addConstBuilder), WithLayer("MyPooling", addConstBuilder)}
	if _, err := build(&convert.Model{File: "model.h5", Graph: g}, collectOptions(opts)); err != nil {
		t.Errorf("with custom builders: %v", err)
	}
}

func TestBindBadReferences(t *testing.T) {
	g := &convert.Graph{
		Name: "m", ClassName: "Functional",
		Layers: []*convert.Layer{
			inputLayer("in", -1, 2),
			addLayer("x", 1, call1(ref("missing", 0))),
		},
		Inputs: []convert.TensorRef{ref("in", 0)}, Outputs: []convert.TensorRef{ref("x", 0)},
	}
	_, err := build(&convert.Model{File: "bad.h5", Graph: g}, collectOptions([]Option{WithLayer("AddConst", addConstBuilder)}))
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("error %v, want ErrFormat naming the missing layer", err)
	}
	// A cycle: a reads b, b reads a.
	g.Layers = []*convert.Layer{inputLayer("in", -1, 2), addLayer("a", 1, call1(ref("b", 0))), addLayer("b", 1, call1(ref("a", 0)))}
	g.Outputs = []convert.TensorRef{ref("b", 0)}
	_, err = build(&convert.Model{File: "cycle.h5", Graph: g}, collectOptions([]Option{WithLayer("AddConst", addConstBuilder)}))
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("error %v, want ErrFormat about a cycle", err)
	}
}

func TestPredictChecksInputs(t *testing.T) {
	g := &convert.Graph{
		Name: "m", ClassName: "Sequential",
		Layers: []*convert.Layer{inputLayer("in", -1, 3, 2), addLayer("x", 1, call1(ref("in", 0)))},
		Inputs: []convert.TensorRef{ref("in", 0)}, Outputs: []convert.TensorRef{ref("x", 0)},
	}
	m, err := build(&convert.Model{File: "m.h5", Graph: g}, collectOptions([]Option{WithLayer("AddConst", addConstBuilder)}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		inputs []*runtime.Tensor
		want   string
	}{
		{nil, "got 0 inputs, want 1"},
		{[]*runtime.Tensor{runtime.NewTensor(4, 3)}, "rank 2"},
		{[]*runtime.Tensor{runtime.NewTensor(4, 5, 2)}, "dimension 1 must be 3"},
		{[]*runtime.Tensor{{Shape: []int{1, 3, 2}, Data: make([]float32, 5)}}, "holds 6 values, the data has 5"},
	} {
		_, err := m.Predict(tc.inputs...)
		if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Predict(%v): error %v, want ErrInput containing %q", tc.inputs, err, tc.want)
		}
	}
	if _, err := m.Predict(runtime.NewTensor(7, 3, 2)); err != nil {
		t.Errorf("any batch size: %v", err)
	}
}

func TestPredictConcurrent(t *testing.T) {
	m, err := Load("../testdata/example/char_gru_generator/model.keras")
	if err != nil {
		t.Fatal(err)
	}
	x, err := ReadNPYFile("../testdata/example/char_gru_generator/x0.npy")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadNPYFile("../testdata/example/char_gru_generator/y0.npy")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				out, err := m.Predict(x)
				if err != nil {
					errs <- err
					return
				}
				if r := Compare(out[0], want, DefaultAtol, DefaultRtol); !r.OK() {
					errs <- errors.New(r.String())
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// recorder records which entries of its arguments are None.
type recorder struct {
	name string
	seen *[]string
}

func (r *recorder) Name() string      { return r.name }
func (r *recorder) ClassName() string { return "Recorder" }
func (r *recorder) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	desc := func(vals []runtime.Value) string {
		s := ""
		for _, v := range vals {
			if v.T == nil {
				s += "N"
			} else {
				s += "T"
			}
		}
		return s
	}
	mask, _ := call.Kwarg("mask")
	*r.seen = append(*r.seen, desc(call.Inputs())+"/"+desc(mask.Values))
	return []runtime.Value{call.Inputs()[0]}, nil
}

// None entries of list arguments (Keras 3 Attention(mask=[None, m])) reach
// the layer as Values without a tensor, in their positions.
func TestBindNoneInListArgs(t *testing.T) {
	var seen []string
	rec := func(spec *convert.Layer, env *layers.Env) (runtime.Layer, error) {
		return &recorder{name: spec.Name, seen: &seen}, nil
	}
	none := convert.TensorRef{}
	g := &convert.Graph{
		Name: "m", ClassName: "Functional",
		Layers: []*convert.Layer{
			inputLayer("q", -1, 2), inputLayer("v", -1, 2),
			{Name: "att", ClassName: "Recorder", Nodes: []convert.Node{{
				Args:   []convert.Arg{{Tensors: []convert.TensorRef{ref("q", 0), ref("v", 0)}, IsList: true}},
				Kwargs: map[string]convert.Arg{"mask": {Tensors: []convert.TensorRef{none, ref("v", 0)}, IsList: true}},
			}}},
		},
		Inputs:  []convert.TensorRef{ref("q", 0), ref("v", 0)},
		Outputs: []convert.TensorRef{ref("att", 0)},
	}
	m, err := build(&convert.Model{File: "m.keras", Graph: g}, collectOptions([]Option{WithLayer("Recorder", rec)}))
	if err != nil {
		t.Fatal(err)
	}
	x := runtime.NewTensor(1, 2)
	if _, err := m.Predict(x, x); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != "TT/NT" {
		t.Errorf("layer saw %v, want [TT/NT]", seen)
	}
}

func TestBindEmptyInputName(t *testing.T) {
	g := &convert.Graph{
		Name: "m", ClassName: "Functional",
		Layers: []*convert.Layer{inputLayer("in", -1, 2)},
		Inputs: []convert.TensorRef{{}}, Outputs: []convert.TensorRef{ref("in", 0)},
	}
	if _, err := build(&convert.Model{File: "m.keras", Graph: g}, collectOptions(nil)); !errors.Is(err, ErrFormat) {
		t.Errorf("error %v, want ErrFormat", err)
	}
}
