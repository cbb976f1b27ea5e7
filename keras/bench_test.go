package keras_test

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/rnnkit/rnnkit/internal/testutil"
	"os"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/runtime"
)

// perfDir returns the benchmark workloads, the perf folder of the shared
// corpus (testutil.SharedDir: ../shared beside the repository, or
// $RNNKIT_SHARED; its README has the peers' numbers); the benchmarks skip
// when it is absent.
func perfDir(b *testing.B) string { return testutil.SharedDir(b, "perf") }

// loadWorkload loads a workload's model.keras and checks it against Keras'
// y0 for x0 before anything is timed.
func loadWorkload(b *testing.B, name string) (*keras.Model, *runtime.Tensor) {
	b.Helper()
	dir := testutil.SharedDir(b, "perf/"+name)
	// W3 reuses W2's model: case.json names it.
	modelPath := filepath.Join(dir, "model.keras")
	if raw, err := os.ReadFile(filepath.Join(dir, "case.json")); err == nil {
		var c struct {
			Model string `json:"model"`
		}
		if json.Unmarshal(raw, &c) == nil && c.Model != "" {
			modelPath = filepath.Join(dir, filepath.FromSlash(c.Model))
		}
	}
	m, err := keras.Load(modelPath)
	if err != nil {
		b.Fatal(err)
	}
	x, err := keras.ReadNPYFile(filepath.Join(dir, "x0.npy"))
	if err != nil {
		b.Fatal(err)
	}
	want, err := keras.ReadNPYFile(filepath.Join(dir, "y0.npy"))
	if err != nil {
		b.Fatal(err)
	}
	out, err := m.NewSession().Predict(x)
	if err != nil {
		b.Fatal(err)
	}
	if r := keras.Compare(out[0], want, keras.DefaultAtol, keras.DefaultRtol); !r.OK() {
		b.Fatalf("%s: not Keras' output: %s", name, &r)
	}
	return m, x
}

// BenchmarkStreamStep is workload W1 end to end: a stateful LSTM fed one
// timestep per call on a Session, outputs not copied.
func BenchmarkStreamStep(b *testing.B) {
	for _, h := range []string{"h32", "h128", "h512"} {
		b.Run(h, func(b *testing.B) {
			m, x := loadWorkload(b, "W1_lstm_step_"+h)
			s := m.NewSession()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.PredictShared(x); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/step")
		})
	}
}

// BenchmarkPredict runs workloads W2 to W5 through Model.Predict: a whole
// batch per call, fresh states, outputs copied.
func BenchmarkPredict(b *testing.B) {
	for _, w := range []string{"W2_lstm_b1", "W2_gru_b1", "W3_lstm_b64", "W3_gru_b64", "W4_emb_bilstm_clf", "W5_simplernn"} {
		b.Run(w, func(b *testing.B) {
			m, x := loadWorkload(b, w)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := m.Predict(x); err != nil {
					b.Fatal(err)
				}
			}
			perCall := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(perCall*1e3, "ms/call")
			b.ReportMetric(float64(x.Shape[0])/perCall, "seq/s")
		})
	}
}

// BenchmarkPredictInto is BenchmarkPredict through Model.PredictInto with
// the output tensors reused call after call: the allocation-free steady
// state. "t1" caps the call at one thread (keras.WithThreads(1)); "tmax"
// uses GOMAXPROCS (run with -cpu 1,2 to see both).
func BenchmarkPredictInto(b *testing.B) {
	for _, w := range []string{"W2_lstm_b1", "W2_gru_b1", "W3_lstm_b64", "W3_gru_b64", "W4_emb_bilstm_clf", "W5_simplernn"} {
		for _, threads := range []int{1, 0} {
			name := w + "/t1"
			if threads == 0 {
				name = w + "/tmax"
			}
			b.Run(name, func(b *testing.B) {
				m, x := loadWorkload(b, w)
				o := m.CallOptions()
				o.Threads = threads
				m = m.WithCallOptions(o)
				outs := make([]*keras.Tensor, 1)
				if err := m.PredictInto(context.Background(), outs, x); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := m.PredictInto(context.Background(), outs, x); err != nil {
						b.Fatal(err)
					}
				}
				perCall := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(perCall*1e3, "ms/call")
				b.ReportMetric(float64(x.Shape[0])/perCall, "seq/s")
			})
		}
	}
}

// BenchmarkLoad measures loading (format detection, HDF5 or zip, config
// parsing, weight layout, layer building) of the largest workload model,
// W4's 11 MB Embedding + Bidirectional LSTM.
func BenchmarkLoad(b *testing.B) {
	for _, f := range []string{"model.keras", "model.h5"} {
		b.Run(f, func(b *testing.B) {
			p := filepath.Join(perfDir(b), "W4_emb_bilstm_clf", f)
			st, err := os.Stat(p)
			if errors.Is(err, os.ErrNotExist) {
				b.Skipf("%s absent", p)
			}
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(st.Size())
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := keras.Load(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
