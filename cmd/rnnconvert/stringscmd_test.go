package main

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/internal/testutil"
)

// TestCLIPredictStrings runs predict --texts on the six TextVectorization
// goldens (string-input models, no tokenizer) and compares y0.npy with
// Keras' outputs; --text gives the same as --texts.
func TestCLIPredictStrings(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(textGoldens, "textvectorization", "tv_*"))
	if len(dirs) != 6 {
		t.Fatalf("%d textvectorization goldens, want 6", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			out := t.TempDir()
			var stdout, stderr bytes.Buffer
			if code := run([]string{"predict", filepath.Join(dir, "model.keras"), "--texts", filepath.Join(dir, "texts.json"), "--out", out}, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			gs, got := npy64(t, filepath.Join(out, "y0.npy"))
			ws, want := npy64(t, filepath.Join(dir, "y0.npy"))
			if len(gs) != len(ws) || len(got) != len(want) {
				t.Fatalf("shape %v, want %v", gs, ws)
			}
			for i := range got {
				if d := math.Abs(got[i] - want[i]); d > 1e-5+1e-4*math.Abs(want[i]) {
					t.Fatalf("y0[%d] = %v, Keras %v", i, got[i], want[i])
				}
			}
		})
	}
	dir := filepath.Join(textGoldens, "textvectorization", "tv_default_len12_lstm")
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"predict", filepath.Join(dir, "model.keras"), "--text", "The movie was GREAT, truly great!", "--text", "I hated it... never again.", "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("--text: exit %d: %s", code, stderr.String())
	}
	_, one := npy64(t, filepath.Join(out, "y0.npy"))
	_, all := npy64(t, filepath.Join(dir, "y0.npy"))
	for i := range one {
		if d := math.Abs(one[i] - all[i]); d > 1e-5+1e-4*math.Abs(all[i]) {
			t.Fatalf("--text y0[%d] = %v, Keras %v", i, one[i], all[i])
		}
	}
}

// TestCLIPredictStringsErrors: texts for a token-id model without a
// tokenizer, a bad --vocabulary flag, a missing vocabulary.
func TestCLIPredictStringsErrors(t *testing.T) {
	tokenModel := filepath.Join(textGoldens, "pipe_bilstm_char_uni", "model.keras")
	for _, c := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"token-id model", []string{"predict", tokenModel, "--text", "hello", "--out", t.TempDir()}, 1, "give --tokenizer T"},
		{"bad vocabulary flag", []string{"predict", tokenModel, "--vocabulary", "nofile", "--text", "x"}, 2, "LAYER=FILE"},
		{"unknown vocabulary layer", []string{"predict", filepath.Join(textGoldens, "textvectorization", "tv_lower_only", "model.keras"),
			"--vocabulary", "nosuch=" + filepath.Join(textGoldens, "textvectorization", "tv_lower_only", "texts.json"), "--text", "x", "--out", t.TempDir()}, 1, `WithVocabulary("nosuch")`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(c.args, &stdout, &stderr)
			if code != c.code || !strings.Contains(stderr.String(), c.msg) {
				t.Fatalf("exit %d, stderr %q: want exit %d and %q", code, stderr.String(), c.code, c.msg)
			}
		})
	}
}

// TestCLIPredictStringsPrints: without --out the outputs of a string-input
// model print as JSON with --json, like every other input form's.
func TestCLIPredictStringsPrints(t *testing.T) {
	var stdout, stderr bytes.Buffer
	model := filepath.Join(textGoldens, "textvectorization", "tv_lower_only", "model.keras")
	if code := run([]string{"predict", model, "--text", "hi there", "--text", "x", "--json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var got struct {
		Outputs []struct {
			Shape []int `json:"shape"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || len(got.Outputs) != 1 || len(got.Outputs[0].Shape) == 0 || got.Outputs[0].Shape[0] != 2 {
		t.Fatalf("stdout %s (%v): want one output of batch 2", stdout.String(), err)
	}
}

// TestCLIPredictWildVocabulary runs the real 061 spam classifier (Keras 3
// legacy .h5, no vocabulary inside) with the project's pickled
// vocabulary, and without it expects the message saying how to supply it.
func TestCLIPredictWildVocabulary(t *testing.T) {
	dir := filepath.Join(testutil.SharedDir(t, "wild"), "061_LSTM_Spam_Detector_spam_model_h5")
	model := filepath.Join(dir, "spam_model.h5")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"predict", model, "--text", "free prize", "--out", t.TempDir()}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "--vocabulary text_vectorization=FILE") {
		t.Fatalf("without a vocabulary: exit %d, %s", code, stderr.String())
	}
	out := t.TempDir()
	stderr.Reset()
	if code := run([]string{"predict", model, "--vocabulary", "text_vectorization=" + filepath.Join(dir, "pre", "vectorizer_vocab.pkl"),
		"--text", "WINNER!! You have won a FREE prize. Call now to claim your cash reward", "--text", "See you at lunch tomorrow", "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	shape, y := npy64(t, filepath.Join(out, "y0.npy"))
	if len(shape) != 2 || shape[0] != 2 || !(y[0] > 0.5 && y[1] < 0.5) {
		t.Fatalf("y0 %v %v: want the prize message spam, the lunch one not", shape, y)
	}
}
