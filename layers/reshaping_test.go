package layers

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

func TestFlattenReshape(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	x, xs := xTensor(rng, 2, 3, 4)
	m := xMask([]float32{1, 1, 0}, []float32{1, 0, 0})

	out := xCall(t, xBuild(t, "", "Flatten", nil), nil, runtime.Value{T: x, Mask: m})
	xClose(t, "Flatten", out[0].T, []int{2, 12}, xs) // row-major: time outer
	xMaskEq(t, "Flatten mask", out[0].Mask, nil)

	// channels_first moves axis 1 last before flattening.
	out = xCall(t, xBuild(t, "", "Flatten", convert.Config{"data_format": "channels_first"}), nil, runtime.Value{T: x})
	want := make([]float64, 24)
	for b := 0; b < 2; b++ {
		for c := 0; c < 3; c++ {
			for s := 0; s < 4; s++ {
				want[b*12+s*3+c] = xs[(b*3+c)*4+s]
			}
		}
	}
	xClose(t, "Flatten channels_first", out[0].T, []int{2, 12}, want)

	out = xCall(t, xBuild(t, "", "Reshape", convert.Config{"target_shape": []any{4.0, -1.0}}), nil, runtime.Value{T: x})
	xClose(t, "Reshape", out[0].T, []int{2, 4, 3}, xs) // a reshape, not a transpose
	if _, err := xTryCall(xBuild(t, "", "Reshape", convert.Config{"target_shape": []any{5.0}}), nil, runtime.Value{T: x}); err == nil {
		t.Fatal("Reshape 12 values to 5: want an error")
	}
	for _, ts := range []any{nil, []any{-1.0, -1.0}, []any{-3.0}, []any{float64(1 << 40), float64(1 << 40)}} {
		if _, err := xTryBuild("", "Reshape", convert.Config{"target_shape": ts}); !errors.Is(err, convert.ErrConfig) {
			t.Errorf("target_shape %v: got %v, want ErrConfig", ts, err)
		}
	}
	if _, err := xTryBuild("", "Flatten", convert.Config{"data_format": "nhwc"}); !errors.Is(err, convert.ErrConfig) {
		t.Fatalf("bad data_format: got %v, want ErrConfig", err)
	}
}

func TestPermute(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	x, xs := xTensor(rng, 2, 3, 4, 5)
	out := xCall(t, xBuild(t, "", "Permute", convert.Config{"dims": []any{3.0, 1.0, 2.0}}), nil, runtime.Value{T: x})
	want := make([]float64, len(xs))
	for b := 0; b < 2; b++ {
		for i := 0; i < 3; i++ {
			for j := 0; j < 4; j++ {
				for k := 0; k < 5; k++ {
					// out[b, k, i, j] = x[b, i, j, k]
					want[((b*5+k)*3+i)*4+j] = xs[((b*3+i)*4+j)*5+k]
				}
			}
		}
	}
	xClose(t, "Permute", out[0].T, []int{2, 5, 3, 4}, want)
	for _, dims := range []any{[]any{1.0, 1.0}, []any{0.0, 1.0}, []any{}} {
		if _, err := xTryBuild("", "Permute", convert.Config{"dims": dims}); !errors.Is(err, convert.ErrConfig) {
			t.Errorf("dims %v: got %v, want ErrConfig", dims, err)
		}
	}
}

func TestRepeatVector(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	x, xs := xTensor(rng, 2, 3)
	out := xCall(t, xBuild(t, "", "RepeatVector", convert.Config{"n": 4.0}), nil, runtime.Value{T: x})
	var want []float64
	for b := 0; b < 2; b++ {
		for r := 0; r < 4; r++ {
			want = append(want, xs[b*3:(b+1)*3]...)
		}
	}
	xClose(t, "RepeatVector", out[0].T, []int{2, 4, 3}, want)
	// A hostile repetition count is refused instead of allocated.
	big := xBuild(t, "", "RepeatVector", convert.Config{"n": float64(1 << 24)})
	if _, err := xTryCall(big, nil, runtime.Value{T: runtime.NewTensor(64, 64)}); err == nil {
		t.Fatal("RepeatVector to 2^36 values: want an error")
	}
	if _, err := xTryBuild("", "RepeatVector", convert.Config{"n": -1.0}); !errors.Is(err, convert.ErrConfig) {
		t.Fatalf("n=-1: got %v, want ErrConfig", err)
	}
}

func TestPadCropUpsample1D(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	x, xs := xTensor(rng, 2, 4, 3)
	step := func(b, s int) []float64 { return xs[(b*4+s)*3 : (b*4+s+1)*3] }
	zeros := []float64{0, 0, 0}

	var want []float64
	for b := 0; b < 2; b++ {
		want = append(want, zeros...)
		want = append(want, zeros...)
		for s := 0; s < 4; s++ {
			want = append(want, step(b, s)...)
		}
		want = append(want, zeros...)
	}
	out := xCall(t, xBuild(t, "", "ZeroPadding1D", convert.Config{"padding": []any{2.0, 1.0}}), nil, runtime.Value{T: x})
	xClose(t, "ZeroPadding1D", out[0].T, []int{2, 7, 3}, want)

	want = nil
	for b := 0; b < 2; b++ {
		want = append(want, step(b, 1)...)
	}
	out = xCall(t, xBuild(t, "", "Cropping1D", convert.Config{"cropping": []any{1.0, 2.0}}), nil, runtime.Value{T: x})
	xClose(t, "Cropping1D", out[0].T, []int{2, 1, 3}, want)
	if _, err := xTryCall(xBuild(t, "", "Cropping1D", convert.Config{"cropping": 2.0}), nil, runtime.Value{T: x}); err == nil {
		t.Fatal("cropping all steps: want an error")
	}

	want = nil
	for b := 0; b < 2; b++ {
		for s := 0; s < 4; s++ {
			for k := 0; k < 3; k++ {
				want = append(want, step(b, s)...)
			}
		}
	}
	out = xCall(t, xBuild(t, "", "UpSampling1D", convert.Config{"size": 3.0}), nil, runtime.Value{T: x})
	xClose(t, "UpSampling1D", out[0].T, []int{2, 12, 3}, want)

	if _, err := xTryBuild("", "ZeroPadding1D", convert.Config{"padding": []any{1.0, 2.0, 3.0}}); !errors.Is(err, convert.ErrConfig) {
		t.Fatalf("3-element padding: got %v, want ErrConfig", err)
	}
	if _, err := xTryBuild("", "UpSampling1D", convert.Config{"size": 0.0}); !errors.Is(err, convert.ErrConfig) {
		t.Fatalf("size 0: got %v, want ErrConfig", err)
	}
	if _, err := xTryCall(xBuild(t, "", "ZeroPadding1D", nil), nil, runtime.Value{T: runtime.NewTensor(2, 3)}); err == nil {
		t.Fatal("rank-2 input: want an error")
	}
}

func TestBroadcastHelpers(t *testing.T) {
	a := &runtime.Tensor{Shape: []int{2, 1, 3}, Data: []float32{1, 2, 3, 4, 5, 6}}
	b := &runtime.Tensor{Shape: []int{4, 1}, Data: []float32{10, 20, 30, 40}}
	out, err := bcastBinary(a, b, func(x, y float32) float32 { return x + y })
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, 0, 24)
	for i := 0; i < 2; i++ {
		for j := 0; j < 4; j++ {
			for k := 0; k < 3; k++ {
				want = append(want, float64(a.Data[i*3+k]+b.Data[j]))
			}
		}
	}
	xClose(t, "broadcast add", out, []int{2, 4, 3}, want)
	if _, err := bcastBinary(a, &runtime.Tensor{Shape: []int{2}, Data: []float32{1, 2}}, func(x, y float32) float32 { return x }); err == nil {
		t.Fatal("shapes [2 1 3] and [2]: want an error")
	}
}
