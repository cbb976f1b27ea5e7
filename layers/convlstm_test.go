package layers

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// convLSTMCase is one configuration of the float64 ConvLSTM reference.
type convLSTMCase struct {
	in, k, s, d                []int
	padding                    string
	bias, seq, state, back, cf bool
	unroll, zeroOut, init      bool
	act, ract                  string
	mask                       [][]bool // [b][t] true = keep, or nil
}

// refConvLSTM runs the ConvLSTM equations in float64 on x [b, t, in..., c]
// (channels last) with kernel [k..., c, 4f], recurrent kernel
// [k..., f, 4f] (gates i, f, c, o) and Keras' RNN masking rules. It returns
// the outputs in processing order [b, t, p, f] and the final h and c.
func refConvLSTM(cs convLSTMCase, x []float64, b, t, c int, w, rw, bias []float64, f int, h0, c0 []float64) (seq, h, cc []float64, out []int) {
	frame := shapeSize(cs.in) * c
	g := 4 * f
	var P int
	xs := make([][]float64, t) // per step: [b, p, 4f]
	for s := 0; s < t; s++ {
		fr := make([]float64, b*frame)
		for bi := 0; bi < b; bi++ {
			copy(fr[bi*frame:(bi+1)*frame], x[(bi*t+s)*frame:(bi*t+s+1)*frame])
		}
		xs[s], out = refConvND(fr, b, cs.in, c, w, cs.k, g, 1, cs.s, cs.d, cs.padding)
		if bias != nil {
			addBiasAct(xs[s], bias, g, refAct("linear"))
		}
	}
	P = shapeSize(out)
	h, cc = make([]float64, b*P*f), make([]float64, b*P*f)
	if h0 != nil {
		copy(h, h0)
		copy(cc, c0)
	}
	prev := make([]float64, b*P*f)
	seq = make([]float64, b*t*P*f)
	act, ract := refAct(cs.act), refAct(cs.ract)
	one := ones(len(cs.in))
	for step := 0; step < t; step++ {
		ti := step
		if cs.back {
			ti = t - 1 - step
		}
		rec, _ := refConvND(h, b, out, f, rw, cs.k, g, 1, one, one, "same")
		nh, nc := make([]float64, len(h)), make([]float64, len(cc))
		for j := 0; j < b*P; j++ {
			for u := 0; u < f; u++ {
				z := func(gate int) float64 { return xs[ti][j*g+gate*f+u] + rec[j*g+gate*f+u] }
				i, fg, o := ract(z(0)), ract(z(1)), ract(z(3))
				nc[j*f+u] = fg*cc[j*f+u] + i*act(z(2))
				nh[j*f+u] = o * act(nc[j*f+u])
			}
		}
		for bi := 0; bi < b; bi++ {
			lo, hi := bi*P*f, (bi+1)*P*f
			o := nh[lo:hi]
			if cs.mask != nil && !cs.mask[bi][ti] {
				copy(nh[lo:hi], h[lo:hi])
				copy(nc[lo:hi], cc[lo:hi])
				switch {
				case cs.unroll:
					o = prev[lo:hi]
				case cs.zeroOut:
					o = make([]float64, P*f)
				default:
					o = h[lo:hi]
				}
			}
			copy(seq[(bi*t+step)*P*f:(bi*t+step+1)*P*f], o)
			copy(prev[lo:hi], o)
		}
		h, cc = nh, nc
	}
	return seq, h, cc, out
}

func TestConvLSTMAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(131, 132))
	mask := [][]bool{{true, false, true, true}, {false, true, true, false}}
	for _, cs := range []convLSTMCase{
		{in: []int{5, 4}, k: []int{3, 3}, s: []int{1, 1}, d: []int{1, 1}, padding: "same", bias: true, seq: true, act: "tanh", ract: "sigmoid"},
		{in: []int{5, 4}, k: []int{3, 3}, s: []int{1, 1}, d: []int{1, 1}, padding: "same", bias: true, seq: true, act: "tanh", ract: "sigmoid", mask: mask},
		{in: []int{9}, k: []int{3}, s: []int{2}, d: []int{1}, padding: "valid", bias: true, back: true, state: true, unroll: true, act: "tanh", ract: "hard_sigmoid", mask: mask},
		{in: []int{7}, k: []int{2}, s: []int{1}, d: []int{2}, padding: "same", seq: true, back: true, cf: true, act: "relu", ract: "sigmoid"},
		{in: []int{3, 4, 3}, k: []int{2, 2, 2}, s: []int{1, 1, 1}, d: []int{1, 1, 1}, padding: "same", bias: true, seq: true, state: true, cf: true, init: true, zeroOut: true, act: "tanh", ract: "sigmoid", mask: mask},
		{in: []int{6, 6}, k: []int{3, 2}, s: []int{1, 1}, d: []int{2, 1}, padding: "valid", init: true, state: true, act: "tanh", ract: "hard_sigmoid_keras2"},
	} {
		r := len(cs.in)
		class := fmt.Sprintf("ConvLSTM%dD", r)
		name := fmt.Sprintf("%s_%v_k%v_s%v_d%v_%s_seq%v_state%v_back%v_cf%v_unroll%v_zero%v_init%v_mask%v",
			class, cs.in, cs.k, cs.s, cs.d, cs.padding, cs.seq, cs.state, cs.back, cs.cf, cs.unroll, cs.zeroOut, cs.init, cs.mask != nil)
		t.Run(name, func(t *testing.T) {
			const b, tt, c, f = 2, 4, 2, 3
			x, xf := xTensor(rng, append(append([]int{b, tt}, cs.in...), c)...)
			kw, kf := xWeight(rng, "kernel", append(append([]int(nil), cs.k...), c, 4*f)...)
			rw, rf := xWeight(rng, "recurrent_kernel", append(append([]int(nil), cs.k...), f, 4*f)...)
			ws := []convert.Weight{kw, rw}
			var bf []float64
			if cs.bias {
				bw, v := xWeight(rng, "bias", 4*f)
				ws, bf = append(ws, bw), v
			}
			cfg := convert.Config{"filters": float64(f), "kernel_size": floatsAny(cs.k), "strides": floatsAny(cs.s),
				"dilation_rate": floatsAny(cs.d), "padding": cs.padding, "use_bias": cs.bias,
				"return_sequences": cs.seq, "return_state": cs.state, "go_backwards": cs.back, "unroll": cs.unroll,
				"zero_output_for_mask": cs.zeroOut, "activation": cs.act, "recurrent_activation": cs.ract}
			// The reference's output spatial size decides the state shapes.
			var h0, c0 []float64
			var initT [2]*runtime.Tensor
			outSp := make([]int, r)
			for a := range outSp {
				outSp[a], _ = refPads(cs.in[a], cs.k[a], cs.s[a], cs.d[a], cs.padding)
			}
			P := shapeSize(outSp)
			if cs.init {
				var t0, t1 *runtime.Tensor
				t0, h0 = xTensor(rng, layerShape(b, outSp, f, false)...)
				t1, c0 = xTensor(rng, layerShape(b, outSp, f, false)...)
				initT = [2]*runtime.Tensor{t0, t1}
			}
			wantSeq, wantH, wantC, out := refConvLSTM(cs, xf, b, tt, c, kf, rf, bf, f, h0, c0)
			if shapeSize(out) != P {
				t.Fatalf("reference output %v, want %v", out, outSp)
			}
			version := ""
			if cs.ract == "hard_sigmoid_keras2" {
				version = "2.7.0"
			}
			if cs.cf {
				cfg["data_format"] = "channels_first"
				x.Data = float32s(toChannelsFirst(xf, b*tt, shapeSize(cs.in), c))
				x.Shape = append([]int{b, tt, c}, cs.in...)
				wantSeq = toChannelsFirst(wantSeq, b*tt, P, f)
				wantH, wantC = toChannelsFirst(wantH, b, P, f), toChannelsFirst(wantC, b, P, f)
				if cs.init {
					for i, v := range [][]float64{h0, c0} {
						initT[i] = &runtime.Tensor{Shape: layerShape(b, outSp, f, true), Data: float32s(toChannelsFirst(v, b, P, f))}
					}
				}
			}
			l := xBuild(t, version, class, cfg, ws...)
			kw2 := map[string]runtime.Arg{}
			if cs.mask != nil {
				m := runtime.NewTensor(b, tt)
				for bi := range cs.mask {
					for ti, keep := range cs.mask[bi] {
						if keep {
							m.Data[bi*tt+ti] = 1
						}
					}
				}
				kw2["mask"] = runtime.Arg{Values: []runtime.Value{{T: m}}}
			}
			if cs.init {
				kw2["initial_state"] = runtime.Arg{Values: []runtime.Value{{T: initT[0]}, {T: initT[1]}}, IsList: true}
			}
			got := xCall(t, l, kw2, runtime.Value{T: x})
			stateShape := layerShape(b, outSp, f, cs.cf)
			if cs.seq {
				xClose(t, "sequence", got[0].T, append([]int{b, tt}, stateShape[1:]...), wantSeq)
			} else {
				last := make([]float64, 0, b*P*f)
				for bi := 0; bi < b; bi++ {
					last = append(last, wantSeq[(bi*tt+tt-1)*P*f:(bi*tt+tt)*P*f]...)
				}
				xClose(t, "last output", got[0].T, stateShape, last)
			}
			if cs.state {
				if len(got) != 3 {
					t.Fatalf("got %d outputs, want output, h, c", len(got))
				}
				xClose(t, "h", got[1].T, stateShape, wantH)
				xClose(t, "c", got[2].T, stateShape, wantC)
			} else if len(got) != 1 {
				t.Fatalf("got %d outputs, want 1", len(got))
			}
		})
	}
}

// TestConvLSTMStateful checks that a stateful ConvLSTM carries h and c
// across calls (the second half of a sequence continues the first) and
// that ResetState starts over.
func TestConvLSTMStateful(t *testing.T) {
	rng := rand.New(rand.NewPCG(133, 134))
	const b, tt, c, f = 2, 4, 2, 2
	x, xf := xTensor(rng, b, tt, 4, 3, c)
	kw, kf := xWeight(rng, "kernel", 2, 2, c, 4*f)
	rw, rf := xWeight(rng, "recurrent_kernel", 2, 2, f, 4*f)
	bw, bf := xWeight(rng, "bias", 4*f)
	cfg := convert.Config{"filters": float64(f), "kernel_size": []any{2.0, 2.0}, "padding": "same", "stateful": true, "return_sequences": true}
	l := xBuild(t, "", "ConvLSTM2D", cfg, kw, rw, bw)
	cs := convLSTMCase{in: []int{4, 3}, k: []int{2, 2}, s: []int{1, 1}, d: []int{1, 1}, padding: "same", act: "tanh", ract: "sigmoid"}
	want, _, _, _ := refConvLSTM(cs, xf, b, tt, c, kf, rf, bf, f, nil, nil)
	half := func(from int) *runtime.Tensor {
		h := runtime.NewTensor(b, tt/2, 4, 3, c)
		per := 4 * 3 * c
		for bi := 0; bi < b; bi++ {
			copy(h.Data[bi*tt/2*per:(bi+1)*tt/2*per], x.Data[(bi*tt+from)*per:(bi*tt+from+tt/2)*per])
		}
		return h
	}
	ctx := runtime.NewWorkspace(false)
	call := func(x *runtime.Tensor) *runtime.Tensor {
		out, err := l.Call(ctx, &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: x}}}}})
		if err != nil {
			t.Fatal(err)
		}
		return out[0].T
	}
	first, second := call(half(0)), call(half(tt/2))
	P := 4 * 3 * f
	for bi := 0; bi < b; bi++ {
		for s := 0; s < tt; s++ {
			got := first
			si := s
			if s >= tt/2 {
				got, si = second, s-tt/2
			}
			for j := 0; j < P; j++ {
				g, w := float64(got.Data[(bi*tt/2+si)*P+j]), want[(bi*tt+s)*P+j]
				if d := g - w; d > 1e-5 || d < -1e-5 {
					t.Fatalf("batch %d step %d value %d: got %v, want %v", bi, s, j, g, w)
				}
			}
		}
	}
	l.(runtime.Resetter).ResetState(ctx)
	again := call(half(0))
	for i := range again.Data {
		if again.Data[i] != first.Data[i] {
			t.Fatalf("after ResetState value %d: got %v, want %v", i, again.Data[i], first.Data[i])
		}
	}
	// A different batch size with the stored state is an error until reset.
	if _, err := l.Call(ctx, &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: runtime.NewTensor(1, 2, 4, 3, c)}}}}}); err == nil {
		t.Error("batch 1 after batch 2 on a stateful layer: want an error")
	}
}

// TestConvLSTMNoPerStepAllocation checks that the time loop allocates
// nothing: a call over 24 steps allocates as much as one over 2 (the
// per-call allocations are the outputs, new outside a graph run).
func TestConvLSTMNoPerStepAllocation(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	rng := rand.New(rand.NewPCG(135, 136))
	kw, _ := xWeight(rng, "kernel", 3, 3, 2, 12)
	rw, _ := xWeight(rng, "recurrent_kernel", 3, 3, 3, 12)
	bw, _ := xWeight(rng, "bias", 12)
	for _, cfg := range []convert.Config{
		{"filters": 3.0, "kernel_size": []any{3.0, 3.0}, "padding": "same", "return_sequences": true},
		{"filters": 3.0, "kernel_size": []any{3.0, 3.0}, "data_format": "channels_first", "return_state": true, "go_backwards": true},
	} {
		l := xBuild(t, "", "ConvLSTM2D", cfg, kw, rw, bw)
		allocs := func(steps int) float64 {
			shape := []int{2, steps, 6, 5, 2}
			if cfg["data_format"] == "channels_first" {
				shape = []int{2, steps, 2, 6, 5}
			}
			x, _ := xTensor(rng, shape...)
			ctx := runtime.NewWorkspace(false)
			call := &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: x}}}}}
			return testing.AllocsPerRun(5, func() {
				if _, err := l.Call(ctx, call); err != nil {
					t.Fatal(err)
				}
			})
		}
		// One allocation per step would add 22; allow a stray one from
		// another goroutine of the test binary.
		if short, long := allocs(2), allocs(24); long > short+1 {
			t.Errorf("%v: %v allocations for 2 steps, %v for 24: the time loop allocates", cfg, short, long)
		}
	}
}

func TestConvLSTMErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(137, 138))
	kw, _ := xWeight(rng, "kernel", 3, 3, 2, 8)
	rw, _ := xWeight(rng, "recurrent_kernel", 3, 3, 2, 8)
	bw, _ := xWeight(rng, "bias", 8)
	base := func() convert.Config { return convert.Config{"filters": 2.0, "kernel_size": []any{3.0, 3.0}} }
	if _, err := xTryBuild("", "ConvLSTM2D", base(), kw, rw); err == nil {
		t.Error("missing bias: want an error")
	}
	badR, _ := xWeight(rng, "recurrent_kernel", 3, 3, 3, 8)
	if _, err := xTryBuild("", "ConvLSTM2D", base(), kw, badR, bw); err == nil {
		t.Error("recurrent kernel for 3 filters: want an error")
	}
	for key, v := range map[string]any{"padding": "causal", "time_major": true, "activation": "glu", "recurrent_activation": "nope"} {
		cfg := base()
		cfg[key] = v
		if _, err := xTryBuild("", "ConvLSTM2D", cfg, kw, rw, bw); err == nil {
			t.Errorf("%s=%v: want an error", key, v)
		}
	}
	l := xBuild(t, "", "ConvLSTM2D", base(), kw, rw, bw)
	for _, shape := range [][]int{{1, 3, 5, 5, 3}, {1, 3, 5, 5}, {1, 0, 5, 5, 2}, {1, 3, 2, 2, 2}} {
		if _, err := xTryCall(l, nil, runtime.Value{T: runtime.NewTensor(shape...)}); err == nil {
			t.Errorf("input %v: want an error", shape)
		}
	}
	x := runtime.NewTensor(2, 3, 5, 5, 2)
	badMask := map[string]runtime.Arg{"mask": {Values: []runtime.Value{{T: runtime.NewTensor(2, 4)}}}}
	if _, err := xTryCall(l, badMask, runtime.Value{T: x}); err == nil {
		t.Error("mask [2 4] for time 3: want an error")
	}
	badInit := map[string]runtime.Arg{"initial_state": {Values: []runtime.Value{{T: runtime.NewTensor(2, 3, 3, 2)}}, IsList: true}}
	if _, err := xTryCall(l, badInit, runtime.Value{T: x}); err == nil {
		t.Error("one initial state: want an error")
	}
}

// TestConvLSTMStopsWhenCancelled checks that the time loop polls the
// call's context and returns its error.
func TestConvLSTMStopsWhenCancelled(t *testing.T) {
	rng := rand.New(rand.NewPCG(139, 140))
	kw, _ := xWeight(rng, "kernel", 3, 3, 2, 8)
	rw, _ := xWeight(rng, "recurrent_kernel", 3, 3, 2, 8)
	bw, _ := xWeight(rng, "bias", 8)
	l := xBuild(t, "", "ConvLSTM2D", convert.Config{"filters": 2.0, "kernel_size": []any{3.0, 3.0}}, kw, rw, bw)
	x, _ := xTensor(rng, 1, 6, 5, 5, 2)
	ws := runtime.NewWorkspace(false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ws.SetContext(ctx)
	call := &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: x}}}}}
	if _, err := l.Call(ws, call); !errors.Is(err, context.Canceled) {
		t.Fatalf("under a cancelled context: %v, want context.Canceled", err)
	}
	ws.SetContext(context.Background())
	if _, err := l.Call(ws, call); err != nil {
		t.Fatalf("under a live context: %v", err)
	}
}

// BenchmarkConvLSTM2D runs a video-sized ConvLSTM2D: batch 2, 10 frames of
// 32×32×3, 16 filters, kernel 3×3, same padding, returning sequences.
func BenchmarkConvLSTM2D(b *testing.B) {
	rng := rand.New(rand.NewPCG(143, 144))
	const batch, steps, hw, c, f = 2, 10, 32, 3, 16
	kw, _ := xWeight(rng, "kernel", 3, 3, c, 4*f)
	rw, _ := xWeight(rng, "recurrent_kernel", 3, 3, f, 4*f)
	bw, _ := xWeight(rng, "bias", 4*f)
	l := xBuild(b, "", "ConvLSTM2D", convert.Config{"filters": float64(f), "kernel_size": []any{3.0, 3.0}, "padding": "same", "return_sequences": true}, kw, rw, bw)
	x, _ := xTensor(rng, batch, steps, hw, hw, c)
	ws := runtime.NewWorkspace(false)
	call := &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: x}}}}}
	// Multiply-adds: the input convolution of every frame and the
	// recurrent one of every step.
	flops := float64(2 * batch * steps * hw * hw * 9 * (c + f) * 4 * f)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := l.Call(ws, call); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
