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

// refPool1D pools x [b, n, f] from Keras' window rules in float64.
func refPool1D(x []float64, b, n, f, pool, stride int, same, isMax bool) ([]float64, int) {
	var outLen, left int
	if same {
		outLen = (n + stride - 1) / stride
		left = max((outLen-1)*stride+pool-n, 0) / 2
	} else {
		outLen = max((n-pool)/stride+1, 0)
		if n < pool {
			outLen = 0
		}
	}
	out := make([]float64, b*outLen*f)
	for bi := 0; bi < b; bi++ {
		for o := 0; o < outLen; o++ {
			for c := 0; c < f; c++ {
				acc, cnt := math.Inf(-1), 0
				if !isMax {
					acc = 0
				}
				for j := 0; j < pool; j++ {
					s := o*stride + j - left
					if s < 0 || s >= n {
						continue
					}
					v := x[(bi*n+s)*f+c]
					if isMax {
						acc = math.Max(acc, v)
					} else {
						acc += v
					}
					cnt++
				}
				if !isMax {
					acc /= float64(cnt)
				}
				out[(bi*outLen+o)*f+c] = acc
			}
		}
	}
	return out, outLen
}

func TestPooling1D(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for _, class := range []string{"MaxPooling1D", "AveragePooling1D"} {
		for _, c := range []struct {
			pool, stride int
			padding      string
			n            int
		}{{2, 0, "valid", 7}, {3, 1, "valid", 7}, {3, 2, "same", 7}, {2, 2, "same", 8}, {4, 3, "same", 5}, {3, 3, "valid", 2}} {
			name := fmt.Sprintf("%s_p%d_s%d_%s_n%d", class, c.pool, c.stride, c.padding, c.n)
			x, xf := xTensor(rng, 2, c.n, 3)
			cfg := convert.Config{"pool_size": float64(c.pool), "padding": c.padding}
			stride := c.pool
			if c.stride > 0 {
				cfg["strides"] = float64(c.stride)
				stride = c.stride
			}
			want, outLen := refPool1D(xf, 2, c.n, 3, c.pool, stride, c.padding == "same", class == "MaxPooling1D")
			out := xCall(t, xBuild(t, "", class, cfg), nil, runtime.Value{T: x})
			xClose(t, name, out[0].T, []int{2, outLen, 3}, want)
		}
	}
	if _, err := xTryBuild("", "MaxPooling1D", convert.Config{"padding": "causal"}); !errors.Is(err, convert.ErrConfig) {
		t.Fatalf("causal pooling: got %v, want ErrConfig", err)
	}
	if _, err := xTryBuild("", "AveragePooling1D", convert.Config{"pool_size": 0.0}); !errors.Is(err, convert.ErrConfig) {
		t.Fatalf("pool_size 0: got %v, want ErrConfig", err)
	}
}

func TestGlobalPooling1D(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	x, xf := xTensor(rng, 2, 4, 3)
	m := xMask([]float32{1, 0, 1, 0}, []float32{0, 0, 0, 0})
	var wantMax, wantAvg, wantMasked []float64
	for b := 0; b < 2; b++ {
		for c := 0; c < 3; c++ {
			mx, sum, msum, cnt := math.Inf(-1), 0.0, 0.0, 0.0
			for s := 0; s < 4; s++ {
				v := xf[(b*4+s)*3+c]
				mx = math.Max(mx, v)
				sum += v
				if m.Data[b*4+s] != 0 {
					msum += v
					cnt++
				}
			}
			wantMax = append(wantMax, mx)
			wantAvg = append(wantAvg, sum/4)
			wantMasked = append(wantMasked, msum/cnt) // 0/0 = NaN for the empty row, as Keras
		}
	}
	// GlobalMaxPooling1D ignores the mask; the average is masked.
	out := xCall(t, xBuild(t, "", "GlobalMaxPooling1D", nil), nil, runtime.Value{T: x, Mask: m})
	xClose(t, "global max", out[0].T, []int{2, 3}, wantMax)
	xMaskEq(t, "global max mask", out[0].Mask, nil)
	out = xCall(t, xBuild(t, "", "GlobalAveragePooling1D", nil), nil, runtime.Value{T: x})
	xClose(t, "global avg", out[0].T, []int{2, 3}, wantAvg)
	out = xCall(t, xBuild(t, "", "GlobalAveragePooling1D", nil), nil, runtime.Value{T: x, Mask: m})
	xClose(t, "global avg masked", out[0].T, []int{2, 3}, wantMasked)
	xMaskEq(t, "global avg mask", out[0].Mask, nil)
	out = xCall(t, xBuild(t, "", "GlobalAveragePooling1D", convert.Config{"keepdims": true}), nil, runtime.Value{T: x})
	xClose(t, "global avg keepdims", out[0].T, []int{2, 1, 3}, wantAvg)
	if _, err := xTryCall(xBuild(t, "", "GlobalAveragePooling1D", nil), maskKw(xMask([]float32{1, 1})), runtime.Value{T: x}); err == nil {
		t.Fatal("mask of the wrong length: want an error")
	}
}
