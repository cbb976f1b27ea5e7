package keras_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
)

// TestPredictInto checks PredictInto against Predict on golden models
// (Embedding + masked LSTM, Bidirectional LSTM, GRU), that it reuses the
// caller's tensors, replaces nil and too small ones, and that its steady
// state allocates nothing on one thread.
func TestPredictInto(t *testing.T) {
	for _, name := range []string{"emb_lstm_mask_post_last", "bidi_lstm_concat_last", "bidi_gru_concat_seq"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(goldenDir, name)
			m, err := keras.Load(filepath.Join(dir, "model.keras"), keras.WithThreads(1))
			if err != nil {
				t.Fatal(err)
			}
			x, err := keras.ReadNPYFile(filepath.Join(dir, "x0.npy"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := m.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			outs := make([]*keras.Tensor, len(want))
			outs[0] = keras.NewTensor(1) // too small: replaced
			if err := m.PredictInto(context.Background(), outs, x); err != nil {
				t.Fatal(err)
			}
			first := outs[0]
			for i := range want {
				if outs[i] == nil || !sameTensor(outs[i], want[i]) {
					t.Fatalf("output %d: PredictInto %v, Predict %v", i, outs[i], want[i])
				}
			}
			allocs := testing.AllocsPerRun(20, func() {
				if err := m.PredictInto(context.Background(), outs, x); err != nil {
					t.Fatal(err)
				}
			})
			if outs[0] != first {
				t.Errorf("PredictInto replaced an output tensor that fits")
			}
			if !sameTensor(outs[0], want[0]) {
				t.Errorf("output 0 after reuse: %v, want %v", outs[0], want[0])
			}
			if allocs != 0 && !raceEnabled {
				t.Errorf("PredictInto allocates %v times per call in steady state", allocs)
			}
		})
	}
}

func TestPredictIntoErrors(t *testing.T) {
	dir := filepath.Join(goldenDir, "bidi_lstm_concat_last")
	m, err := keras.Load(filepath.Join(dir, "model.keras"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := keras.ReadNPYFile(filepath.Join(dir, "x0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.PredictInto(context.Background(), nil, x); !errors.Is(err, keras.ErrInput) {
		t.Errorf("no output slots: %v, want ErrInput", err)
	}
	outs := make([]*keras.Tensor, 1)
	if err := m.PredictInto(context.Background(), outs, nil); !errors.Is(err, keras.ErrInput) {
		t.Errorf("nil input: %v, want ErrInput", err)
	}
	if err := m.PredictInto(context.Background(), outs, keras.NewTensor(1, 2)); !errors.Is(err, keras.ErrInput) {
		t.Errorf("bad shape: %v, want ErrInput", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.PredictInto(ctx, outs, x); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
	if err := m.PredictInto(context.Background(), outs, x); err != nil || outs[0] == nil {
		t.Errorf("after errors: %v, %v", err, outs[0])
	}
}

func sameTensor(a, b *keras.Tensor) bool {
	if len(a.Shape) != len(b.Shape) || len(a.Data) != len(b.Data) {
		return false
	}
	for i := range a.Shape {
		if a.Shape[i] != b.Shape[i] {
			return false
		}
	}
	for i := range a.Data {
		if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
			return false
		}
	}
	return true
}
