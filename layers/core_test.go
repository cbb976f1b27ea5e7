package layers

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

func denseSpec(rng *rand.Rand, in, units int, act string, useBias bool) (*convert.Layer, []float64, []float64) {
	k32, k64 := randWeights(rng, in*units, 1)
	ws := []convert.Weight{{Name: "kernel", Shape: []int{in, units}, Data: k32}}
	var b64 []float64
	if useBias {
		var b32 []float32
		b32, b64 = randWeights(rng, units, 1)
		ws = append(ws, convert.Weight{Name: "bias", Shape: []int{units}, Data: b32})
	}
	return &convert.Layer{Name: "dense", ClassName: "Dense", Weights: ws,
		Config: convert.Config{"units": float64(units), "activation": act, "use_bias": useBias}}, k64, b64
}

// TestDenseND checks Dense on 2-D and 3-D inputs against a float64 loop,
// and that the input mask passes through.
func TestDenseND(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, shape := range [][]int{{4, 3}, {2, 5, 3}, {1, 3}, {3}, {1, 2, 1, 2, 1, 2, 1, 3}} {
		for _, useBias := range []bool{true, false} {
			spec, k, b := denseSpec(rng, 3, 6, "tanh", useBias)
			l, err := Standard().Build(spec, &Env{})
			if err != nil {
				t.Fatal(err)
			}
			n := 1
			for _, d := range shape {
				n *= d
			}
			x32, x64 := randWeights(rng, n, 2)
			x, _ := runtime.FromData(x32, shape...)
			var mask *runtime.Tensor
			if len(shape) > 1 {
				mask = runtime.NewTensor(shape[:len(shape)-1]...)
			}
			out, err := l.Call(runtime.NewWorkspace(false), &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: x, Mask: mask}}}}})
			if err != nil {
				t.Fatal(err)
			}
			rows := n / 3
			want := make([]float32, rows*6)
			for r := range rows {
				for j := range 6 {
					s := 0.0
					for p := range 3 {
						s += x64[r*3+p] * k[p*6+j]
					}
					if useBias {
						s += b[j]
					}
					want[r*6+j] = float32(math.Tanh(s))
				}
			}
			if err := closeTo(out[0].T.Data, want, 1e-6, 1e-5); err != nil {
				t.Errorf("shape %v bias %v: %v", shape, useBias, err)
			}
			if out[0].T.Shape[len(shape)-1] != 6 || out[0].Mask != mask {
				t.Errorf("shape %v: got %v, mask %v", shape, out[0].T.Shape, out[0].Mask)
			}
		}
	}
}

func TestDenseGLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	spec, _, _ := denseSpec(rng, 3, 8, "glu", true)
	l, err := Standard().Build(spec, &Env{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := l.Call(runtime.NewWorkspace(false), oneArg(runtime.NewTensor(2, 3)))
	if err != nil {
		t.Fatal(err)
	}
	if s := out[0].T.Shape; len(s) != 2 || s[1] != 4 {
		t.Errorf("glu output shape %v, want [2 4]", s)
	}
}

func TestDenseErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	spec, _, _ := denseSpec(rng, 3, 6, "relu", true)
	spec.Weights[1].Shape = []int{5}
	if _, err := Standard().Build(spec, &Env{}); !errors.Is(err, convert.ErrWeights) ||
		!strings.Contains(err.Error(), `"bias"`) || !strings.Contains(err.Error(), "[5]") || !strings.Contains(err.Error(), "[6]") {
		t.Errorf("bad bias: got %v", err)
	}
	spec, _, _ = denseSpec(rng, 3, 6, "relu", true)
	l, err := Standard().Build(spec, &Env{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Call(runtime.NewWorkspace(false), oneArg(runtime.NewTensor(2, 4))); err == nil || !strings.Contains(err.Error(), "dense") {
		t.Errorf("wrong input size: got %v", err)
	}
	spec.Config["activation"] = "whatever"
	if _, err := Standard().Build(spec, &Env{}); !errors.Is(err, convert.ErrUnsupported) {
		t.Errorf("unknown activation: got %v", err)
	}
}

func embeddingLayer(t *testing.T, maskZero bool) (*Embedding, []float32) {
	t.Helper()
	table := make([]float32, 5*3)
	for i := range table {
		table[i] = float32(i)
	}
	l, err := Standard().Build(&convert.Layer{Name: "emb", ClassName: "Embedding",
		Config:  convert.Config{"input_dim": 5.0, "output_dim": 3.0, "mask_zero": maskZero},
		Weights: []convert.Weight{{Name: "embeddings", Shape: []int{5, 3}, Data: table}}}, &Env{})
	if err != nil {
		t.Fatal(err)
	}
	return l.(*Embedding), table
}

func TestEmbedding(t *testing.T) {
	for _, maskZero := range []bool{false, true} {
		l, table := embeddingLayer(t, maskZero)
		ids, _ := runtime.FromData([]float32{0, 4, 2, 0}, 2, 2)
		out, err := l.Call(runtime.NewWorkspace(false), oneArg(ids))
		if err != nil {
			t.Fatal(err)
		}
		var want []float32
		for _, id := range ids.Data {
			want = append(want, table[int(id)*3:int(id)*3+3]...)
		}
		if err := closeTo(out[0].T.Data, want, 0, 0); err != nil {
			t.Error(err)
		}
		if s := out[0].T.Shape; len(s) != 3 || s[2] != 3 {
			t.Errorf("shape %v", s)
		}
		if !maskZero && out[0].Mask != nil {
			t.Error("mask without mask_zero")
		}
		if maskZero {
			if out[0].Mask == nil {
				t.Fatal("no mask with mask_zero")
			}
			if err := closeTo(out[0].Mask.Data, []float32{0, 1, 1, 0}, 0, 0); err != nil {
				t.Error(err)
			}
		}
	}
}

func TestEmbeddingOutOfRange(t *testing.T) {
	l, _ := embeddingLayer(t, false)
	for _, id := range []float32{5, -1, float32(math.NaN()), 1e9} {
		ids, _ := runtime.FromData([]float32{1, id}, 1, 2)
		_, err := l.Call(runtime.NewWorkspace(false), oneArg(ids))
		if !errors.Is(err, runtime.ErrInput) || !strings.Contains(err.Error(), "emb") || !strings.Contains(err.Error(), "input_dim=5") {
			t.Errorf("id %v: got %v, want an ErrInput naming the layer, the id and input_dim", id, err)
		}
	}
}

func TestEmbeddingBadWeights(t *testing.T) {
	_, err := Standard().Build(&convert.Layer{Name: "emb", ClassName: "Embedding",
		Config:  convert.Config{"input_dim": 5.0, "output_dim": 3.0},
		Weights: []convert.Weight{{Name: "embeddings", Shape: []int{4, 3}, Data: make([]float32, 12)}}}, &Env{})
	if !errors.Is(err, convert.ErrWeights) || !strings.Contains(err.Error(), "[4 3]") {
		t.Errorf("got %v", err)
	}
}

func TestInputLayer(t *testing.T) {
	l, err := Standard().Build(&convert.Layer{Name: "in", ClassName: "InputLayer",
		Config: convert.Config{"batch_shape": []any{nil, nil, 5.0}}}, &Env{})
	if err != nil {
		t.Fatal(err)
	}
	if s := l.(*InputLayer).BatchShape; len(s) != 3 || s[0] != -1 || s[2] != 5 {
		t.Errorf("batch shape %v", s)
	}
	x := runtime.NewTensor(1, 2, 5)
	out, err := l.Call(runtime.NewWorkspace(false), oneArg(x))
	if err != nil || out[0].T != x {
		t.Errorf("got %v, %v", out, err)
	}
}
