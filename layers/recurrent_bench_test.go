package layers

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// Benchmarks mirroring /work/shared/perf: W1 (streaming LSTM step, D=64),
// W2 (batch 1, D=128, H=256, T=100), W3 (batch 64), W5 (SimpleRNN D=64
// H=128 T=100), with random weights.

func benchLayer(b *testing.B, class string, units, dim int, opts convert.Config) *RNN {
	rng := rand.New(rand.NewPCG(uint64(units), uint64(dim)))
	c := cellCfg{class: class, units: units, dim: dim, act: "tanh", ract: "sigmoid", useBias: true, resetAfter: true}
	l, _ := buildRNNLayer(b, rng, c, opts)
	return l
}

func benchSequence(b *testing.B, class string, batch, T, dim, units int) {
	l := benchLayer(b, class, units, dim, nil)
	x, _ := randSeq(rand.New(rand.NewPCG(1, 1)), batch, T, dim)
	ctx := runtime.NewWorkspace(false)
	out := l.NewOutput(batch, T)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := l.RunInto(ctx, x, RNNOptions{}, out, nil); err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(sec*1e6/float64(T), "µs/step")
	b.ReportMetric(float64(batch)/sec, "seq/s")
}

var seqSizes = []struct{ batch, T, dim, units int }{
	// Issue #3: batch 1 and 32, 100 steps, 128 and 256 units.
	{1, 100, 128, 128},
	{1, 100, 128, 256}, // also W2
	{32, 100, 128, 128},
	{32, 100, 128, 256},
	{64, 100, 128, 256}, // W3
	{32, 200, 128, 128}, // W4's recurrent part, one direction
}

func BenchmarkLSTM(b *testing.B) {
	for _, s := range seqSizes {
		b.Run(fmt.Sprintf("b%d_t%d_d%d_h%d", s.batch, s.T, s.dim, s.units), func(b *testing.B) {
			benchSequence(b, "LSTM", s.batch, s.T, s.dim, s.units)
		})
	}
}

func BenchmarkGRU(b *testing.B) {
	for _, s := range seqSizes {
		b.Run(fmt.Sprintf("b%d_t%d_d%d_h%d", s.batch, s.T, s.dim, s.units), func(b *testing.B) {
			benchSequence(b, "GRU", s.batch, s.T, s.dim, s.units)
		})
	}
}

// BenchmarkSimpleRNN is W5.
func BenchmarkSimpleRNN(b *testing.B) {
	b.Run("b1_t100_d64_h128", func(b *testing.B) { benchSequence(b, "SimpleRNN", 1, 100, 64, 128) })
}

// BenchmarkLSTMStep is W1: a stateful LSTM fed one time step per call.
// "runinto" is the allocation-free streaming path; "call" goes through
// the Layer interface, which allocates the returned output tensor.
func BenchmarkLSTMStep(b *testing.B) {
	for _, h := range []int{32, 128, 512} {
		l := benchLayer(b, "LSTM", h, 64, convert.Config{"stateful": true})
		x, _ := randSeq(rand.New(rand.NewPCG(2, 2)), 1, 1, 64)
		b.Run(fmt.Sprintf("h%d/runinto", h), func(b *testing.B) {
			ctx := runtime.NewWorkspace(true)
			out := l.NewOutput(1, 1)
			b.ReportAllocs()
			for range b.N {
				if err := l.RunInto(ctx, x, RNNOptions{}, out, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N), "µs/step")
		})
		b.Run(fmt.Sprintf("h%d/call", h), func(b *testing.B) {
			ctx := runtime.NewWorkspace(true)
			call := oneArg(x)
			b.ReportAllocs()
			for range b.N {
				if _, err := l.Call(ctx, call); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N), "µs/step")
		})
	}
}

// TestStreamingStepAllocs checks that a steady-state streaming step of
// each cell kind allocates nothing.
func TestStreamingStepAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	rng := rand.New(rand.NewPCG(31, 32))
	for _, cc := range testCells {
		for _, batch := range []int{1, 3} {
			l, _ := buildRNNLayer(t, rng, cc, convert.Config{"return_sequences": true})
			x, _ := randSeq(rng, batch, 1, cc.dim)
			ctx := runtime.NewWorkspace(true)
			out := l.NewOutput(batch, 1)
			step := func() {
				if err := l.RunInto(ctx, x, RNNOptions{}, out, nil); err != nil {
					t.Fatal(err)
				}
			}
			step()
			if n := testing.AllocsPerRun(50, step); n != 0 {
				t.Errorf("%s batch %d: %v allocations per streaming step, want 0", cellName(cc), batch, n)
			}
		}
	}
}
