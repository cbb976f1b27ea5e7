package generate

import (
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/runtime"
	"github.com/rnnkit/rnnkit/text"
)

// A generation step's overhead on top of the model step: Stream.Next
// (predict, pick, shift the window) against the bare Session.PredictShared
// on the same window tensor. Compare ns/op of the pairs:
//
//	go test ./generate -run XXX -bench Step -benchtime 20000x

// cpuNanos is the process's user+system CPU time; cpu-ns/op moves less
// than ns/op on a busy machine.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func benchGen(b *testing.B, name string, opts Options) (*Generator, *keras.Model) {
	b.Helper()
	dir := filepath.Join(goldenDir, name)
	tok, err := text.LoadTokenizer(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		b.Fatal(err)
	}
	m, err := keras.Load(filepath.Join(dir, "model.keras"))
	if err != nil {
		b.Fatal(err)
	}
	g, err := New(m, tok, opts)
	if err != nil {
		b.Fatal(err)
	}
	return g, m
}

func BenchmarkStep(b *testing.B) {
	for _, model := range []string{"gen_word_gru_en", "gen_char_lstm_en"} {
		for _, mode := range []struct {
			name string
			opts Options
		}{
			{"greedy", Options{}},
			{"sample-topk-topp", Options{Temperature: 0.8, TopK: 10, TopP: 0.9, Rand: rand.New(rand.NewPCG(1, 2))}},
		} {
			b.Run(model+"/generator-"+mode.name, func(b *testing.B) {
				g, _ := benchGen(b, model, mode.opts)
				s, err := g.Start("the movie was")
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				c0 := cpuNanos()
				for i := 0; i < b.N; i++ {
					if _, err := s.Next(); err != nil && err != io.EOF {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N), "cpu-ns/op")
			})
		}
		b.Run(model+"/raw-session", func(b *testing.B) {
			g, m := benchGen(b, model, Options{})
			sess := m.NewSession()
			x := runtime.NewTensor(1, g.Window())
			for i := range x.Data {
				x.Data[i] = float32(1 + i%5)
			}
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cpuNanos()
			for i := 0; i < b.N; i++ {
				if _, err := sess.PredictShared(x); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// The overhead alone: choosing the next id from one output row (argmax, or
// temperature/top-k/top-p sampling) and shifting the window, without the
// model. Less exposed to machine load than the difference of the pairs
// above.
func BenchmarkChoose(b *testing.B) {
	for _, vocab := range []int{64, 1000, 10000} {
		p := make([]float32, vocab)
		r := rand.New(rand.NewPCG(3, 4))
		sum := float32(0)
		for i := range p {
			p[i] = r.Float32()
			sum += p[i]
		}
		for i := range p {
			p[i] /= sum
		}
		for _, mode := range []struct {
			name string
			opts Options
		}{
			{"greedy", Options{}},
			{"temperature", Options{Temperature: 0.8, Rand: rand.New(rand.NewPCG(1, 2))}},
			{"topk-topp", Options{Temperature: 0.8, TopK: 10, TopP: 0.9, Rand: rand.New(rand.NewPCG(1, 2))}},
		} {
			b.Run(mode.name+"/vocab-"+itoa(vocab), func(b *testing.B) {
				g := &Generator{opts: mode.opts, vocab: vocab, window: 8}
				s := &Stream{g: g, logits: make([]float64, vocab), order: make([]int, vocab), scratch: make([]float64, vocab), x: runtime.NewTensor(1, 8)}
				b.ReportAllocs()
				c0 := cpuNanos()
				for i := 0; i < b.N; i++ {
					id, err := s.choose(p)
					if err != nil {
						b.Fatal(err)
					}
					copy(s.x.Data, s.x.Data[1:])
					s.x.Data[7] = float32(id)
				}
				b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

func itoa(n int) string {
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

// topK and the unstable sort give the candidate order a stable sort by
// decreasing weight gives, ties included.
func TestTopKMatchesStableSort(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 300; trial++ {
		n := 1 + r.IntN(200)
		w := make([]float64, n)
		for i := range w {
			w[i] = float64(r.IntN(8)) // many ties
		}
		ref := make([]int, n)
		for i := range ref {
			ref[i] = i
		}
		slices.SortStableFunc(ref, func(a, b int) int {
			switch {
			case w[a] > w[b]:
				return -1
			case w[a] < w[b]:
				return 1
			}
			return 0
		})
		k := 1 + r.IntN(n)
		cand := make([]int, n)
		for i := range cand {
			cand[i] = i
		}
		if got := topK(cand, w, k); !slices.Equal(got, ref[:k]) {
			t.Fatalf("n %d k %d: topK %v, stable sort %v", n, k, got, ref[:k])
		}
		for i := range cand {
			cand[i] = i
		}
		slices.SortFunc(cand, func(a, b int) int { return byWeight(w, a, b) })
		if !slices.Equal(cand, ref) {
			t.Fatalf("n %d: sort %v, stable %v", n, cand, ref)
		}
	}
}
