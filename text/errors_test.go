package text

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func mustTokenizer(t *testing.T, cfg Config, texts ...string) *Tokenizer {
	t.Helper()
	tok, err := NewTokenizer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.FitOnTexts(texts); err != nil {
		t.Fatal(err)
	}
	return tok
}

// Bad input is an error that errors.Is/As can tell apart, never a panic.
func TestBadInputErrors(t *testing.T) {
	tok := mustTokenizer(t, DefaultConfig(), "the cat sat on the mat")
	oov := "<OOV>"
	cfgOOV := DefaultConfig()
	cfgOOV.OOVToken = &oov
	tokOOV := mustTokenizer(t, cfgOOV, "the cat sat on the mat")
	readBad := func(name string) func() error {
		return func() error {
			_, err := LoadTokenizer(filepath.Join("testdata/bad", name))
			return err
		}
	}
	for _, c := range []struct {
		name string
		run  func() error
		is   error
		as   any // pointer to a typed error, or nil
	}{
		{"unknown id", func() error { _, err := tok.SequencesToTexts([][]int{{1, 2}, {1, 99}}); return err }, ErrUnknownID, new(*UnknownIDError)},
		{"padding id 0", func() error { _, err := tok.SequencesToTexts([][]int{{0, 1}}); return err }, ErrUnknownID, new(*UnknownIDError)},
		{"negative id", func() error { _, err := tokOOV.SequencesToTexts([][]int{{-1}}); return err }, ErrUnknownID, new(*UnknownIDError)},
		{"one sequence", func() error { _, err := tok.SequenceToText([]int{42}, " "); return err }, ErrUnknownID, new(*UnknownIDError)},
		{"pickle os.system", readBad("os_system.pkl"), ErrUnexpectedClass, nil},
		{"pickle builtins.eval", readBad("builtins_eval.pkl"), ErrUnexpectedClass, nil},
		{"pickle __main__ class", readBad("main_class.pkl"), ErrUnexpectedClass, nil},
		{"pickle sklearn vectorizer", readBad("sklearn_vectorizer.pkl"), ErrUnexpectedClass, nil},
		{"pickle Tokenizer of another module", readBad("other_tokenizer.pkl"), ErrUnexpectedClass, nil},
		{"pickle of a set", readBad("set_of_words.pkl"), ErrUnexpectedClass, nil},
		{"pickle of an int", readBad("int.pkl"), ErrUnexpectedClass, nil},
		{"vocabulary text duplicates", func() error { _, err := ParseVocabulary([]byte("\n[UNK]\nthe\ncat\nthe\n")); return err }, ErrDuplicate, new(*DuplicateError)},
		{"vocabulary JSON duplicates", func() error { _, err := ParseVocabulary([]byte(`["a", "b", "a"]`)); return err }, ErrDuplicate, new(*DuplicateError)},
		{"vocabulary two empty lines", func() error { _, err := ParseVocabulary([]byte("\na\n\nb")); return err }, ErrDuplicate, new(*DuplicateError)},
		{"vocabulary pickle duplicates", func() error {
			_, err := ParseVocabulary([]byte("\x80\x04\x95\x0f\x00\x00\x00\x00\x00\x00\x00]\x94(\x8c\x01a\x94\x8c\x01b\x94h\x01e."))
			return err
		}, ErrDuplicate, new(*DuplicateError)},
		{"maxlen < 0", func() error { _, err := PadSequences([][]int{{1}}, PadOptions{MaxLen: MaxLen(-1)}); return err }, ErrArgument, nil},
		{"padding middle", func() error { _, err := PadSequences([][]int{{1}}, PadOptions{Padding: "middle"}); return err }, ErrArgument, nil},
		{"num_words < 0", func() error { _, err := NewTokenizer(Config{NumWords: -1, Split: " "}); return err }, ErrArgument, nil},
		{"unknown matrix mode", func() error { _, err := tok.TextsToMatrix([]string{"a"}, "onehot"); return err }, ErrArgument, nil},
		{"empty split", func() error { _, err := NewTokenizerTexts(Config{}, "a b"); return err }, ErrArgument, nil},
		{"tokenizer JSON of another class", func() error {
			_, err := ParseTokenizerJSON([]byte(`{"class_name": "TextVectorization", "config": {}}`))
			return err
		}, ErrUnexpectedClass, nil},
		{"tokenizer JSON list", func() error { _, err := ParseTokenizerJSON([]byte(`[1, 2]`)); return err }, ErrFormat, nil},
		{"word index of strings", func() error { _, err := ParseTokenizerJSON([]byte(`{"a": 1.5}`)); return err }, ErrFormat, nil},
		{"missing file", func() error { _, err := LoadTokenizer("testdata/bad/missing.json"); return err }, os.ErrNotExist, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			if !errors.Is(err, c.is) {
				t.Fatalf("got %v, want errors.Is %v", err, c.is)
			}
			if c.as != nil && !errors.As(err, c.as) {
				t.Fatalf("%v: errors.As %T fails", err, c.as)
			}
			if len(err.Error()) < 20 {
				t.Errorf("message too terse: %q", err)
			}
		})
	}
	// The typed error names where the id is.
	_, err := tok.SequencesToTexts([][]int{{1, 2}, {1, 99}})
	var u *UnknownIDError
	if !errors.As(err, &u) || u.Sequence != 1 || u.Position != 1 || u.ID != 99 {
		t.Errorf("UnknownIDError %+v", u)
	}
	_, err = ParseVocabulary([]byte("x\ny\nx"))
	var d *DuplicateError
	if !errors.As(err, &d) || d.Token != "x" || d.First != 0 || d.Second != 2 {
		t.Errorf("DuplicateError %+v", d)
	}
}

// NewTokenizerTexts is NewTokenizer then FitOnTexts (test helper).
func NewTokenizerTexts(cfg Config, texts ...string) (*Tokenizer, error) {
	tok, err := NewTokenizer(cfg)
	if err != nil {
		return nil, err
	}
	return tok, tok.FitOnTexts(texts)
}

// lenient_ids.json (testdata/gen_lenient_ids.py): Keras 3's legacy
// sequences_to_texts on ids not in index_word and ids >= num_words.
func TestSequencesToTextsLenientKeras(t *testing.T) {
	var cases []struct {
		Args      map[string]any `json:"args"`
		ToJSON    string         `json:"to_json"`
		Sequences [][]int        `json:"sequences"`
		Texts     []string       `json:"texts"`
	}
	readJSON(t, "testdata/lenient_ids.json", &cases)
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.Args), func(t *testing.T) {
			tok, err := ParseTokenizerJSON([]byte(c.ToJSON))
			if err != nil {
				t.Fatal(err)
			}
			got, err := tok.SequencesToTextsLenient(c.Sequences)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.Texts) {
				t.Errorf("got %q\nKeras %q", got, c.Texts)
			}
			// The strict form refuses exactly when an id is not in index_word.
			_, err = tok.SequencesToTexts(c.Sequences)
			if !errors.Is(err, ErrUnknownID) {
				t.Errorf("strict: %v", err)
			}
		})
	}
}
