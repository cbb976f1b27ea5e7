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

// refConv1D is a direct float64 cross-correlation over x [b, n, c] with
// kernel [k, c/groups, f], written from Keras' padding rules.
func refConv1D(x []float64, b, n, c int, kern []float64, k, f, groups int, bias []float64, stride, dil int, padding string, act func(float64) float64) ([]float64, int) {
	span := (k-1)*dil + 1
	var outLen, left int
	switch padding {
	case "valid":
		outLen = int(math.Floor(float64(n-span)/float64(stride))) + 1
	case "same":
		outLen = int(math.Ceil(float64(n) / float64(stride)))
		total := (outLen-1)*stride + span - n
		if total < 0 {
			total = 0
		}
		left = total / 2
	case "causal":
		left = span - 1
		outLen = int(math.Floor(float64(n-1)/float64(stride))) + 1
	}
	if outLen < 0 {
		outLen = 0
	}
	cg, fg := c/groups, f/groups
	out := make([]float64, b*outLen*f)
	for bi := 0; bi < b; bi++ {
		for o := 0; o < outLen; o++ {
			for fi := 0; fi < f; fi++ {
				g := fi / fg
				s := 0.0
				if bias != nil {
					s = bias[fi]
				}
				for j := 0; j < k; j++ {
					pos := o*stride + j*dil - left
					if pos < 0 || pos >= n {
						continue
					}
					for ci := 0; ci < cg; ci++ {
						s += x[(bi*n+pos)*c+g*cg+ci] * kern[(j*cg+ci)*f+fi]
					}
				}
				out[(bi*outLen+o)*f+fi] = act(s)
			}
		}
	}
	return out, outLen
}

func TestConv1DAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	linear := func(v float64) float64 { return v }
	relu := func(v float64) float64 { return math.Max(v, 0) }
	for _, c := range []struct {
		padding              string
		k, stride, dil, grps int
		bias                 bool
		act                  string
		n                    int
	}{
		{"valid", 3, 1, 1, 1, true, "linear", 7},
		{"valid", 3, 2, 1, 1, true, "linear", 8},
		{"same", 3, 1, 1, 1, true, "linear", 7},
		{"same", 3, 2, 1, 1, true, "linear", 7},
		{"same", 4, 3, 1, 1, true, "linear", 10},
		{"same", 3, 1, 2, 1, true, "linear", 7},
		{"causal", 3, 1, 1, 1, true, "linear", 7},
		{"causal", 3, 1, 2, 1, false, "relu", 7},
		{"valid", 3, 1, 1, 1, false, "relu", 7},
		{"valid", 2, 1, 1, 2, true, "linear", 6},
		{"same", 1, 1, 1, 1, true, "linear", 1},
		{"valid", 5, 1, 1, 1, true, "linear", 3}, // longer kernel than input: no output steps
	} {
		name := fmt.Sprintf("%s_k%d_s%d_d%d_g%d_%v_%s", c.padding, c.k, c.stride, c.dil, c.grps, c.bias, c.act)
		t.Run(name, func(t *testing.T) {
			const b, ch, f = 2, 4, 6
			x, xf := xTensor(rng, b, c.n, ch)
			kw, kf := xWeight(rng, "kernel", c.k, ch/c.grps, f)
			weights := []convert.Weight{kw}
			var bf []float64
			if c.bias {
				bw, f64 := xWeight(rng, "bias", f)
				weights, bf = append(weights, bw), f64
			}
			cfg := convert.Config{"filters": float64(f), "kernel_size": []any{float64(c.k)}, "strides": []any{float64(c.stride)},
				"dilation_rate": []any{float64(c.dil)}, "groups": float64(c.grps), "padding": c.padding, "activation": c.act, "use_bias": c.bias}
			l := xBuild(t, "", "Conv1D", cfg, weights...)
			act := linear
			if c.act == "relu" {
				act = relu
			}
			want, outLen := refConv1D(xf, b, c.n, ch, kf, c.k, f, c.grps, bf, c.stride, c.dil, c.padding, act)
			out := xCall(t, l, nil, runtime.Value{T: x, Mask: xMask(make([]float32, c.n), make([]float32, c.n))})
			xClose(t, name, out[0].T, []int{b, outLen, f}, want)
			xMaskEq(t, name+" mask", out[0].Mask, nil) // Conv1D drops masks
			// A second call reuses the scratch buffer and gives the same result.
			out = xCall(t, l, nil, runtime.Value{T: x})
			xClose(t, name+" again", out[0].T, []int{b, outLen, f}, want)
		})
	}
}

func TestConv1DChannelsFirst(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	x, xf := xTensor(rng, 2, 3, 5) // [b, channels, steps]
	kw, kf := xWeight(rng, "kernel", 2, 3, 4)
	l := xBuild(t, "", "Conv1D", convert.Config{"filters": 4.0, "kernel_size": 2.0, "data_format": "channels_first", "use_bias": false}, kw)
	xt := make([]float64, len(xf))
	for b := 0; b < 2; b++ {
		for c := 0; c < 3; c++ {
			for s := 0; s < 5; s++ {
				xt[(b*5+s)*3+c] = xf[(b*3+c)*5+s]
			}
		}
	}
	ref, outLen := refConv1D(xt, 2, 5, 3, kf, 2, 4, 1, nil, 1, 1, "valid", func(v float64) float64 { return v })
	want := make([]float64, len(ref))
	for b := 0; b < 2; b++ {
		for o := 0; o < outLen; o++ {
			for f := 0; f < 4; f++ {
				want[(b*4+f)*outLen+o] = ref[(b*outLen+o)*4+f]
			}
		}
	}
	out := xCall(t, l, nil, runtime.Value{T: x})
	xClose(t, "channels_first", out[0].T, []int{2, 4, outLen}, want)
}

func TestConv1DKeras1Names(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 38))
	x, xf := xTensor(rng, 1, 6, 2)
	kw, kf := xWeight(rng, "kernel", 2, 2, 3)
	bw, bf := xWeight(rng, "bias", 3)
	cfg := convert.Config{"nb_filter": 3.0, "filter_length": 2.0, "subsample_length": 2.0, "border_mode": "same"}
	out := xCall(t, xBuild(t, "1.2.2", "Convolution1D", cfg, kw, bw), nil, runtime.Value{T: x})
	want, outLen := refConv1D(xf, 1, 6, 2, kf, 2, 3, 1, bf, 2, 1, "same", func(v float64) float64 { return v })
	xClose(t, "Keras 1 Convolution1D", out[0].T, []int{1, outLen, 3}, want)
}

func TestConv1DErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	kw, _ := xWeight(rng, "kernel", 3, 4, 6)
	bw, _ := xWeight(rng, "bias", 6)
	base := func() convert.Config {
		return convert.Config{"filters": 6.0, "kernel_size": 3.0}
	}
	if _, err := xTryBuild("", "Conv1D", base(), kw); !errors.Is(err, convert.ErrWeights) {
		t.Errorf("missing bias: got %v, want ErrWeights", err)
	}
	bad, _ := xWeight(rng, "kernel", 2, 4, 6)
	if _, err := xTryBuild("", "Conv1D", base(), bad, bw); !errors.Is(err, convert.ErrWeights) {
		t.Errorf("kernel_size mismatch: got %v, want ErrWeights", err)
	}
	for key, v := range map[string]any{"padding": "full", "strides": 0.0, "groups": 4.0, "activation": "nope"} {
		cfg := base()
		cfg[key] = v
		if _, err := xTryBuild("", "Conv1D", cfg, kw, bw); err == nil {
			t.Errorf("%s=%v: want an error", key, v)
		}
	}
	l := xBuild(t, "", "Conv1D", base(), kw, bw)
	if _, err := xTryCall(l, nil, runtime.Value{T: runtime.NewTensor(1, 5, 3)}); err == nil {
		t.Error("3 input channels for a 4-channel kernel: want an error")
	}
}

// BenchmarkConv1D compares the im2col + MatMul Conv1D with the direct
// float64 loop on a text-CNN sized input: batch 32, 100 steps, 128 → 128
// channels, kernel 3, same padding.
func BenchmarkConv1D(b *testing.B) {
	rng := rand.New(rand.NewPCG(39, 40))
	const batch, n, c, f, k = 32, 100, 128, 128, 3
	x, xf := xTensor(rng, batch, n, c)
	kw, kf := xWeight(rng, "kernel", k, c, f)
	bw, bf := xWeight(rng, "bias", f)
	l := xBuild(b, "", "Conv1D", convert.Config{"filters": float64(f), "kernel_size": float64(k), "padding": "same"}, kw, bw)
	flops := float64(2 * batch * n * c * f * k)
	b.Run("im2col", func(b *testing.B) {
		ctx := runtime.NewWorkspace(false)
		call := &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: x}}}}}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := l.Call(ctx, call); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("naive", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			refConv1D(xf, batch, n, c, kf, k, f, 1, bf, 1, 1, "same", func(v float64) float64 { return v })
		}
		b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}
