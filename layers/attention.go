package layers

import (
	"fmt"
	"math"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
	"github.com/rnnkit/rnnkit/runtime/kernel"
)

// This file holds Keras' attention layers (keras/src/layers/attention):
// Attention (Luong, dot or concat scores), AdditiveAttention (Bahdanau) and
// MultiHeadAttention.

func init() { builtins = append(builtins, registerAttention) }

func registerAttention(r *Registry) {
	r.Register("Attention", buildAttention)
	r.Register("AdditiveAttention", buildAdditiveAttention)
	r.Register("MultiHeadAttention", buildMultiHeadAttention)
}

// Keras subtracts 1e9 from the scores of masked keys before the softmax
// (Attention, and MultiHeadAttention when it returns its scores).
const attentionMaskPenalty = float32(1e9)

// The fused dot_product_attention Keras' MultiHeadAttention uses at
// inference replaces masked logits by -0.7 × (about) the float32 maximum.
const fusedMaskLogit = float32(-0.7 * 3.38953e38)

type scoreMode int

const (
	scoreDot      scoreMode = iota // q·k
	scoreConcat                    // Σ tanh(q + k), Attention(score_mode="concat")
	scoreAdditive                  // Σ scale·tanh(q + k), AdditiveAttention
)

// Attention is Keras' Attention (Luong) or AdditiveAttention (Bahdanau) on
// inputs [query [B, Tq, dim], value [B, Tv, dim], key (optional, default
// value)]. The output is softmax(scores)·value, [B, Tq, dim], zeroed at
// masked query steps; masked keys get 1e9 subtracted from their scores.
// The output mask is the query's mask.
type Attention struct {
	layerIdent
	mode scoreMode
	// Scale multiplies dot scores, or scales q+k inside the concat tanh;
	// nil when use_scale is off.
	Scale *float32
	// ConcatScoreWeight multiplies concat scores.
	ConcatScoreWeight float32
	// AdditiveScale is AdditiveAttention's [dim] scale, or nil.
	AdditiveScale []float32
	// Causal is Keras 2's config-level causal option; Keras 3 passes
	// use_causal_mask at call time.
	Causal bool
}

func scalarWeight(spec *convert.Layer, w convert.Weight) (float32, error) {
	if shapeSize(w.Shape) != 1 || len(w.Data) != 1 || len(w.Shape) > 1 {
		return 0, fmt.Errorf("layer %q: weight %q: got shape %v, want a scalar: %w", spec.Name, w.Name, w.Shape, convert.ErrWeights)
	}
	return w.Data[0], nil
}

func buildAttention(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	r := spec.Config.Reader(spec.Name)
	useScale := r.Bool("use_scale", false)
	mode := r.String("score_mode", "dot")
	causal := r.Bool("causal", false)
	if err := r.Err(); err != nil {
		return nil, err
	}
	l := &Attention{layerIdent: idOf(spec), ConcatScoreWeight: 1, Causal: causal}
	want := 0
	switch mode {
	case "dot":
		l.mode = scoreDot
	case "concat":
		l.mode = scoreConcat
		want++
	default:
		return nil, fmt.Errorf("layer %q: score_mode %q: want dot or concat: %w", spec.Name, mode, convert.ErrConfig)
	}
	if useScale {
		want++
	}
	if len(spec.Weights) != want {
		return nil, fmt.Errorf("layer %q: got %d weights, want %d (use_scale=%v, score_mode=%s): %w",
			spec.Name, len(spec.Weights), want, useScale, mode, convert.ErrWeights)
	}
	i := 0
	if useScale {
		s, err := scalarWeight(spec, spec.Weights[0])
		if err != nil {
			return nil, err
		}
		l.Scale = &s
		i++
	}
	if l.mode == scoreConcat {
		c, err := scalarWeight(spec, spec.Weights[i])
		if err != nil {
			return nil, err
		}
		l.ConcatScoreWeight = c
	}
	return l, nil
}

func buildAdditiveAttention(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	r := spec.Config.Reader(spec.Name)
	useScale := r.Bool("use_scale", true)
	causal := r.Bool("causal", false)
	if err := r.Err(); err != nil {
		return nil, err
	}
	l := &Attention{layerIdent: idOf(spec), mode: scoreAdditive, Causal: causal}
	want := 0
	if useScale {
		want = 1
	}
	if len(spec.Weights) != want {
		return nil, fmt.Errorf("layer %q: got %d weights, want %d (use_scale=%v): %w", spec.Name, len(spec.Weights), want, useScale, convert.ErrWeights)
	}
	if useScale {
		w := spec.Weights[0]
		if len(w.Shape) != 1 || len(w.Data) != w.Shape[0] {
			return nil, fmt.Errorf("layer %q: weight %q: got shape %v, want [dim]: %w", spec.Name, w.Name, w.Shape, convert.ErrWeights)
		}
		l.AdditiveScale = w.Data
	}
	return l, nil
}

// boolKwarg reads a constant boolean keyword argument of the call.
func boolKwarg(call *runtime.Call, name string) (bool, error) {
	a, ok := call.Kwarg(name)
	if !ok {
		return false, nil
	}
	b, isBool := a.Const.(bool)
	if !isBool {
		return false, fmt.Errorf("%s: got %v, want a boolean constant", name, a.Const)
	}
	return b, nil
}

// Call computes the attention; with return_attention_scores the softmax
// weights [B, Tq, Tv] are a second output.
func (l *Attention) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in := call.Inputs()
	if len(in) < 2 || len(in) > 3 {
		return nil, fmt.Errorf("got %d inputs, want [query, value] or [query, value, key]", len(in))
	}
	q, v := in[0].T, in[1].T
	k := v
	if len(in) == 3 {
		k = in[2].T
	}
	if q == nil || v == nil || k == nil {
		return nil, fmt.Errorf("inputs must be tensors")
	}
	if q.Rank() != 3 || v.Rank() != 3 || k.Rank() != 3 {
		return nil, fmt.Errorf("input shapes %v, %v, %v: want [batch, steps, dim]", q.Shape, v.Shape, k.Shape)
	}
	b, tq, dim := q.Shape[0], q.Shape[1], q.Shape[2]
	tv, dv := v.Shape[1], v.Shape[2]
	if v.Shape[0] != b || k.Shape[0] != b || k.Shape[1] != tv || k.Shape[2] != dim {
		return nil, fmt.Errorf("input shapes query %v, value %v, key %v do not match", q.Shape, v.Shape, k.Shape)
	}
	if l.AdditiveScale != nil && len(l.AdditiveScale) != dim {
		return nil, fmt.Errorf("query dim %d does not match scale size %d", dim, len(l.AdditiveScale))
	}
	masks := inputMasks(call, in)
	qMask, vMask := masks[0], masks[1]
	if qMask != nil && (qMask.Len() != b*tq || qMask.Shape[0] != b) {
		return nil, fmt.Errorf("query mask shape %v: want [%d %d]", qMask.Shape, b, tq)
	}
	if vMask != nil && (vMask.Len() != b*tv || vMask.Shape[0] != b) {
		return nil, fmt.Errorf("value mask shape %v: want [%d %d]", vMask.Shape, b, tv)
	}
	causal, err := boolKwarg(call, "use_causal_mask")
	if err != nil {
		return nil, err
	}
	causal = causal || l.Causal
	withScores, err := boolKwarg(call, "return_attention_scores")
	if err != nil {
		return nil, err
	}

	weights := ctx.NewTensor(b, tq, tv)
	out := ctx.NewTensor(b, tq, dv)
	kt := ctx.Scratch(l, 0, dim*tv)
	for bi := 0; bi < b; bi++ {
		qb := q.Data[bi*tq*dim : (bi+1)*tq*dim]
		kb := k.Data[bi*tv*dim : (bi+1)*tv*dim]
		sb := weights.Data[bi*tq*tv : (bi+1)*tq*tv]
		switch l.mode {
		case scoreDot:
			// Keras: scores = q·kᵀ, times scale when use_scale.
			for j := 0; j < tv; j++ {
				for d := 0; d < dim; d++ {
					kt[d*tv+j] = kb[j*dim+d]
				}
			}
			if tq > 0 && tv > 0 {
				kernel.MatMul(tq, tv, dim, qb, max(dim, 1), kt, tv, sb, tv, false)
			}
			if l.Scale != nil {
				for i := range sb {
					sb[i] *= *l.Scale
				}
			}
		default:
			for i := 0; i < tq; i++ {
				qi := qb[i*dim : (i+1)*dim]
				for j := 0; j < tv; j++ {
					kj := kb[j*dim : (j+1)*dim]
					var s float64
					for d := range qi {
						x := qi[d] + kj[d]
						if l.mode == scoreConcat && l.Scale != nil {
							x *= *l.Scale
						}
						t := math.Tanh(float64(x))
						if l.AdditiveScale != nil {
							t *= float64(l.AdditiveScale[d])
						}
						s += t
					}
					if l.mode == scoreConcat {
						s *= float64(l.ConcatScoreWeight)
					}
					sb[i*tv+j] = float32(s)
				}
			}
		}
		for i := 0; i < tq; i++ {
			row := sb[i*tv : (i+1)*tv]
			for j := range row {
				masked := (vMask != nil && vMask.Data[bi*tv+j] == 0) || (causal && j > i)
				if masked {
					row[j] -= attentionMaskPenalty
				}
			}
		}
		softmaxRows(sb, tv)
		ob := out.Data[bi*tq*dv : (bi+1)*tq*dv]
		if tq > 0 && dv > 0 {
			kernel.MatMul(tq, dv, tv, sb, max(tv, 1), v.Data[bi*tv*dv:], dv, ob, dv, false)
		}
		if qMask != nil {
			for i := 0; i < tq; i++ {
				if qMask.Data[bi*tq+i] == 0 {
					clear(ob[i*dv : (i+1)*dv])
				}
			}
		}
	}
	res := []runtime.Value{{T: out, Mask: qMask}}
	if withScores {
		res = append(res, runtime.Value{T: weights})
	}
	return res, nil
}

// MultiHeadAttention is Keras' multi-head attention over axis 1 of
// [batch, steps, features] inputs:
//
//	Q = query·Wq + bq  [B, T, heads, key_dim], scaled by 1/sqrt(key_dim)
//	K = key·Wk + bk    [B, S, heads, key_dim]
//	V = value·Wv + bv  [B, S, heads, value_dim]
//	A = softmax over S of Q·Kᵀ per head, masked
//	y = Σ_heads (A·V)·Wo + bo  [B, T, output dim]
//
// The attention mask ANDs the query mask [B, T, 1], the value and key
// masks [B, 1, S], the causal mask and the explicit attention_mask. The
// output carries the query's mask.
type MultiHeadAttention struct {
	layerIdent
	NumHeads, KeyDim, ValueDim     int
	QueryDim, KeyInDim, ValueInDim int
	OutDim                         int
	// Kernels laid out as matrices: Wq [QueryDim, heads·KeyDim], Wk
	// [KeyInDim, heads·KeyDim], Wv [ValueInDim, heads·ValueDim], Wo
	// [heads·ValueDim, OutDim]; biases nil when use_bias is off.
	Wq, Wk, Wv, Wo []float32
	Bq, Bk, Bv, Bo []float32
}

func buildMultiHeadAttention(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	r := spec.Config.Reader(spec.Name)
	heads := r.Int("num_heads", 0)
	keyDim := r.Int("key_dim", 0)
	valueDim := r.Int("value_dim", keyDim)
	useBias := r.Bool("use_bias", true)
	axes := r.Ints("attention_axes", nil)
	outShape := r.Ints("output_shape", nil)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if len(outShape) > 1 {
		return nil, fmt.Errorf("layer %q: output_shape %v: only one output axis: %w", spec.Name, outShape, convert.ErrUnsupported)
	}
	if heads < 1 || keyDim < 1 || valueDim < 1 {
		return nil, fmt.Errorf("layer %q: num_heads %d, key_dim %d, value_dim %d: want positive: %w", spec.Name, heads, keyDim, valueDim, convert.ErrConfig)
	}
	if axes != nil && !(len(axes) == 1 && (axes[0] == 1 || axes[0] == -2)) {
		return nil, fmt.Errorf("layer %q: attention_axes %v: only attention over axis 1 of rank-3 inputs: %w", spec.Name, axes, convert.ErrUnsupported)
	}
	want := 4
	if useBias {
		want = 8
	}
	if len(spec.Weights) != want {
		return nil, fmt.Errorf("layer %q: got %d weights, want %d (query, key, value and output kernels%s): %w",
			spec.Name, len(spec.Weights), want, map[bool]string{true: " and biases", false: ""}[useBias], convert.ErrWeights)
	}
	l := &MultiHeadAttention{layerIdent: idOf(spec), NumHeads: heads, KeyDim: keyDim, ValueDim: valueDim}
	w := spec.Weights
	next := func() convert.Weight { x := w[0]; w = w[1:]; return x }
	proj := func(size int) ([]float32, []float32, int, error) {
		k := next()
		if len(k.Shape) != 3 || k.Shape[1] != heads || k.Shape[2] != size || k.Shape[0] < 1 || len(k.Data) != shapeSize(k.Shape) {
			return nil, nil, 0, fmt.Errorf("layer %q: weight %q: got shape %v, want [dim %d %d]: %w", spec.Name, k.Name, k.Shape, heads, size, convert.ErrWeights)
		}
		var bias []float32
		if useBias {
			bw := next()
			if len(bw.Shape) != 2 || bw.Shape[0] != heads || bw.Shape[1] != size || len(bw.Data) != heads*size {
				return nil, nil, 0, fmt.Errorf("layer %q: weight %q: got shape %v, want [%d %d]: %w", spec.Name, bw.Name, bw.Shape, heads, size, convert.ErrWeights)
			}
			bias = bw.Data
		}
		return k.Data, bias, k.Shape[0], nil
	}
	var err error
	if l.Wq, l.Bq, l.QueryDim, err = proj(keyDim); err != nil {
		return nil, err
	}
	if l.Wk, l.Bk, l.KeyInDim, err = proj(keyDim); err != nil {
		return nil, err
	}
	if l.Wv, l.Bv, l.ValueInDim, err = proj(valueDim); err != nil {
		return nil, err
	}
	ok := next()
	if len(ok.Shape) != 3 || ok.Shape[0] != heads || ok.Shape[1] != valueDim || ok.Shape[2] < 1 || len(ok.Data) != shapeSize(ok.Shape) {
		return nil, fmt.Errorf("layer %q: weight %q: got shape %v, want [%d %d out]: %w", spec.Name, ok.Name, ok.Shape, heads, valueDim, convert.ErrWeights)
	}
	l.Wo, l.OutDim = ok.Data, ok.Shape[2]
	if len(outShape) == 1 && outShape[0] != l.OutDim {
		return nil, fmt.Errorf("layer %q: weight %q: got shape %v, want output_shape %d last: %w", spec.Name, ok.Name, ok.Shape, outShape[0], convert.ErrWeights)
	}
	if useBias {
		if l.Bo, err = weightVector(spec, next(), l.OutDim); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// mhaInputs finds query, value and key in a Keras 3 call (positional or
// keyword) or a Keras 2 input list.
func mhaInputs(call *runtime.Call) (q, v, k runtime.Value, err error) {
	var vals []runtime.Value
	for _, a := range call.Args {
		vals = append(vals, a.Values...)
	}
	for _, name := range []string{"query", "value", "key"} {
		if a, ok := call.Kwarg(name); ok && len(a.Values) == 1 {
			switch name {
			case "query":
				vals = append([]runtime.Value{a.Values[0]}, vals...)
			case "value":
				if len(vals) < 1 {
					return q, v, k, fmt.Errorf("value given without query")
				}
				vals = append(vals[:1], append([]runtime.Value{a.Values[0]}, vals[1:]...)...)
			case "key":
				if len(vals) < 2 {
					return q, v, k, fmt.Errorf("key given without query and value")
				}
				vals = append(vals[:2], a.Values[0])
			}
		}
	}
	if len(vals) < 2 || len(vals) > 3 {
		return q, v, k, fmt.Errorf("got %d input tensors, want query, value and optionally key", len(vals))
	}
	q, v, k = vals[0], vals[1], vals[1]
	if len(vals) == 3 {
		k = vals[2]
	}
	return q, v, k, nil
}

// maskKwarg returns the explicit keyword mask name, else def.
func maskKwarg(call *runtime.Call, name string, def *runtime.Tensor) *runtime.Tensor {
	if a, ok := call.Kwarg(name); ok && len(a.Values) == 1 {
		return a.Values[0].T
	}
	return def
}

// project computes x [rows, in] · w [in, out] + bias into a new slice.
func project(dst, x []float32, rows, in, out int, w, bias []float32) {
	if rows == 0 || out == 0 {
		return
	}
	kernel.MatMul(rows, out, in, x, in, w, out, dst, out, false)
	if bias != nil {
		kernel.AddBias(dst[:rows*out], bias)
	}
}

// Call runs the attention; with return_attention_scores the softmax
// weights [B, heads, T, S] are a second output.
func (l *MultiHeadAttention) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	qv, vv, kv, err := mhaInputs(call)
	if err != nil {
		return nil, err
	}
	q, v, k := qv.T, vv.T, kv.T
	if q == nil || v == nil || k == nil || q.Rank() != 3 || v.Rank() != 3 || k.Rank() != 3 {
		return nil, fmt.Errorf("inputs must be [batch, steps, features] tensors")
	}
	b, t, s := q.Shape[0], q.Shape[1], v.Shape[1]
	if v.Shape[0] != b || k.Shape[0] != b || k.Shape[1] != s {
		return nil, fmt.Errorf("input shapes query %v, value %v, key %v do not match", q.Shape, v.Shape, k.Shape)
	}
	if q.Shape[2] != l.QueryDim || k.Shape[2] != l.KeyInDim || v.Shape[2] != l.ValueInDim {
		return nil, fmt.Errorf("input shapes query %v, value %v, key %v: want features %d, %d, %d",
			q.Shape, v.Shape, k.Shape, l.QueryDim, l.ValueInDim, l.KeyInDim)
	}
	qMask := maskKwarg(call, "query_mask", qv.Mask)
	vMask := maskKwarg(call, "value_mask", vv.Mask)
	var kMask *runtime.Tensor
	if kv.T != vv.T {
		kMask = maskKwarg(call, "key_mask", kv.Mask)
	} else {
		kMask = maskKwarg(call, "key_mask", nil)
	}
	for _, m := range []struct {
		t    *runtime.Tensor
		n    int
		name string
	}{{qMask, t, "query"}, {vMask, s, "value"}, {kMask, s, "key"}} {
		if m.t != nil && (m.t.Len() != b*m.n || m.t.Shape[0] != b) {
			return nil, fmt.Errorf("%s mask shape %v: want [%d %d]", m.name, m.t.Shape, b, m.n)
		}
	}
	var attnMask *runtime.Tensor
	if a, ok := call.Kwarg("attention_mask"); ok && len(a.Values) == 1 {
		attnMask = a.Values[0].T
		if attnMask.Len() != b*t*s && attnMask.Len() != t*s {
			return nil, fmt.Errorf("attention_mask shape %v: want [%d %d %d]", attnMask.Shape, b, t, s)
		}
	}
	causal, err := boolKwarg(call, "use_causal_mask")
	if err != nil {
		return nil, err
	}
	withScores, err := boolKwarg(call, "return_attention_scores")
	if err != nil {
		return nil, err
	}
	h, kd, vd := l.NumHeads, l.KeyDim, l.ValueDim
	qp := ctx.Scratch(l, 0, b*t*h*kd)
	kp := ctx.Scratch(l, 1, b*s*h*kd)
	vp := ctx.Scratch(l, 2, b*s*h*vd)
	kt := ctx.Scratch(l, 3, kd*s)
	cx := ctx.Scratch(l, 4, b*t*h*vd)
	project(qp, q.Data, b*t, l.QueryDim, h*kd, l.Wq, l.Bq)
	project(kp, k.Data, b*s, l.KeyInDim, h*kd, l.Wk, l.Bk)
	project(vp, v.Data, b*s, l.ValueInDim, h*vd, l.Wv, l.Bv)
	inv := float32(1 / math.Sqrt(float64(kd)))
	for i := range qp {
		qp[i] *= inv
	}
	scores := ctx.NewTensor(b, h, t, s)
	allowed := func(bi, i, j int) bool {
		if qMask != nil && qMask.Data[bi*t+i] == 0 {
			return false
		}
		if vMask != nil && vMask.Data[bi*s+j] == 0 {
			return false
		}
		if kMask != nil && kMask.Data[bi*s+j] == 0 {
			return false
		}
		if causal && j > i {
			return false
		}
		if attnMask != nil {
			off := i*s + j
			if attnMask.Len() == b*t*s {
				off += bi * t * s
			}
			if attnMask.Data[off] == 0 {
				return false
			}
		}
		return true
	}
	masked := qMask != nil || vMask != nil || kMask != nil || causal || attnMask != nil
	for bi := 0; bi < b; bi++ {
		for hi := 0; hi < h; hi++ {
			for j := 0; j < s; j++ {
				src := kp[(bi*s+j)*h*kd+hi*kd:]
				for d := 0; d < kd; d++ {
					kt[d*s+j] = src[d]
				}
			}
			sc := scores.Data[(bi*h+hi)*t*s : (bi*h+hi+1)*t*s]
			if t > 0 && s > 0 {
				kernel.MatMul(t, s, kd, qp[bi*t*h*kd+hi*kd:], h*kd, kt, s, sc, s, false)
			}
			if masked {
				for i := 0; i < t; i++ {
					for j := 0; j < s; j++ {
						if allowed(bi, i, j) {
							continue
						}
						// Keras' inference path uses the fused attention,
						// which overwrites masked logits; returning the
						// scores takes the Softmax-layer path, which adds -1e9.
						if withScores {
							sc[i*s+j] -= attentionMaskPenalty
						} else {
							sc[i*s+j] = fusedMaskLogit
						}
					}
				}
			}
			softmaxRows(sc, s)
			if t > 0 && vd > 0 {
				kernel.MatMul(t, vd, s, sc, max(s, 1), vp[bi*s*h*vd+hi*vd:], h*vd, cx[bi*t*h*vd+hi*vd:], h*vd, false)
			}
		}
	}
	out := ctx.NewTensor(b, t, l.OutDim)
	project(out.Data, cx, b*t, h*vd, l.OutDim, l.Wo, l.Bo)
	res := []runtime.Value{{T: out, Mask: qMask}}
	if withScores {
		res = append(res, runtime.Value{T: scores})
	}
	return res, nil
}
