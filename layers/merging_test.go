package layers

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

func TestKerasAtLeast(t *testing.T) {
	for _, c := range []struct {
		v    string
		want bool
	}{{"3.16.0", true}, {"3.4.0", true}, {"3.3.3", false}, {"2.15.0", false}, {"1.2.2", false}, {"", true}, {"3.10.0rc1", true}, {"garbage", true}} {
		if got := kerasAtLeast(c.v, 3, 4); got != c.want {
			t.Errorf("kerasAtLeast(%q, 3, 4) = %v, want %v", c.v, got, c.want)
		}
	}
}

func TestElementwiseMerges(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	a, af := xTensor(rng, 2, 3, 4)
	b, bf := xTensor(rng, 2, 3, 4)
	c, cf := xTensor(rng, 2, 3, 4)
	refs := map[string]func(x, y, z float64) float64{
		"Add":      func(x, y, z float64) float64 { return x + y + z },
		"Multiply": func(x, y, z float64) float64 { return x * y * z },
		"Average":  func(x, y, z float64) float64 { return (x + y + z) / 3 },
		"Maximum":  func(x, y, z float64) float64 { return math.Max(x, math.Max(y, z)) },
		"Minimum":  func(x, y, z float64) float64 { return math.Min(x, math.Min(y, z)) },
	}
	for class, ref := range refs {
		out := xCall(t, xBuild(t, "", class, nil), nil, runtime.Value{T: a}, runtime.Value{T: b}, runtime.Value{T: c})
		want := make([]float64, len(af))
		for i := range want {
			want[i] = ref(af[i], bf[i], cf[i])
		}
		xClose(t, class, out[0].T, []int{2, 3, 4}, want)
		xMaskEq(t, class+" mask", out[0].Mask, nil)
	}
	out := xCall(t, xBuild(t, "", "Subtract", nil), nil, runtime.Value{T: a}, runtime.Value{T: b})
	want := make([]float64, len(af))
	for i := range want {
		want[i] = af[i] - bf[i]
	}
	xClose(t, "Subtract", out[0].T, []int{2, 3, 4}, want)
	if _, err := xTryCall(xBuild(t, "", "Subtract", nil), nil, runtime.Value{T: a}, runtime.Value{T: b}, runtime.Value{T: c}); err == nil {
		t.Fatal("Subtract of 3 inputs: want an error")
	}

	// A rank-2 input gets an axis inserted at 1 and broadcasts over time.
	v, vf := xTensor(rng, 2, 4)
	out = xCall(t, xBuild(t, "", "Add", nil), nil, runtime.Value{T: a}, runtime.Value{T: v})
	for i := range want {
		want[i] = af[i] + vf[(i/12)*4+i%4]
	}
	xClose(t, "Add broadcast", out[0].T, []int{2, 3, 4}, want)
	if _, err := xTryCall(xBuild(t, "", "Add", nil), nil, runtime.Value{T: a}, runtime.Value{T: runtime.NewTensor(2, 3, 5)}); err == nil {
		t.Fatal("Add [2 3 4] and [2 3 5]: want an error")
	}
}

func TestMergeMasksByVersion(t *testing.T) {
	x := &runtime.Tensor{Shape: []int{1, 3, 1}, Data: []float32{2, 3, 4}}
	y := &runtime.Tensor{Shape: []int{1, 3, 1}, Data: []float32{5, -6, 7}}
	mx := xMask([]float32{1, 0, 0})
	my := xMask([]float32{1, 1, 0})
	vals := []runtime.Value{{T: x, Mask: mx}, {T: y, Mask: my}}

	// Keras ≥ 3.4: OR of the masks; masked values are ignored.
	out := xCall(t, xBuild(t, "3.16.0", "Add", nil), nil, vals...)
	xMaskEq(t, "Add 3.16", out[0].Mask, []float32{1, 1, 0})
	xClose(t, "Add 3.16", out[0].T, []int{1, 3, 1}, []float64{7, -3, 11})
	out = xCall(t, xBuild(t, "3.16.0", "Multiply", nil), nil, vals...)
	// step 0: 2·5; step 1: x masked counts as 1 → -6; step 2: none valid → 0.
	xClose(t, "Multiply 3.16", out[0].T, []int{1, 3, 1}, []float64{10, -6, 0})
	out = xCall(t, xBuild(t, "3.16.0", "Maximum", nil), nil, vals...)
	// step 1: x is masked, so y's -6 wins over 3; step 2: both masked, y
	// takes x's value first, so x's 4 is kept.
	xClose(t, "Maximum 3.16", out[0].T, []int{1, 3, 1}, []float64{5, -6, 4})
	xMaskEq(t, "Maximum 3.16", out[0].Mask, []float32{1, 1, 0})
	out = xCall(t, xBuild(t, "3.16.0", "Minimum", nil), nil, vals...)
	xClose(t, "Minimum 3.16", out[0].T, []int{1, 3, 1}, []float64{2, -6, 4})
	// One unmasked input: no output mask from 3.4 on.
	out = xCall(t, xBuild(t, "3.16.0", "Add", nil), nil, runtime.Value{T: x, Mask: mx}, runtime.Value{T: y})
	xMaskEq(t, "Add 3.16 one mask", out[0].Mask, nil)

	// tf.keras 2 and Keras < 3.4: AND of the masks present, plain op.
	for _, v := range []string{"2.15.0", "3.3.3"} {
		out = xCall(t, xBuild(t, v, "Multiply", nil), nil, vals...)
		xMaskEq(t, "Multiply "+v, out[0].Mask, []float32{1, 0, 0})
		xClose(t, "Multiply "+v, out[0].T, []int{1, 3, 1}, []float64{10, -18, 28})
		out = xCall(t, xBuild(t, v, "Maximum", nil), nil, runtime.Value{T: x, Mask: mx}, runtime.Value{T: y})
		xMaskEq(t, "Maximum one mask "+v, out[0].Mask, []float32{1, 0, 0})
		xClose(t, "Maximum "+v, out[0].T, []int{1, 3, 1}, []float64{5, 3, 7})
	}
	// An explicit mask list replaces the inputs' own.
	kw := map[string]runtime.Arg{"mask": {Values: []runtime.Value{{T: my}, {T: my}}, IsList: true}}
	out = xCall(t, xBuild(t, "", "Add", nil), kw, vals...)
	xMaskEq(t, "Add explicit", out[0].Mask, []float32{1, 1, 0})
}

func TestConcatenate(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	a, af := xTensor(rng, 2, 3, 2)
	b, bf := xTensor(rng, 2, 3, 1)
	out := xCall(t, xBuild(t, "", "Concatenate", nil), nil, runtime.Value{T: a}, runtime.Value{T: b})
	var want []float64
	for r := 0; r < 6; r++ {
		want = append(want, af[r*2:r*2+2]...)
		want = append(want, bf[r])
	}
	xClose(t, "Concatenate -1", out[0].T, []int{2, 3, 3}, want)

	c, cf := xTensor(rng, 2, 1, 2)
	out = xCall(t, xBuild(t, "", "Concatenate", convert.Config{"axis": 1.0}), nil,
		runtime.Value{T: a, Mask: xMask([]float32{1, 1, 0}, []float32{1, 0, 0})}, runtime.Value{T: c})
	want = nil
	for i := 0; i < 2; i++ {
		want = append(want, af[i*6:i*6+6]...)
		want = append(want, cf[i*2:i*2+2]...)
	}
	xClose(t, "Concatenate time", out[0].T, []int{2, 4, 2}, want)
	// The missing mask counts as all true; masks concatenate along time.
	xMaskEq(t, "Concatenate time mask", out[0].Mask, []float32{1, 1, 0, 1, 1, 0, 0, 1})

	// Along features: Keras ≥ 3.4 takes any over the last axis, before 3.4 all.
	ma := xMask([]float32{1, 0, 0}, []float32{1, 1, 0})
	mb := xMask([]float32{0, 1, 0}, []float32{1, 1, 1})
	vals := []runtime.Value{{T: a, Mask: ma}, {T: b, Mask: mb}}
	out = xCall(t, xBuild(t, "3.16.0", "Concatenate", nil), nil, vals...)
	xMaskEq(t, "Concatenate 3.16 mask", out[0].Mask, []float32{1, 1, 0, 1, 1, 1})
	out = xCall(t, xBuild(t, "2.15.0", "Concatenate", nil), nil, vals...)
	xMaskEq(t, "Concatenate 2.15 mask", out[0].Mask, []float32{0, 0, 0, 1, 1, 0})

	if _, err := xTryCall(xBuild(t, "", "Concatenate", nil), nil, runtime.Value{T: a}, runtime.Value{T: runtime.NewTensor(2, 4, 1)}); err == nil {
		t.Fatal("shapes differ off the axis: want an error")
	}
	if _, err := xTryCall(xBuild(t, "", "Concatenate", convert.Config{"axis": 5.0}), nil, runtime.Value{T: a}, runtime.Value{T: b}); err == nil {
		t.Fatal("axis 5: want an error")
	}
}

func TestDot(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	// 2-D inputs, axes=1: a [b, 1] result; normalized gives the cosine.
	x, xf := xTensor(rng, 3, 5)
	y, yf := xTensor(rng, 3, 5)
	for _, norm := range []bool{false, true} {
		out := xCall(t, xBuild(t, "", "Dot", convert.Config{"axes": 1.0, "normalize": norm}), nil, runtime.Value{T: x}, runtime.Value{T: y})
		want := make([]float64, 3)
		for b := 0; b < 3; b++ {
			var s, nx, ny float64
			for k := 0; k < 5; k++ {
				s += xf[b*5+k] * yf[b*5+k]
				nx += xf[b*5+k] * xf[b*5+k]
				ny += yf[b*5+k] * yf[b*5+k]
			}
			if norm {
				s /= math.Sqrt(nx) * math.Sqrt(ny)
			}
			want[b] = s
		}
		xClose(t, "Dot 2-D", out[0].T, []int{3, 1}, want)
	}
	// 3-D inputs, axes (1, 2): out[b, i, j] = Σ_k x[b, k, i] · y[b, j, k].
	p, pf := xTensor(rng, 2, 4, 3)
	q, qf := xTensor(rng, 2, 5, 4)
	out := xCall(t, xBuild(t, "", "Dot", convert.Config{"axes": []any{1.0, 2.0}}), nil, runtime.Value{T: p}, runtime.Value{T: q})
	want := make([]float64, 2*3*5)
	for b := 0; b < 2; b++ {
		for i := 0; i < 3; i++ {
			for j := 0; j < 5; j++ {
				var s float64
				for k := 0; k < 4; k++ {
					s += pf[(b*4+k)*3+i] * qf[(b*5+j)*4+k]
				}
				want[(b*3+i)*5+j] = s
			}
		}
	}
	xClose(t, "Dot 3-D", out[0].T, []int{2, 3, 5}, want)
	if _, err := xTryCall(xBuild(t, "", "Dot", convert.Config{"axes": 1.0}), nil, runtime.Value{T: p}, runtime.Value{T: q}); err == nil {
		t.Fatal("Dot over axes of sizes 4 and 5: want an error")
	}
	if _, err := xTryCall(xBuild(t, "", "Dot", convert.Config{"axes": 0.0}), nil, runtime.Value{T: x}, runtime.Value{T: y}); err == nil {
		t.Fatal("Dot over the batch axis: want an error")
	}
}
