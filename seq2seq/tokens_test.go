package seq2seq

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/text"
)

const tokenCase = "../testdata/goldens-s2s/s2s_token_lstm"

// TestGoldenTokenLSTM: the oracle's token-level seq2seq (Embedding with
// mask_zero, LSTM encoder states into an Embedding + LSTM decoder), greedy
// and beam search, with the Keras Tokenizers it was trained with.
func TestGoldenTokenLSTM(t *testing.T) {
	src, err := text.LoadTokenizer(filepath.Join(tokenCase, "source_tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := text.LoadTokenizer(filepath.Join(tokenCase, "target_tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dec struct {
		Start, Stop string
		Max         int `json:"max_decoder_len"`
	}
	readJSON(t, filepath.Join(tokenCase, "decoding.json"), &dec)
	var greedy []struct {
		Input     string  `json:"input"`
		SourceIDs []int   `json:"source_ids"`
		IDs       []int   `json:"ids"`
		Decoded   string  `json:"decoded"`
		Score     float64 `json:"score"`
		MinMargin float64 `json:"min_margin"`
	}
	readJSON(t, filepath.Join(tokenCase, "decoded.json"), &greedy)
	var beams []beamCase
	readJSON(t, filepath.Join(tokenCase, "beam.json"), &beams)
	// model.keras only: see gen_s2s.py on the .h5 Keras cannot reload.
	for _, file := range []string{"model.keras"} {
		t.Run(file, func(t *testing.T) {
			m, err := keras.Load(filepath.Join(tokenCase, file))
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(m)
			if err != nil {
				t.Fatal(err)
			}
			if s.SourceKind != TokenIDs || s.TargetKind != TokenIDs || s.EncoderInput != "enc_tokens" || s.DecoderInput != "dec_tokens" {
				t.Fatalf("found %+v", s)
			}
			// The defaults find sos/eos, the pair the golden names.
			tr, err := NewTextTranslator(s, src, tgt, "", "", dec.Max)
			if err != nil {
				t.Fatal(err)
			}
			if start, _ := tgt.ID(dec.Start); tr.Decoding.Start != start {
				t.Errorf("start %d, want %d (%q)", tr.Decoding.Start, start, dec.Start)
			}
			for _, c := range greedy {
				x, err := tr.EncodeSource(c.Input)
				if err != nil {
					t.Fatal(err)
				}
				ids := make([]int, len(x.Data))
				for i, v := range x.Data {
					ids[i] = int(v)
				}
				if !slices.Equal(ids, c.SourceIDs) {
					t.Fatalf("%q: source ids %v, Keras %v", c.Input, ids, c.SourceIDs)
				}
				got, res, err := tr.Translate(context.Background(), c.Input)
				if err != nil {
					t.Fatal(err)
				}
				if got != c.Decoded || !slices.Equal(res.IDs, c.IDs) {
					t.Errorf("greedy %q: %q %v, want %q %v", c.Input, got, res.IDs, c.Decoded, c.IDs)
				}
				if !closeTo(res.Score, c.Score) || !closeTo(res.MinMargin, c.MinMargin) {
					t.Errorf("greedy %q: score %g margin %g, Keras %g %g", c.Input, res.Score, res.MinMargin, c.Score, c.MinMargin)
				}
			}
			for _, c := range beams {
				tb := *tr
				tb.Beam = c.Beam
				got, res, err := tb.Translate(context.Background(), c.Input)
				if err != nil {
					t.Fatal(err)
				}
				if got != c.Decoded || !slices.Equal(res.IDs, c.IDs) || !closeTo(res.Score, c.Score) {
					t.Errorf("beam %d %q: %q %v %g, want %q %v %g", c.Beam, c.Input, got, res.IDs, res.Score, c.Decoded, c.IDs, c.Score)
				}
			}
		})
	}
}

// TestTokenSourcePadding: a fixed source length pads and truncates as
// pad_sequences does (post or pre on both).
func TestTokenSourcePadding(t *testing.T) {
	ids := []int{5, 6, 7}
	tests := []struct {
		n    int
		pre  bool
		want []float32
	}{
		{0, false, []float32{5, 6, 7}},
		{5, false, []float32{5, 6, 7, 0, 0}},
		{5, true, []float32{0, 0, 5, 6, 7}},
		{2, false, []float32{5, 6}},
		{2, true, []float32{6, 7}},
	}
	for _, tc := range tests {
		tr := &TokenTranslator{Source: func(string) ([]int, error) { return ids, nil }, SourceLen: tc.n, PadPre: tc.pre}
		x, err := tr.EncodeSource("x")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(x.Data, tc.want) || x.Shape[1] != len(tc.want) {
			t.Errorf("len %d pre %v: %v %v, want %v", tc.n, tc.pre, x.Shape, x.Data, tc.want)
		}
	}
	empty := &TokenTranslator{Source: func(string) ([]int, error) { return nil, nil }}
	if _, err := empty.EncodeSource("zzz"); !errors.Is(err, keras.ErrInput) {
		t.Errorf("no known token: %v", err)
	}
}
