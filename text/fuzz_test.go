package text

import (
	"os"
	"path/filepath"
	"testing"
)

// fuzzTexts exercise a loaded tokenizer: Unicode, filtered-only, empty.
var fuzzTexts = []string{"The movie was GREAT!", "", "!!!", "ΟΔΟΣ İ ß 😀 한국어", "a\u00a0b  c"}

// exercise runs everything a loaded Tokenizer offers on small inputs; none
// of it may panic, whatever the file held.
func exercise(t *testing.T, tok *Tokenizer) {
	seqs, err := tok.TextsToSequences(fuzzTexts)
	if err != nil {
		return
	}
	// A file's word_index and index_word may disagree (projects assign
	// word_index after fitting; Keras then uses each where it reads it), so
	// the strict round trip may fail, with an error.
	_, _ = tok.SequencesToTexts(seqs)
	_, _ = tok.SequencesToTexts([][]int{{0, -1, 1 << 40, 1, 2, 3}})
	_, _ = tok.SequencesToTextsLenient([][]int{{0, -1, 1 << 40, 1, 2, 3}})
	if tok.VocabularySize() <= 1<<16 {
		for _, mode := range []string{ModeBinary, ModeCount, ModeFreq, ModeTFIDF} {
			_, _ = tok.SequencesToMatrix(seqs, mode)
		}
	}
	if _, err := PadSequences(seqs, PadOptions{MaxLen: MaxLen(4)}); err != nil {
		t.Fatalf("pad: %v", err)
	}
}

func addSeeds(f *testing.F, patterns ...string) {
	n := 0
	for _, p := range patterns {
		files, _ := filepath.Glob(p)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
			n++
		}
	}
	if n == 0 {
		f.Fatalf("no seeds in %v", patterns)
	}
}

// FuzzPickle feeds arbitrary bytes to the pickle reader (as a Tokenizer
// and as a vocabulary). Run it with -fuzzminimizetime 1x.
func FuzzPickle(f *testing.F) {
	addSeeds(f, "../testdata/goldens-text/tok_*/*.pickle", "testdata/vocab/*.pkl")
	f.Add([]byte("\x80\x04N."))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !isPickle(data) {
			data = append([]byte{0x80, 0x04}, data...)
		}
		if tok, err := ParseTokenizer(data); err == nil {
			exercise(t, tok)
		}
		_, _ = ParseVocabulary(data)
	})
}

// FuzzTokenizerJSON feeds arbitrary bytes to the tokenizer-JSON reader
// (to_json() output, JSON-encoded twice, word-index objects).
func FuzzTokenizerJSON(f *testing.F) {
	addSeeds(f, "../testdata/goldens-text/tok_*/*.json", "testdata/vocab/*.json")
	f.Add([]byte(`"{\"class_name\": \"Tokenizer\", \"config\": {}}"`))
	f.Add([]byte(`{"a": 1, "b": 1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if tok, err := ParseTokenizerJSON(data); err == nil {
			exercise(t, tok)
		}
		_, _ = ParseVocabulary(data)
	})
}
