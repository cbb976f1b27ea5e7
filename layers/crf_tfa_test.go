package layers

import (
	"errors"
	"math"
	"math/rand"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// The expected numbers here come from tfaCRFRef, a float64 port of the
// equations of tensorflow_addons/layers/crf.py and text/crf.py's
// crf_decode as published (TensorFlow and tfa cannot be installed here):
// the Viterbi path is found by brute force over every tag path, not by
// the dynamic programme the Go layer runs.

// tfaCRFRef holds one tfa CRF's weights in float64.
type tfaCRFRef struct {
	F, D               int
	kernel             [][]float64 // [D][F], nil without use_kernel
	bias, left, right  []float64
	chain              [][]float64 // [F][F]
	useKernel, useBndy bool
}

// potentials is Dense(x) (or x) plus add_boundary_energy for one
// sequence; mask is nil or one 0/1 per step.
func (c *tfaCRFRef) potentials(x [][]float64, mask []float64) [][]float64 {
	T := len(x)
	p := make([][]float64, T)
	for t := range x {
		p[t] = make([]float64, c.F)
		for k := 0; k < c.F; k++ {
			if !c.useKernel {
				p[t][k] = x[t][k]
				continue
			}
			s := c.bias[k]
			for d := 0; d < c.D; d++ {
				s += x[t][d] * c.kernel[d][k]
			}
			p[t][k] = s
		}
	}
	if !c.useBndy {
		return p
	}
	if mask == nil {
		for k := 0; k < c.F; k++ {
			p[0][k] += c.left[k]
		}
		for k := 0; k < c.F; k++ {
			p[T-1][k] += c.right[k]
		}
		return p
	}
	// start_mask = mask > shift_right(mask); end_mask = mask > shift_left(mask).
	at := func(t int) float64 {
		if t < 0 || t >= T {
			return 0
		}
		return mask[t]
	}
	for t := 0; t < T; t++ {
		if at(t) > at(t-1) {
			for k := 0; k < c.F; k++ {
				p[t][k] += c.left[k]
			}
		}
		if at(t) > at(t+1) {
			for k := 0; k < c.F; k++ {
				p[t][k] += c.right[k]
			}
		}
	}
	return p
}

// pathScore is the CRF score of tags over the first len(tags) steps.
func (c *tfaCRFRef) pathScore(p [][]float64, tags []int) float64 {
	s := 0.0
	for t, k := range tags {
		s += p[t][k]
		if t > 0 {
			s += c.chain[tags[t-1]][k]
		}
	}
	return s
}

// decode is crf_decode for one sequence of true length n: argmax of the
// potentials when the time axis has one step, else the best of all F^n
// paths over the first n steps, zeros after; n == 0 gives argmax(p[0])
// then zeros. It also returns the best score and the runner-up's.
func (c *tfaCRFRef) decode(p [][]float64, n int) (tags []int, best, second float64) {
	T := len(p)
	tags = make([]int, T)
	argmax := func(row []float64) int {
		a := 0
		for j := range row {
			if row[j] > row[a] {
				a = j
			}
		}
		return a
	}
	if T == 1 {
		tags[0] = argmax(p[0])
		return tags, p[0][tags[0]], math.Inf(-1)
	}
	if n == 0 {
		tags[0] = argmax(p[0])
		return tags, 0, math.Inf(-1)
	}
	best, second = math.Inf(-1), math.Inf(-1)
	cur := make([]int, n)
	total := 1
	for i := 0; i < n; i++ {
		total *= c.F
	}
	for code := 0; code < total; code++ {
		v := code
		for t := 0; t < n; t++ {
			cur[t] = v % c.F
			v /= c.F
		}
		s := c.pathScore(p, cur)
		if s > best {
			best, second = s, best
			copy(tags, cur)
		} else if s > second {
			second = s
		}
	}
	return tags, best, second
}

func randomTFACRFSpec(rng *rand.Rand, D, F int, cfg convert.Config) *convert.Layer {
	w := func(name string, shape ...int) convert.Weight {
		return randomWeight(rng, name+":0", shape...)
	}
	spec := &convert.Layer{Name: "crf", ClassName: tfaCRFClass, Config: cfg}
	spec.Weights = []convert.Weight{w("chain_kernel", F, F)}
	if b, ok := cfg["use_boundary"].(bool); !ok || b {
		spec.Weights = append(spec.Weights, w("left_boundary", F), w("right_boundary", F))
	}
	if b, ok := cfg["use_kernel"].(bool); !ok || b {
		spec.Weights = append(spec.Weights, w("crf/dense/kernel", D, F), w("crf/dense/bias", F))
	}
	return spec
}

func tfaRefOf(c *TFACRF) *tfaCRFRef {
	f64 := func(s []float32) []float64 {
		if s == nil {
			return nil
		}
		o := make([]float64, len(s))
		for i, v := range s {
			o[i] = float64(v)
		}
		return o
	}
	mat := func(s []float32, r, k int) [][]float64 {
		if s == nil {
			return nil
		}
		o := make([][]float64, r)
		for i := range o {
			o[i] = f64(s[i*k : (i+1)*k])
		}
		return o
	}
	return &tfaCRFRef{F: c.Units, D: c.InputDim, kernel: mat(c.Kernel, c.InputDim, c.Units),
		bias: f64(c.Bias), left: f64(c.Left), right: f64(c.Right), chain: mat(c.Chain, c.Units, c.Units),
		useKernel: c.UseKernel, useBndy: c.Left != nil}
}

// checkTFACRF compares the layer's four outputs on x (and mask) with the
// reference applied to x.
func checkTFACRF(t *testing.T, c *TFACRF, outs []runtime.Value, x, mask []float32, B, T int) {
	t.Helper()
	ref := tfaRefOf(c)
	if len(outs) != 4 {
		t.Fatalf("%d outputs, want 4", len(outs))
	}
	tags, pot, lens, chain := outs[0].T, outs[1].T, outs[2].T, outs[3].T
	if !shapeIs(tags, B, T) || !shapeIs(pot, B, T, c.Units) || !shapeIs(lens, B) || !shapeIs(chain, c.Units, c.Units) {
		t.Fatalf("output shapes %v %v %v %v", tags.Shape, pot.Shape, lens.Shape, chain.Shape)
	}
	for i, v := range c.Chain {
		if chain.Data[i] != v {
			t.Fatalf("chain_kernel output [%d] = %v, want %v", i, chain.Data[i], v)
		}
	}
	for b := 0; b < B; b++ {
		xs := make([][]float64, T)
		for tt := range xs {
			xs[tt] = make([]float64, c.InputDim)
			for d := range xs[tt] {
				xs[tt][d] = float64(x[(b*T+tt)*c.InputDim+d])
			}
		}
		var mb []float64
		n := T
		if mask != nil {
			mb, n = make([]float64, T), 0
			for tt := range mb {
				if mask[b*T+tt] != 0 {
					mb[tt] = 1
					n++
				}
			}
		}
		if got := lens.Data[b]; got != float32(n) {
			t.Errorf("batch %d: sequence_length %v, want %d", b, got, n)
		}
		p := ref.potentials(xs, mb)
		for tt := 0; tt < T; tt++ {
			for k := 0; k < c.Units; k++ {
				g, w := float64(pot.Data[(b*T+tt)*c.Units+k]), p[tt][k]
				if math.Abs(g-w) > 1e-5+1e-4*math.Abs(w) {
					t.Errorf("batch %d step %d tag %d: potential %v, want %v", b, tt, k, g, w)
				}
			}
		}
		want, best, second := ref.decode(p, n)
		got := make([]int, T)
		for tt := range got {
			got[tt] = int(tags.Data[b*T+tt])
			if float32(got[tt]) != tags.Data[b*T+tt] || got[tt] < 0 || got[tt] >= c.Units {
				t.Fatalf("batch %d step %d: tag %v is no tag id", b, tt, tags.Data[b*T+tt])
			}
		}
		same := true
		for tt := range got {
			same = same && got[tt] == want[tt]
		}
		// float32 against float64 may swap two paths whose scores tie to
		// float32 precision; anything else is a wrong path.
		if !same && !(T > 1 && n > 0 && best-second < 1e-4*(1+math.Abs(best)) && math.Abs(ref.pathScore(p, got[:n])-best) < 1e-4*(1+math.Abs(best))) {
			t.Errorf("batch %d (length %d of %d): tags %v, want %v", b, n, T, got, want)
		}
	}
}

func shapeIs(x *runtime.Tensor, shape ...int) bool {
	if x == nil || len(x.Shape) != len(shape) {
		return false
	}
	for i, d := range shape {
		if x.Shape[i] != d {
			return false
		}
	}
	return true
}

func TestTFACRFMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	cases := []struct {
		name string
		cfg  convert.Config
		D, F int
	}{
		{"defaults", convert.Config{"units": 3.0}, 4, 3},
		{"no boundary", convert.Config{"units": 3.0, "use_boundary": false}, 4, 3},
		{"no kernel", convert.Config{"units": 4.0, "use_kernel": false}, 4, 4},
		{"no kernel no boundary", convert.Config{"units": 2.0, "use_kernel": false, "use_boundary": false}, 2, 2},
		{"one tag", convert.Config{"units": 1.0}, 3, 1},
	}
	masks := []struct {
		name string
		T    int
		m    [][]float32 // one row per batch entry; nil: no mask
	}{
		{"T=5 no mask", 5, nil},
		{"T=1 no mask", 1, nil},
		{"T=5 post-padded", 5, [][]float32{{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}, {1, 0, 0, 0, 0}, {0, 0, 0, 0, 0}}},
		{"T=1 masked", 1, [][]float32{{1}, {0}}},
		{"T=2", 2, [][]float32{{1, 1}, {1, 0}, {0, 0}}},
		{"T=6 holes and left padding", 6, [][]float32{{1, 0, 1, 1, 0, 1}, {0, 0, 1, 1, 1, 1}, {0, 1, 0, 0, 0, 0}}},
	}
	for _, tc := range cases {
		for _, mc := range masks {
			t.Run(tc.name+"/"+mc.name, func(t *testing.T) {
				l, err := buildTFACRF(randomTFACRFSpec(rng, tc.D, tc.F, tc.cfg), nil)
				if err != nil {
					t.Fatal(err)
				}
				c := l.(*TFACRF)
				B := 3
				var mask []float32
				if mc.m != nil {
					B = len(mc.m)
					for _, row := range mc.m {
						mask = append(mask, row...)
					}
				}
				x := make([]float32, B*mc.T*tc.D)
				for i := range x {
					x[i] = float32(rng.NormFloat64() * 2)
				}
				xt, _ := runtime.FromData(x, B, mc.T, tc.D)
				in := runtime.Value{T: xt}
				if mask != nil {
					in.Mask, _ = runtime.FromData(mask, B, mc.T)
				}
				outs, err := c.Call(runtime.NewWorkspace(false), &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{in}}}})
				if err != nil {
					t.Fatal(err)
				}
				checkTFACRF(t, c, outs, x, mask, B, mc.T)
				if outs[0].Mask != in.Mask || outs[1].Mask != nil {
					t.Error("the input mask should go to decoded_sequence only")
				}
			})
		}
	}
}

// TestTFACRFEdgeCases pins crf_decode's special cases with hand values.
func TestTFACRFEdgeCases(t *testing.T) {
	// Two tags, identity input (use_kernel false), no boundaries; the
	// chain strongly prefers staying on tag 1 once there.
	spec := &convert.Layer{Name: "crf", ClassName: tfaCRFClass,
		Config:  convert.Config{"units": 2.0, "use_kernel": false, "use_boundary": false},
		Weights: []convert.Weight{{Name: "chain_kernel:0", Shape: []int{2, 2}, Data: []float32{0, 0, -10, 5}}}}
	l, err := buildTFACRF(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	run := func(x []float32, mask []float32, T int) []float32 {
		xt, _ := runtime.FromData(x, 1, T, 2)
		in := runtime.Value{T: xt}
		if mask != nil {
			in.Mask, _ = runtime.FromData(mask, 1, T)
		}
		outs, err := l.Call(runtime.NewWorkspace(false), &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{in}}}})
		if err != nil {
			t.Fatal(err)
		}
		return outs[0].T.Data
	}
	eq := func(name string, got []float32, want ...float32) {
		t.Helper()
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: tags %v, want %v", name, got, want)
				return
			}
		}
	}
	// Per step the unary argmax is 0,1,0 but 1→0 costs 10 and 1→1 gains 5.
	eq("full", run([]float32{0, 1, 0, 1, 3, 0}, nil, 3), 1, 1, 1)
	eq("length 2 of 3", run([]float32{0, 1, 0, 1, 3, 0}, []float32{1, 1, 0}, 3), 1, 1, 0)
	eq("length 1 of 3", run([]float32{0, 1, 0, 1, 3, 0}, []float32{1, 0, 0}, 3), 1, 0, 0)
	eq("length 0 of 3", run([]float32{0, 1, 0, 1, 3, 0}, []float32{0, 0, 0}, 3), 1, 0, 0)
	eq("T=1 masked out", run([]float32{0, 1}, []float32{0}, 1), 1)
	eq("tie goes to tag 0", run([]float32{2, 2}, nil, 1), 0)
}

func TestTFACRFBadInput(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, cfg := range []convert.Config{{"units": 0.0}, {"units": "three"}} {
		if _, err := buildTFACRF(randomTFACRFSpec(rng, 2, 3, cfg), nil); !errors.Is(err, convert.ErrConfig) {
			t.Errorf("config %v: error %v, want ErrConfig", cfg, err)
		}
	}
	spec := randomTFACRFSpec(rng, 2, 3, convert.Config{"units": 3.0})
	spec.Weights = spec.Weights[:3]
	if _, err := buildTFACRF(spec, nil); !errors.Is(err, convert.ErrWeights) {
		t.Errorf("missing dense weights: error %v, want ErrWeights", err)
	}
	spec = randomTFACRFSpec(rng, 2, 3, convert.Config{"units": 4.0})
	if _, err := buildTFACRF(spec, nil); !errors.Is(err, convert.ErrWeights) {
		t.Errorf("chain of 3 tags for units 4: error %v, want ErrWeights", err)
	}
	l, err := buildTFACRF(randomTFACRFSpec(rng, 2, 3, convert.Config{"units": 3.0}), nil)
	if err != nil {
		t.Fatal(err)
	}
	xt, _ := runtime.FromData(make([]float32, 12), 2, 2, 3)
	if _, err := l.Call(runtime.NewWorkspace(false), &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: xt}}}}}); err == nil {
		t.Error("input of 3 features for a kernel of 2: no error")
	}
}

// TestTFACRFDispatch checks that a "CRF" entry goes to tfa's builder
// when its module or config says tfa, and to keras-contrib's otherwise.
func TestTFACRFDispatch(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	reg := Standard()
	for _, tc := range []struct {
		class, module string
		cfg           convert.Config
		tfa           bool
	}{
		{"Addons>CRF", "", convert.Config{"units": 3.0}, true},
		{"CRF", "tensorflow_addons.layers.crf", convert.Config{"units": 3.0}, true},
		{"CRF", "", convert.Config{"units": 3.0, "use_kernel": true}, true},
	} {
		spec := randomTFACRFSpec(rng, 2, 3, tc.cfg)
		spec.ClassName, spec.Module = tc.class, tc.module
		l, err := reg.Build(spec, nil)
		if err != nil {
			t.Fatalf("%s %q: %v", tc.class, tc.module, err)
		}
		if _, ok := l.(*TFACRF); ok != tc.tfa {
			t.Errorf("%s %q: built %T", tc.class, tc.module, l)
		}
	}
	spec := randomCRFSpec(rng, 2, 3, convert.Config{"units": 3.0, "learn_mode": "join"})
	l, err := reg.Build(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.(*CRF); !ok {
		t.Errorf("keras-contrib CRF built %T", l)
	}
}

// CheckTFACRF is checkTFACRF for the external tests of this package
// (crf_tfa_fixture_test.go), which load whole models through keras.
func CheckTFACRF(t *testing.T, c *TFACRF, outs []runtime.Value, x, mask []float32, B, T int) {
	t.Helper()
	checkTFACRF(t, c, outs, x, mask, B, T)
}

// TestTFACRFPublishedCase runs the one case whose expected tags tfa's own
// test suite states (layers/tests/crf_test.py, test_unmasked_viterbi_decode:
// one-hot inputs, use_kernel false, transitions and boundaries all 1),
// and the inputs of text/tests/crf_test.py's test_crf_decode (length 3 of
// 4, whose expectation there is a brute force, as our reference's).
func TestTFACRFPublishedCase(t *testing.T) {
	ones := func(n int) []float32 {
		o := make([]float32, n)
		for i := range o {
			o[i] = 1
		}
		return o
	}
	spec := &convert.Layer{Name: "crf", ClassName: tfaCRFClass,
		Config: convert.Config{"units": 5.0, "use_kernel": false},
		Weights: []convert.Weight{{Name: "chain_kernel:0", Shape: []int{5, 5}, Data: ones(25)},
			{Name: "left_boundary:0", Shape: []int{5}, Data: ones(5)},
			{Name: "right_boundary:0", Shape: []int{5}, Data: ones(5)}}}
	l, err := buildTFACRF(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := []float32{
		0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0,
		0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0,
	}
	xt, _ := runtime.FromData(x, 2, 3, 5)
	outs, err := l.Call(runtime.NewWorkspace(false), &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: xt}}}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, 2, 2, 1, 1, 1}
	for i, v := range want {
		if outs[0].T.Data[i] != v {
			t.Fatalf("tags %v, want %v (tfa's test_unmasked_viterbi_decode)", outs[0].T.Data, want)
		}
	}

	spec = &convert.Layer{Name: "crf", ClassName: tfaCRFClass,
		Config:  convert.Config{"units": 3.0, "use_kernel": false, "use_boundary": false},
		Weights: []convert.Weight{{Name: "chain_kernel:0", Shape: []int{3, 3}, Data: []float32{-3, 5, -2, 3, 4, 1, 1, 2, 1}}}}
	if l, err = buildTFACRF(spec, nil); err != nil {
		t.Fatal(err)
	}
	x = []float32{4, 5, -3, 3, -1, 3, -1, 2, 1, 0, 0, 0}
	mask := []float32{1, 1, 1, 0}
	xt, _ = runtime.FromData(x, 1, 4, 3)
	mt, _ := runtime.FromData(mask, 1, 4)
	outs, err = l.Call(runtime.NewWorkspace(false), &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: xt, Mask: mt}}}}})
	if err != nil {
		t.Fatal(err)
	}
	checkTFACRF(t, l.(*TFACRF), outs, x, mask, 1, 4)
}

// FuzzTFACRF runs random small layers (sizes, options, mask patterns and
// inputs from the fuzzer's bytes) against the reference.
func FuzzTFACRF(f *testing.F) {
	f.Add(int64(1), uint8(3), uint8(4), uint8(2), uint8(0), uint16(0x0f0f))
	f.Add(int64(2), uint8(1), uint8(1), uint8(1), uint8(3), uint16(0))
	f.Add(int64(3), uint8(4), uint8(6), uint8(3), uint8(1), uint16(0xa5a5))
	f.Fuzz(func(t *testing.T, seed int64, fb, tb, bb, opts uint8, maskBits uint16) {
		F, T, B := 1+int(fb)%4, 1+int(tb)%6, 1+int(bb)%3
		rng := rand.New(rand.NewSource(seed))
		D := 1 + rng.Intn(4)
		cfg := convert.Config{"units": float64(F), "use_boundary": opts&1 == 0, "use_kernel": opts&2 == 0}
		if opts&2 != 0 {
			D = F
		}
		l, err := buildTFACRF(randomTFACRFSpec(rng, D, F, cfg), nil)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, B*T*D)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 2)
		}
		xt, _ := runtime.FromData(x, B, T, D)
		in := runtime.Value{T: xt}
		var mask []float32
		if opts&4 != 0 {
			mask = make([]float32, B*T)
			for i := range mask {
				mask[i] = float32(maskBits >> (i % 16) & 1)
			}
			in.Mask, _ = runtime.FromData(mask, B, T)
		}
		outs, err := l.Call(runtime.NewWorkspace(false), &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{in}}}})
		if err != nil {
			t.Fatal(err)
		}
		checkTFACRF(t, l.(*TFACRF), outs, x, mask, B, T)
	})
}
