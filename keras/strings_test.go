package keras_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/layers"
)

const tvCase = "../testdata/goldens-text/textvectorization/tv_default_len12_lstm"

// TestStringInputErrors: numbers fed to a string input, strings fed to a
// numeric one, and string tensors that do not fill their shape are
// *InputErrors naming the input, wrapping ErrInput.
func TestStringInputErrors(t *testing.T) {
	sm, err := keras.Load(filepath.Join(tvCase, "model.keras"))
	if err != nil {
		t.Fatal(err)
	}
	nm, err := keras.Load("../testdata/example/char_gru_generator/model.keras")
	if err != nil {
		t.Fatal(err)
	}
	hello, _ := keras.FromStrings([]string{"hello", "world"})
	ids, _ := keras.FromTokenIDs([]int{1, 2, 3}, 1, 3)
	short := &keras.Tensor{Shape: []int{3}, Strings: []string{"a"}}
	for _, c := range []struct {
		name string
		m    *keras.Model
		x    *keras.Tensor
		msg  string
	}{
		{"numbers to a string input", sm, ids, "got numbers, want strings (dtype string): build the input with keras.FromStrings"},
		{"strings to a token-id input", nm, hello, "got strings, want numbers"},
		{"strings short of their shape", sm, short, "shape [3] holds 3 strings, the tensor has 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.m.Predict(c.x)
			var ie *keras.InputError
			if !errors.Is(err, keras.ErrInput) || !errors.As(err, &ie) || ie.Input != c.m.Inputs()[0].Name || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want an InputError for input %q saying %q", err, c.m.Inputs()[0].Name, c.msg)
			}
		})
	}
	if _, err := keras.FromStrings([]string{"a", "b", "c"}, 2, 2); !errors.Is(err, keras.ErrInput) {
		t.Errorf("FromStrings 3 texts in [2 2]: %v", err)
	}
	if x, err := keras.FromStrings([]string{"a", "b"}, 2, 1); err != nil || !x.IsString() || x.Len() != 2 {
		t.Errorf("FromStrings [2 1]: %v %v", x, err)
	}
}

// TestWithVocabulary: a .keras whose assets were stripped fails saying
// how to supply the vocabulary; WithVocabulary with the removed file's
// tokens restores Keras' outputs; duplicates and unknown or non-lookup
// layer names fail the load with ErrConfig.
func TestWithVocabulary(t *testing.T) {
	file := "../testdata/preprocessing/no_assets.keras"
	_, err := keras.Load(file)
	if !errors.Is(err, layers.ErrNoVocabulary) || !errors.Is(err, keras.ErrWeights) || !strings.Contains(err.Error(), `keras.WithVocabulary("text_vectorization", tokens)`) {
		t.Fatalf("without a vocabulary: %v", err)
	}
	vocab, err := keras.LoadVocabulary("../testdata/preprocessing/vocabulary.txt")
	if err != nil {
		t.Fatal(err)
	}
	m, err := keras.Load(file, keras.WithVocabulary("text_vectorization", vocab))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := keras.FromStrings(readTexts(t, filepath.Join(tvCase, "texts.json")))
	ys, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	want, err := keras.ReadNPYFile(filepath.Join(tvCase, "y0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, ys[0], want)

	for _, c := range []struct {
		name  string
		layer string
		vocab []string
		msg   string
	}{
		{"duplicates", "text_vectorization", append(append([]string{}, vocab...), "the"), `repeated tokens (Keras refuses them too): "the"`},
		{"unknown layer", "text_vectoriser", vocab, `WithVocabulary("text_vectoriser"): no layer of that name; the lookup layers are [text_vectorization]`},
		{"not a lookup layer", "embedding", vocab, "the layer is of class Embedding"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := keras.Load(file, keras.WithVocabulary(c.layer, c.vocab))
			if !errors.Is(err, keras.ErrConfig) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want ErrConfig saying %q", err, c.msg)
			}
		})
	}
}

// TestStringMemoryBudget: a text far longer than the memory budget allows
// (every token becomes an embedded step) is refused before the run, by an
// estimate that counts a string's code points as its tokens; a review
// passes.
func TestStringMemoryBudget(t *testing.T) {
	m, err := keras.Load("../testdata/goldens-text/textvectorization/tv_ragged_mask_gru/model.keras", keras.WithMemoryBudget(8<<20))
	if err != nil {
		t.Fatal(err)
	}
	ok, _ := keras.FromStrings([]string{strings.Repeat("the movie was great ", 50)})
	if _, err := m.Predict(ok); err != nil {
		t.Fatalf("a review: %v", err)
	}
	huge, _ := keras.FromStrings([]string{strings.Repeat("great ", 2_000_000)})
	_, err = m.Predict(huge)
	if !errors.Is(err, keras.ErrLimit) {
		t.Fatalf("12 MB of text under an 8 MiB budget: %v, want ErrLimit", err)
	}
}

// TestStringModelPaths: PredictInto and a Session give Predict's outputs
// for a string model.
func TestStringModelPaths(t *testing.T) {
	m, err := keras.Load(filepath.Join(tvCase, "model.keras"))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := keras.FromStrings([]string{"The movie was GREAT, truly great!", "never again"})
	want, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	outs := []*keras.Tensor{keras.NewTensor(2, 3)}
	if err := m.PredictInto(context.Background(), outs, x); err != nil {
		t.Fatal(err)
	}
	s := m.NewSession()
	got, err := s.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want[0].Data {
		if outs[0].Data[i] != w || got[0].Data[i] != w {
			t.Fatalf("output %d: PredictInto %v, Session %v, Predict %v", i, outs[0].Data[i], got[0].Data[i], w)
		}
	}
}
