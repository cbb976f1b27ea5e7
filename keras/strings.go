package keras

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/layers"
	"github.com/rnnkit/rnnkit/text"
)

// FromStrings returns a string tensor holding texts (copied) in the given
// shape, for a model input whose TensorSpec.DType is "string" (an
// InputLayer of dtype string feeding TextVectorization, StringLookup or
// Hashing). Without a shape it is [len(texts)], a batch of one string
// each; Keras' string inputs are usually [batch] or [batch, 1]. A count
// that does not fill the shape is an error wrapping ErrInput.
//
// Predict takes string tensors beside numeric ones, each for the input
// whose dtype it matches: a string tensor for a numeric input, or numbers
// for a string input, fail with an *InputError naming the input.
func FromStrings(texts []string, shape ...int) (*Tensor, error) {
	if len(shape) == 0 {
		shape = []int{len(texts)}
	}
	if err := checkShape(len(texts), shape); err != nil {
		return nil, err
	}
	return &Tensor{Shape: append([]int(nil), shape...), Strings: append([]string{}, texts...)}, nil
}

// WithVocabulary supplies the vocabulary of the lookup layer named
// layerName (TextVectorization, StringLookup or IntegerLookup), in id
// order, for files that keep none: Keras 3's legacy .h5 writer drops it,
// and projects save it apart (LoadVocabulary reads their files). tokens
// may start with the layer's special tokens ("" and "[UNK]" for
// TextVectorization, as get_vocabulary() returns them) or not, as Keras'
// set_vocabulary takes it; IntegerLookup tokens are decimal integers. The
// supplied vocabulary wins over the file's. Naming a layer the model does
// not have, or one that is no lookup layer, fails the load with ErrConfig.
func WithVocabulary(layerName string, tokens []string) Option {
	return func(o *options) {
		if o.vocabularies == nil {
			o.vocabularies = map[string][]string{}
		}
		o.vocabularies[layerName] = append([]string{}, tokens...)
	}
}

// LoadVocabulary reads a vocabulary file for WithVocabulary: a text file
// with one token a line, a JSON list of strings, or a pickle of a list or
// numpy array of str (what projects write with
// pickle.dump(layer.get_vocabulary())), told apart by content.
func LoadVocabulary(path string) ([]string, error) {
	v, err := text.LoadVocabulary(path)
	if err != nil {
		return nil, fmt.Errorf("keras: vocabulary: %w", err)
	}
	return v, nil
}

// checkVocabularies reports WithVocabulary names that match no lookup
// layer of desc.
func (o *options) checkVocabularies(desc *convert.Model) error {
	if len(o.vocabularies) == 0 {
		return nil
	}
	found := map[string]string{}
	var walk func(g *convert.Graph, depth int)
	walk = func(g *convert.Graph, depth int) {
		if g == nil || depth > 16 {
			return
		}
		for _, l := range g.Layers {
			found[l.Name] = l.ClassName
			walk(l.Inner, depth+1)
		}
	}
	walk(desc.Graph, 0)
	var lookups []string
	for n, c := range found {
		if convert.IsLookupClass(c) {
			lookups = append(lookups, n)
		}
	}
	sort.Strings(lookups)
	for name := range o.vocabularies {
		c, ok := found[name]
		switch {
		case !ok:
			return fmt.Errorf("keras: %s: WithVocabulary(%q): no layer of that name; the lookup layers are [%s]: %w", displayName(desc.File), name, strings.Join(lookups, ", "), ErrConfig)
		case !convert.IsLookupClass(c):
			return fmt.Errorf("keras: %s: WithVocabulary(%q): the layer is of class %s, not TextVectorization, StringLookup or IntegerLookup: %w", displayName(desc.File), name, c, ErrConfig)
		}
	}
	return nil
}

// registerVocabularies adds the supplied vocabularies to r.
func (o *options) registerVocabularies(r *layers.Registry) {
	if len(o.vocabularies) > 0 {
		layers.RegisterVocabularies(r, o.vocabularies)
	}
}

// stringInputClasses take strings as their input.
func takesStrings(l *convert.Layer) bool {
	switch l.ClassName {
	case "TextVectorization", "StringLookup":
		return true
	case "Hashing":
		dt, _ := l.Config["dtype"].(string)
		return dt == "string"
	}
	return false
}

// stringInput reports whether the input layer named name feeds a layer
// that takes strings, directly.
func stringInput(g *convert.Graph, name string) bool {
	for _, l := range g.Layers {
		for _, n := range l.Nodes {
			if len(n.Args) == 0 {
				continue
			}
			for _, r := range n.Args[0].Tensors {
				if r.Layer == name && takesStrings(l) {
					return true
				}
			}
		}
	}
	return false
}

// checkDType compares an input tensor's kind with the input's dtype.
func (m *Model) checkDType(i int, spec *TensorSpec, t *Tensor) error {
	isStr := spec.DType == "string"
	if isStr == t.IsString() {
		if isStr && len(t.Strings) != shapeCount(t.Shape) {
			return &InputError{File: m.desc.File, Input: spec.Name, Index: i, Err: ErrInput,
				Reason: fmt.Sprintf("shape %v holds %d strings, the tensor has %d", t.Shape, shapeCount(t.Shape), len(t.Strings))}
		}
		return nil
	}
	reason := fmt.Sprintf("got strings, want numbers (dtype %s): build a numeric input with FromFloat32 or FromTokenIDs", spec.DType)
	if isStr {
		reason = "got numbers, want strings (dtype string): build the input with keras.FromStrings"
	}
	return &InputError{File: m.desc.File, Input: spec.Name, Index: i, Err: ErrInput, Reason: reason}
}

func shapeCount(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return -1
		}
		n *= d
	}
	return n
}

// stringBatch reports a [batch] string tensor for a (None, 1) string
// input, which Keras' string layers take alike: FromStrings(texts) needs
// no shape for either.
func stringBatch(spec *TensorSpec, t *Tensor) bool {
	return t.IsString() && len(t.Shape) == 1 && len(spec.Shape) == 2 && spec.Shape[1] == 1
}

// trialStrings is a string input for the trial runs that find output
// shapes: batch strings of `words` words each, so that a dimension that
// follows the text's length differs between the two runs.
func trialStrings(spec TensorSpec, batch, words int) *Tensor {
	shape := []int{batch}
	if len(spec.Shape) == 2 && spec.Shape[1] == 1 {
		shape = []int{batch, 1}
	}
	s := strings.TrimSpace(strings.Repeat("a ", words))
	texts := make([]string, batch)
	for i := range texts {
		texts[i] = s
	}
	return &Tensor{Shape: shape, Strings: texts}
}

// maxRunes is the largest code-point count of ss: a bound on the tokens
// any split of one string yields.
func maxRunes(ss []string) int {
	n := 0
	for _, s := range ss {
		n = max(n, utf8.RuneCountInString(s))
	}
	return n
}
