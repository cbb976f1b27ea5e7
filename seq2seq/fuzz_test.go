package seq2seq

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseCharVocab: any bytes give a vocabulary or an error, never a
// panic; a vocabulary that parses encodes and decodes without one.
func FuzzParseCharVocab(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join(sharedCase, "vocab.json")); err == nil {
		f.Add(data, "go. ?")
	}
	f.Add([]byte(`{"source_chars": ["a"], "target_chars": ["\t", "\n"], "start": "\t", "stop": "\n", "max_decoder_len": 2}`), "aab")
	f.Add([]byte(`{"source_chars": ["\u00e9", "\ud83d\ude00"], "target_chars": ["x", "y"], "start": "x", "stop": "y", "max_decoder_len": 1}`), "é😀")
	f.Fuzz(func(t *testing.T, data []byte, text string) {
		v, err := ParseCharVocab(data)
		if err != nil {
			return
		}
		if len(text) > 256 {
			return
		}
		if x, _, err := v.EncodeSource(text); err == nil && x.Shape[2] != len(v.SourceChars) {
			t.Fatalf("one-hot width %d, %d source chars", x.Shape[2], len(v.SourceChars))
		}
		d := v.Decoding()
		if _, err := v.TargetText([]int{d.Start, d.Stop}); err != nil {
			t.Fatal(err)
		}
	})
}
