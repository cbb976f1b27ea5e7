package layers

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// xGrid is a [1, n] tensor over [-4, 4] including the points where the
// ReLU family changes branch.
func xGrid() (*runtime.Tensor, []float64) {
	var vals []float64
	for v := -4.0; v <= 4.0; v += 0.05 {
		vals = append(vals, v)
	}
	vals = append(vals, 0, 0.3, 2.5, -0.3)
	x := runtime.NewTensor(1, len(vals))
	for i, v := range vals {
		x.Data[i] = float32(v)
		vals[i] = float64(x.Data[i])
	}
	return x, vals
}

func TestElementwiseActivationLayers(t *testing.T) {
	x, xs := xGrid()
	cases := []struct {
		class string
		cfg   convert.Config
		ref   func(v float64) float64
	}{
		// Keras 3 ReLU: x if x > threshold else 0, clipped to max_value,
		// minus negative_slope·relu(threshold - x).
		{"ReLU", convert.Config{"max_value": 2.5, "negative_slope": 0.1, "threshold": 0.3}, func(v float64) float64 {
			y := 0.0
			if v > float64(float32(0.3)) {
				y = math.Min(v, 2.5)
			}
			return y - 0.1*math.Max(float64(float32(0.3))-v, 0)
		}},
		{"ReLU", convert.Config{}, func(v float64) float64 { return math.Max(v, 0) }},
		{"ReLU", convert.Config{"max_value": 6.0}, func(v float64) float64 { return math.Min(math.Max(v, 0), 6) }},
		{"ReLU", convert.Config{"negative_slope": 0.2}, func(v float64) float64 { return math.Max(v, 0.2*v) }},
		{"ReLU", convert.Config{"threshold": -1.0}, func(v float64) float64 {
			if v > -1 {
				return v
			}
			return 0
		}},
		{"LeakyReLU", convert.Config{"negative_slope": 0.15}, func(v float64) float64 { return math.Max(v, float64(float32(0.15))*v) }},
		{"LeakyReLU", convert.Config{"alpha": 0.1}, func(v float64) float64 { return math.Max(v, float64(float32(0.1))*v) }},
		{"LeakyReLU", convert.Config{}, func(v float64) float64 { return math.Max(v, float64(float32(0.3))*v) }},
		{"ThresholdedReLU", convert.Config{"theta": 0.3}, func(v float64) float64 {
			if v > float64(float32(0.3)) {
				return v
			}
			return 0
		}},
		{"ELU", convert.Config{"alpha": 0.7}, func(v float64) float64 {
			if v > 0 {
				return v
			}
			return 0.7 * (math.Exp(v) - 1)
		}},
	}
	for _, c := range cases {
		l := xBuild(t, "", c.class, c.cfg)
		m := xMask([]float32{1})
		out := xCall(t, l, nil, runtime.Value{T: x, Mask: m})
		want := make([]float64, len(xs))
		for i, v := range xs {
			want[i] = c.ref(v)
		}
		xClose(t, c.class, out[0].T, x.Shape, want)
		xMaskEq(t, c.class+" mask", out[0].Mask, m.Data)
	}
	// A slope above 1: Keras 3 takes max(x, slope·x), Keras 2 the branches.
	x2 := &runtime.Tensor{Shape: []int{1, 2}, Data: []float32{-1, 2}}
	out := xCall(t, xBuild(t, "3.16.0", "LeakyReLU", convert.Config{"negative_slope": 2.0}), nil, runtime.Value{T: x2})
	xClose(t, "LeakyReLU 3", out[0].T, []int{1, 2}, []float64{-1, 4})
	out = xCall(t, xBuild(t, "2.15.0", "LeakyReLU", convert.Config{"alpha": 2.0}), nil, runtime.Value{T: x2})
	xClose(t, "LeakyReLU 2", out[0].T, []int{1, 2}, []float64{-2, 2})
	for _, cfg := range []convert.Config{{"max_value": -1.0}, {"negative_slope": -0.5}, {"threshold": "x"}} {
		if _, err := xTryBuild("", "ReLU", cfg); !errors.Is(err, convert.ErrConfig) {
			t.Errorf("ReLU %v: got %v, want ErrConfig", cfg, err)
		}
	}
}

func TestActivationLayer(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x, xs := xTensor(rng, 2, 3, 4)
	l := xBuild(t, "", "Activation", convert.Config{"activation": "softmax"})
	out := xCall(t, l, nil, runtime.Value{T: x})
	want := make([]float64, len(xs))
	for r := 0; r < 6; r++ {
		var s float64
		for j := 0; j < 4; j++ {
			s += math.Exp(xs[r*4+j])
		}
		for j := 0; j < 4; j++ {
			want[r*4+j] = math.Exp(xs[r*4+j]) / s
		}
	}
	xClose(t, "softmax", out[0].T, []int{2, 3, 4}, want)

	// glu halves the last axis: a·sigmoid(b).
	l = xBuild(t, "", "Activation", convert.Config{"activation": "glu"})
	out = xCall(t, l, nil, runtime.Value{T: x})
	want = want[:12]
	for r := 0; r < 6; r++ {
		for j := 0; j < 2; j++ {
			a, b := xs[r*4+j], xs[r*4+2+j]
			want[r*2+j] = a / (1 + math.Exp(-b))
		}
	}
	xClose(t, "glu", out[0].T, []int{2, 3, 2}, want)

	if _, err := xTryBuild("", "Activation", convert.Config{"activation": "no_such"}); !errors.Is(err, convert.ErrUnsupported) {
		t.Fatalf("unknown activation: got %v, want ErrUnsupported", err)
	}
}

func TestPReLU(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x, xs := xTensor(rng, 2, 3, 4)
	alpha, af := xWeight(rng, "alpha", 1, 4) // shared_axes=[1]
	l := xBuild(t, "", "PReLU", convert.Config{"shared_axes": []any{1.0}}, alpha)
	out := xCall(t, l, nil, runtime.Value{T: x})
	want := make([]float64, len(xs))
	for i, v := range xs {
		want[i] = v
		if v < 0 {
			want[i] = af[i%4] * v
		}
	}
	xClose(t, "PReLU", out[0].T, []int{2, 3, 4}, want)
	if _, err := xTryCall(l, nil, runtime.Value{T: runtime.NewTensor(2, 3, 5)}); err == nil {
		t.Fatal("feature mismatch: want an error")
	}
	bad, _ := xWeight(rng, "alpha", 3, 4)
	if _, err := xTryBuild("", "PReLU", convert.Config{"shared_axes": []any{1.0}}, bad); !errors.Is(err, convert.ErrWeights) {
		t.Fatalf("alpha not shared on axis 1: got %v, want ErrWeights", err)
	}
	if _, err := xTryBuild("", "PReLU", nil); !errors.Is(err, convert.ErrWeights) {
		t.Fatalf("no alpha: got %v, want ErrWeights", err)
	}
}

// refSoftmax normalizes x [b, t, f] over the axes listed (1 and/or 2),
// after adding -1e9 where add says so.
func refSoftmax(x []float64, b, tt, f int, axes map[int]bool, add func(i, j, k int) float64) []float64 {
	out := make([]float64, len(x))
	idx := func(i, j, k int) int { return (i*tt+j)*f + k }
	for i := 0; i < b; i++ {
		for j := 0; j < tt; j++ {
			for k := 0; k < f; k++ {
				// The group of (i, j, k): all positions that differ only on axes.
				var s, m float64 = 0, math.Inf(-1)
				for j2 := 0; j2 < tt; j2++ {
					for k2 := 0; k2 < f; k2++ {
						if (j2 != j && !axes[1]) || (k2 != k && !axes[2]) {
							continue
						}
						m = math.Max(m, x[idx(i, j2, k2)]+add(i, j2, k2))
					}
				}
				for j2 := 0; j2 < tt; j2++ {
					for k2 := 0; k2 < f; k2++ {
						if (j2 != j && !axes[1]) || (k2 != k && !axes[2]) {
							continue
						}
						s += math.Exp(x[idx(i, j2, k2)] + add(i, j2, k2) - m)
					}
				}
				out[idx(i, j, k)] = math.Exp(x[idx(i, j, k)]+add(i, j, k)-m) / s
			}
		}
	}
	return out
}

func TestSoftmaxLayer(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x, xs := xTensor(rng, 2, 3, 4)
	none := func(i, j, k int) float64 { return 0 }
	for _, c := range []struct {
		axis any
		axes map[int]bool
	}{
		{nil, map[int]bool{2: true}},
		{1.0, map[int]bool{1: true}},
		{-2.0, map[int]bool{1: true}},
		{[]any{1.0, 2.0}, map[int]bool{1: true, 2: true}},
	} {
		cfg := convert.Config{}
		if c.axis != nil {
			cfg["axis"] = c.axis
		}
		l := xBuild(t, "", "Softmax", cfg)
		out := xCall(t, l, nil, runtime.Value{T: x})
		xClose(t, "softmax", out[0].T, []int{2, 3, 4}, refSoftmax(xs, 2, 3, 4, c.axes, none))
	}
	// A mask of the input's shape adds -1e9 at masked positions.
	m := runtime.NewTensor(2, 3, 4)
	for i := range m.Data {
		if i%3 != 0 {
			m.Data[i] = 1
		}
	}
	l := xBuild(t, "", "Softmax", nil)
	out := xCall(t, l, maskKw(m), runtime.Value{T: x})
	add := func(i, j, k int) float64 { return (1 - float64(m.Data[(i*3+j)*4+k])) * -1e9 }
	xClose(t, "masked softmax", out[0].T, []int{2, 3, 4}, refSoftmax(xs, 2, 3, 4, map[int]bool{2: true}, add))
	if _, err := xTryCall(xBuild(t, "", "Softmax", convert.Config{"axis": 3.0}), nil, runtime.Value{T: x}); err == nil {
		t.Fatal("axis 3 of a rank-3 input: want an error")
	}
}
