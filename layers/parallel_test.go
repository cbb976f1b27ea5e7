package layers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// TestParallelSameBits runs recurrent layers whose batch the Workspace's
// thread budget splits over goroutines, with 1, 2, 3 and 8 threads, and
// requires the same bits every time: outputs and final states. The sizes
// cross the matrix kernels' 256-deep blocking (units and features > 256),
// the batch does not divide evenly, and a mask is given. Run with -race.
func TestParallelSameBits(t *testing.T) {
	type tc struct {
		cell      cellCfg
		batch, T  int
		seq, back bool
		masked    bool
	}
	cases := []tc{
		{cell: cellCfg{class: "LSTM", units: 300, dim: 270, act: "tanh", ract: "sigmoid", useBias: true}, batch: 37, T: 3, seq: true, masked: true},
		{cell: cellCfg{class: "GRU", units: 64, dim: 40, act: "tanh", ract: "sigmoid", useBias: true, resetAfter: true}, batch: 64, T: 40, back: true},
		{cell: cellCfg{class: "GRU", units: 260, dim: 32, act: "tanh", ract: "sigmoid", useBias: true}, batch: 48, T: 4, seq: true},
		{cell: cellCfg{class: "SimpleRNN", units: 128, dim: 64, act: "tanh", useBias: true}, batch: 100, T: 30, masked: true},
	}
	if testing.Short() {
		cases = cases[1:2]
	}
	for ci, c := range cases {
		t.Run(fmt.Sprintf("%s_b%d", c.cell.class, c.batch), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(ci), 7))
			opts := convert.Config{"return_sequences": c.seq, "go_backwards": c.back}
			l, _ := buildRNNLayer(t, rng, c.cell, opts)
			x, _ := randSeq(rng, c.batch, c.T, c.cell.dim)
			var ro RNNOptions
			if c.masked {
				m := runtime.NewTensor(c.batch, c.T)
				for i := range m.Data {
					if rng.IntN(5) != 0 {
						m.Data[i] = 1
					}
				}
				ro.Mask = m
			}
			var want []float32
			var wantStates [][]float32
			for _, threads := range []int{1, 2, 3, 8} {
				ws := runtime.NewWorkspace(false)
				ws.SetThreads(threads)
				p := cellPass{c: l.cells[0], ctx: ws, b: c.batch, t: c.T}
				if threads > 1 && p.chunks() < 2 {
					t.Fatalf("%d threads: the batch is not split", threads)
				}
				for range 2 { // the second call reuses the scratch buffers
					out, states, err := l.Run(ws, x, ro)
					if err != nil {
						t.Fatal(err)
					}
					if want == nil {
						want = out.Data
						for _, s := range states {
							wantStates = append(wantStates, s.Data)
						}
						continue
					}
					sameBits(t, fmt.Sprintf("%d threads output", threads), out.Data, want)
					for i, s := range states {
						sameBits(t, fmt.Sprintf("%d threads state %d", threads, i), s.Data, wantStates[i])
					}
				}
			}
		})
	}
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: [%d] = %v, want %v (1 thread)", what, i, got[i], want[i])
		}
	}
}

// TestSmallWorkOneGoroutine checks that batch 1, small batches and single
// time steps stay on the calling goroutine whatever the thread budget.
func TestSmallWorkOneGoroutine(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	l, _ := buildRNNLayer(t, rng, cellCfg{class: "LSTM", units: 256, dim: 128, act: "tanh", ract: "sigmoid", useBias: true}, nil)
	ws := runtime.NewWorkspace(false)
	ws.SetThreads(8)
	small, _ := buildRNNLayer(t, rng, cellCfg{class: "LSTM", units: 32, dim: 16, act: "tanh", ract: "sigmoid", useBias: true}, nil)
	for _, c := range []struct {
		l    *RNN
		b, t int
		want int
	}{{l, 1, 100, 1}, {l, 31, 100, 1}, {small, 32, 1, 1}, {small, 64, 10, 1}, {l, 32, 1, 2}, {l, 32, 100, 2}, {l, 64, 100, 4}, {l, 200, 100, 8}} {
		p := cellPass{c: c.l.cells[0], ctx: ws, b: c.b, t: c.t}
		if got := p.chunks(); got != c.want {
			t.Errorf("units %d, batch %d, %d steps: %d chunks, want %d", c.l.Units(), c.b, c.t, got, c.want)
		}
	}
}

// TestBidirectionalParallelSameBits runs a Bidirectional over a small
// batch (its directions then run at the same time when the thread budget
// allows) with 1, 2 and 8 threads, returning sequences and states, with a
// mask, and requires the same bits every time. Run with -race.
func TestBidirectionalParallelSameBits(t *testing.T) {
	for _, class := range []string{"LSTM", "GRU"} {
		t.Run(class, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(81, 82))
			const batch, tt, d, u = 3, 40, 64, 128
			cfg := convert.Config{"return_sequences": true, "return_state": true}
			fwd := xRNNSpec(rng, class, "fwd", d, u, cfg)
			bcfg := convert.Config{"go_backwards": true}
			for k, v := range cfg {
				bcfg[k] = v
			}
			bwd := xRNNSpec(rng, class, "bwd", d, u, bcfg)
			l := xBuildSpec(t, "3.16.0", &convert.Layer{Name: "bidi", ClassName: "Bidirectional", Config: convert.Config{"layer": fwd, "backward_layer": bwd}})
			x, _ := xTensor(rng, batch, tt, d)
			mask := runtime.NewTensor(batch, tt)
			for i := range mask.Data {
				if i%tt < tt-3*(i/tt) {
					mask.Data[i] = 1
				}
			}
			call := &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: x}}}},
				Kwargs: map[string]runtime.Arg{"mask": {Values: []runtime.Value{{T: mask}}}}}
			var want [][]float32
			for _, threads := range []int{1, 2, 8, 1} {
				ctx := runtime.NewWorkspace(false)
				ctx.SetThreads(threads)
				for range 2 {
					out, err := l.Call(ctx, call)
					if err != nil {
						t.Fatal(err)
					}
					if want == nil {
						for _, v := range out {
							want = append(want, append([]float32(nil), v.T.Data...))
						}
						if len(want) != 1+2*len(l.(*Bidirectional).Forward.(*RNN).StateSizes()) {
							t.Fatalf("%d outputs", len(want))
						}
						continue
					}
					for i, v := range out {
						sameBits(t, fmt.Sprintf("%d threads output %d", threads, i), v.T.Data, want[i])
					}
				}
			}
		})
	}
}
