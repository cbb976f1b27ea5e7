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

// The references here are direct float64 loops over multi-indices of any
// rank, written from Keras' definitions (no im2col, no dims3 padding), so
// that they check the N-d core independently.

// eachIndex calls fn with every multi-index of shape in row-major order.
func eachIndex(shape []int, fn func(idx []int)) {
	for _, d := range shape {
		if d <= 0 {
			return
		}
	}
	idx := make([]int, len(shape))
	for {
		fn(idx)
		a := len(shape) - 1
		for ; a >= 0; a-- {
			idx[a]++
			if idx[a] < shape[a] {
				break
			}
			idx[a] = 0
		}
		if a < 0 {
			return
		}
	}
}

// flatIndex is the row-major offset of idx in shape.
func flatIndex(idx, shape []int) int {
	o := 0
	for a, i := range idx {
		o = o*shape[a] + i
	}
	return o
}

// refPads returns Keras' output size and left padding of one axis.
func refPads(n, k, s, d int, padding string) (out, lo int) {
	span := (k-1)*d + 1
	switch padding {
	case "valid":
		out = int(math.Floor(float64(n-span)/float64(s))) + 1
	case "same":
		out = int(math.Ceil(float64(n) / float64(s)))
		lo = max((out-1)*s+span-n, 0) / 2
	case "causal":
		out = int(math.Floor(float64(n-1)/float64(s))) + 1
		lo = span - 1
	}
	return max(out, 0), lo
}

// refConvND is a float64 cross-correlation of x [b, in..., c] with w
// [k..., c/groups, f], channels last.
func refConvND(x []float64, b int, in []int, c int, w []float64, ks []int, f, groups int, strides, dil []int, padding string) ([]float64, []int) {
	r := len(in)
	out, lo := make([]int, r), make([]int, r)
	for a := range in {
		out[a], lo[a] = refPads(in[a], ks[a], strides[a], dil[a], padding)
	}
	cg, fg := c/groups, f/groups
	P := shapeSize(out)
	y := make([]float64, b*P*f)
	pos := make([]int, r)
	for bi := 0; bi < b; bi++ {
		eachIndex(out, func(o []int) {
			for fi := 0; fi < f; fi++ {
				g := fi / fg
				var s float64
				eachIndex(ks, func(k []int) {
					for a := range o {
						pos[a] = o[a]*strides[a] + k[a]*dil[a] - lo[a]
						if pos[a] < 0 || pos[a] >= in[a] {
							return
						}
					}
					xo := (bi*shapeSize(in) + flatIndex(pos, in)) * c
					for ci := 0; ci < cg; ci++ {
						s += x[xo+g*cg+ci] * w[(flatIndex(k, ks)*cg+ci)*f+fi]
					}
				})
				y[(bi*P+flatIndex(o, out))*f+fi] = s
			}
		})
	}
	return y, out
}

// refConvTransposeND is a float64 transposed convolution by its scatter
// definition: input position i and kernel offset k add x[i]·w[k, f, c]
// to output position i·s + k·d - shift, where shift = span-1-lo with
// Keras' JAX padding lo, over Keras' output size.
func refConvTransposeND(x []float64, b int, in []int, c int, w []float64, ks []int, f int, strides, dil, outPad []int, padding string) ([]float64, []int) {
	r := len(in)
	out, shift := make([]int, r), make([]int, r)
	for a := 0; a < r; a++ {
		span := (ks[a]-1)*dil[a] + 1
		s := strides[a]
		op := -1
		if outPad != nil {
			op = outPad[a]
		}
		var lo, hi int
		if padding == "valid" {
			if op < 0 {
				op = max(span, s) - span
			}
			lo, hi = span-1, span-1+op
		} else {
			padLen := s + span - 2
			if op >= 0 {
				padLen = span + span%2 - 2 + op
			}
			lo = min(padLen/2+padLen%2, span-1)
			hi = padLen - lo
		}
		out[a] = (in[a]-1)*s + 1 + lo + hi - span + 1
		shift[a] = span - 1 - lo
	}
	P := shapeSize(out)
	y := make([]float64, b*P*f)
	o := make([]int, r)
	for bi := 0; bi < b; bi++ {
		eachIndex(in, func(i []int) {
			eachIndex(ks, func(k []int) {
				for a := range i {
					o[a] = i[a]*strides[a] + k[a]*dil[a] - shift[a]
					if o[a] < 0 || o[a] >= out[a] {
						return
					}
				}
				xo := (bi*shapeSize(in) + flatIndex(i, in)) * c
				yo := (bi*P + flatIndex(o, out)) * f
				for fi := 0; fi < f; fi++ {
					for ci := 0; ci < c; ci++ {
						y[yo+fi] += x[xo+ci] * w[(flatIndex(k, ks)*f+fi)*c+ci]
					}
				}
			})
		})
	}
	return y, out
}

// toChannelsFirst moves the last axis of x [b, p..., c] to axis 1.
func toChannelsFirst(x []float64, b, p, c int) []float64 {
	y := make([]float64, len(x))
	for bi := 0; bi < b; bi++ {
		for i := 0; i < p; i++ {
			for ch := 0; ch < c; ch++ {
				y[(bi*c+ch)*p+i] = x[(bi*p+i)*c+ch]
			}
		}
	}
	return y
}

func addBiasAct(y, bias []float64, f int, act func(float64) float64) {
	for i := range y {
		if bias != nil {
			y[i] += bias[i%f]
		}
		y[i] = act(y[i])
	}
}

func floatsAny(v []int) []any {
	out := make([]any, len(v))
	for i, d := range v {
		out[i] = float64(d)
	}
	return out
}

func layerShape(b int, sp []int, c int, cf bool) []int {
	if cf {
		return append([]int{b, c}, sp...)
	}
	return append(append([]int{b}, sp...), c)
}

func TestConvNDAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(111, 112))
	for _, c := range []struct {
		class       string
		in, k, s, d []int
		padding     string
		groups      int
		cf, bias    bool
		act         string
	}{
		{"Conv2D", []int{6, 7}, []int{3, 2}, []int{1, 1}, []int{1, 1}, "valid", 1, false, true, "linear"},
		{"Conv2D", []int{6, 7}, []int{3, 3}, []int{2, 3}, []int{1, 1}, "same", 1, false, true, "relu"},
		{"Conv2D", []int{7, 7}, []int{2, 3}, []int{1, 1}, []int{2, 2}, "same", 2, true, false, "linear"},
		{"Conv2D", []int{5, 4}, []int{1, 1}, []int{1, 1}, []int{1, 1}, "valid", 1, false, true, "tanh"},
		{"Conv2D", []int{5, 4}, []int{1, 1}, []int{2, 1}, []int{1, 1}, "valid", 2, true, true, "linear"},
		{"Conv3D", []int{4, 5, 3}, []int{2, 3, 2}, []int{1, 2, 1}, []int{1, 1, 1}, "same", 1, false, true, "linear"},
		{"Conv3D", []int{5, 5, 5}, []int{2, 2, 2}, []int{1, 1, 1}, []int{2, 1, 2}, "valid", 2, true, true, "sigmoid"},
	} {
		name := fmt.Sprintf("%s_%v_k%v_s%v_d%v_%s_g%d_cf%v", c.class, c.in, c.k, c.s, c.d, c.padding, c.groups, c.cf)
		t.Run(name, func(t *testing.T) {
			const b, ch, f = 2, 4, 6
			r := len(c.in)
			x, xf := xTensor(rng, layerShape(b, c.in, ch, false)...)
			kw, kf := xWeight(rng, "kernel", append(append([]int(nil), c.k...), ch/c.groups, f)...)
			ws := []convert.Weight{kw}
			var bf []float64
			if c.bias {
				bw, v := xWeight(rng, "bias", f)
				ws, bf = append(ws, bw), v
			}
			cfg := convert.Config{"filters": float64(f), "kernel_size": floatsAny(c.k), "strides": floatsAny(c.s),
				"dilation_rate": floatsAny(c.d), "padding": c.padding, "groups": float64(c.groups),
				"activation": c.act, "use_bias": c.bias}
			want, out := refConvND(xf, b, c.in, ch, kf, c.k, f, c.groups, c.s, c.d, c.padding)
			addBiasAct(want, bf, f, refAct(c.act))
			if c.cf {
				cfg["data_format"] = "channels_first"
				x.Data = float32s(toChannelsFirst(xf, b, shapeSize(c.in), ch))
				x.Shape = layerShape(b, c.in, ch, true)
				want = toChannelsFirst(want, b, shapeSize(out), f)
			}
			l := xBuild(t, "", c.class, cfg, ws...)
			if got := l.(*Conv).Rank; got != r {
				t.Fatalf("rank %d, want %d", got, r)
			}
			for call := 0; call < 2; call++ { // the second call reuses scratch
				got := xCall(t, l, nil, runtime.Value{T: x})
				xClose(t, name, got[0].T, layerShape(b, out, f, c.cf), want)
			}
		})
	}
}

func float32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func TestDepthwiseSeparableAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(113, 114))
	for _, c := range []struct {
		rank      int
		in, k, s  []int
		d         []int
		padding   string
		m         int
		separable bool
		cf        bool
	}{
		{1, []int{9}, []int{3}, []int{1}, []int{2}, "same", 2, false, false},
		{1, []int{9}, []int{2}, []int{2}, []int{1}, "valid", 1, true, true},
		{2, []int{6, 5}, []int{3, 2}, []int{2, 1}, []int{1, 1}, "same", 3, false, true},
		{2, []int{6, 5}, []int{2, 2}, []int{1, 1}, []int{1, 2}, "valid", 2, true, false},
	} {
		class := fmt.Sprintf("DepthwiseConv%dD", c.rank)
		if c.separable {
			class = fmt.Sprintf("SeparableConv%dD", c.rank)
		}
		name := fmt.Sprintf("%s_%v_k%v_s%v_d%v_%s_m%d_cf%v", class, c.in, c.k, c.s, c.d, c.padding, c.m, c.cf)
		t.Run(name, func(t *testing.T) {
			const b, ch, f = 2, 3, 4
			x, xf := xTensor(rng, layerShape(b, c.in, ch, false)...)
			dk, dkf := xWeight(rng, "depthwise_kernel", append(append([]int(nil), c.k...), ch, c.m)...)
			// A depthwise kernel [k..., c, m] is the grouped kernel
			// [k..., 1, c·m] with c groups.
			mid, out := refConvND(xf, b, c.in, ch, dkf, c.k, ch*c.m, ch, c.s, c.d, c.padding)
			cfg := convert.Config{"kernel_size": floatsAny(c.k), "strides": floatsAny(c.s), "dilation_rate": floatsAny(c.d),
				"padding": c.padding, "depth_multiplier": float64(c.m)}
			ws := []convert.Weight{dk}
			want, fo := mid, ch*c.m
			if c.separable {
				cfg["filters"] = float64(f)
				pk, pkf := xWeight(rng, "pointwise_kernel", append(ones(c.rank), ch*c.m, f)...)
				ws = append(ws, pk)
				ones1 := ones(c.rank)
				want, _ = refConvND(mid, b, out, ch*c.m, pkf, ones1, f, 1, ones1, ones1, "valid")
				fo = f
			}
			bw, bf := xWeight(rng, "bias", fo)
			ws = append(ws, bw)
			addBiasAct(want, bf, fo, refAct("linear"))
			if c.cf {
				cfg["data_format"] = "channels_first"
				x.Data = float32s(toChannelsFirst(xf, b, shapeSize(c.in), ch))
				x.Shape = layerShape(b, c.in, ch, true)
				want = toChannelsFirst(want, b, shapeSize(out), fo)
			}
			l := xBuild(t, "", class, cfg, ws...)
			got := xCall(t, l, nil, runtime.Value{T: x})
			xClose(t, name, got[0].T, layerShape(b, out, fo, c.cf), want)
		})
	}
}

func ones(n int) []int {
	v := make([]int, n)
	for i := range v {
		v[i] = 1
	}
	return v
}

func TestConvTransposeAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(115, 116))
	for _, c := range []struct {
		in, k, s, d, op []int
		padding         string
		cf              bool
	}{
		{[]int{5}, []int{3}, []int{2}, []int{1}, nil, "same", false},
		{[]int{5}, []int{4}, []int{3}, []int{1}, []int{2}, "same", false},
		{[]int{5}, []int{3}, []int{1}, []int{2}, nil, "valid", true},
		{[]int{4, 3}, []int{3, 2}, []int{2, 3}, []int{1, 1}, nil, "valid", false},
		{[]int{4, 3}, []int{3, 3}, []int{2, 2}, []int{1, 1}, []int{1, 0}, "same", true},
		{[]int{4, 3}, []int{2, 2}, []int{2, 2}, []int{1, 1}, []int{1, 1}, "valid", false},
		{[]int{2, 3, 2}, []int{2, 3, 2}, []int{2, 1, 2}, []int{1, 1, 1}, nil, "same", false},
	} {
		r := len(c.in)
		class := fmt.Sprintf("Conv%dDTranspose", r)
		name := fmt.Sprintf("%s_%v_k%v_s%v_d%v_op%v_%s_cf%v", class, c.in, c.k, c.s, c.d, c.op, c.padding, c.cf)
		t.Run(name, func(t *testing.T) {
			const b, ch, f = 2, 3, 2
			x, xf := xTensor(rng, layerShape(b, c.in, ch, false)...)
			kw, kf := xWeight(rng, "kernel", append(append([]int(nil), c.k...), f, ch)...)
			bw, bf := xWeight(rng, "bias", f)
			cfg := convert.Config{"filters": float64(f), "kernel_size": floatsAny(c.k), "strides": floatsAny(c.s),
				"dilation_rate": floatsAny(c.d), "padding": c.padding}
			if c.op != nil {
				cfg["output_padding"] = floatsAny(c.op)
			}
			want, out := refConvTransposeND(xf, b, c.in, ch, kf, c.k, f, c.s, c.d, c.op, c.padding)
			addBiasAct(want, bf, f, refAct("linear"))
			if c.cf {
				cfg["data_format"] = "channels_first"
				x.Data = float32s(toChannelsFirst(xf, b, shapeSize(c.in), ch))
				x.Shape = layerShape(b, c.in, ch, true)
				want = toChannelsFirst(want, b, shapeSize(out), f)
			}
			l := xBuild(t, "", class, cfg, kw, bw)
			got := xCall(t, l, nil, runtime.Value{T: x})
			xClose(t, name, got[0].T, layerShape(b, out, f, c.cf), want)
		})
	}
}

// refPool is a float64 max or average pooling of x [b, in..., c].
func refPool(x []float64, b int, in []int, c int, pool, strides []int, padding string, isMax bool) ([]float64, []int) {
	r := len(in)
	out, lo := make([]int, r), make([]int, r)
	for a := range in {
		out[a], lo[a] = refPads(in[a], pool[a], strides[a], 1, padding)
	}
	P := shapeSize(out)
	y := make([]float64, b*P*c)
	pos := make([]int, r)
	for bi := 0; bi < b; bi++ {
		eachIndex(out, func(o []int) {
			for ch := 0; ch < c; ch++ {
				m, s, n := math.Inf(-1), 0.0, 0
				eachIndex(pool, func(k []int) {
					for a := range o {
						pos[a] = o[a]*strides[a] + k[a] - lo[a]
						if pos[a] < 0 || pos[a] >= in[a] {
							return
						}
					}
					v := x[(bi*shapeSize(in)+flatIndex(pos, in))*c+ch]
					m, s, n = math.Max(m, v), s+v, n+1
				})
				if !isMax {
					m = s / float64(n)
				}
				y[(bi*P+flatIndex(o, out))*c+ch] = m
			}
		})
	}
	return y, out
}

func TestPoolingNDAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(117, 118))
	for _, c := range []struct {
		in, pool, s []int
		padding     string
		max, cf     bool
	}{
		{[]int{6, 7}, []int{2, 2}, []int{2, 2}, "valid", true, false},
		{[]int{7, 7}, []int{3, 2}, []int{2, 1}, "same", true, true},
		{[]int{7, 6}, []int{3, 3}, []int{2, 2}, "same", false, false},
		{[]int{5, 6}, []int{2, 3}, []int{1, 2}, "valid", false, true},
		{[]int{3, 4, 5}, []int{2, 2, 3}, []int{1, 2, 2}, "same", false, true},
		{[]int{4, 4, 5}, []int{2, 2, 2}, []int{2, 2, 2}, "valid", true, false},
	} {
		r := len(c.in)
		class := fmt.Sprintf("AveragePooling%dD", r)
		if c.max {
			class = fmt.Sprintf("MaxPooling%dD", r)
		}
		name := fmt.Sprintf("%s_%v_p%v_s%v_%s_cf%v", class, c.in, c.pool, c.s, c.padding, c.cf)
		t.Run(name, func(t *testing.T) {
			const b, ch = 2, 3
			x, xf := xTensor(rng, layerShape(b, c.in, ch, false)...)
			want, out := refPool(xf, b, c.in, ch, c.pool, c.s, c.padding, c.max)
			cfg := convert.Config{"pool_size": floatsAny(c.pool), "strides": floatsAny(c.s), "padding": c.padding}
			if c.cf {
				cfg["data_format"] = "channels_first"
				x.Data = float32s(toChannelsFirst(xf, b, shapeSize(c.in), ch))
				x.Shape = layerShape(b, c.in, ch, true)
				want = toChannelsFirst(want, b, shapeSize(out), ch)
			}
			got := xCall(t, xBuild(t, "", class, cfg), nil, runtime.Value{T: x})
			xClose(t, name, got[0].T, layerShape(b, out, ch, c.cf), want)
			// Global pooling over the same input.
			gclass := "GlobalAveragePooling"
			if c.max {
				gclass = "GlobalMaxPooling"
			}
			gclass += fmt.Sprintf("%dD", r)
			gwant := make([]float64, b*ch)
			P := shapeSize(c.in)
			for bi := 0; bi < b; bi++ {
				for k := 0; k < ch; k++ {
					m, s := math.Inf(-1), 0.0
					for p := 0; p < P; p++ {
						v := xf[(bi*P+p)*ch+k]
						m, s = math.Max(m, v), s+v
					}
					if !c.max {
						m = s / float64(P)
					}
					gwant[bi*ch+k] = m
				}
			}
			gcfg := convert.Config{"keepdims": true}
			if c.cf {
				gcfg["data_format"] = "channels_first"
			}
			gshape := layerShape(b, ones(r), ch, c.cf)
			got = xCall(t, xBuild(t, "", gclass, gcfg), nil, runtime.Value{T: x})
			xClose(t, gclass, got[0].T, gshape, gwant)
		})
	}
}

func TestSpatialResizeAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(119, 120))
	const b, ch = 2, 3
	for _, c := range []struct {
		class string
		cfg   convert.Config
		in    []int
		// src maps an output index to the input index it copies (-1: zero)
		// and gives the output size, per axis.
		src func(a, o int) int
		out []int
	}{
		{"ZeroPadding2D", convert.Config{"padding": []any{[]any{1.0, 2.0}, []any{0.0, 3.0}}}, []int{3, 4},
			func(a, o int) int { return []int{o - 1, o}[a] }, []int{6, 7}},
		{"ZeroPadding3D", convert.Config{"padding": 1.0}, []int{2, 3, 2},
			func(_, o int) int { return o - 1 }, []int{4, 5, 4}},
		{"Cropping2D", convert.Config{"cropping": []any{2.0, 1.0}}, []int{6, 5},
			func(a, o int) int { return o + []int{2, 1}[a] }, []int{2, 3}},
		{"Cropping3D", convert.Config{"cropping": []any{[]any{0.0, 1.0}, []any{1.0, 1.0}, []any{2.0, 0.0}}}, []int{3, 4, 5},
			func(a, o int) int { return o + []int{0, 1, 2}[a] }, []int{2, 2, 3}},
		{"UpSampling2D", convert.Config{"size": []any{2.0, 3.0}}, []int{2, 3},
			func(a, o int) int { return o / []int{2, 3}[a] }, []int{4, 9}},
		{"UpSampling3D", convert.Config{"size": 2.0}, []int{2, 1, 2},
			func(_, o int) int { return o / 2 }, []int{4, 2, 4}},
	} {
		for _, cf := range []bool{false, true} {
			name := fmt.Sprintf("%s_cf%v", c.class, cf)
			t.Run(name, func(t *testing.T) {
				x, xf := xTensor(rng, layerShape(b, c.in, ch, false)...)
				P := shapeSize(c.out)
				want := make([]float64, b*P*ch)
				src := make([]int, len(c.in))
				for bi := 0; bi < b; bi++ {
					eachIndex(c.out, func(o []int) {
						for a := range o {
							if src[a] = c.src(a, o[a]); src[a] < 0 || src[a] >= c.in[a] {
								return
							}
						}
						for k := 0; k < ch; k++ {
							want[(bi*P+flatIndex(o, c.out))*ch+k] = xf[(bi*shapeSize(c.in)+flatIndex(src, c.in))*ch+k]
						}
					})
				}
				cfg := convert.Config{}
				for k, v := range c.cfg {
					cfg[k] = v
				}
				if cf {
					cfg["data_format"] = "channels_first"
					x.Data = float32s(toChannelsFirst(xf, b, shapeSize(c.in), ch))
					x.Shape = layerShape(b, c.in, ch, true)
					want = toChannelsFirst(want, b, P, ch)
				}
				got := xCall(t, xBuild(t, "", c.class, cfg), nil, runtime.Value{T: x})
				xClose(t, name, got[0].T, layerShape(b, c.out, ch, cf), want)
			})
		}
	}
}

func TestConvNDErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(121, 122))
	kw, _ := xWeight(rng, "kernel", 3, 3, 2, 4)
	bw, _ := xWeight(rng, "bias", 4)
	base := func() convert.Config { return convert.Config{"filters": 4.0, "kernel_size": []any{3.0, 3.0}} }
	if _, err := xTryBuild("", "Conv2D", base(), kw); !errors.Is(err, convert.ErrWeights) {
		t.Errorf("missing bias: got %v, want ErrWeights", err)
	}
	bad, _ := xWeight(rng, "kernel", 3, 2, 2, 4)
	if _, err := xTryBuild("", "Conv2D", base(), bad, bw); !errors.Is(err, convert.ErrWeights) {
		t.Errorf("kernel_size mismatch: got %v, want ErrWeights", err)
	}
	for key, v := range map[string]any{
		"padding": "causal", "strides": []any{1.0, 0.0}, "kernel_size": []any{3.0, 3.0, 3.0},
		"groups": 3.0, "activation": "nope", "data_format": "channels_middle", "dim_ordering": "th",
	} {
		cfg := base()
		cfg[key] = v
		if _, err := xTryBuild("", "Conv2D", cfg, kw, bw); err == nil {
			t.Errorf("%s=%v: want an error", key, v)
		}
	}
	l := xBuild(t, "", "Conv2D", base(), kw, bw)
	for _, shape := range [][]int{{1, 5, 5, 3}, {1, 5, 5}, {1, 2, 2, 2}} {
		if _, err := xTryCall(l, nil, runtime.Value{T: runtime.NewTensor(shape...)}); err == nil {
			t.Errorf("input %v: want an error", shape)
		}
	}
	tk, _ := xWeight(rng, "kernel", 2, 2, 3)
	if _, err := xTryBuild("", "Conv1DTranspose", convert.Config{"filters": 2.0, "kernel_size": 2.0, "strides": 2.0, "output_padding": 2.0, "use_bias": false}, tk); !errors.Is(err, convert.ErrConfig) {
		t.Errorf("output_padding ≥ strides: got %v, want ErrConfig", err)
	}
	for _, cfg := range []convert.Config{{"size": 0.0}, {"size": 2.0, "interpolation": "lanczos3"}} {
		if _, err := xTryBuild("", "UpSampling2D", cfg); err == nil {
			t.Errorf("UpSampling2D %v: want an error", cfg)
		}
	}
	for _, p := range []any{[]any{1.0}, []any{[]any{1.0}, 2.0}, -1.0, "x"} {
		if _, err := xTryBuild("", "ZeroPadding2D", convert.Config{"padding": p}); !errors.Is(err, convert.ErrConfig) {
			t.Errorf("ZeroPadding2D padding %v: got %v, want ErrConfig", p, err)
		}
	}
	crop := xBuild(t, "", "Cropping2D", convert.Config{"cropping": 2.0})
	if _, err := xTryCall(crop, nil, runtime.Value{T: runtime.NewTensor(1, 4, 6, 1)}); err == nil {
		t.Error("cropping everything: want an error")
	}
}

// TestConvNDKeras1Names builds Keras 1 Convolution2D/3D and pooling
// configs (nb_filter, nb_row/nb_col, kernel_dim1..3, subsample,
// border_mode, dim_ordering "tf"/"th").
func TestConvNDKeras1Names(t *testing.T) {
	rng := rand.New(rand.NewPCG(123, 124))
	x, xf := xTensor(rng, 2, 5, 6, 3)
	kw, kf := xWeight(rng, "kernel", 2, 3, 3, 4)
	bw, bf := xWeight(rng, "bias", 4)
	cfg := convert.Config{"nb_filter": 4.0, "nb_row": 2.0, "nb_col": 3.0, "subsample": []any{1.0, 2.0},
		"border_mode": "same", "dim_ordering": "tf", "bias": true}
	want, out := refConvND(xf, 2, []int{5, 6}, 3, kf, []int{2, 3}, 4, 1, []int{1, 2}, []int{1, 1}, "same")
	addBiasAct(want, bf, 4, refAct("linear"))
	got := xCall(t, xBuild(t, "1.2.2", "Convolution2D", cfg, kw, bw), nil, runtime.Value{T: x})
	xClose(t, "Keras 1 Convolution2D", got[0].T, layerShape(2, out, 4, false), want)

	x3, xf3 := xTensor(rng, 1, 3, 4, 3, 2)
	kw3, kf3 := xWeight(rng, "kernel", 2, 2, 1, 2, 3)
	cfg3 := convert.Config{"nb_filter": 3.0, "kernel_dim1": 2.0, "kernel_dim2": 2.0, "kernel_dim3": 1.0, "bias": false}
	want3, out3 := refConvND(xf3, 1, []int{3, 4, 3}, 2, kf3, []int{2, 2, 1}, 3, 1, []int{1, 1, 1}, []int{1, 1, 1}, "valid")
	got = xCall(t, xBuild(t, "1.2.2", "Convolution3D", cfg3, kw3), nil, runtime.Value{T: x3})
	xClose(t, "Keras 1 Convolution3D", got[0].T, layerShape(1, out3, 3, false), want3)

	// Keras 1 pooling with dim_ordering "th" is channels first.
	pwant, pout := refPool(xf, 2, []int{5, 6}, 3, []int{2, 2}, []int{2, 2}, "valid", true)
	xt := &runtime.Tensor{Shape: []int{2, 3, 5, 6}, Data: float32s(toChannelsFirst(xf, 2, 30, 3))}
	pcfg := convert.Config{"pool_size": []any{2.0, 2.0}, "border_mode": "valid", "dim_ordering": "th"}
	got = xCall(t, xBuild(t, "1.2.2", "MaxPooling2D", pcfg), nil, runtime.Value{T: xt})
	xClose(t, "Keras 1 MaxPooling2D th", got[0].T, layerShape(2, pout, 3, true), toChannelsFirst(pwant, 2, shapeSize(pout), 3))
}
