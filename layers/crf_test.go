package layers

import (
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/h5"
	"github.com/rnnkit/rnnkit/runtime"
)

// crfRef is a float64 port of keras_contrib/layers/crf.py at inference,
// written the way the Python is (whole tensors, K.rnn loops with states,
// shift_left/shift_right, reverse), independently of the Go layer.
type crfRef struct {
	F, D                 int
	kernel               [][]float64 // [D][F]
	chain                [][]float64 // [F][F]
	bias, left, right    []float64   // nil when absent
	act                  func(float64) float64
	viterbi              bool
	useBias, useBoundary bool
}

func (c *crfRef) inputEnergy(x [][]float64) [][]float64 {
	T := len(x)
	e := make([][]float64, T)
	for t := range x {
		e[t] = make([]float64, c.F)
		for k := 0; k < c.F; k++ {
			s := 0.0
			for d := 0; d < c.D; d++ {
				s += x[t][d] * c.kernel[d][k]
			}
			if c.useBias {
				s += c.bias[k]
			}
			e[t][k] = c.act(s)
		}
	}
	return e
}

func shiftRight(m []float64) []float64 { return append([]float64{0}, m[:len(m)-1]...) }
func shiftLeft(m []float64) []float64  { return append(append([]float64{}, m[1:]...), 0) }

func (c *crfRef) addBoundary(e [][]float64, mask []float64) {
	T := len(e)
	if mask == nil {
		for k := 0; k < c.F; k++ {
			e[0][k] += c.left[k]
			e[T-1][k] += c.right[k]
		}
		return
	}
	sr, sl := shiftRight(mask), shiftLeft(mask)
	for t := 0; t < T; t++ {
		start, end := 0.0, 0.0
		if mask[t] > sr[t] {
			start = 1
		}
		if sl[t] > mask[t] {
			end = 1
		}
		for k := 0; k < c.F; k++ {
			e[t][k] += start * c.left[k]
		}
		for k := 0; k < c.F; k++ {
			e[t][k] += end * c.right[k]
		}
	}
}

// recursion is CRF.recursion: it returns the per-step outputs of K.rnn
// (argmin tables for Viterbi, target values for logZ).
func (c *crfRef) recursion(e [][]float64, mask []float64, backwards, logZ bool) [][]float64 {
	T := len(e)
	if backwards {
		r := make([][]float64, T)
		for t := range e {
			r[t] = e[T-1-t]
		}
		e = r
		if mask != nil {
			rm := make([]float64, T)
			for t := range mask {
				rm[t] = mask[T-1-t]
			}
			mask = rm
		}
	}
	var mask2 []float64
	if mask != nil {
		mask2 = append(append([]float64{}, mask...), 0)
	}
	prev := make([]float64, c.F)
	seq := make([][]float64, T)
	for i := 0; i < T; i++ {
		in := append([]float64{}, e[i]...)
		chainScale := 1.0
		if mask2 != nil {
			for j := range in {
				in[j] *= mask2[i]
			}
			chainScale = mask2[i] * mask2[i+1]
		}
		energy := make([][]float64, c.F) // energy[j][k]
		for j := 0; j < c.F; j++ {
			energy[j] = make([]float64, c.F)
			for k := 0; k < c.F; k++ {
				if logZ {
					energy[j][k] = c.chain[j][k]*chainScale + (in[j] - prev[j])
				} else {
					energy[j][k] = c.chain[j][k]*chainScale + (in[j] + prev[j])
				}
			}
		}
		next := make([]float64, c.F)
		out := make([]float64, c.F)
		for k := 0; k < c.F; k++ {
			if logZ {
				mx := math.Inf(-1)
				for j := 0; j < c.F; j++ {
					mx = math.Max(mx, -energy[j][k])
				}
				s := 0.0
				for j := 0; j < c.F; j++ {
					s += math.Exp(-energy[j][k] - mx)
				}
				next[k] = mx + math.Log(s)
				out[k] = next[k]
			} else {
				arg := 0
				for j := 1; j < c.F; j++ {
					if energy[j][k] < energy[arg][k] {
						arg = j
					}
				}
				next[k] = energy[arg][k]
				out[k] = float64(arg)
			}
		}
		prev = next
		seq[i] = out
	}
	if backwards {
		r := make([][]float64, T)
		for t := range seq {
			r[t] = seq[T-1-t]
		}
		seq = r
	}
	return seq
}

func (c *crfRef) call(x [][]float64, mask []float64) [][]float64 {
	e := c.inputEnergy(x)
	if c.useBoundary {
		c.addBoundary(e, mask)
	}
	return c.decode(e, mask)
}

// decode is call after the input energy (boundaries included).
func (c *crfRef) decode(e [][]float64, mask []float64) [][]float64 {
	T := len(e)
	out := make([][]float64, T)
	if c.viterbi {
		tables := c.recursion(e, mask, false, false)
		rev := make([][]float64, T)
		for t := range tables {
			rev[t] = tables[T-1-t]
		}
		best := int(rev[0][0])
		paths := make([]int, T)
		for s := 0; s < T; s++ {
			best = int(rev[s][best])
			paths[T-1-s] = best
		}
		for t := range out {
			out[t] = make([]float64, c.F)
			out[t][paths[t]] = 1
		}
		return out
	}
	alpha := c.recursion(e, mask, false, true)
	beta := c.recursion(e, mask, true, true)
	for t := 0; t < T; t++ {
		out[t] = make([]float64, c.F)
		m := 1.0
		if mask != nil {
			m = mask[t]
		}
		mx := math.Inf(-1)
		for k := 0; k < c.F; k++ {
			a, b := 0.0, 0.0
			if t > 0 {
				a = alpha[t-1][k]
			}
			if t+1 < T {
				b = beta[t+1][k]
			}
			out[t][k] = -(a + e[t][k]*m + b)
			mx = math.Max(mx, out[t][k])
		}
		s := 0.0
		for k := range out[t] {
			out[t][k] = math.Exp(out[t][k] - mx)
			s += out[t][k]
		}
		for k := range out[t] {
			out[t][k] /= s
		}
	}
	return out
}

// crfSpec builds a CRF description with random weights (or the given
// ones) and the matching reference.
func crfFromSpec(t *testing.T, spec *convert.Layer) (*CRF, *crfRef) {
	t.Helper()
	l, err := buildCRF(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := l.(*CRF)
	ref := &crfRef{F: c.Units, D: c.InputDim, viterbi: c.Viterbi, useBias: c.Bias != nil, useBoundary: c.Left != nil}
	ref.kernel = make([][]float64, c.InputDim)
	for d := range ref.kernel {
		ref.kernel[d] = make([]float64, c.Units)
		for k := range ref.kernel[d] {
			ref.kernel[d][k] = float64(c.Kernel[d*c.Units+k])
		}
	}
	ref.chain = make([][]float64, c.Units)
	for j := range ref.chain {
		ref.chain[j] = make([]float64, c.Units)
		for k := range ref.chain[j] {
			ref.chain[j][k] = float64(c.Chain[j*c.Units+k])
		}
	}
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
	ref.bias, ref.left, ref.right = f64(c.Bias), f64(c.Left), f64(c.Right)
	switch c.Activation {
	case "linear", "":
		ref.act = func(v float64) float64 { return v }
	case "tanh":
		ref.act = math.Tanh
	default:
		t.Fatalf("no reference activation for %q", c.Activation)
	}
	return c, ref
}

// randomWeight is a weight of standard normal values drawn from rng.
func randomWeight(rng *rand.Rand, name string, shape ...int) convert.Weight {
	n := 1
	for _, d := range shape {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	return convert.Weight{Name: name, Shape: shape, Data: data}
}

func randomCRFSpec(rng *rand.Rand, D, F int, cfg convert.Config) *convert.Layer {
	w := func(name string, shape ...int) convert.Weight {
		return randomWeight(rng, "crf/"+name+":0", shape...)
	}
	spec := &convert.Layer{Name: "crf", ClassName: crfClass, Config: cfg}
	spec.Weights = []convert.Weight{w("kernel", D, F), w("chain_kernel", F, F)}
	if b, ok := cfg["use_bias"].(bool); !ok || b {
		spec.Weights = append(spec.Weights, w("bias", F))
	}
	if b, ok := cfg["use_boundary"].(bool); !ok || b {
		spec.Weights = append(spec.Weights, w("left_boundary", F), w("right_boundary", F))
	}
	return spec
}

// runCRFCase runs the Go layer and the reference on x and compares them:
// Viterbi one-hot outputs must be equal, marginals within tolerance.
//
// With goEnergy the reference starts from the layer's own float32 input
// energies: trained taggers have unary energies in the hundreds, where a
// float32 matrix product differs from a float64 one by 1e-4, which the
// softmax of the marginals passes on; that product is the kernel's and is
// tested with it, so this isolates the CRF's own equations.
func runCRFCase(t *testing.T, c *CRF, ref *crfRef, x []float32, mask []float32, B, T int, goEnergy bool) {
	t.Helper()
	xt, err := runtime.FromData(x, B, T, c.InputDim)
	if err != nil {
		t.Fatal(err)
	}
	in := runtime.Value{T: xt}
	if mask != nil {
		in.Mask, _ = runtime.FromData(mask, B, T)
	}
	outs, err := c.Call(runtime.NewWorkspace(false), &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{in}}}})
	if err != nil {
		t.Fatal(err)
	}
	got := outs[0].T
	for b := 0; b < B; b++ {
		xs := make([][]float64, T)
		for tt := range xs {
			xs[tt] = make([]float64, c.InputDim)
			for d := range xs[tt] {
				xs[tt][d] = float64(x[(b*T+tt)*c.InputDim+d])
			}
		}
		var m []float64
		if mask != nil {
			m = make([]float64, T)
			for tt := range m {
				m[tt] = float64(mask[b*T+tt])
			}
		}
		var want [][]float64
		if goEnergy {
			e := c.inputEnergy(runtime.NewWorkspace(false), x[b*T*c.InputDim:(b+1)*T*c.InputDim], mask32(mask, b, T), 1, T)
			e64 := make([][]float64, T)
			for tt := range e64 {
				e64[tt] = make([]float64, c.Units)
				for k := range e64[tt] {
					e64[tt][k] = float64(e[tt*c.Units+k])
				}
			}
			want = ref.decode(e64, m)
		} else {
			want = ref.call(xs, m)
		}
		for tt := 0; tt < T; tt++ {
			for k := 0; k < c.Units; k++ {
				g := float64(got.Data[(b*T+tt)*c.Units+k])
				w := want[tt][k]
				if c.Viterbi && g != w || math.Abs(g-w) > 1e-5+1e-4*math.Abs(w) {
					t.Fatalf("batch %d step %d tag %d: got %v, want %v", b, tt, k, g, w)
				}
			}
		}
	}
}

func mask32(m []float32, b, T int) []float32 {
	if m == nil {
		return nil
	}
	return m[b*T : (b+1)*T]
}

func TestCRFMatchesKerasContribEquations(t *testing.T) {
	post := []float32{1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0}
	pre := []float32{0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1}
	cases := []struct {
		name string
		cfg  convert.Config
		mask []float32
	}{
		{"viterbi", convert.Config{"units": 5.0}, nil},
		{"viterbi_post_mask", convert.Config{"units": 5.0}, post},
		{"viterbi_pre_mask", convert.Config{"units": 5.0}, pre},
		{"viterbi_no_boundary_no_bias", convert.Config{"units": 5.0, "use_boundary": false, "use_bias": false}, post},
		{"viterbi_tanh", convert.Config{"units": 5.0, "activation": "tanh"}, nil},
		{"marginal", convert.Config{"units": 5.0, "learn_mode": "marginal"}, nil},
		{"marginal_post_mask", convert.Config{"units": 5.0, "learn_mode": "marginal"}, post},
		{"marginal_pre_mask", convert.Config{"units": 5.0, "learn_mode": "join", "test_mode": "marginal"}, pre},
		{"marginal_no_boundary", convert.Config{"units": 5.0, "learn_mode": "marginal", "use_boundary": false}, pre},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(i + 1)))
			const B, T, D = 3, 6, 4
			c, ref := crfFromSpec(t, randomCRFSpec(rng, D, 5, tc.cfg))
			x := make([]float32, B*T*D)
			for j := range x {
				x[j] = float32(rng.NormFloat64())
			}
			runCRFCase(t, c, ref, x, tc.mask, B, T, false)
		})
	}
}

// TestCRFViterbiIsBestPath checks the decoder against brute force: with a
// mask of ones keras-contrib's Viterbi path is the tag sequence of least
// energy (unary energies with the left boundary at step 0, plus chain
// energies), which enumeration finds independently of any recursion.
func TestCRFViterbiIsBestPath(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	const B, T, D, F = 4, 4, 3, 3
	for trial := 0; trial < 20; trial++ {
		c, ref := crfFromSpec(t, randomCRFSpec(rng, D, F, convert.Config{"units": float64(F)}))
		x := make([]float32, B*T*D)
		for j := range x {
			x[j] = float32(rng.NormFloat64())
		}
		mask := make([]float32, B*T)
		for j := range mask {
			mask[j] = 1
		}
		xt, _ := runtime.FromData(x, B, T, D)
		mt, _ := runtime.FromData(mask, B, T)
		outs, err := c.Call(runtime.NewWorkspace(false), &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: xt, Mask: mt}}}}})
		if err != nil {
			t.Fatal(err)
		}
		for b := 0; b < B; b++ {
			xs := make([][]float64, T)
			for tt := range xs {
				xs[tt] = make([]float64, D)
				for d := range xs[tt] {
					xs[tt][d] = float64(x[(b*T+tt)*D+d])
				}
			}
			e := ref.inputEnergy(xs)
			for k := 0; k < F; k++ {
				e[0][k] += ref.left[k]
			}
			best, bestE := -1, math.Inf(1)
			for code := 0; code < F*F*F*F; code++ {
				y := []int{code % F, code / F % F, code / (F * F) % F, code / (F * F * F)}
				en := 0.0
				for tt := 0; tt < T; tt++ {
					en += e[tt][y[tt]]
					if tt+1 < T {
						en += ref.chain[y[tt]][y[tt+1]]
					}
				}
				if en < bestE {
					best, bestE = code, en
				}
			}
			y := []int{best % F, best / F % F, best / (F * F) % F, best / (F * F * F)}
			for tt := 0; tt < T; tt++ {
				if outs[0].T.Data[(b*T+tt)*F+y[tt]] != 1 {
					t.Fatalf("trial %d batch %d: Viterbi path differs from the least-energy path %v at step %d", trial, b, y, tt)
				}
			}
		}
	}
}

func TestCRFOutputMask(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, tc := range []struct {
		learn string
		want  []float32
	}{{"join", []float32{1, 0}}, {"marginal", nil}} {
		c, _ := crfFromSpec(t, randomCRFSpec(rng, 2, 3, convert.Config{"units": 3.0, "learn_mode": tc.learn}))
		xt := runtime.NewTensor(2, 3, 2)
		mt, _ := runtime.FromData([]float32{0, 1, 1, 0, 0, 0}, 2, 3)
		outs, err := c.Call(runtime.NewWorkspace(false), &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: xt, Mask: mt}}}}})
		if err != nil {
			t.Fatal(err)
		}
		m := outs[0].Mask
		if tc.want == nil {
			if m != mt {
				t.Errorf("%s: mask %v, want the input mask", tc.learn, m)
			}
			continue
		}
		if m == nil || len(m.Data) != 2 || m.Data[0] != tc.want[0] || m.Data[1] != tc.want[1] {
			t.Errorf("%s: mask %v, want any(mask, axis=1) = %v", tc.learn, m, tc.want)
		}
	}
}

func TestCRFBadConfig(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, cfg := range []convert.Config{
		{"units": 0.0},
		{"units": 3.0, "learn_mode": "both"},
		{"units": 3.0, "test_mode": "beam"},
		{"units": 3.0, "activation": "glu"},
	} {
		spec := randomCRFSpec(rng, 2, 3, cfg)
		if _, err := buildCRF(spec, nil); err == nil {
			t.Errorf("config %v: no error", cfg)
		}
	}
	spec := randomCRFSpec(rng, 2, 3, convert.Config{"units": 3.0})
	spec.Weights = spec.Weights[:3]
	if _, err := buildCRF(spec, nil); err == nil {
		t.Error("missing boundary weights: no error")
	}
	spec = randomCRFSpec(rng, 2, 3, convert.Config{"units": 4.0})
	if _, err := buildCRF(spec, nil); err == nil {
		t.Error("kernel of 3 tags for units 4: no error")
	}
}

// TestCRFRealTaggers runs the CRF layers of two public BiLSTM-CRF taggers
// (keras-contrib, Keras 2.2 and 2.3) on their own weights against the
// reference, on inputs spread like a BiLSTM's tanh outputs, with and
// without masks.
func TestCRFRealTaggers(t *testing.T) {
	for _, dir := range []string{"144_TF_Serving_example_crf_h5", "145_named_entity_recog_crf_h5"} {
		path := filepath.Join("..", "..", "shared", "wild", dir, "crf.h5")
		if _, err := os.Stat(path); err != nil {
			t.Skipf("shared corpus not found (%s): skipping the real-file CRF test", path)
		}
		t.Run(dir, func(t *testing.T) {
			f, err := h5.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			m, err := convert.ReadHDF5Model(f)
			if err != nil {
				t.Fatal(err)
			}
			var spec *convert.Layer
			for _, l := range m.Graph.Layers {
				if l.ClassName == crfClass {
					spec = l
				}
			}
			if spec == nil {
				t.Fatal("no CRF layer")
			}
			c, ref := crfFromSpec(t, spec)
			for _, mode := range []bool{true, false} {
				c.Viterbi, ref.viterbi = mode, mode
				rng := rand.New(rand.NewSource(11))
				const B, T = 3, 12
				x := make([]float32, B*T*c.InputDim)
				for j := range x {
					x[j] = float32(math.Tanh(rng.NormFloat64()))
				}
				runCRFCase(t, c, ref, x, nil, B, T, true)
				mask := make([]float32, B*T)
				for b := 0; b < B; b++ {
					for tt := 0; tt < T-3*b; tt++ {
						mask[b*T+tt] = 1
					}
				}
				runCRFCase(t, c, ref, x, mask, B, T, true)
			}
		})
	}
}
