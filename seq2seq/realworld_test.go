package seq2seq

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/internal/testutil"
	"github.com/rnnkit/rnnkit/keras"
)

// TestRealworldStepModels: the three real seq2seq files of the shared
// corpus split into encoder and decoder-step models; feeding the decoder
// step by step (teacher forcing: the training decoder input, one step at
// a time, on carried states) gives the full training model's outputs, and
// those match Keras' reference y0.npy.
func TestRealworldStepModels(t *testing.T) {
	dir := testutil.SharedDir(t, "realworld")
	cases := []struct {
		id, file, enc, dec string
		units              int
	}{
		{"28_mt_seq2seq_nadam", "mt_seq2seq_model.h5", "encoder_input", "decoder_input", 20},
		{"29_udnet_lstm_seq2seq", "s2s.h5", "input_1", "input_2", 128},
		{"30_seki_s2s_keras231", "s2s.h5", "input_1", "input_2", 128},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			path := filepath.Join(dir, c.id, c.file)
			if _, err := os.Stat(path); err != nil {
				t.Skipf("%s absent: %v", path, err)
			}
			m, err := keras.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(m)
			if err != nil {
				t.Fatal(err)
			}
			if s.EncoderInput != c.enc || s.DecoderInput != c.dec {
				t.Errorf("found encoder %q decoder %q, want %q %q", s.EncoderInput, s.DecoderInput, c.enc, c.dec)
			}
			if len(s.StateSizes) != 2 || s.StateSizes[0] != c.units || s.StateSizes[1] != c.units {
				t.Errorf("state sizes %v, want [%d %d]", s.StateSizes, c.units, c.units)
			}
			exp := filepath.Join(dir, c.id, "expected")
			x0 := readNPY(t, filepath.Join(exp, "x0.npy"))
			x1 := readNPY(t, filepath.Join(exp, "x1.npy"))
			y0 := readNPY(t, filepath.Join(exp, "y0.npy"))
			full, err := m.Predict(x0, x1)
			if err != nil {
				t.Fatal(err)
			}
			compare(t, "full model vs Keras", full[0].Data, y0.Data)
			stepped := teacherForced(t, s, x0, x1)
			compare(t, "step decoder vs full model", stepped, full[0].Data)
			compare(t, "step decoder vs Keras", stepped, y0.Data)
		})
	}
}

// teacherForced runs the encoder on src and the decoder step on each time
// step of dec in turn, carrying the states, and returns the outputs laid
// out as the full model's [batch, time, vocab].
func teacherForced(t *testing.T, s *Model, src, dec *keras.Tensor) []float32 {
	t.Helper()
	states, err := s.Encoder.Predict(src)
	if err != nil {
		t.Fatal(err)
	}
	B, T, F := dec.Shape[0], dec.Shape[1], dec.Shape[2]
	V := s.VocabSize
	out := make([]float32, B*T*V)
	sess := s.Decoder.NewSession()
	for step := range T {
		x := keras.NewTensor(B, 1, F)
		for b := range B {
			copy(x.Data[b*F:(b+1)*F], dec.Data[(b*T+step)*F:(b*T+step+1)*F])
		}
		outs, err := sess.Predict(append([]*keras.Tensor{x}, states...)...)
		if err != nil {
			t.Fatal(err)
		}
		for b := range B {
			copy(out[(b*T+step)*V:(b*T+step+1)*V], outs[0].Data[b*V:(b+1)*V])
		}
		states = outs[1:]
	}
	return out
}

func readNPY(t *testing.T, path string) *keras.Tensor {
	t.Helper()
	x, err := keras.ReadNPYFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func compare(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d > 1e-5+1e-4*math.Abs(float64(want[i])) {
			t.Fatalf("%s: value %d = %g, want %g", what, i, got[i], want[i])
		}
		worst = math.Max(worst, d)
	}
	t.Logf("%s: %d values, max abs diff %.3g", what, len(got), worst)
}
