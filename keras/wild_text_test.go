package keras_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/internal/testutil"
	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/layers"
	"github.com/rnnkit/rnnkit/text"
)

// wildVocab loads 061's vocabulary, which the project pickled apart
// (numpy 2 pickle of get_vocabulary()) because Keras 3's legacy .h5
// writer drops it.
func wildVocab(t *testing.T, wild string) []string {
	t.Helper()
	v, err := keras.LoadVocabulary(filepath.Join(wild, "061_LSTM_Spam_Detector_spam_model_h5", "pre", "vectorizer_vocab.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestWildTextVectorization loads the three real TextVectorization files
// of ../shared/wild and runs them from text: 243 (Keras 3.8 .keras, the
// vocabulary in its assets), 016 (tf.keras 2.4 SavedModel, the vocabulary
// in the checkpoint's hash table) and 061 (Keras 3.10 legacy .h5 spam
// classifier, the vocabulary supplied from the project's pickle). The ids
// are checked against the vocabulary read independently (243's project
// also ships it as a text file), and 061 without its vocabulary must say
// how to supply it.
func TestWildTextVectorization(t *testing.T) {
	wild := testutil.SharedDir(t, "wild")
	t.Run("243 .keras with vocabulary assets", func(t *testing.T) {
		dir := filepath.Join(wild, "243_translate_transfor_text_vectorizer_keras")
		m, err := keras.Load(filepath.Join(dir, "text_vectorizer.keras"))
		if err != nil {
			t.Fatal(err)
		}
		if in := m.Inputs(); len(in) != 1 || in[0].DType != "string" {
			t.Fatalf("inputs %+v: want one string input", in)
		}
		vocab, err := text.LoadVocabulary(filepath.Join(dir, "pre", "vectorizer_vocab.txt"))
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]int{}
		for i, w := range vocab {
			ids[w] = i
		}
		texts := []string{"Tôi yêu bạn, rất nhiều!", "startofseq XYZZY endofseq"}
		x, err := keras.FromStrings(texts)
		if err != nil {
			t.Fatal(err)
		}
		ys, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		y := ys[0]
		if len(y.Shape) != 2 || y.Shape[0] != 2 || y.Shape[1] != 500 {
			t.Fatalf("output shape %v, want [2 500] (output_sequence_length 500)", y.Shape)
		}
		for r, s := range texts {
			words := text.TFSplitWhitespace(text.TFStripPunctuation(text.TFLower(s)))
			for j := 0; j < 500; j++ {
				want := 0
				if j < len(words) {
					want = 1
					if id, ok := ids[words[j]]; ok {
						want = id
					}
				}
				if got := int(y.Data[r*500+j]); got != want {
					t.Fatalf("text %d token %d: id %d, want %d", r, j, got, want)
				}
			}
		}
		if y.Data[500] != float32(ids["startofseq"]) || y.Data[501] != 1 || y.Data[502] != float32(ids["endofseq"]) {
			t.Errorf("startofseq XYZZY endofseq: %v", y.Data[500:503])
		}
	})
	t.Run("016 SavedModel lookup table", func(t *testing.T) {
		m, err := keras.Load(filepath.Join(wild, "016_sentiment_analysis_vectorizer", "savedmodel"))
		if err != nil {
			t.Fatal(err)
		}
		in := m.Inputs()
		if len(in) != 1 || in[0].DType != "string" || len(in[0].Shape) != 2 || in[0].Shape[1] != 1 {
			t.Fatalf("inputs %+v: want one (None, 1) string input", in)
		}
		// The project stems its texts before the layer (prep_pipe.pkl);
		// the table maps "" to 0, "[UNK]" to 1, "year" to 2, "eur" to 3.
		x, err := keras.FromStrings([]string{"Year EUR, year!", "qqq"}, 2, 1)
		if err != nil {
			t.Fatal(err)
		}
		ys, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		y := ys[0]
		if len(y.Shape) != 2 || y.Shape[0] != 2 || y.Shape[1] != 100 {
			t.Fatalf("output shape %v, want [2 100]", y.Shape)
		}
		want := []float32{2, 3, 2, 0}
		for j, w := range want {
			if y.Data[j] != w {
				t.Fatalf("ids %v, want %v then zeros", y.Data[:5], want[:3])
			}
		}
		if y.Data[100] != 1 || y.Data[101] != 0 {
			t.Errorf("unknown word: ids %v, want [1 0 ...]", y.Data[100:103])
		}
		// A [batch] tensor serves the (None, 1) input too.
		x1, _ := keras.FromStrings([]string{"Year EUR, year!"})
		if ys, err := m.Predict(x1); err != nil || ys[0].Data[1] != 3 {
			t.Errorf("rank-1 strings: %v %v", err, ys)
		}
	})
	t.Run("061 legacy h5 with a supplied vocabulary", func(t *testing.T) {
		file := filepath.Join(wild, "061_LSTM_Spam_Detector_spam_model_h5", "spam_model.h5")
		_, err := keras.Load(file)
		if !errors.Is(err, layers.ErrNoVocabulary) || !strings.Contains(err.Error(), `keras.WithVocabulary("text_vectorization"`) {
			t.Fatalf("without a vocabulary: %v", err)
		}
		vocab := wildVocab(t, wild)
		m, err := keras.Load(file, keras.WithVocabulary("text_vectorization", vocab))
		if err != nil {
			t.Fatal(err)
		}
		texts := []string{
			"WINNER!! You have won a FREE prize. Call now to claim your cash reward, text WIN to 80086",
			"Are we still meeting for lunch tomorrow? I'll be a bit late.",
		}
		x, _ := keras.FromStrings(texts)
		ys, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		y := ys[0].Data
		if len(y) != 2 || !(y[0] > 0.5 && y[1] < 0.5) {
			t.Errorf("spam probabilities %v: want the prize message above 0.5 and the lunch one below", y)
		}
		// The same vocabulary without its special tokens gives the same ids.
		m2, err := keras.Load(file, keras.WithVocabulary("text_vectorization", vocab[2:]))
		if err != nil {
			t.Fatal(err)
		}
		ys2, err := m2.Predict(x)
		if err != nil || ys2[0].Data[0] != y[0] || ys2[0].Data[1] != y[1] {
			t.Errorf("vocabulary without special tokens: %v %v, want %v", err, ys2, y)
		}
	})
}

// wildRepeatEmotion stands in for 019's Lambda (repeat_emotion): the
// emotion vector [B, E] tiled over the poem's length.
func wildRepeatEmotion(in []*keras.Tensor) ([]*keras.Tensor, error) {
	if len(in) != 2 || len(in[0].Shape) != 2 || len(in[1].Shape) != 2 {
		return nil, fmt.Errorf("want [emotion [B, E], poem [B, T]]")
	}
	b, e, steps := in[0].Shape[0], in[0].Shape[1], in[1].Shape[1]
	out := keras.NewTensor(b, steps, e)
	for i := range b {
		for s := range steps {
			copy(out.Data[(i*steps+s)*e:], in[0].Data[i*e:(i+1)*e])
		}
	}
	return []*keras.Tensor{out}, nil
}

// TestWildEveryFile loads every model of ../shared/wild that its
// MANIFEST.json lists, except 037 (saved before it was built: it must fail
// saying so), with what each needs from the user (a Go Lambda for 019, a
// custom layer for 236, the pickled vocabulary for 061), and runs it on a
// generated input: strings for string inputs, ids below the vocabulary
// size for token-id inputs, values in [-1, 1) otherwise. Every output
// must be finite.
func TestWildEveryFile(t *testing.T) {
	wild := testutil.SharedDir(t, "wild")
	b, err := os.ReadFile(filepath.Join(wild, "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest []struct {
		ID    string `json:"id"`
		Entry struct {
			Model string `json:"model"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest) < 12 {
		t.Fatalf("MANIFEST.json lists %d models", len(manifest))
	}
	needs := map[string][]keras.Option{
		"019": {keras.WithLambda("lambda", wildRepeatEmotion)},
		"236": {keras.WithLayer("SimpleAttention", buildSimpleAttention)},
	}
	for _, e := range manifest {
		t.Run(e.ID, func(t *testing.T) {
			file := filepath.Join(wild, e.ID, e.Entry.Model)
			if strings.HasPrefix(e.ID, "037_") {
				_, err := keras.Load(file)
				if err == nil || !strings.Contains(err.Error(), "saved before it was built") {
					t.Fatalf("037: got %v, want the error saying it was saved before it was built", err)
				}
				return
			}
			opts := needs[e.ID[:3]]
			if strings.HasPrefix(e.ID, "061_") {
				opts = append(opts, keras.WithVocabulary("text_vectorization", wildVocab(t, wild)))
			}
			m, err := keras.Load(file, opts...)
			if err != nil {
				t.Fatal(err)
			}
			outs, err := m.Predict(wildInputs(t, m, rand.New(rand.NewSource(1)))...)
			if err != nil {
				t.Fatal(err)
			}
			if len(outs) == 0 {
				t.Fatal("no outputs")
			}
			for i, o := range outs {
				if o.Len() == 0 {
					t.Errorf("output %d is empty (%v)", i, o.Shape)
				}
				for _, v := range o.Data {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						t.Fatalf("output %d holds %v", i, v)
					}
				}
			}
		})
	}
}

// wildInputs is generatedInputs with string inputs: a batch of two
// sentences for each.
func wildInputs(t *testing.T, m *keras.Model, rng *rand.Rand) []*keras.Tensor {
	t.Helper()
	var xs []*keras.Tensor
	for i, spec := range m.Inputs() {
		if spec.DType != "string" {
			continue
		}
		texts := []string{"The movie was great, I loved it!", "Free entry: win a prize now"}
		shape := []int{2}
		if len(spec.Shape) == 2 {
			shape = []int{2, 1}
		}
		x, err := keras.FromStrings(texts, shape...)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Inputs()) != 1 {
			t.Fatalf("input %d: a string input beside others", i)
		}
		return append(xs, x)
	}
	return generatedInputs(t, m, rng)
}
