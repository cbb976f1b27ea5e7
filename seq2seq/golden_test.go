package seq2seq

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
)

type decodedCase struct {
	Input     string  `json:"input"`
	Decoded   string  `json:"decoded"`
	MinMargin float64 `json:"min_margin"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

const sharedCase = "../testdata/goldens-text/s2s_char_lstm_translate"

func TestGoldenCharLSTM(t *testing.T) {
	for _, file := range []string{"model.keras", "model.h5"} {
		t.Run(file, func(t *testing.T) {
			m, err := keras.Load(filepath.Join(sharedCase, file))
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(m)
			if err != nil {
				t.Fatal(err)
			}
			v, err := LoadCharVocab(filepath.Join(sharedCase, "vocab.json"))
			if err != nil {
				t.Fatal(err)
			}
			tr, err := NewCharTranslator(s, v)
			if err != nil {
				t.Fatal(err)
			}
			var cases []decodedCase
			readJSON(t, filepath.Join(sharedCase, "decoded.json"), &cases)
			for _, c := range cases {
				got, res, err := tr.Translate(context.Background(), c.Input)
				if err != nil {
					t.Fatalf("%q: %v", c.Input, err)
				}
				if got != c.Decoded {
					t.Errorf("%q: decoded %q, want %q", c.Input, got, c.Decoded)
				}
				if d := res.MinMargin - c.MinMargin; d > 1e-5 || d < -1e-5 {
					t.Errorf("%q: min margin %g, Keras %g", c.Input, res.MinMargin, c.MinMargin)
				}
			}
		})
	}
}

type beamCase struct {
	Input   string  `json:"input"`
	Beam    int     `json:"beam"`
	IDs     []int   `json:"ids"`
	Decoded string  `json:"decoded"`
	Score   float64 `json:"score"`
	MinGap  float64 `json:"min_gap"`
}

// closeTo is the project's tolerance: 1e-5 absolute + 1e-4 relative.
func closeTo(got, want float64) bool {
	d := got - want
	if d < 0 {
		d = -d
	}
	if want < 0 {
		want = -want
	}
	return d <= 1e-5+1e-4*want
}

func loadCharTranslator(t *testing.T, model, vocab string) *CharTranslator {
	t.Helper()
	m, err := keras.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(m)
	if err != nil {
		t.Fatal(err)
	}
	v, err := LoadCharVocab(vocab)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewCharTranslator(s, v)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestGoldenOracleChars: the oracle's character seq2seq cases, greedy and
// beam search, from both files Keras wrote: a GRU (one state h), and a
// Bidirectional LSTM encoder with concatenated states plus a second
// encoder LSTM feeding two stacked decoder LSTMs (four states).
func TestGoldenOracleChars(t *testing.T) {
	cases := []struct {
		dir                   string
		states                []int
		decoders, stateSource []string
	}{
		{"s2s_char_gru", []int{10}, []string{"decoder_gru"}, []string{"encoder_gru"}},
		{"s2s_stacked_bilstm", []int{10, 10, 10, 10}, []string{"dec_1", "dec_2"}, []string{"enc_h", "enc_c", "enc_top"}},
		{"s2s_simplernn_td", []int{8}, []string{"dec_rnn"}, []string{"enc_rnn"}},
		{"s2s_logits_gru", []int{9}, []string{"decoder_gru"}, []string{"encoder_gru"}},
	}
	for _, tc := range cases {
		dir := filepath.Join("../testdata/goldens-s2s", tc.dir)
		var greedy []struct {
			decodedCase
			Score float64 `json:"score"`
		}
		readJSON(t, filepath.Join(dir, "decoded.json"), &greedy)
		var beams []beamCase
		if _, err := os.Stat(filepath.Join(dir, "beam.json")); err == nil {
			readJSON(t, filepath.Join(dir, "beam.json"), &beams)
		}
		for _, file := range []string{"model.keras", "model.h5"} {
			t.Run(tc.dir+"/"+file, func(t *testing.T) {
				tr := loadCharTranslator(t, filepath.Join(dir, file), filepath.Join(dir, "vocab.json"))
				if s := tr.Model; !slices.Equal(s.StateSizes, tc.states) || !slices.Equal(s.DecoderRNNs, tc.decoders) || !slices.Equal(s.StateSources, tc.stateSource) {
					t.Fatalf("found states %v, decoders %v, state sources %v", s.StateSizes, s.DecoderRNNs, s.StateSources)
				}
				if want := tc.dir == "s2s_logits_gru"; tr.Model.Logits != want {
					t.Errorf("Logits = %v, want %v", tr.Model.Logits, want)
				}
				for _, c := range greedy {
					got, res, err := tr.Translate(context.Background(), c.Input)
					if err != nil {
						t.Fatalf("%q: %v", c.Input, err)
					}
					if got != c.Decoded {
						t.Errorf("greedy %q: decoded %q, want %q", c.Input, got, c.Decoded)
					}
					if !closeTo(res.Score, c.Score) || !closeTo(res.MinMargin, c.MinMargin) {
						t.Errorf("greedy %q: score %g margin %g, Keras %g %g", c.Input, res.Score, res.MinMargin, c.Score, c.MinMargin)
					}
				}
				if beams != nil {
					checkBeams(t, tr, beams)
				}
			})
		}
	}
}

// TestGoldenStops: some oracle translations end at the stop character
// (shorter than max_decoder_len), so stopping is tested, not only the
// length limit.
func TestGoldenStops(t *testing.T) {
	var greedy []decodedCase
	readJSON(t, "../testdata/goldens-s2s/s2s_char_gru/decoded.json", &greedy)
	var v CharVocab
	readJSON(t, "../testdata/goldens-s2s/s2s_char_gru/vocab.json", &v)
	stopped := 0
	for _, c := range greedy {
		if len([]rune(c.Decoded)) < v.MaxDecoderLen {
			stopped++
		}
	}
	if stopped == 0 {
		t.Error("no greedy case of s2s_char_gru ends at the stop character")
	}
}

func checkBeams(t *testing.T, tr *CharTranslator, beams []beamCase) {
	t.Helper()
	if len(beams) == 0 {
		t.Fatal("no beam cases")
	}
	for _, c := range beams {
		tb := *tr
		tb.Beam = c.Beam
		got, res, err := tb.Translate(context.Background(), c.Input)
		if err != nil {
			t.Fatalf("beam %d %q: %v", c.Beam, c.Input, err)
		}
		if got != c.Decoded {
			t.Errorf("beam %d %q: decoded %q, want %q (golden min gap %g)", c.Beam, c.Input, got, c.Decoded, c.MinGap)
		}
		if !closeTo(res.Score, c.Score) {
			t.Errorf("beam %d %q: score %g, want %g", c.Beam, c.Input, res.Score, c.Score)
		}
	}
}

// TestGoldenCharLSTMBeam: beam search over the shared LSTM case, the
// reference computed on Keras' predict of the same encoder and decoder.
func TestGoldenCharLSTMBeam(t *testing.T) {
	var beams []beamCase
	readJSON(t, "../testdata/goldens-s2s/s2s_char_lstm_beam/beam.json", &beams)
	for _, file := range []string{"model.keras", "model.h5"} {
		t.Run(file, func(t *testing.T) {
			tr := loadCharTranslator(t, filepath.Join(sharedCase, file), filepath.Join(sharedCase, "vocab.json"))
			checkBeams(t, tr, beams)
		})
	}
}

// TestGoldenSpacePadding: sources padded to max_encoder_len rows with the
// space character (vocab.json's source_pad), as the current Keras example
// builds its encoder data, over the shared model.
func TestGoldenSpacePadding(t *testing.T) {
	dir := "../testdata/goldens-s2s/s2s_char_lstm_pad"
	var cases []struct {
		decodedCase
		Score float64 `json:"score"`
	}
	readJSON(t, filepath.Join(dir, "decoded.json"), &cases)
	tr := loadCharTranslator(t, filepath.Join(sharedCase, "model.h5"), filepath.Join(dir, "vocab.json"))
	plain := loadCharTranslator(t, filepath.Join(sharedCase, "model.h5"), filepath.Join(sharedCase, "vocab.json"))
	differs := 0
	for _, c := range cases {
		got, res, err := tr.Translate(context.Background(), c.Input)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.Decoded || !closeTo(res.Score, c.Score) {
			t.Errorf("%q: %q %g, want %q %g", c.Input, got, res.Score, c.Decoded, c.Score)
		}
		if p, _, _ := plain.Translate(context.Background(), c.Input); p != got {
			differs++
		}
	}
	if differs == 0 {
		t.Error("padding changed no translation: the case does not test it")
	}
	if _, _, err := tr.Translate(context.Background(), "a text longer than sixteen"); !errors.Is(err, keras.ErrInput) {
		t.Errorf("text longer than max_encoder_len: %v", err)
	}
}
