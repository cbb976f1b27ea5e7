package convert

import (
	"strings"
	"testing"
)

// FuzzAssetVocabulary: any bytes split without panic, and the
// newline-token recovery never yields more entries than asked for nor
// loses text other than line breaks.
func FuzzAssetVocabulary(f *testing.F) {
	f.Add([]byte("\n[UNK]\na\n\t\n\n\n\r\nb"), 7)
	f.Add([]byte("a\r\nb\u2028c"), 0)
	f.Add([]byte("\xff\n\xfe"), 2)
	f.Fuzz(func(t *testing.T, b []byte, size int) {
		v := AssetVocabulary(b, size%64)
		joined := strings.Join(v, "")
		for _, tok := range v {
			if !strings.Contains(string(b), tok) {
				t.Fatalf("token %q not in the input", tok)
			}
		}
		if len(joined) > len(b) {
			t.Fatalf("%d bytes of tokens from %d bytes", len(joined), len(b))
		}
	})
}
