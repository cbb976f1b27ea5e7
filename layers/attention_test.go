package layers

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// refAttention computes Keras' Attention/AdditiveAttention in float64:
// scores, 1e9 subtracted at masked keys, softmax, weights·value, query
// rows zeroed by the query mask. score(i, j) is given per batch.
func refAttention(b, tq, tv, dv int, v []float64, score func(bi, i, j int) float64, vMask, qMask []float32, causal bool) ([]float64, []float64) {
	out := make([]float64, b*tq*dv)
	weights := make([]float64, b*tq*tv)
	for bi := 0; bi < b; bi++ {
		for i := 0; i < tq; i++ {
			s := make([]float64, tv)
			m := math.Inf(-1)
			for j := range s {
				s[j] = score(bi, i, j)
				if (vMask != nil && vMask[bi*tv+j] == 0) || (causal && j > i) {
					s[j] -= 1e9
				}
				m = math.Max(m, s[j])
			}
			var sum float64
			for j := range s {
				s[j] = math.Exp(s[j] - m)
				sum += s[j]
			}
			for j := range s {
				s[j] /= sum
				weights[(bi*tq+i)*tv+j] = s[j]
			}
			if qMask != nil && qMask[bi*tq+i] == 0 {
				continue
			}
			for d := 0; d < dv; d++ {
				var acc float64
				for j := 0; j < tv; j++ {
					acc += s[j] * v[(bi*tv+j)*dv+d]
				}
				out[(bi*tq+i)*dv+d] = acc
			}
		}
	}
	return out, weights
}

func TestAttention(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	const b, tq, tv, dim = 2, 3, 4, 5
	q, qf := xTensor(rng, b, tq, dim)
	v, vf := xTensor(rng, b, tv, dim)
	k, kf := xTensor(rng, b, tv, dim)
	qMask := xMask([]float32{1, 1, 0}, []float32{1, 1, 1})
	vMask := xMask([]float32{1, 1, 0, 0}, []float32{1, 0, 1, 1})
	scale := convert.Weight{Name: "scale", Shape: []int{}, Data: []float32{0.7}}
	csw := convert.Weight{Name: "concat_score_weight", Shape: []int{}, Data: []float32{1.3}}
	dot := func(s float64, key []float64) func(bi, i, j int) float64 {
		return func(bi, i, j int) float64 {
			var acc float64
			for d := 0; d < dim; d++ {
				acc += qf[(bi*tq+i)*dim+d] * key[(bi*tv+j)*dim+d]
			}
			return acc * s
		}
	}
	concat := func(s, w float64) func(bi, i, j int) float64 {
		return func(bi, i, j int) float64 {
			var acc float64
			for d := 0; d < dim; d++ {
				acc += math.Tanh(s * (qf[(bi*tq+i)*dim+d] + vf[(bi*tv+j)*dim+d]))
			}
			return acc * w
		}
	}
	f32 := func(x float32) float64 { return float64(x) }

	// Dot scores, masks from the inputs.
	l := xBuild(t, "", "Attention", nil)
	out := xCall(t, l, nil, runtime.Value{T: q, Mask: qMask}, runtime.Value{T: v, Mask: vMask})
	want, _ := refAttention(b, tq, tv, dim, vf, dot(1, vf), vMask.Data, qMask.Data, false)
	xClose(t, "dot masked", out[0].T, []int{b, tq, dim}, want)
	xMaskEq(t, "dot output mask", out[0].Mask, qMask.Data)

	// Explicit key, scale, causal mask and returned scores.
	l = xBuild(t, "", "Attention", convert.Config{"use_scale": true}, scale)
	kw := map[string]runtime.Arg{"use_causal_mask": {Const: true}, "return_attention_scores": {Const: true}}
	out = xCall(t, l, kw, runtime.Value{T: q}, runtime.Value{T: v}, runtime.Value{T: k})
	want, wts := refAttention(b, tq, tv, dim, vf, dot(f32(0.7), kf), nil, nil, true)
	xClose(t, "dot scaled causal", out[0].T, []int{b, tq, dim}, want)
	if len(out) != 2 {
		t.Fatalf("return_attention_scores: got %d outputs, want 2", len(out))
	}
	xClose(t, "attention scores", out[1].T, []int{b, tq, tv}, wts)

	// Concat scores with and without scale.
	l = xBuild(t, "", "Attention", convert.Config{"score_mode": "concat"}, csw)
	out = xCall(t, l, nil, runtime.Value{T: q}, runtime.Value{T: v})
	want, _ = refAttention(b, tq, tv, dim, vf, concat(1, f32(1.3)), nil, nil, false)
	xClose(t, "concat", out[0].T, []int{b, tq, dim}, want)
	l = xBuild(t, "", "Attention", convert.Config{"score_mode": "concat", "use_scale": true}, scale, csw)
	out = xCall(t, l, nil, runtime.Value{T: q}, runtime.Value{T: v})
	want, _ = refAttention(b, tq, tv, dim, vf, concat(f32(0.7), f32(1.3)), nil, nil, false)
	xClose(t, "concat scaled", out[0].T, []int{b, tq, dim}, want)

	// An explicit mask list replaces the inputs' masks.
	l = xBuild(t, "", "Attention", nil)
	mk := map[string]runtime.Arg{"mask": {Values: []runtime.Value{{T: qMask}, {T: vMask}}, IsList: true}}
	out = xCall(t, l, mk, runtime.Value{T: q}, runtime.Value{T: v})
	want, _ = refAttention(b, tq, tv, dim, vf, dot(1, vf), vMask.Data, qMask.Data, false)
	xClose(t, "explicit masks", out[0].T, []int{b, tq, dim}, want)

	if _, err := xTryBuild("", "Attention", convert.Config{"use_scale": true}); !errors.Is(err, convert.ErrWeights) {
		t.Fatalf("use_scale without scale: got %v, want ErrWeights", err)
	}
	if _, err := xTryBuild("", "Attention", convert.Config{"score_mode": "general"}); !errors.Is(err, convert.ErrConfig) {
		t.Fatalf("score_mode general: got %v, want ErrConfig", err)
	}
	if _, err := xTryCall(l, nil, runtime.Value{T: q}); err == nil {
		t.Fatal("one input: want an error")
	}
}

func TestAdditiveAttention(t *testing.T) {
	rng := rand.New(rand.NewPCG(63, 64))
	const b, tq, tv, dim = 2, 3, 4, 5
	q, qf := xTensor(rng, b, tq, dim)
	v, vf := xTensor(rng, b, tv, dim)
	sw, sf := xWeight(rng, "scale", dim)
	vMask := xMask([]float32{1, 0, 1, 0}, []float32{1, 1, 1, 0})
	score := func(scale []float64) func(bi, i, j int) float64 {
		return func(bi, i, j int) float64 {
			var acc float64
			for d := 0; d < dim; d++ {
				s := 1.0
				if scale != nil {
					s = scale[d]
				}
				acc += s * math.Tanh(qf[(bi*tq+i)*dim+d]+vf[(bi*tv+j)*dim+d])
			}
			return acc
		}
	}
	out := xCall(t, xBuild(t, "", "AdditiveAttention", nil, sw), nil, runtime.Value{T: q}, runtime.Value{T: v, Mask: vMask})
	want, _ := refAttention(b, tq, tv, dim, vf, score(sf), vMask.Data, nil, false)
	xClose(t, "additive", out[0].T, []int{b, tq, dim}, want)
	out = xCall(t, xBuild(t, "", "AdditiveAttention", convert.Config{"use_scale": false}), nil, runtime.Value{T: q}, runtime.Value{T: v})
	want, _ = refAttention(b, tq, tv, dim, vf, score(nil), nil, nil, false)
	xClose(t, "additive no scale", out[0].T, []int{b, tq, dim}, want)
	if _, err := xTryBuild("", "AdditiveAttention", nil); !errors.Is(err, convert.ErrWeights) {
		t.Fatalf("missing scale: got %v, want ErrWeights", err)
	}
}

// refMHA computes MultiHeadAttention in float64 with explicit einsum
// loops. allowed(bi, i, j) says whether query step i may attend to key j;
// masked logits are replaced by maskLogit.
func refMHA(b, tq, s, fq, fv, h, kd, vd, fo int, q, k, v []float64, w [][]float64, allowed func(bi, i, j int) bool, maskLogit float64) []float64 {
	wq, bq, wk, bk, wv, bv, wo, bo := w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]
	proj := func(x []float64, steps, fin int, wt, bias []float64, size int) []float64 {
		// out[b, t, h, d] = Σ_f x[b, t, f] · W[f, h, d] + bias[h, d]
		out := make([]float64, b*steps*h*size)
		for bi := 0; bi < b; bi++ {
			for t := 0; t < steps; t++ {
				for hi := 0; hi < h; hi++ {
					for d := 0; d < size; d++ {
						acc := bias[hi*size+d]
						for f := 0; f < fin; f++ {
							acc += x[(bi*steps+t)*fin+f] * wt[(f*h+hi)*size+d]
						}
						out[((bi*steps+t)*h+hi)*size+d] = acc
					}
				}
			}
		}
		return out
	}
	Q := proj(q, tq, fq, wq, bq, kd)
	K := proj(k, s, fv, wk, bk, kd)
	V := proj(v, s, fv, wv, bv, vd)
	out := make([]float64, b*tq*fo)
	for bi := 0; bi < b; bi++ {
		for i := 0; i < tq; i++ {
			ctx := make([]float64, h*vd)
			for hi := 0; hi < h; hi++ {
				logits := make([]float64, s)
				m := math.Inf(-1)
				for j := 0; j < s; j++ {
					var acc float64
					for d := 0; d < kd; d++ {
						acc += Q[((bi*tq+i)*h+hi)*kd+d] * K[((bi*s+j)*h+hi)*kd+d]
					}
					logits[j] = acc / math.Sqrt(float64(kd))
					if !allowed(bi, i, j) {
						logits[j] = maskLogit
					}
					m = math.Max(m, logits[j])
				}
				var sum float64
				for j := range logits {
					logits[j] = math.Exp(logits[j] - m)
					sum += logits[j]
				}
				for j := range logits {
					for d := 0; d < vd; d++ {
						ctx[hi*vd+d] += logits[j] / sum * V[((bi*s+j)*h+hi)*vd+d]
					}
				}
			}
			for o := 0; o < fo; o++ {
				acc := bo[o]
				for hd := 0; hd < h*vd; hd++ {
					acc += ctx[hd] * wo[hd*fo+o]
				}
				out[(bi*tq+i)*fo+o] = acc
			}
		}
	}
	return out
}

func TestMultiHeadAttention(t *testing.T) {
	rng := rand.New(rand.NewPCG(65, 66))
	const b, tq, s, fq, fv, h, kd, vd, fo = 2, 3, 4, 5, 6, 2, 3, 4, 7
	q, qf := xTensor(rng, b, tq, fq)
	v, vf := xTensor(rng, b, s, fv)
	var ws []convert.Weight
	var wf [][]float64
	for _, sh := range [][]int{{fq, h, kd}, {h, kd}, {fv, h, kd}, {h, kd}, {fv, h, vd}, {h, vd}, {h, vd, fo}, {fo}} {
		w, f := xWeight(rng, "w", sh...)
		ws, wf = append(ws, w), append(wf, f)
	}
	cfg := convert.Config{"num_heads": float64(h), "key_dim": float64(kd), "value_dim": float64(vd)}
	l := xBuild(t, "", "MultiHeadAttention", cfg, ws...)
	all := func(bi, i, j int) bool { return true }

	// Keras 3 call: mha(query, value) with positional arguments.
	call := &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: q}}}, {Values: []runtime.Value{{T: v}}}}}
	out, err := l.Call(runtime.NewWorkspace(false), call)
	if err != nil {
		t.Fatal(err)
	}
	xClose(t, "mha cross", out[0].T, []int{b, tq, fo}, refMHA(b, tq, s, fq, fv, h, kd, vd, fo, qf, vf, vf, wf, all, 0))

	// Masks: query mask [B, T, 1] and value mask [B, 1, S], causal; the
	// fused inference path overwrites masked logits with a huge negative.
	qMask := xMask([]float32{1, 1, 0}, []float32{1, 1, 1})
	vMask := xMask([]float32{1, 0, 1, 1}, []float32{0, 0, 0, 0})
	allowed := func(bi, i, j int) bool {
		return qMask.Data[bi*tq+i] != 0 && vMask.Data[bi*s+j] != 0 && j <= i
	}
	call = &runtime.Call{
		Args:   []runtime.Arg{{Values: []runtime.Value{{T: q, Mask: qMask}}}},
		Kwargs: map[string]runtime.Arg{"value": {Values: []runtime.Value{{T: v, Mask: vMask}}}, "use_causal_mask": {Const: true}},
	}
	out, err = l.Call(runtime.NewWorkspace(false), call)
	if err != nil {
		t.Fatal(err)
	}
	xClose(t, "mha masked", out[0].T, []int{b, tq, fo}, refMHA(b, tq, s, fq, fv, h, kd, vd, fo, qf, vf, vf, wf, allowed, -0.7*3.38953e38))
	xMaskEq(t, "mha output mask", out[0].Mask, qMask.Data)

	// Keras 2 style input list [query, value, key] and returned scores.
	k, kf := xTensor(rng, b, s, fv)
	call = &runtime.Call{
		Args:   []runtime.Arg{{Values: []runtime.Value{{T: q}, {T: v}, {T: k}}, IsList: true}},
		Kwargs: map[string]runtime.Arg{"return_attention_scores": {Const: true}},
	}
	out, err = l.Call(runtime.NewWorkspace(false), call)
	if err != nil {
		t.Fatal(err)
	}
	xClose(t, "mha key", out[0].T, []int{b, tq, fo}, refMHA(b, tq, s, fq, fv, h, kd, vd, fo, qf, kf, vf, wf, all, 0))
	if len(out) != 2 || out[1].T == nil || len(out[1].T.Shape) != 4 || out[1].T.Shape[1] != h {
		t.Fatalf("return_attention_scores: got %d outputs, want output and [B, heads, T, S] scores", len(out))
	}

	if _, err := xTryBuild("", "MultiHeadAttention", cfg, ws[:7]...); !errors.Is(err, convert.ErrWeights) {
		t.Fatalf("7 weights: got %v, want ErrWeights", err)
	}
	noBias := convert.Config{"num_heads": float64(h), "key_dim": float64(kd), "value_dim": float64(vd), "use_bias": false}
	if _, err := xTryBuild("", "MultiHeadAttention", noBias, ws[0], ws[2], ws[4], ws[6]); err != nil {
		t.Fatalf("use_bias=false with 4 kernels: %v", err)
	}
	wrongOut := convert.Config{"num_heads": float64(h), "key_dim": float64(kd), "value_dim": float64(vd), "output_shape": 3.0}
	if _, err := xTryBuild("", "MultiHeadAttention", wrongOut, ws...); !errors.Is(err, convert.ErrWeights) {
		t.Fatalf("output_shape 3 with a 7-wide output kernel: got %v, want ErrWeights", err)
	}
	okOut := convert.Config{"num_heads": float64(h), "key_dim": float64(kd), "value_dim": float64(vd), "output_shape": []any{float64(fo)}}
	if _, err := xTryBuild("", "MultiHeadAttention", okOut, ws...); err != nil {
		t.Fatalf("output_shape [%d]: %v", fo, err)
	}
	axes := convert.Config{"num_heads": float64(h), "key_dim": float64(kd), "attention_axes": []any{1.0, 2.0}}
	if _, err := xTryBuild("", "MultiHeadAttention", axes, ws...); !errors.Is(err, convert.ErrUnsupported) {
		t.Fatalf("attention_axes [1 2]: got %v, want ErrUnsupported", err)
	}
	if _, err := l.Call(runtime.NewWorkspace(false), &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: v}}}, {Values: []runtime.Value{{T: v}}}}}); err == nil {
		t.Fatal("query with the value's feature size: want an error")
	}
}
