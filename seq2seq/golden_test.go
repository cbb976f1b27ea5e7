package seq2seq

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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
