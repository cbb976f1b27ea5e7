package text

import (
	"github.com/rnnkit/rnnkit/internal/testutil"

	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// testdata/vocab is written by testdata/gen_vocab_pickles.py (CPython,
// numpy 1.24; the numpy2_* files name numpy 2's numpy._core modules).
func TestLoadVocabulary(t *testing.T) {
	var exp struct {
		Vocab []string `json:"vocab"`
		Files []string `json:"files"`
	}
	readJSON(t, "testdata/vocab/expected.json", &exp)
	if len(exp.Files) < 30 {
		t.Fatalf("only %d vocabulary files", len(exp.Files))
	}
	for _, f := range exp.Files {
		t.Run(f, func(t *testing.T) {
			got, err := LoadVocabulary(filepath.Join("testdata/vocab", f))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, exp.Vocab) {
				t.Fatalf("got %q\nwant %q", got, exp.Vocab)
			}
		})
	}
}

// The vocabulary a Keras 3 project pickled beside its .h5 (numpy 2 str
// scalars in a list), when the shared corpus is present.
func TestLoadVocabularyWild(t *testing.T) {
	wild := testutil.SharedDir(t, "wild")
	matches, _ := filepath.Glob(filepath.Join(wild, "061_*/pre/vectorizer_vocab.pkl"))
	if len(matches) == 0 {
		t.Fatalf("no 061_*/pre/vectorizer_vocab.pkl in %s", wild)
	}
	v, err := LoadVocabulary(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(v) < 1000 || v[0] != "" || v[1] != "[UNK]" {
		t.Fatalf("%d entries, first %q", len(v), v[:min(3, len(v))])
	}
}

func TestLoadVocabularyRefuses(t *testing.T) {
	for _, c := range []struct {
		file string
		want error
	}{
		{"bad_dict.pkl", ErrUnexpectedClass},
		{"bad_ints.pkl", ErrFormat},
		{"bad_list_ints.pkl", ErrFormat},
		{"bad_2d.pkl", ErrUnsupported},
		{"bad_class.pkl", ErrUnexpectedClass},
	} {
		_, err := LoadVocabulary(filepath.Join("testdata/vocab", c.file))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.file, err, c.want)
		}
	}
	if _, err := LoadVocabulary("testdata/vocab/missing.txt"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestParseVocabularyText(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", []string{}},
		{"a\nb\n", []string{"a", "b"}},
		{"a\nb", []string{"a", "b"}},
		{"a\r\nb\r\n", []string{"a\r", "b\r"}}, // as Keras reads it on Linux
		{"\n[UNK]\nthe\n", []string{"", "[UNK]", "the"}},
		{"[UNK]\nthe", []string{"[UNK]", "the"}},
		{`["", "[UNK]", "x"]`, []string{"", "[UNK]", "x"}},
	} {
		got, err := ParseVocabulary([]byte(c.in))
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%q: got %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := ParseVocabulary([]byte(`[1, 2]`)); !errors.Is(err, ErrFormat) {
		t.Errorf("JSON list of numbers: %v", err)
	}
}
