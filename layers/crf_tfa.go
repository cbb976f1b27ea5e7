package layers

import (
	"fmt"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
	"github.com/rnnkit/rnnkit/runtime/kernel"
)

func init() { builtins = append(builtins, registerTFACRF) }

func registerTFACRF(r *Registry) { r.Register(tfaCRFClass, buildTFACRF) }

// tfaCRFClass is the registered name tf.keras 2.x writes for
// tensorflow_addons.layers.CRF (register_keras_serializable(package="Addons")).
const tfaCRFClass = "Addons>CRF"

// isTFACRF reports whether a layer of class "CRF" is tensorflow-addons'
// rather than keras-contrib's: its module names tensorflow_addons, or its
// config has tfa's use_kernel and none of keras-contrib's learn_mode.
func isTFACRF(spec *convert.Layer) bool {
	if len(spec.Module) >= len("tensorflow_addons") && spec.Module[:len("tensorflow_addons")] == "tensorflow_addons" {
		return true
	}
	_, kernel := spec.Config["use_kernel"]
	_, learn := spec.Config["learn_mode"]
	return kernel && !learn
}

// TFACRF is tensorflow_addons.layers.CRF at inference: a linear-chain CRF
// whose call returns four tensors, as tfa's does:
//
//   - decoded_sequence [batch, time]: the Viterbi tag ids of
//     tfa.text.crf_decode (int32 in TensorFlow, float32 ids here);
//   - potentials [batch, time, units]: x·kernel + bias (tfa's inner
//     Dense; x itself without use_kernel) plus the boundary energies;
//   - sequence_length [batch]: the count of unmasked steps (int64 in
//     TensorFlow, float32 here), the time length without a mask;
//   - chain_kernel [units, units]: the transition weights themselves.
//
// Tfa adds left_boundary where the mask goes from 0 to 1 (or to the first
// step without a mask) and right_boundary where it goes from 1 to 0 (or
// to the last step), and decodes each sequence over its first
// sequence_length steps; padded steps get tag 0. crf_decode's own edge
// cases are kept: with one time step the tags are the argmax of the
// potentials whatever the mask, and a sequence of length 0 gets the
// argmax of its first step there and 0 after. Like tfa in graph mode
// (Model.predict), a left-padded mask is not rejected: the length is
// still the count of ones. Only decoded_sequence carries the input mask,
// as tf.keras attaches a layer's single compute_mask to its first output.
type TFACRF struct {
	layerIdent
	Units int
	// InputDim is the kernel's input size; with UseKernel false it is
	// Units, as tfa's cast of x to the potentials requires.
	InputDim  int
	UseKernel bool
	// Kernel is [InputDim, Units] and Bias [Units] (nil without
	// use_kernel); Chain is [Units, Units] (row: tag at t, column: tag at
	// t+1); Left and Right are [Units] or nil without use_boundary.
	Kernel, Bias, Chain []float32
	Left, Right         []float32
}

func buildTFACRF(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	r := spec.Config.Reader(spec.Name)
	units := r.Int("units", 0)
	useBoundary := r.Bool("use_boundary", true)
	useKernel := r.Bool("use_kernel", true)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if units <= 0 {
		return nil, fmt.Errorf("units %d: want a positive integer: %w", units, convert.ErrConfig)
	}
	// tfa creates chain_kernel and the boundaries in __init__ and its
	// Dense (kernel, bias) at the first call: layer.weights lists them
	// in that order, which is the order of the legacy HDF5 weight_names.
	want := []string{"chain_kernel"}
	if useBoundary {
		want = append(want, "left_boundary", "right_boundary")
	}
	if useKernel {
		want = append(want, "kernel", "bias")
	}
	ws, err := weightsByName(spec, want)
	if err != nil {
		return nil, err
	}
	if err := checkWeightShape(spec, ws[0], units, units); err != nil {
		return nil, err
	}
	l := &TFACRF{layerIdent: idOf(spec), Units: units, InputDim: units, UseKernel: useKernel, Chain: ws[0].Data}
	rest := ws[1:]
	if useBoundary {
		for _, w := range rest[:2] {
			if err := checkWeightShape(spec, w, units); err != nil {
				return nil, err
			}
		}
		l.Left, l.Right, rest = rest[0].Data, rest[1].Data, rest[2:]
	}
	if useKernel {
		k := rest[0]
		if len(k.Shape) != 2 || k.Shape[1] != units || k.Shape[0] <= 0 {
			return nil, errWeightShape(spec, k, fmt.Sprintf("(input_dim, %d)", units))
		}
		if err := checkWeightLen(spec, k); err != nil {
			return nil, err
		}
		if err := checkWeightShape(spec, rest[1], units); err != nil {
			return nil, err
		}
		l.InputDim, l.Kernel, l.Bias = k.Shape[0], k.Data, rest[1].Data
	}
	return l, nil
}

// Call runs the layer on x: [batch, time, InputDim] and returns
// [decoded_sequence, potentials, sequence_length, chain_kernel].
func (l *TFACRF) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	x, err := oneInput(l.name, call)
	if err != nil {
		return nil, err
	}
	if x.T.IsString() || x.T.Rank() != 3 || x.T.Shape[2] != l.InputDim {
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
	res := ctx.Values(l, 0, 4)
	tags := ctx.Output(l, 0, B, T)
	pot := ctx.Output(l, 1, B, T, F)
	lens := ctx.Output(l, 2, B)
	chain := ctx.Output(l, 3, F, F)
	copy(chain.Data, l.Chain)
	res[0] = runtime.Value{T: tags, Mask: mask}
	res[1] = runtime.Value{T: pot}
	res[2] = runtime.Value{T: lens}
	res[3] = runtime.Value{T: chain}
	var m []float32
	if mask != nil {
		m = mask.Data
	}
	for b := 0; b < B; b++ {
		n := T
		if m != nil {
			n = 0
			for t := 0; t < T; t++ {
				if m[b*T+t] != 0 {
					n++
				}
			}
		}
		lens.Data[b] = float32(n)
	}
	if B == 0 || T == 0 {
		return res, nil
	}
	if l.UseKernel {
		kernel.MatMul(B*T, F, l.InputDim, x.T.Data, l.InputDim, l.Kernel, F, pot.Data, F, false)
		kernel.AddBias(pot.Data, l.Bias)
	} else {
		copy(pot.Data, x.T.Data)
	}
	if l.Left != nil {
		l.addBoundary(pot.Data, m, B, T)
	}
	l.decode(ctx, pot.Data, lens.Data, B, T, tags.Data)
	return res, nil
}

// addBoundary is tfa's add_boundary_energy: without a mask, left to the
// first step and right to the last; with one, left where mask[t] >
// mask[t-1] and right where mask[t] > mask[t+1], the mask being 0 outside
// [0, T).
func (l *TFACRF) addBoundary(p, m []float32, B, T int) {
	F := l.Units
	on := func(b, t int) bool { return t >= 0 && t < T && (m == nil || m[b*T+t] != 0) }
	for b := 0; b < B; b++ {
		for t := 0; t < T; t++ {
			row := p[(b*T+t)*F : (b*T+t+1)*F]
			cur := on(b, t)
			if cur && !on(b, t-1) {
				for j := range row {
					row[j] += l.Left[j]
				}
			}
			if cur && !on(b, t+1) {
				for j := range row {
					row[j] += l.Right[j]
				}
			}
		}
	}
}

// argmax is tf.argmax over one row: the first index of the largest value.
func argmax(row []float32) int {
	best := 0
	for j := 1; j < len(row); j++ {
		if row[j] > row[best] {
			best = j
		}
	}
	return best
}

// decode is tfa.text.crf_decode. With T == 1 every sequence gets the
// argmax of its potentials. Otherwise a forward pass over the first n
// steps keeps score[j] = p[t][j] + max_i(score[i] + chain[i][j]) and the
// argmax i as backpointer (the first on ties, as tf.argmax), the last tag
// is the argmax of the final score, and the walk back fills steps n-1 down
// to 0; steps from n on are 0. For n == 0 crf_decode's reverse_sequence
// leaves its first entry, the argmax of step 0, in place.
func (l *TFACRF) decode(ctx *runtime.Workspace, p, lens []float32, B, T int, out []float32) {
	F := l.Units
	if T == 1 {
		for b := 0; b < B; b++ {
			out[b] = float32(argmax(p[b*F : (b+1)*F]))
		}
		return
	}
	score := ctx.Scratch(l, 0, F)
	next := ctx.Scratch(l, 1, F)
	back := ctx.Scratch(l, 2, T*F)
	for b := 0; b < B; b++ {
		n := int(lens[b])
		pb := p[b*T*F : (b+1)*T*F]
		ob := out[b*T : (b+1)*T]
		clear(ob)
		copy(score, pb[:F])
		for t := 1; t < n; t++ {
			for j := 0; j < F; j++ {
				best, arg := score[0]+l.Chain[j], 0
				for i := 1; i < F; i++ {
					if v := score[i] + l.Chain[i*F+j]; v > best {
						best, arg = v, i
					}
				}
				next[j] = pb[t*F+j] + best
				back[t*F+j] = float32(arg)
			}
			score, next = next, score
		}
		tag := argmax(score)
		if n == 0 {
			ob[0] = float32(tag)
			continue
		}
		ob[n-1] = float32(tag)
		for t := n - 1; t > 0; t-- {
			tag = int(back[t*F+tag])
			ob[t-1] = float32(tag)
		}
	}
}
