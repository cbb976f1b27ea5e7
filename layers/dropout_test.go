package layers

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// Helpers shared by the issue-4 layer tests (prefixed x to stay clear of
// the other layer files' test helpers).

// xBuild builds a layer of class from cfg and weights with the standard
// registry, as written by Keras version (empty: latest).
func xBuild(t testing.TB, version, class string, cfg convert.Config, weights ...convert.Weight) runtime.Layer {
	t.Helper()
	l, err := xTryBuild(version, class, cfg, weights...)
	if err != nil {
		t.Fatalf("build %s: %v", class, err)
	}
	return l
}

func xTryBuild(version, class string, cfg convert.Config, weights ...convert.Weight) (runtime.Layer, error) {
	if cfg == nil {
		cfg = convert.Config{}
	}
	spec := &convert.Layer{Name: "test_" + class, ClassName: class, Config: cfg, Weights: weights}
	r := Standard()
	return r.Build(spec, &Env{Registry: r, KerasVersion: version})
}

// xWeight makes a weight with random values in [-1, 1) and returns it with
// its values in float64.
func xWeight(rng *rand.Rand, name string, shape ...int) (convert.Weight, []float64) {
	n := shapeSize(shape)
	w := convert.Weight{Name: name, Shape: shape, Data: make([]float32, n)}
	f := make([]float64, n)
	for i := range w.Data {
		w.Data[i] = float32(rng.Float64()*2 - 1)
		f[i] = float64(w.Data[i])
	}
	return w, f
}

// xTensor makes a random tensor in [-2, 2) and its float64 copy.
func xTensor(rng *rand.Rand, shape ...int) (*runtime.Tensor, []float64) {
	x := runtime.NewTensor(shape...)
	f := make([]float64, len(x.Data))
	for i := range x.Data {
		x.Data[i] = float32(rng.Float64()*4 - 2)
		f[i] = float64(x.Data[i])
	}
	return x, f
}

// xMask makes a [len(rows), len(rows[0])] 0/1 mask tensor.
func xMask(rows ...[]float32) *runtime.Tensor {
	m := runtime.NewTensor(len(rows), len(rows[0]))
	for i, r := range rows {
		copy(m.Data[i*len(r):], r)
	}
	return m
}

// xCall calls l with one positional argument holding vals (a list when
// there are several) and the given keyword arguments.
func xCall(t testing.TB, l runtime.Layer, kwargs map[string]runtime.Arg, vals ...runtime.Value) []runtime.Value {
	t.Helper()
	out, err := xTryCall(l, kwargs, vals...)
	if err != nil {
		t.Fatalf("%s: %v", l.ClassName(), err)
	}
	return out
}

func xTryCall(l runtime.Layer, kwargs map[string]runtime.Arg, vals ...runtime.Value) ([]runtime.Value, error) {
	call := &runtime.Call{Args: []runtime.Arg{{Values: vals, IsList: len(vals) > 1}}, Kwargs: kwargs}
	return l.Call(runtime.NewWorkspace(false), call)
}

// xClose checks got against a float64 reference within a float32-level
// tolerance, naming the first bad index.
func xClose(t testing.TB, what string, got *runtime.Tensor, shape []int, want []float64) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: no tensor", what)
	}
	if fmt.Sprint(got.Shape) != fmt.Sprint(shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, shape)
	}
	if len(got.Data) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got.Data), len(want))
	}
	for i, w := range want {
		g := float64(got.Data[i])
		if math.IsNaN(w) && math.IsNaN(g) {
			continue
		}
		if math.Abs(g-w) > 2e-6+2e-5*math.Abs(w) || math.IsNaN(g) != math.IsNaN(w) {
			t.Fatalf("%s: index %d: got %v, want %v", what, i, g, w)
		}
	}
}

// xMaskEq checks a mask tensor's values (nil want means no mask).
func xMaskEq(t testing.TB, what string, got *runtime.Tensor, want []float32) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Fatalf("%s: got mask %v, want none", what, got.Data)
		}
		return
	}
	if got == nil {
		t.Fatalf("%s: no mask, want %v", what, want)
	}
	if fmt.Sprint(got.Data) != fmt.Sprint(want) {
		t.Fatalf("%s: mask %v, want %v", what, got.Data, want)
	}
}

func maskKw(m *runtime.Tensor) map[string]runtime.Arg {
	return map[string]runtime.Arg{"mask": {Values: []runtime.Value{{T: m}}}}
}

func TestIdentityLayers(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, xf := xTensor(rng, 2, 3, 4)
	m := xMask([]float32{1, 1, 0}, []float32{1, 0, 0})
	for _, class := range []string{"Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Identity"} {
		l := xBuild(t, "", class, convert.Config{"rate": 0.5})
		out := xCall(t, l, nil, runtime.Value{T: x, Mask: m})
		xClose(t, class, out[0].T, []int{2, 3, 4}, xf)
		xMaskEq(t, class+" mask", out[0].Mask, m.Data)
		// An explicit mask argument wins over the input's own.
		m2 := xMask([]float32{0, 1, 1}, []float32{1, 1, 1})
		out = xCall(t, l, maskKw(m2), runtime.Value{T: x, Mask: m})
		xMaskEq(t, class+" explicit mask", out[0].Mask, m2.Data)
	}
	_, err := xTryBuild("", "Dropout", nil, convert.Weight{Name: "w", Shape: []int{1}, Data: []float32{1}})
	if !errors.Is(err, convert.ErrWeights) {
		t.Fatalf("Dropout with a weight: got %v, want ErrWeights", err)
	}
}

func TestMasking(t *testing.T) {
	x := &runtime.Tensor{Shape: []int{2, 3, 2}, Data: []float32{
		1, 2, 0.5, 0.5, 0, 0.5,
		0.5, 0.5, 0.5, 0.5, 3, 0.5,
	}}
	l := xBuild(t, "", "Masking", convert.Config{"mask_value": 0.5})
	out := xCall(t, l, nil, runtime.Value{T: x})
	xMaskEq(t, "mask", out[0].Mask, []float32{1, 0, 1, 0, 0, 1})
	xClose(t, "output", out[0].T, []int{2, 3, 2}, []float64{
		1, 2, 0, 0, 0, 0.5,
		0, 0, 0, 0, 3, 0.5,
	})
	// NaN differs from every mask value, as in numpy.
	nan := float32(math.NaN())
	out = xCall(t, l, nil, runtime.Value{T: &runtime.Tensor{Shape: []int{1, 1, 2}, Data: []float32{0.5, nan}}})
	xMaskEq(t, "NaN mask", out[0].Mask, []float32{1})
	if _, err := xTryCall(l, nil, runtime.Value{T: runtime.NewTensor(3)}); err == nil {
		t.Fatal("rank-1 input: want an error")
	}
	if _, err := xTryBuild("", "Masking", convert.Config{"mask_value": "zero"}); !errors.Is(err, convert.ErrConfig) {
		t.Fatalf("string mask_value: got %v, want ErrConfig", err)
	}
}

// TestHostileConfigs builds every issue-4 layer class from odd option
// values and weights and calls it on a few inputs: each step may fail, but
// none may panic, since all of it comes from a model file.
func TestHostileConfigs(t *testing.T) {
	classes := []string{
		"Dropout", "Masking", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "ThresholdedReLU",
		"Flatten", "Reshape", "Permute", "RepeatVector", "ZeroPadding1D", "Cropping1D", "UpSampling1D",
		"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
		"Conv1D", "MaxPooling1D", "AveragePooling1D", "GlobalMaxPooling1D", "GlobalAveragePooling1D",
		"LayerNormalization", "BatchNormalization", "Attention", "AdditiveAttention", "MultiHeadAttention",
		"Bidirectional", "TimeDistributed",
	}
	values := []any{nil, -1.0, 0.0, 1.0, 3.0, 1e12, 0.5, "same", "x", true, []any{}, []any{2.0, -1.0}, []any{1.0, 2.0, 3.0}, map[string]any{}}
	keys := []string{"axis", "axes", "n", "padding", "cropping", "size", "target_shape", "dims", "pool_size", "strides",
		"filters", "kernel_size", "dilation_rate", "groups", "num_heads", "key_dim", "value_dim", "merge_mode",
		"layer", "shared_axes", "max_value", "epsilon", "activation", "use_bias", "center", "scale", "score_mode", "data_format"}
	rng := rand.New(rand.NewPCG(91, 92))
	inputs := [][]int{{2, 3, 4}, {2, 4}, {1, 1, 1}, {2, 0, 3}, {3, 2, 2, 2}}
	built := map[string]bool{}
	for _, class := range classes {
		for trial := 0; trial < 60; trial++ {
			cfg := convert.Config{}
			for i := 0; i < 3; i++ {
				cfg[keys[rng.IntN(len(keys))]] = values[rng.IntN(len(values))]
			}
			var weights []convert.Weight
			for i := rng.IntN(4); i > 0; i-- {
				shape := make([]int, rng.IntN(4))
				for j := range shape {
					shape[j] = rng.IntN(5)
				}
				w, _ := xWeight(rng, "w", shape...)
				weights = append(weights, w)
			}
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("%s with %v and %d weights: panic %v", class, cfg, len(weights), r)
					}
				}()
				l, err := xTryBuild("", class, cfg, weights...)
				if err != nil {
					return
				}
				built[class] = true
				for _, shape := range inputs {
					x, _ := xTensor(rng, shape...)
					var m *runtime.Tensor
					if len(shape) >= 2 && rng.IntN(2) == 0 {
						m = runtime.NewTensor(shape[:2]...)
					}
					xTryCall(l, nil, runtime.Value{T: x, Mask: m})
					xTryCall(l, nil, runtime.Value{T: x, Mask: m}, runtime.Value{T: x})
				}
			}()
		}
	}
	// Classes with required weights or options rarely build from noise;
	// the rest must have been exercised.
	if len(built) < len(classes)/2 {
		t.Fatalf("only %d of %d classes built from random configs: %v", len(built), len(classes), built)
	}
}
