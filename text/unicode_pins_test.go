package text

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"testing"
)

// unicode_pins.json is written by testdata/gen_unicode_pins.py: CPython's
// str.lower and TensorFlow's ASCII-only lowering of the same texts, and
// Keras 3's legacy Tokenizer fitted on them.
type unicodePins struct {
	Python      string     `json:"python"`
	Unicode     string     `json:"unicode"`
	Texts       []string   `json:"texts"`
	PythonLower []string   `json:"python_lower"`
	ASCIILower  []string   `json:"ascii_lower"`
	SplitSpace  [][]string `json:"python_split_space"`
	Tokenizers  []struct {
		Args      map[string]any `json:"args"`
		WordIndex map[string]int `json:"word_index"`
		Sequences [][]int        `json:"sequences"`
		TextsBack []string       `json:"texts_back"`
		ToJSON    string         `json:"to_json"`
	} `json:"tokenizers"`
}

func loadUnicodePins(t *testing.T) unicodePins {
	t.Helper()
	b, err := os.ReadFile("testdata/unicode_pins.json")
	if err != nil {
		t.Fatal(err)
	}
	var p unicodePins
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Texts) == 0 || len(p.Tokenizers) == 0 {
		t.Fatal("empty unicode_pins.json")
	}
	return p
}

func TestUnicodePinsLower(t *testing.T) {
	p := loadUnicodePins(t)
	for i, s := range p.Texts {
		if got := PythonLower(s); got != p.PythonLower[i] {
			t.Errorf("PythonLower(%q) = %q, CPython %s %q", s, got, p.Python, p.PythonLower[i])
		}
		if got := ASCIILower(s); got != p.ASCIILower[i] {
			t.Errorf("ASCIILower(%q) = %q, want %q", s, got, p.ASCIILower[i])
		}
	}
}

// The named cases of the issue, spelled out so a reader sees them.
func TestLowerNamedCases(t *testing.T) {
	for _, c := range []struct{ in, python, ascii string }{
		{"ΟΔΟΣ", "οδος", "ΟΔΟΣ"},                   // final sigma
		{"ΣΑΣ.", "σας.", "ΣΑΣ."},                   // final before punctuation
		{"Σ", "σ", "Σ"},                            // alone: not final
		{"ΑΣ'Σ", "ασ'ς", "ΑΣ'Σ"},                   // apostrophe is case-ignorable
		{"İ", "i\u0307", "İ"},                      // two code points in Python
		{"İI", "i\u0307i", "İi"},                   // ASCII I lowers in both
		{"Straße", "straße", "straße"},             // ß unchanged
		{"ẞ", "ß", "ẞ"},                            // capital sharp s
		{"CAFE\u0301", "cafe\u0301", "cafe\u0301"}, // combining mark kept
		{"É", "é", "É"},                            // precomposed: TF leaves it
		{"GREAT😀", "great😀", "great😀"},             // emoji unchanged
		{"A\u00a0B", "a\u00a0b", "a\u00a0b"},       // NBSP unchanged
		{"한국어 ABC", "한국어 abc", "한국어 abc"},
		{"\xff\xfeAB", "\xff\xfeab", "\xff\xfeab"}, // invalid UTF-8 copied
	} {
		if got := PythonLower(c.in); got != c.python {
			t.Errorf("PythonLower(%q) = %q, want %q", c.in, got, c.python)
		}
		if got := ASCIILower(c.in); got != c.ascii {
			t.Errorf("ASCIILower(%q) = %q, want %q", c.in, got, c.ascii)
		}
	}
}

func pinConfig(t *testing.T, args map[string]any) Config {
	t.Helper()
	cfg := DefaultConfig()
	for k, v := range args {
		switch k {
		case "lower":
			cfg.Lower = v.(bool)
		case "char_level":
			cfg.CharLevel = v.(bool)
		case "num_words":
			cfg.NumWords = int(v.(float64))
		case "oov_token":
			s := v.(string)
			cfg.OOVToken = &s
		default:
			t.Fatalf("unknown tokenizer arg %q", k)
		}
	}
	return cfg
}

// Keras' legacy Tokenizer fitted on the pin texts: the word index (Python
// lowering at word and character level, NBSP inside words because split
// is " "), the sequences and the round trip, both by fitting here and by
// loading Keras' to_json().
func TestUnicodePinsTokenizer(t *testing.T) {
	p := loadUnicodePins(t)
	for _, k := range p.Tokenizers {
		t.Run(fmt.Sprint(k.Args), func(t *testing.T) {
			fitted, err := NewTokenizer(pinConfig(t, k.Args))
			if err != nil {
				t.Fatal(err)
			}
			if err := fitted.FitOnTexts(p.Texts); err != nil {
				t.Fatal(err)
			}
			loaded, err := ParseTokenizerJSON([]byte(k.ToJSON))
			if err != nil {
				t.Fatal(err)
			}
			for name, tok := range map[string]*Tokenizer{"fitted": fitted, "loaded": loaded} {
				if got := tok.WordIndex(); !reflect.DeepEqual(got, k.WordIndex) {
					t.Errorf("%s: word index\n%v\nKeras\n%v", name, got, k.WordIndex)
				}
				seqs, err := tok.TextsToSequences(p.Texts)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(seqs, k.Sequences) && fmt.Sprint(seqs) != fmt.Sprint(k.Sequences) {
					t.Errorf("%s: sequences\n%v\nKeras\n%v", name, seqs, k.Sequences)
				}
				back, err := tok.SequencesToTexts(k.Sequences)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(back, k.TextsBack) {
					t.Errorf("%s: texts back\n%q\nKeras\n%q", name, back, k.TextsBack)
				}
			}
		})
	}
}

// Split " " keeps no-break and other Unicode spaces inside words, as
// Python's str.split(" ") does.
func TestUnicodePinsSplit(t *testing.T) {
	p := loadUnicodePins(t)
	tok, err := NewTokenizer(Config{Split: " "})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range p.Texts {
		var want []string
		for _, w := range p.SplitSpace[i] {
			if w != "" {
				want = append(want, w)
			}
		}
		got, err := tok.Words(s)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Errorf("Words(%q) = %q, Python %q", s, got, want)
		}
	}
}
