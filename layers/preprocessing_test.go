package layers

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

func strs(shape []int, s ...string) *runtime.Tensor {
	return &runtime.Tensor{Shape: shape, Strings: s}
}

func nums(shape []int, v ...float32) *runtime.Tensor {
	return &runtime.Tensor{Shape: shape, Data: v}
}

func anyList[T any](xs ...T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func callLayer(t testing.TB, l runtime.Layer, x *runtime.Tensor) (*runtime.Tensor, error) {
	t.Helper()
	outs, err := l.Call(runtime.NewWorkspace(false), &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: x}}}}})
	if err != nil {
		return nil, err
	}
	return outs[0].T, nil
}

// TestPreprocessingKerasExamples checks the layers against the outputs
// that Keras 3's docstrings and its own tests (text_vectorization_test.py)
// record for these configurations, which TensorFlow computed: lookups with
// one and several OOV indices (FarmHash for strings and farmhash ints,
// floormod for ints), one_hot, multi_hot, count and tf_idf (idf weights
// with and without the OOV entry), invert, the standardize and split
// modes, ngrams, and Hashing with and without salt and mask.
func TestPreprocessingKerasExamples(t *testing.T) {
	abcd := anyList("a", "b", "c", "d")
	ints := anyList(12.0, 36.0, 1138.0, 42.0)
	cases := []struct {
		name  string
		class string
		cfg   convert.Config
		in    *runtime.Tensor
		shape []int
		want  []float32
		wantS []string
	}{
		{"StringLookup known vocabulary", "StringLookup", convert.Config{"vocabulary": abcd},
			strs([]int{2, 3}, "a", "c", "d", "d", "z", "b"), []int{2, 3}, []float32{1, 3, 4, 4, 0, 2}, nil},
		{"StringLookup num_oov_indices=2", "StringLookup", convert.Config{"vocabulary": abcd, "num_oov_indices": 2.0},
			strs([]int{2, 3}, "a", "c", "d", "m", "z", "b"), []int{2, 3}, []float32{2, 4, 5, 0, 1, 3}, nil},
		{"StringLookup one_hot", "StringLookup", convert.Config{"vocabulary": abcd, "output_mode": "one_hot"},
			strs([]int{5}, "a", "b", "c", "d", "z"), []int{5, 5}, []float32{0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0}, nil},
		{"StringLookup multi_hot", "StringLookup", convert.Config{"vocabulary": abcd, "output_mode": "multi_hot"},
			strs([]int{2, 4}, "a", "c", "d", "d", "d", "z", "b", "z"), []int{2, 5}, []float32{0, 1, 0, 1, 1, 1, 0, 1, 0, 1}, nil},
		{"StringLookup count", "StringLookup", convert.Config{"vocabulary": abcd, "output_mode": "count"},
			strs([]int{2, 4}, "a", "c", "d", "d", "d", "z", "b", "z"), []int{2, 5}, []float32{0, 1, 0, 1, 2, 2, 0, 1, 0, 1}, nil},
		{"StringLookup tf_idf", "StringLookup", convert.Config{"vocabulary": abcd, "output_mode": "tf_idf", "idf_weights": anyList(0.25, 0.75, 0.6, 0.4)},
			strs([]int{2, 4}, "a", "c", "d", "d", "d", "z", "b", "z"), []int{2, 5}, []float32{0, 0.25, 0, 0.6, 0.8, 1.0, 0, 0.75, 0, 0.4}, nil},
		{"StringLookup tf_idf with the OOV weight", "StringLookup", convert.Config{"vocabulary": anyList("[UNK]", "a", "b", "c", "d"), "output_mode": "tf_idf", "idf_weights": anyList(0.9, 0.25, 0.75, 0.6, 0.4)},
			strs([]int{2, 4}, "a", "c", "d", "d", "d", "z", "b", "z"), []int{2, 5}, []float32{0, 0.25, 0, 0.6, 0.8, 1.8, 0, 0.75, 0, 0.4}, nil},
		{"StringLookup invert", "StringLookup", convert.Config{"vocabulary": abcd, "invert": true},
			nums([]int{2, 3}, 1, 3, 4, 4, 0, 2), []int{2, 3}, nil, []string{"a", "c", "d", "d", "[UNK]", "b"}},
		{"IntegerLookup known vocabulary", "IntegerLookup", convert.Config{"vocabulary": ints},
			nums([]int{2, 3}, 12, 1138, 42, 42, 1000, 36), []int{2, 3}, []float32{1, 3, 4, 4, 0, 2}, nil},
		{"IntegerLookup num_oov_indices=2 floormod", "IntegerLookup", convert.Config{"vocabulary": ints, "num_oov_indices": 2.0},
			nums([]int{2, 3}, 12, 1138, 42, 37, 1000, 36), []int{2, 3}, []float32{2, 4, 5, 1, 0, 3}, nil},
		{"IntegerLookup floormod 4", "IntegerLookup", convert.Config{"vocabulary": anyList(10.0, 20.0, 30.0), "num_oov_indices": 4.0, "oov_method": "floormod"},
			nums([]int{6}, 100, 300, 700, 1100, 1700, 2000), []int{6}, []float32{0, 0, 0, 0, 0, 0}, nil},
		{"IntegerLookup farmhash 4", "IntegerLookup", convert.Config{"vocabulary": anyList(10.0, 20.0, 30.0), "num_oov_indices": 4.0, "oov_method": "farmhash"},
			nums([]int{6}, 100, 300, 700, 1100, 1700, 2000), []int{6}, []float32{3, 3, 2, 2, 0, 1}, nil},
		{"IntegerLookup one_hot", "IntegerLookup", convert.Config{"vocabulary": ints, "output_mode": "one_hot"},
			nums([]int{5}, 12, 36, 1138, 42, 7), []int{5, 5}, []float32{0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0}, nil},
		{"IntegerLookup count", "IntegerLookup", convert.Config{"vocabulary": ints, "output_mode": "count"},
			nums([]int{2, 4}, 12, 1138, 42, 42, 42, 7, 36, 7), []int{2, 5}, []float32{0, 1, 0, 1, 2, 2, 0, 1, 0, 1}, nil},
		{"IntegerLookup tf_idf with the OOV weight", "IntegerLookup", convert.Config{"vocabulary": anyList(-1.0, 12.0, 36.0, 1138.0, 42.0), "output_mode": "tf_idf", "idf_weights": anyList(0.9, 0.25, 0.75, 0.6, 0.4)},
			nums([]int{2, 4}, 12, 1138, 42, 42, 42, 7, 36, 7), []int{2, 5}, []float32{0, 0.25, 0, 0.6, 0.8, 1.8, 0, 0.75, 0, 0.4}, nil},
		{"IntegerLookup invert", "IntegerLookup", convert.Config{"vocabulary": ints, "invert": true},
			nums([]int{2, 3}, 1, 3, 4, 4, 0, 2), []int{2, 3}, []float32{12, 1138, 42, 42, -1, 36}, nil},
		{"TextVectorization fixed vocabulary", "TextVectorization", convert.Config{"vocabulary": anyList("baz", "bar", "foo"), "output_sequence_length": 4.0},
			strs([]int{2, 1}, "foo qux bar", "qux baz"), []int{2, 4}, []float32{4, 1, 3, 0, 1, 2, 0, 0}, nil},
		{"TextVectorization ragged padded to the longest", "TextVectorization", convert.Config{"vocabulary": anyList("baz", "bar", "foo")},
			strs([]int{3, 1}, "foo qux bar", "qux baz", "foo"), []int{3, 3}, []float32{4, 1, 3, 1, 2, 0, 4, 0, 0}, nil},
		{"TextVectorization truncated", "TextVectorization", convert.Config{"vocabulary": anyList("baz", "bar", "foo"), "output_sequence_length": 2.0},
			strs([]int{3}, "foo qux bar", "qux baz", "foo"), []int{3, 2}, []float32{4, 1, 1, 2, 4, 0}, nil},
		{"TextVectorization multi_hot", "TextVectorization", convert.Config{"vocabulary": anyList("foo", "bar", "baz"), "output_mode": "multi_hot"},
			strs([]int{2, 1}, "foo bar", "baz foo foo"), []int{2, 4}, []float32{0, 1, 1, 0, 0, 1, 0, 1}, nil},
		{"TextVectorization count", "TextVectorization", convert.Config{"vocabulary": anyList("foo", "bar", "baz"), "output_mode": "count"},
			strs([]int{2}, "foo bar", "baz foo foo"), []int{2, 4}, []float32{0, 1, 1, 0, 0, 2, 0, 1}, nil},
		{"TextVectorization tf_idf", "TextVectorization", convert.Config{"vocabulary": anyList("foo", "bar", "baz"), "output_mode": "tf_idf", "idf_weights": anyList(0.3, 0.5, 0.2)},
			strs([]int{2}, "foo bar", "baz foo foo"), []int{2, 4}, []float32{0, 0.3, 0.5, 0, 0, 0.6, 0, 0.2}, nil},
		{"TextVectorization lower_and_strip_punctuation", "TextVectorization", convert.Config{"vocabulary": anyList("hello", "world", "this", "is", "nice", "test")},
			strs([]int{1}, "Hello, World!. This is just a nice test!"), []int{1, 8}, []float32{2, 3, 4, 5, 1, 1, 6, 7}, nil},
		{"TextVectorization lower", "TextVectorization", convert.Config{"standardize": "lower", "vocabulary": anyList("hello,", "hello", "world", "this", "is", "nice", "test")},
			strs([]int{1}, "Hello, World!. This is just a nice test!"), []int{1, 8}, []float32{2, 1, 5, 6, 1, 1, 7, 1}, nil},
		{"TextVectorization character", "TextVectorization", convert.Config{"split": "character", "vocabulary": anyList("a", "b", "c", "d", "e")},
			strs([]int{1}, "abcf"), []int{1, 4}, []float32{2, 3, 4, 1}, nil},
		{"TextVectorization strip_punctuation", "TextVectorization", convert.Config{"standardize": "strip_punctuation", "vocabulary": anyList("Hello", "World", "Test")},
			strs([]int{1}, "Hello, World! Test."), []int{1, 3}, []float32{2, 3, 4}, nil},
		{"TextVectorization no standardize", "TextVectorization", convert.Config{"standardize": nil, "vocabulary": anyList("Hello", "world")},
			strs([]int{1}, "Hello hello"), []int{1, 2}, []float32{2, 1}, nil},
		// Rule-based (TF's ngrams op: 1-grams then 2-grams, joined by a space).
		{"TextVectorization ngrams=2", "TextVectorization", convert.Config{"ngrams": 2.0, "vocabulary": anyList("foo", "bar", "foo bar")},
			strs([]int{1}, "Foo bar baz"), []int{1, 5}, []float32{2, 3, 1, 4, 1}, nil},
		{"TextVectorization ngrams=(2,) multi_hot", "TextVectorization", convert.Config{"ngrams": anyList(2.0), "output_mode": "multi_hot", "vocabulary": anyList("foo bar", "bar baz")},
			strs([]int{2}, "foo bar baz", "baz foo"), []int{2, 3}, []float32{0, 1, 1, 1, 0, 0}, nil},
		{"TextVectorization split None", "TextVectorization", convert.Config{"split": nil, "vocabulary": anyList("new york", "paris")},
			strs([]int{3, 1}, "New York!", "Paris", "rome"), []int{3, 1}, []float32{2, 3, 1}, nil},
		{"Hashing", "Hashing", convert.Config{"num_bins": 3.0},
			strs([]int{5, 1}, "A", "B", "C", "D", "E"), []int{5, 1}, []float32{1, 0, 1, 1, 2}, nil},
		{"Hashing mask_value", "Hashing", convert.Config{"num_bins": 3.0, "mask_value": ""},
			strs([]int{5, 1}, "A", "B", "", "C", "D"), []int{5, 1}, []float32{1, 1, 0, 2, 2}, nil},
		{"Hashing salt pair", "Hashing", convert.Config{"num_bins": 3.0, "salt": anyList(133.0, 137.0)},
			strs([]int{5, 1}, "A", "B", "C", "D", "E"), []int{5, 1}, []float32{1, 2, 1, 0, 2}, nil},
		{"Hashing salt", "Hashing", convert.Config{"num_bins": 3.0, "salt": 133.0},
			strs([]int{5, 1}, "A", "B", "C", "D", "E"), []int{5, 1}, []float32{0, 0, 2, 1, 0}, nil},
		{"Hashing one_hot", "Hashing", convert.Config{"num_bins": 3.0, "output_mode": "one_hot"},
			strs([]int{2, 1}, "A", "B"), []int{2, 3}, []float32{0, 1, 0, 1, 0, 0}, nil},
		{"Hashing multi_hot", "Hashing", convert.Config{"num_bins": 3.0, "output_mode": "multi_hot"},
			strs([]int{1, 5}, "A", "B", "C", "D", "E"), []int{1, 3}, []float32{1, 1, 1}, nil},
		{"Hashing count", "Hashing", convert.Config{"num_bins": 3.0, "output_mode": "count"},
			strs([]int{1, 5}, "A", "B", "C", "D", "E"), []int{1, 3}, []float32{1, 3, 1}, nil},
	}
	reg := Standard()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := reg.Build(&convert.Layer{Name: "pre", ClassName: c.class, Config: c.cfg}, &Env{Registry: reg})
			if err != nil {
				t.Fatal(err)
			}
			got, err := callLayer(t, l, c.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Shape, c.shape) {
				t.Fatalf("shape %v, want %v", got.Shape, c.shape)
			}
			if c.wantS != nil {
				if !reflect.DeepEqual(got.Strings, c.wantS) {
					t.Fatalf("got %q, want %q", got.Strings, c.wantS)
				}
				return
			}
			for i, w := range c.want {
				if math.Abs(float64(got.Data[i]-w)) > 1e-6 {
					t.Fatalf("got %v, want %v", got.Data, c.want)
				}
			}
		})
	}
}

// TestPreprocessingErrors: duplicates, a misplaced mask token, no
// vocabulary, a vocabulary file outside the model, strings and numbers
// swapped, an OOV token without OOV indices, a Python callable.
func TestPreprocessingErrors(t *testing.T) {
	reg := Standard()
	build := func(class string, cfg convert.Config, vocab []string) (runtime.Layer, error) {
		return reg.Build(&convert.Layer{Name: "pre", ClassName: class, Config: cfg, Vocabulary: vocab}, &Env{Registry: reg})
	}
	for _, c := range []struct {
		name  string
		class string
		cfg   convert.Config
		vocab []string
		kind  error
		msg   string
	}{
		{"duplicate", "StringLookup", convert.Config{"vocabulary": anyList("a", "b", "a")}, nil, convert.ErrConfig, `repeated tokens (Keras refuses them too): "a"`},
		{"duplicate in the file's vocabulary", "TextVectorization", convert.Config{}, []string{"", "[UNK]", "x", "y", "x"}, convert.ErrConfig, "the file's vocabulary has repeated tokens"},
		{"misplaced mask", "TextVectorization", convert.Config{}, []string{"", "[UNK]", "x", ""}, convert.ErrConfig, "mask token"},
		{"no vocabulary", "TextVectorization", convert.Config{}, nil, ErrNoVocabulary, "keras.WithVocabulary(\"pre\", tokens)"},
		{"vocabulary file", "StringLookup", convert.Config{"vocabulary": "/data/vocab.txt"}, nil, ErrNoVocabulary, `the vocabulary file "/data/vocab.txt"`},
		{"empty", "StringLookup", convert.Config{"vocabulary": anyList[string]()}, nil, convert.ErrConfig, "empty"},
		{"over max_tokens", "StringLookup", convert.Config{"vocabulary": abc(), "max_tokens": 3.0}, nil, convert.ErrConfig, "more than max_tokens 3"},
		{"callable standardize", "TextVectorization", convert.Config{"vocabulary": abc(), "standardize": map[string]any{"class_name": "custom_standardization"}}, nil, convert.ErrUnsupported, "Python callable"},
		{"bad mode", "StringLookup", convert.Config{"vocabulary": abc(), "output_mode": "bogus"}, nil, convert.ErrConfig, "output_mode"},
		{"integer vocabulary of strings", "IntegerLookup", convert.Config{"vocabulary": anyList("a")}, nil, convert.ErrConfig, "want an integer"},
		{"tf_idf without weights", "StringLookup", convert.Config{"vocabulary": abc(), "output_mode": "tf_idf"}, nil, convert.ErrWeights, "idf_weights"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := build(c.class, c.cfg, c.vocab)
			if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want %v containing %q", err, c.kind, c.msg)
			}
		})
	}
	tv, err := build("TextVectorization", convert.Config{"vocabulary": abc()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := callLayer(t, tv, nums([]int{1}, 3)); !errors.Is(err, runtime.ErrInput) || !strings.Contains(err.Error(), "want a string tensor") {
		t.Errorf("numbers to TextVectorization: %v", err)
	}
	il, _ := build("IntegerLookup", convert.Config{"vocabulary": anyList(1.0)}, nil)
	if _, err := callLayer(t, il, strs([]int{1}, "1")); !errors.Is(err, runtime.ErrInput) {
		t.Errorf("strings to IntegerLookup: %v", err)
	}
	if _, err := callLayer(t, il, nums([]int{1}, 1.5)); !errors.Is(err, runtime.ErrInput) {
		t.Errorf("1.5 to IntegerLookup: %v", err)
	}
	strict, _ := build("StringLookup", convert.Config{"vocabulary": abc(), "num_oov_indices": 0.0}, nil)
	if _, err := callLayer(t, strict, strs([]int{2}, "a", "zz")); !errors.Is(err, runtime.ErrInput) || !strings.Contains(err.Error(), `"zz"`) {
		t.Errorf("OOV without OOV indices: %v", err)
	}
	if _, err := callLayer(t, tv, strs([]int{1, 2}, "a", "b")); !errors.Is(err, runtime.ErrInput) {
		t.Errorf("[1, 2] strings to a splitting TextVectorization: %v", err)
	}
}

func abc() []any { return anyList("a", "b", "c") }
