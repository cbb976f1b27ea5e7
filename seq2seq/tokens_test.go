package seq2seq

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
)

const tokenCase = "../testdata/goldens-s2s/s2s_token_lstm"

// wordIndex reads the word_index of a Tokenizer.to_json() file (which
// Keras stores as a JSON string inside the config).
func wordIndex(t *testing.T, path string) map[string]int {
	t.Helper()
	var tok struct {
		Config struct {
			WordIndex string `json:"word_index"`
		} `json:"config"`
	}
	readJSON(t, path, &tok)
	var wi map[string]int
	if err := json.Unmarshal([]byte(tok.Config.WordIndex), &wi); err != nil {
		t.Fatal(err)
	}
	return wi
}

// TestGoldenTokenLSTM: the oracle's token-level seq2seq (Embedding with
// mask_zero, LSTM encoder states into an Embedding + LSTM decoder), greedy
// and beam search. The golden texts are lower-case words without
// punctuation, so splitting on spaces is texts_to_sequences here; package
// text's Tokenizer does it in general (the CLI test).
func TestGoldenTokenLSTM(t *testing.T) {
	src := wordIndex(t, filepath.Join(tokenCase, "source_tokenizer.json"))
	tgt := wordIndex(t, filepath.Join(tokenCase, "target_tokenizer.json"))
	index := map[int]string{}
	for w, i := range tgt {
		index[i] = w
	}
	source := func(text string) ([]int, error) {
		var ids []int
		for _, w := range strings.Fields(text) {
			id, ok := src[w]
			if !ok {
				id = src["<unk>"]
			}
			ids = append(ids, id)
		}
		return ids, nil
	}
	target := func(ids []int) (string, error) {
		var ws []string
		for _, id := range ids {
			if w, ok := index[id]; ok {
				ws = append(ws, w)
			}
		}
		return strings.Join(ws, " "), nil
	}
	var dec struct {
		Start, Stop string
		Max         int `json:"max_decoder_len"`
	}
	readJSON(t, filepath.Join(tokenCase, "decoding.json"), &dec)
	d := Decoding{Start: tgt[dec.Start], Stop: tgt[dec.Stop], MaxLen: dec.Max}
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
			tr, err := NewTokenTranslator(s, source, target, d)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range greedy {
				ids, _ := source(c.Input)
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
