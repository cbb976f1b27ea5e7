package savedmodel

import (
	"reflect"
	"testing"
	"testing/fstest"

	"github.com/rnnkit/rnnkit/convert"
)

// TestAssetVocabulary: a lookup layer's vocabulary file in assets/, found
// by the config path's base name, or as the only asset.
func TestAssetVocabulary(t *testing.T) {
	fsys := fstest.MapFS{
		"m/assets/vocab.txt": {Data: []byte("a\nb\r\nc\n")},
		"m/assets/other.txt": {Data: []byte("x\n")},
		"one/assets/v.txt":   {Data: []byte("p\nq")},
	}
	l := &convert.Layer{Name: "tv", Config: convert.Config{"vocabulary": "/content/drive/vocab.txt"}}
	got, err := assetVocabulary(fsys, "m", l)
	if err != nil || !reflect.DeepEqual(got, []string{"a", "b\r", "c"}) {
		t.Errorf("by base name: %q %v", got, err)
	}
	got, err = assetVocabulary(fsys, "one", &convert.Layer{Name: "tv", Config: convert.Config{}})
	if err != nil || !reflect.DeepEqual(got, []string{"p", "q"}) {
		t.Errorf("single asset: %q %v", got, err)
	}
	if got, _ := assetVocabulary(fsys, "m", &convert.Layer{Name: "tv", Config: convert.Config{}}); got != nil {
		t.Errorf("two assets, no hint: %q, want no guess", got)
	}
	if got, _ := assetVocabulary(fsys, "none", l); got != nil {
		t.Errorf("no assets/: %q", got)
	}
}
