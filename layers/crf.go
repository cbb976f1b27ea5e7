package layers

import (
	"fmt"
	"math"
	"strings"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
	"github.com/rnnkit/rnnkit/runtime/kernel"
)

func init() { builtins = append(builtins, registerCRF) }

func registerCRF(r *Registry) { r.Register(crfClass, buildCRF) }

const crfClass = "CRF"

// CRF is keras_contrib.layers.CRF, the linear-chain conditional random
// field that BiLSTM-CRF taggers end with, at inference (learning phase 0).
//
// It computes the input energy activation(x·kernel + bias), adds the
// boundary energies as keras-contrib does (including its rule that the
// right boundary lands where a mask goes from 0 to 1), and then either
// decodes the Viterbi path, returned one-hot as [batch, time, units]
// (test_mode "viterbi"), or returns the marginal probabilities of each tag
// (test_mode "marginal"). learn_mode and sparse_target change only
// training. Every step follows keras-contrib's crf.py, including what it
// does at padded steps and its choice of the last step's table column, so
// the tags are the ones the Python model returns.
type CRF struct {
	layerIdent
	Units, InputDim int
	// Viterbi is true for test_mode "viterbi", false for "marginal".
	Viterbi bool
	// JoinMode is learn_mode "join": the output mask becomes any(mask,
	// axis=1), as keras-contrib's compute_mask says.
	JoinMode   bool
	Activation string
	act        ActivationFunc
	// Kernel is [InputDim, Units], Chain [Units, Units] (row: tag at t,
	// column: tag at t+1); Bias, Left and Right are [Units] or nil.
	Kernel, Chain     []float32
	Bias, Left, Right []float32
}

func buildCRF(spec *convert.Layer, env *Env) (runtime.Layer, error) {
	if isTFACRF(spec) {
		return buildTFACRF(spec, env)
	}
	r := spec.Config.Reader(spec.Name)
	units := r.Int("units", 0)
	learn := r.String("learn_mode", "join")
	test := r.String("test_mode", "")
	useBoundary := r.Bool("use_boundary", true)
	useBias := r.Bool("use_bias", true)
	actName := r.String("activation", "linear")
	if err := r.Err(); err != nil {
		return nil, err
	}
	if units <= 0 {
		return nil, fmt.Errorf("units %d: want a positive integer: %w", units, convert.ErrConfig)
	}
	if learn != "join" && learn != "marginal" {
		return nil, fmt.Errorf("learn_mode %q: want \"join\" or \"marginal\": %w", learn, convert.ErrConfig)
	}
	if test == "" {
		test = "viterbi"
		if learn == "marginal" {
			test = "marginal"
		}
	}
	if test != "viterbi" && test != "marginal" {
		return nil, fmt.Errorf("test_mode %q: want \"viterbi\" or \"marginal\": %w", test, convert.ErrConfig)
	}
	act, err := Activation(actName)
	if err != nil {
		return nil, err
	}
	if info, _ := activationLookup(actName); info.halves {
		return nil, fmt.Errorf("activation %q changes the tag count: %w", actName, convert.ErrConfig)
	}
	want := []string{"kernel", "chain_kernel"}
	if useBias {
		want = append(want, "bias")
	}
	if useBoundary {
		want = append(want, "left_boundary", "right_boundary")
	}
	ws, err := weightsByName(spec, want)
	if err != nil {
		return nil, err
	}
	k := ws[0]
	if len(k.Shape) != 2 || k.Shape[1] != units || k.Shape[0] <= 0 {
		return nil, errWeightShape(spec, k, fmt.Sprintf("(input_dim, %d)", units))
	}
	if err := checkWeightLen(spec, k); err != nil {
		return nil, err
	}
	if err := checkWeightShape(spec, ws[1], units, units); err != nil {
		return nil, err
	}
	l := &CRF{
		layerIdent: idOf(spec),
		Units:      units,
		InputDim:   k.Shape[0],
		Viterbi:    test == "viterbi",
		JoinMode:   learn == "join",
		Activation: actName,
		act:        act,
		Kernel:     k.Data,
		Chain:      ws[1].Data,
	}
	rest := ws[2:]
	if useBias {
		if err := checkWeightShape(spec, rest[0], units); err != nil {
			return nil, err
		}
		l.Bias, rest = rest[0].Data, rest[1:]
	}
	if useBoundary {
		for _, w := range rest {
			if err := checkWeightShape(spec, w, units); err != nil {
				return nil, err
			}
		}
		l.Left, l.Right = rest[0].Data, rest[1].Data
	}
	return l, nil
}

// weightsByName returns spec's weights in the order of names, matching
// each by the last component of the stored name ("crf_1/chain_kernel:0"),
// and fails when a name is missing or a weight is left over. Files list
// a custom layer's weights in its build order, but the match by name also
// holds when a writer reordered them.
func weightsByName(spec *convert.Layer, names []string) ([]convert.Weight, error) {
	if len(spec.Weights) != len(names) {
		return nil, checkNWeights(spec, len(names))
	}
	out := make([]convert.Weight, len(names))
	used := make([]bool, len(spec.Weights))
	for i, n := range names {
		found := false
		for j, w := range spec.Weights {
			if !used[j] && weightBaseName(w.Name) == n {
				out[i], used[j], found = w, true, true
				break
			}
		}
		if !found {
			// Unnamed weights (Keras 3 vars/N paths) keep file order.
			if weightBaseName(spec.Weights[i].Name) == "" || !used[i] {
				out[i], used[i] = spec.Weights[i], true
				continue
			}
			return nil, fmt.Errorf("layer %q (%s): no weight %q among %d stored: %w", spec.Name, spec.ClassName, n, len(spec.Weights), convert.ErrWeights)
		}
	}
	return out, nil
}

// weightBaseName is a stored weight name without its scope and ":0".
func weightBaseName(name string) string {
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// Call decodes x: [batch, time, InputDim] → [batch, time, Units].
func (l *CRF) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	x, err := oneInput(l.name, call)
	if err != nil {
		return nil, err
	}
	if x.T.Rank() != 3 || x.T.Shape[2] != l.InputDim {
		return nil, fmt.Errorf("layer %q: input shape %v: want (batch, time, %d)", l.name, x.T.Shape, l.InputDim)
	}
	B, T, F := x.T.Shape[0], x.T.Shape[1], l.Units
	mask := inputMask(call, x)
	if mask != nil {
		if mask.Rank() != 2 {
			return nil, fmt.Errorf("layer %q: mask shape %v: the CRF takes a (batch, time) mask", l.name, mask.Shape)
		}
		if err := checkMask(mask, x.T); err != nil {
			return nil, fmt.Errorf("layer %q: %w", l.name, err)
		}
	}
	out, res := newLayerResult(ctx, l, B, T, F)
	if T == 0 {
		return res, nil
	}
	var m []float32
	if mask != nil {
		m = mask.Data
	}
	energy := l.inputEnergy(ctx, x.T.Data, m, B, T)
	if l.Viterbi {
		l.viterbi(ctx, energy, m, B, T, out.Data)
	} else {
		l.marginals(energy, m, B, T, out.Data)
	}
	if mask != nil && l.JoinMode {
		// compute_mask: any(mask, axis=1), one flag per sequence.
		om := ctx.Output(l, 1, B)
		for b := 0; b < B; b++ {
			om.Data[b] = 0
			for t := 0; t < T; t++ {
				if m[b*T+t] != 0 {
					om.Data[b] = 1
					break
				}
			}
		}
		res[0].Mask = om
	} else {
		res[0].Mask = mask
	}
	return res, nil
}

// inputEnergy is activation(x·kernel + bias) with the boundary energies
// added: [B*T*F] in the Workspace's scratch.
func (l *CRF) inputEnergy(ctx *runtime.Workspace, x, m []float32, B, T int) []float32 {
	F := l.Units
	energy := ctx.Scratch(l, 0, B*T*F)
	pre := ctx.Scratch(l, 1, B*T*F)
	kernel.MatMul(B*T, F, l.InputDim, x, l.InputDim, l.Kernel, F, pre, F, false)
	if l.Bias != nil {
		kernel.AddBias(pre, l.Bias)
	}
	l.act(energy, pre, F)
	if l.Left != nil {
		addBoundaryEnergy(energy, m, B, T, F, l.Left, l.Right)
	}
	return energy
}

// maskAt is mask[b, t] as 0/1, with keras-contrib's extra zero column at
// t == T. Without a mask keras-contrib scales nothing, so a nil mask is
// all ones, the extra column included.
func maskAt(m []float32, b, t, T int) float32 {
	if m == nil {
		return 1
	}
	if t >= T {
		return 0
	}
	if m[b*T+t] != 0 {
		return 1
	}
	return 0
}

// addBoundaryEnergy is keras-contrib's add_boundary_energy: without a mask
// the left boundary goes to the first step and the right one to the last;
// with one, left where mask[t] > mask[t-1] and right where mask[t+1] >
// mask[t] (so a post-padded sequence gets no right boundary, as there).
func addBoundaryEnergy(e, m []float32, B, T, F int, left, right []float32) {
	for b := 0; b < B; b++ {
		if m == nil {
			row := e[b*T*F:]
			for j := 0; j < F; j++ {
				row[j] += left[j]
			}
			last := row[(T-1)*F:]
			for j := 0; j < F; j++ {
				last[j] += right[j]
			}
			continue
		}
		for t := 0; t < T; t++ {
			cur := maskAt(m, b, t, T)
			prev := float32(0)
			if t > 0 {
				prev = maskAt(m, b, t-1, T)
			}
			next := float32(0)
			if t+1 < T {
				next = maskAt(m, b, t+1, T)
			}
			row := e[(b*T+t)*F : (b*T+t+1)*F]
			if cur > prev {
				for j := range row {
					row[j] += left[j]
				}
			}
			if next > cur {
				for j := range row {
					row[j] += right[j]
				}
			}
		}
	}
}

// viterbi is keras-contrib's viterbi_decoding: a forward pass keeping, per
// step t and next tag k, the tag at t of least energy (chain·m[t]·m[t+1] +
// energy[t]·m[t] + best so far), then a walk back from the last table's
// column 0. Ties go to the lowest tag, as argmin does.
func (l *CRF) viterbi(ctx *runtime.Workspace, energy, m []float32, B, T int, out []float32) {
	F := l.Units
	table := ctx.Scratch(l, 2, T*F)
	prev := ctx.Scratch(l, 3, F)
	next := ctx.Scratch(l, 4, F)
	clear(out[:B*T*F])
	for b := 0; b < B; b++ {
		clear(prev)
		for t := 0; t < T; t++ {
			m0, m1 := maskAt(m, b, t, T), maskAt(m, b, t+1, T)
			e := energy[(b*T+t)*F : (b*T+t+1)*F]
			for k := 0; k < F; k++ {
				best, arg := float32(0), 0
				for j := 0; j < F; j++ {
					v := l.Chain[j*F+k]*(m0*m1) + (e[j]*m0 + prev[j])
					if j == 0 || v < best {
						best, arg = v, j
					}
				}
				next[k] = best
				table[t*F+k] = float32(arg)
			}
			prev, next = next, prev
		}
		idx := int(table[(T-1)*F])
		for t := T - 1; t >= 0; t-- {
			idx = int(table[t*F+idx])
			out[(b*T+t)*F+idx] = 1
		}
	}
}

// marginals is keras-contrib's get_marginal_prob: forward and backward
// log-sum-exp recursions over -energy (the backward one on the reversed
// sequence with the same chain kernel, as there), then a softmax of
// -(alpha[t-1] + energy[t]·m[t] + beta[t+1]) over the tags.
//
// The recursions run in float64: alpha and beta grow with the sequence
// length, and the softmax of their sum loses float32 precision at a rate
// no summation order can match with TensorFlow's; float64 keeps rnnkit's
// part of that error far below TensorFlow's own.
func (l *CRF) marginals(energy, m []float32, B, T int, out []float32) {
	F := l.Units
	buf := make([]float64, 2*T*F+3*F)
	alpha, beta := buf[:T*F], buf[T*F:2*T*F]
	work := buf[2*T*F:]
	for b := 0; b < B; b++ {
		e := energy[b*T*F : (b+1)*T*F]
		var mb []float32
		if m != nil {
			mb = m[b*T : (b+1)*T]
		}
		l.logZRecursion(e, mb, T, false, alpha, work)
		l.logZRecursion(e, mb, T, true, beta, work)
		row := work[:F]
		for t := 0; t < T; t++ {
			m0 := float64(maskAt(mb, 0, t, T))
			mx := math.Inf(-1)
			for k := 0; k < F; k++ {
				var a, z float64
				if t > 0 {
					a = alpha[(t-1)*F+k]
				}
				if t+1 < T {
					z = beta[(t+1)*F+k]
				}
				row[k] = -(a + float64(e[t*F+k])*m0 + z)
				mx = math.Max(mx, row[k])
			}
			var sum float64
			for k := range row {
				row[k] = math.Exp(row[k] - mx)
				sum += row[k]
			}
			dst := out[(b*T+t)*F : (b*T+t+1)*F]
			for k := range row {
				dst[k] = float32(row[k] / sum)
			}
		}
	}
}

// logZRecursion runs keras-contrib's step with return_logZ over one
// sequence's energies e ([T, F]) and writes each step's target values to
// seq ([T, F]) in the original time order. backwards walks from the last
// step to the first with the mask reversed, as recursion(go_backwards=True)
// does. work holds 3F values.
func (l *CRF) logZRecursion(e, m []float32, T int, backwards bool, seq, work []float64) {
	F := l.Units
	prev, terms := work[F:2*F], work[2*F:3*F]
	clear(prev)
	for s := 0; s < T; s++ {
		t, tn := s, s+1 // the step and the next one, in the walk's order
		if backwards {
			t, tn = T-1-s, T-2-s
		}
		m0 := float64(maskAt(m, 0, t, T))
		m1 := 0.0
		if tn >= 0 && tn < T {
			m1 = float64(maskAt(m, 0, tn, T))
		} else if m == nil {
			m1 = 1
		}
		row := e[t*F : (t+1)*F]
		dst := seq[t*F : (t+1)*F]
		for k := 0; k < F; k++ {
			mx := math.Inf(-1)
			for j := 0; j < F; j++ {
				v := -(float64(l.Chain[j*F+k])*(m0*m1) + (float64(row[j])*m0 - prev[j]))
				terms[j] = v
				mx = math.Max(mx, v)
			}
			var sum float64
			for _, v := range terms {
				sum += math.Exp(v - mx)
			}
			dst[k] = mx + math.Log(sum)
		}
		copy(prev, dst)
	}
}
