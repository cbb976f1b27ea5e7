package layers

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

func TestLayerNormalization(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	x, xf := xTensor(rng, 2, 3, 4)
	gamma, gf := xWeight(rng, "gamma", 4)
	beta, bf := xWeight(rng, "beta", 4)
	ref := func(eps float64, g, b []float64, rms bool) []float64 {
		out := make([]float64, len(xf))
		for r := 0; r < 6; r++ {
			row := xf[r*4 : r*4+4]
			mean, v := meanVar(row)
			if rms {
				mean = 0 // Keras 3 rms_scaling: x / sqrt(var + eps) · gamma
			}
			for i, e := range row {
				y := (e - mean) / math.Sqrt(v+eps)
				if g != nil {
					y *= g[i]
				}
				if b != nil {
					y += b[i]
				}
				out[r*4+i] = y
			}
		}
		return out
	}
	m := xMask([]float32{1, 0, 1}, []float32{1, 1, 1})
	out := xCall(t, xBuild(t, "", "LayerNormalization", nil, gamma, beta), nil, runtime.Value{T: x, Mask: m})
	xClose(t, "LayerNormalization", out[0].T, []int{2, 3, 4}, ref(1e-3, gf, bf, false))
	xMaskEq(t, "LayerNormalization mask", out[0].Mask, m.Data)
	out = xCall(t, xBuild(t, "", "LayerNormalization", convert.Config{"epsilon": 0.1, "center": false, "scale": false}), nil, runtime.Value{T: x})
	xClose(t, "LayerNormalization plain", out[0].T, []int{2, 3, 4}, ref(0.1, nil, nil, false))
	out = xCall(t, xBuild(t, "", "LayerNormalization", convert.Config{"rms_scaling": true, "scale": false}, gamma), nil, runtime.Value{T: x})
	xClose(t, "LayerNormalization rms", out[0].T, []int{2, 3, 4}, ref(1e-3, gf, nil, true))

	// Over axes [1, 2]: one group per sample, gamma of shape [3, 4].
	g2, g2f := xWeight(rng, "gamma", 3, 4)
	out = xCall(t, xBuild(t, "", "LayerNormalization", convert.Config{"axis": []any{1.0, 2.0}, "center": false}, g2), nil, runtime.Value{T: x})
	want := make([]float64, len(xf))
	for b := 0; b < 2; b++ {
		row := xf[b*12 : b*12+12]
		mean, v := meanVar(row)
		for i, e := range row {
			want[b*12+i] = (e - mean) / math.Sqrt(v+1e-3) * g2f[i]
		}
	}
	xClose(t, "LayerNormalization axes 1,2", out[0].T, []int{2, 3, 4}, want)

	if _, err := xTryBuild("", "LayerNormalization", nil, gamma); !errors.Is(err, convert.ErrWeights) {
		t.Fatalf("missing beta: got %v, want ErrWeights", err)
	}
	l := xBuild(t, "", "LayerNormalization", nil, gamma, beta)
	if _, err := xTryCall(l, nil, runtime.Value{T: runtime.NewTensor(2, 5)}); err == nil {
		t.Fatal("5 features for 4-value gamma: want an error")
	}
}

func TestBatchNormalization(t *testing.T) {
	rng := rand.New(rand.NewPCG(53, 54))
	x, xf := xTensor(rng, 2, 3, 4)
	gamma, gf := xWeight(rng, "gamma", 4)
	beta, bf := xWeight(rng, "beta", 4)
	mean, mf := xWeight(rng, "moving_mean", 4)
	variance, vf := xWeight(rng, "moving_variance", 4)
	for i := range variance.Data {
		variance.Data[i] = float32(math.Abs(vf[i]) + 0.1)
		vf[i] = float64(variance.Data[i])
	}
	ref := func(eps float64, g, b []float64, axisLen, inner int) []float64 {
		out := make([]float64, len(xf))
		for i, e := range xf {
			k := (i / inner) % axisLen
			y := (e - mf[k]) / math.Sqrt(vf[k]+eps)
			if g != nil {
				y *= g[k]
			}
			if b != nil {
				y += b[k]
			}
			out[i] = y
		}
		return out
	}
	m := xMask([]float32{1, 0, 1}, []float32{1, 1, 1})
	out := xCall(t, xBuild(t, "", "BatchNormalization", nil, gamma, beta, mean, variance), nil, runtime.Value{T: x, Mask: m})
	xClose(t, "BatchNormalization", out[0].T, []int{2, 3, 4}, ref(1e-3, gf, bf, 4, 1))
	xMaskEq(t, "BatchNormalization mask", out[0].Mask, m.Data)
	out = xCall(t, xBuild(t, "", "BatchNormalization", convert.Config{"epsilon": 0.01, "center": false, "scale": false}, mean, variance), nil, runtime.Value{T: x})
	xClose(t, "BatchNormalization no center/scale", out[0].T, []int{2, 3, 4}, ref(0.01, nil, nil, 4, 1))

	// axis 1 of [2, 4, 3]: channels are the steps.
	x2 := &runtime.Tensor{Shape: []int{2, 4, 3}, Data: x.Data}
	out = xCall(t, xBuild(t, "", "BatchNormalization", convert.Config{"axis": 1.0}, gamma, beta, mean, variance), nil, runtime.Value{T: x2})
	xClose(t, "BatchNormalization axis 1", out[0].T, []int{2, 4, 3}, ref(1e-3, gf, bf, 4, 3))

	if _, err := xTryBuild("", "BatchNormalization", nil, gamma, beta, mean); !errors.Is(err, convert.ErrWeights) {
		t.Fatalf("3 weights: got %v, want ErrWeights", err)
	}
	short, _ := xWeight(rng, "moving_variance", 3)
	if _, err := xTryBuild("", "BatchNormalization", nil, gamma, beta, mean, short); !errors.Is(err, convert.ErrWeights) {
		t.Fatalf("short variance: got %v, want ErrWeights", err)
	}
	if _, err := xTryBuild("", "BatchNormalization", convert.Config{"mode": 2.0}, gamma, beta, mean, variance); !errors.Is(err, convert.ErrUnsupported) {
		t.Fatalf("Keras 1 mode 2: got %v, want ErrUnsupported", err)
	}
	l := xBuild(t, "", "BatchNormalization", nil, gamma, beta, mean, variance)
	if _, err := xTryCall(l, nil, runtime.Value{T: runtime.NewTensor(2, 3)}); err == nil {
		t.Fatal("3 channels for 4-channel statistics: want an error")
	}
}

// meanVar returns the mean and the (biased) variance of row, in float64.
func meanVar(row []float64) (mean, v float64) {
	n := float64(len(row))
	for _, e := range row {
		mean += e / n
	}
	for _, e := range row {
		v += (e - mean) * (e - mean) / n
	}
	return mean, v
}
