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

// xRNNSpec makes a random SimpleRNN/GRU/LSTM spec with d inputs and u units.
func xRNNSpec(rng *rand.Rand, class, name string, d, u int, cfg convert.Config) *convert.Layer {
	gates := map[string]int{"SimpleRNN": 1, "GRU": 3, "LSTM": 4}[class]
	k, _ := xWeight(rng, "kernel", d, gates*u)
	r, _ := xWeight(rng, "recurrent_kernel", u, gates*u)
	var b convert.Weight
	if class == "GRU" {
		b, _ = xWeight(rng, "bias", 2, gates*u)
	} else {
		b, _ = xWeight(rng, "bias", gates*u)
	}
	c := convert.Config{"units": float64(u), "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": true}
	if class == "GRU" {
		c["reset_after"] = true
	}
	for key, v := range cfg {
		c[key] = v
	}
	return &convert.Layer{Name: name, ClassName: class, Config: c, Weights: []convert.Weight{k, r, b}}
}

// xBuildSpec builds spec with the standard registry.
func xBuildSpec(t testing.TB, version string, spec *convert.Layer) runtime.Layer {
	t.Helper()
	r := Standard()
	l, err := r.Build(spec, &Env{Registry: r, KerasVersion: version})
	if err != nil {
		t.Fatalf("build %s: %v", spec.ClassName, err)
	}
	return l
}

func xFlip(x []float64, b, tt, f int) []float64 {
	out := make([]float64, len(x))
	for i := 0; i < b; i++ {
		for s := 0; s < tt; s++ {
			copy(out[(i*tt+s)*f:(i*tt+s+1)*f], x[(i*tt+tt-1-s)*f:(i*tt+tt-s)*f])
		}
	}
	return out
}

func f64(x *runtime.Tensor) []float64 {
	out := make([]float64, len(x.Data))
	for i, v := range x.Data {
		out[i] = float64(v)
	}
	return out
}

func TestBidirectional(t *testing.T) {
	const b, tt, d, u = 2, 5, 3, 4
	for _, class := range []string{"SimpleRNN", "GRU", "LSTM"} {
		for _, seq := range []bool{false, true} {
			for _, mode := range []any{"concat", "sum", "ave", "mul", nil} {
				for _, masked := range []bool{false, true} {
					name := fmt.Sprintf("%s_seq%v_%v_mask%v", class, seq, mode, masked)
					t.Run(name, func(t *testing.T) {
						rng := rand.New(rand.NewPCG(71, uint64(len(name))))
						fwd := xRNNSpec(rng, class, "forward_rnn", d, u, convert.Config{"return_sequences": seq})
						bwd := xRNNSpec(rng, class, "backward_rnn", d, u, convert.Config{"return_sequences": seq, "go_backwards": true})
						cfg := convert.Config{"layer": fwd, "backward_layer": bwd, "merge_mode": mode}
						l := xBuildSpec(t, "3.16.0", &convert.Layer{Name: "bidi", ClassName: "Bidirectional", Config: cfg})

						x, _ := xTensor(rng, b, tt, d)
						var mask *runtime.Tensor
						if masked {
							mask = xMask([]float32{1, 1, 1, 0, 0}, []float32{0, 1, 1, 1, 1})
						}
						got := xCall(t, l, nil, runtime.Value{T: x, Mask: mask})

						// Reference: the two RNNs on their own, with the
						// zero_output_for_mask Keras forces, then flip and merge.
						ref := func(s *convert.Layer) *runtime.Tensor {
							rl := xBuildSpec(t, "3.16.0", withOption(s, "zero_output_for_mask", seq))
							return xCall(t, rl, nil, runtime.Value{T: x, Mask: mask})[0].T
						}
						y, yr := f64(ref(fwd)), f64(ref(bwd))
						shape := []int{b, u}
						if seq {
							yr = xFlip(yr, b, tt, u)
							shape = []int{b, tt, u}
						}
						if mode == nil {
							if len(got) != 2 {
								t.Fatalf("merge_mode None: got %d outputs, want 2", len(got))
							}
							xClose(t, "forward", got[0].T, shape, y)
							xClose(t, "backward", got[1].T, shape, yr)
							return
						}
						want := make([]float64, 0, 2*len(y))
						for i := range y {
							switch mode {
							case "sum":
								want = append(want, y[i]+yr[i])
							case "ave":
								want = append(want, (y[i]+yr[i])/2)
							case "mul":
								want = append(want, y[i]*yr[i])
							}
						}
						if mode == "concat" {
							for r := 0; r < len(y)/u; r++ {
								want = append(want, y[r*u:(r+1)*u]...)
								want = append(want, yr[r*u:(r+1)*u]...)
							}
							shape[len(shape)-1] = 2 * u
						}
						if len(got) != 1 {
							t.Fatalf("got %d outputs, want 1", len(got))
						}
						xClose(t, "merged", got[0].T, shape, want)
						if masked && seq {
							// With a mask, returned sequences are zero at masked steps.
							for s := 3; s < 5; s++ {
								for j := 0; j < shape[2]; j++ {
									if v := got[0].T.Data[s*shape[2]+j]; v != 0 {
										t.Fatalf("masked step %d: output %v, want 0", s, v)
									}
								}
							}
						}
						xMaskEq(t, "Keras 3 output mask", got[0].Mask, nil)
					})
				}
			}
		}
	}
}

func TestBidirectionalStatesAndMasks(t *testing.T) {
	rng := rand.New(rand.NewPCG(73, 74))
	const b, tt, d, u = 2, 4, 3, 2
	fwd := xRNNSpec(rng, "LSTM", "forward_lstm", d, u, convert.Config{"return_sequences": true, "return_state": true})
	bwd := xRNNSpec(rng, "LSTM", "backward_lstm", d, u, convert.Config{"return_sequences": true, "return_state": true, "go_backwards": true})
	spec := &convert.Layer{Name: "bidi", ClassName: "Bidirectional", Config: convert.Config{"layer": fwd, "backward_layer": bwd}}
	x, _ := xTensor(rng, b, tt, d)
	mask := xMask([]float32{1, 1, 0, 0}, []float32{1, 1, 1, 1})

	// return_state: [merged, forward h, c, backward h, c]; initial_state
	// splits in halves.
	var init []runtime.Value
	for i := 0; i < 4; i++ {
		s, _ := xTensor(rng, b, u)
		init = append(init, runtime.Value{T: s})
	}
	l := xBuildSpec(t, "2.15.0", spec)
	kw := map[string]runtime.Arg{"initial_state": {Values: init, IsList: true}}
	got := xCall(t, l, kw, runtime.Value{T: x, Mask: mask})
	if len(got) != 5 {
		t.Fatalf("got %d outputs, want 5", len(got))
	}
	run := func(s *convert.Layer, states []runtime.Value) []runtime.Value {
		rl := xBuildSpec(t, "2.15.0", withOption(s, "zero_output_for_mask", true))
		return xCall(t, rl, map[string]runtime.Arg{"initial_state": {Values: states, IsList: true}}, runtime.Value{T: x, Mask: mask})
	}
	fo, bo := run(fwd, init[:2]), run(bwd, init[2:])
	for i, want := range []*runtime.Tensor{fo[1].T, fo[2].T, bo[1].T, bo[2].T} {
		xClose(t, fmt.Sprintf("state %d", i), got[1+i].T, []int{b, u}, f64(want))
		xMaskEq(t, "state mask", got[1+i].Mask, nil)
	}
	// A tf.keras 2 writer keeps the sequence mask on the output.
	xMaskEq(t, "Keras 2 output mask", got[0].Mask, mask.Data)

	if _, err := xTryCall(l, map[string]runtime.Arg{"initial_state": {Values: init[:3], IsList: true}}, runtime.Value{T: x}); err == nil {
		t.Fatal("3 initial states: want an error")
	}
	// Stateful or streaming: both directions keep their state in the
	// Workspace, and ResetState clears it.
	ctx := runtime.NewWorkspace(true)
	call := &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: x}}}}}
	first, err := l.Call(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	second, err := l.Call(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(first[0].T.Data) == fmt.Sprint(second[0].T.Data) {
		t.Fatal("streaming: second call ignored the carried state")
	}
	l.(runtime.Resetter).ResetState(ctx)
	third, err := l.Call(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	xClose(t, "after reset", third[0].T, first[0].T.Shape, f64(first[0].T))
}

func TestForcesZeroOutput(t *testing.T) {
	for v, want := range map[string]bool{"": true, "3.16.0": true, "2.15.0": true, "2.3.1": true, "2.2.4-tf": true,
		"2.2.4": false, "2.1.6-tf": false, "2.1.2": false, "2.0.8": false, "1.2.2": false} {
		if got := forcesZeroOutput(v); got != want {
			t.Errorf("forcesZeroOutput(%q) = %v, want %v", v, got, want)
		}
	}
	// An old writer's Bidirectional repeats the previous output at masked
	// steps, like the RNN on its own.
	rng := rand.New(rand.NewPCG(81, 82))
	fwd := xRNNSpec(rng, "GRU", "forward_gru", 3, 2, convert.Config{"return_sequences": true, "reset_after": false})
	fwd.Weights[2], _ = xWeight(rng, "bias", 6)
	bwd := xRNNSpec(rng, "GRU", "backward_gru", 3, 2, convert.Config{"return_sequences": true, "reset_after": false, "go_backwards": true})
	bwd.Weights[2], _ = xWeight(rng, "bias", 6)
	l := xBuildSpec(t, "2.1.2", &convert.Layer{Name: "bidi", ClassName: "Bidirectional", Config: convert.Config{"layer": fwd, "backward_layer": bwd, "merge_mode": nil}})
	x, _ := xTensor(rng, 1, 4, 3)
	mask := xMask([]float32{1, 1, 0, 0})
	got := xCall(t, l, nil, runtime.Value{T: x, Mask: mask})
	y := got[0].T.Data
	if y[4] != y[2] || y[5] != y[3] || y[6] != y[2] || (y[2] == 0 && y[3] == 0) {
		t.Fatalf("Keras 2.1 forward output at masked steps: %v, want the last valid output repeated", y)
	}
}

func TestBidirectionalErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(75, 76))
	fwd := xRNNSpec(rng, "GRU", "f", 3, 2, nil)
	bwd := xRNNSpec(rng, "GRU", "b", 3, 2, convert.Config{"go_backwards": true})
	sameDir := xRNNSpec(rng, "GRU", "b", 3, 2, nil)
	seqDiff := xRNNSpec(rng, "GRU", "b", 3, 2, convert.Config{"go_backwards": true, "return_sequences": true})
	for name, c := range map[string]struct {
		cfg     convert.Config
		weights []convert.Weight
		want    error
	}{
		"bad merge_mode":     {convert.Config{"layer": fwd, "backward_layer": bwd, "merge_mode": "max"}, nil, convert.ErrConfig},
		"no backward":        {convert.Config{"layer": fwd}, nil, convert.ErrConfig},
		"no layer":           {convert.Config{"backward_layer": bwd}, nil, convert.ErrConfig},
		"same direction":     {convert.Config{"layer": fwd, "backward_layer": sameDir}, nil, convert.ErrConfig},
		"return_seq differs": {convert.Config{"layer": fwd, "backward_layer": seqDiff}, nil, convert.ErrConfig},
		"layer not a layer":  {convert.Config{"layer": "GRU", "backward_layer": bwd}, nil, convert.ErrConfig},
		"weights on wrapper": {convert.Config{"layer": fwd, "backward_layer": bwd}, fwd.Weights, convert.ErrWeights},
	} {
		spec := &convert.Layer{Name: "bidi", ClassName: "Bidirectional", Config: c.cfg, Weights: c.weights}
		r := Standard()
		if _, err := r.Build(spec, &Env{Registry: r}); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
	// Building does not change the caller's specs.
	if _, ok := fwd.Config["zero_output_for_mask"]; ok {
		t.Fatal("Bidirectional wrote zero_output_for_mask into the wrapped layer's config")
	}
}

func TestTimeDistributed(t *testing.T) {
	rng := rand.New(rand.NewPCG(77, 78))
	const b, tt, d, u = 2, 3, 4, 5
	kw, kf := xWeight(rng, "kernel", d, u)
	bw, bf := xWeight(rng, "bias", u)
	dense := &convert.Layer{Name: "dense", ClassName: "Dense", Config: convert.Config{"units": float64(u), "activation": "tanh", "use_bias": true},
		Weights: []convert.Weight{kw, bw}}
	l := xBuildSpec(t, "", &convert.Layer{Name: "td", ClassName: "TimeDistributed", Config: convert.Config{"layer": dense}})
	x, xf := xTensor(rng, b, tt, d)
	m := xMask([]float32{1, 1, 0}, []float32{1, 0, 0})
	got := xCall(t, l, nil, runtime.Value{T: x, Mask: m})
	want := make([]float64, b*tt*u)
	for r := 0; r < b*tt; r++ {
		for j := 0; j < u; j++ {
			s := bf[j]
			for k := 0; k < d; k++ {
				s += xf[r*d+k] * kf[k*u+j]
			}
			want[r*u+j] = math.Tanh(s)
		}
	}
	xClose(t, "TimeDistributed(Dense)", got[0].T, []int{b, tt, u}, want)
	xMaskEq(t, "TimeDistributed mask", got[0].Mask, m.Data)
	if _, err := xTryCall(l, nil, runtime.Value{T: runtime.NewTensor(2, 4)}); err == nil {
		t.Fatal("rank-2 input: want an error")
	}
	r := Standard()
	if _, err := r.Build(&convert.Layer{Name: "td", ClassName: "TimeDistributed", Config: convert.Config{}}, &Env{Registry: r}); !errors.Is(err, convert.ErrConfig) {
		t.Fatalf("no inner layer: got %v, want ErrConfig", err)
	}
}

// BenchmarkBidirectionalLSTM mirrors perf workload W4's recurrent part:
// Bidirectional(LSTM(128)) over 200 steps of 128 features, batch 32.
func BenchmarkBidirectionalLSTM(b *testing.B) {
	rng := rand.New(rand.NewPCG(79, 80))
	const batch, tt, d, u = 32, 200, 128, 128
	fwd := xRNNSpec(rng, "LSTM", "forward_lstm", d, u, nil)
	bwd := xRNNSpec(rng, "LSTM", "backward_lstm", d, u, convert.Config{"go_backwards": true})
	l := xBuildSpec(b, "3.16.0", &convert.Layer{Name: "bidi", ClassName: "Bidirectional", Config: convert.Config{"layer": fwd, "backward_layer": bwd}})
	x, _ := xTensor(rng, batch, tt, d)
	ctx := runtime.NewWorkspace(false)
	call := &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: x}}}}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Call(ctx, call); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "seq/s")
}
