package seq2seq

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/internal/testutil"
	"github.com/rnnkit/rnnkit/keras"
)

// benchModels lists the models the decoding benchmarks run on: the
// shared golden's tiny LSTM (12 units), and the real-world Keras example
// model 29_udnet_lstm_seq2seq (128 units, 101 target characters) when the
// shared corpus is present.
func benchModels(b *testing.B) map[string]string {
	models := map[string]string{"lstm12": filepath.Join(sharedCase, "model.keras")}
	if root := testutil.SharedRoot(); root == "" {
		b.Log("shared corpus absent: benchmarking the tiny model only")
	} else if p := filepath.Join(root, "realworld", "29_udnet_lstm_seq2seq", "s2s.h5"); fileExists(p) {
		models["lstm128"] = p
	}
	return models
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// benchLen is how many tokens each decoding produces (no stop token is
// used, so every run decodes exactly this many).
const benchLen = 40

func benchSetup(b *testing.B, path string) (*keras.Model, *Model, *keras.Tensor) {
	m, err := keras.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(m)
	if err != nil {
		b.Fatal(err)
	}
	src := keras.NewTensor(1, 12, s.SourceDim)
	for t := range 12 {
		src.Data[t*s.SourceDim+(t*7)%s.SourceDim] = 1
	}
	return m, s, src
}

// BenchmarkDecodeGreedy: time per decoded token with the step decoder
// (one decoder step on the carried states per token).
func BenchmarkDecodeGreedy(b *testing.B) {
	for name, path := range benchModels(b) {
		b.Run(name, func(b *testing.B) {
			_, s, src := benchSetup(b, path)
			d := Decoding{Start: 0, Stop: NoStop, MaxLen: benchLen}
			b.ResetTimer()
			for range b.N {
				if _, err := s.Greedy(context.Background(), src, d); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchLen), "ns/token")
		})
	}
}

// BenchmarkDecodePrefixRerun: the same decoding done the way a user
// without step models must: re-run the whole training model on the
// growing decoder prefix for every token (O(T²) decoder steps).
func BenchmarkDecodePrefixRerun(b *testing.B) {
	for name, path := range benchModels(b) {
		b.Run(name, func(b *testing.B) {
			m, s, src := benchSetup(b, path)
			V := s.TargetDim
			b.ResetTimer()
			for range b.N {
				prefix := []int{0}
				for len(prefix) <= benchLen {
					x := keras.NewTensor(1, len(prefix), V)
					for t, id := range prefix {
						x.Data[t*V+id] = 1
					}
					y, err := m.Predict(src, x)
					if err != nil {
						b.Fatal(err)
					}
					last := y[0].Data[len(y[0].Data)-V:]
					best := 0
					for k, p := range last {
						if p > last[best] {
							best = k
						}
					}
					prefix = append(prefix, best)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchLen), "ns/token")
		})
	}
}
