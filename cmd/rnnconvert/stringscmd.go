package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rnnkit/rnnkit/keras"
)

// vocabFlags is --vocabulary LAYER=FILE (repeatable): the vocabulary of a
// lookup layer the model file does not keep (keras.WithVocabulary).
type vocabFlags []string

func (v *vocabFlags) String() string { return strings.Join(*v, ",") }

func (v *vocabFlags) Set(s string) error {
	layer, file, ok := strings.Cut(s, "=")
	if !ok || layer == "" || file == "" {
		return fmt.Errorf("want LAYER=FILE, got %q", s)
	}
	*v = append(*v, s)
	return nil
}

const vocabUsage = "`LAYER=FILE`: the vocabulary of the lookup layer LAYER (repeatable), for a model file that\n" +
	"keeps none (Keras 3 legacy .h5): FILE holds one token a line, a JSON list or a pickle, in id order"

// options reads the files and returns a WithVocabulary per flag.
func (v vocabFlags) options() ([]keras.Option, error) {
	var opts []keras.Option
	for _, s := range v {
		layer, file, _ := strings.Cut(s, "=")
		tokens, err := keras.LoadVocabulary(file)
		if err != nil {
			return nil, fmt.Errorf("--vocabulary %s: %w", s, err)
		}
		opts = append(opts, keras.WithVocabulary(layer, tokens))
	}
	return opts, nil
}

// stringInput returns the index of m's string input, or -1 when it has
// none.
func stringInput(m *keras.Model) int {
	for i, in := range m.Inputs() {
		if in.DType == "string" {
			return i
		}
	}
	return -1
}

// predictStrings runs a model whose one input takes strings on texts.
func predictStrings(m *keras.Model, texts []string) ([]*keras.Tensor, error) {
	ins := m.Inputs()
	if len(ins) != 1 {
		return nil, fmt.Errorf("predict --texts: the model has %d inputs; --texts feeds a model with one string input", len(ins))
	}
	shape := []int{len(texts)}
	if len(ins[0].Shape) == 2 && ins[0].Shape[1] == 1 {
		shape = []int{len(texts), 1}
	}
	x, err := keras.FromStrings(texts, shape...)
	if err != nil {
		return nil, err
	}
	return m.Predict(x)
}

// errNotStrings is returned by predict --texts without --tokenizer for a
// model whose input takes token ids.
var errNotStrings = errors.New("predict --texts without --tokenizer needs a model with a string input (TextVectorization or StringLookup inside): this model takes token ids, so give --tokenizer T")
