package convert

import (
	"reflect"
	"testing"
)

// TestAssetVocabulary: Keras 3 reads vocabulary.txt with Python's text
// mode and str.splitlines; a character vocabulary whose "\n" token broke
// that reading is recovered from the config's vocabulary_size.
func TestAssetVocabulary(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		size int
		want []string
	}{
		{"plain", "\n[UNK]\nthe\nwas", 4, []string{"", "[UNK]", "the", "was"}},
		{"trailing newlines dropped", "[UNK]\na\n\n\n", 0, []string{"[UNK]", "a"}},
		{"universal newlines", "\r\n[UNK]\r\na\rb", 0, []string{"", "[UNK]", "a", "b"}},
		{"splitlines breaks", "a\vb\fc\x1cd\u0085e\u2028f", 0, []string{"a", "b", "c", "d", "e", "f"}},
		{"non-breaking space stays", "a\u00a0b\nc", 0, []string{"a\u00a0b", "c"}},
		// "\n".join(["", "[UNK]", "a", "\t", "\n", "\r", "b"]) read back.
		{"newline token recovered", "\n[UNK]\na\n\t\n\n\n\r\nb", 7, []string{"", "[UNK]", "a", "\t", "\n", "\r", "b"}},
		{"unrecoverable keeps Keras' reading", "\n[UNK]\na\n\n\nb", 9, []string{"", "[UNK]", "a", "", "", "b"}},
		{"empty", "", 0, []string{}},
	} {
		if got := AssetVocabulary([]byte(c.in), c.size); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// TestAttachAssets: assets go to layers by Keras 3's object paths, in
// nested models too, and only lookup layers get a Vocabulary.
func TestAttachAssets(t *testing.T) {
	tv := &Layer{Name: "tv_named_anything", ClassName: "TextVectorization", Config: Config{"vocabulary_size": 3.0}}
	tv2 := &Layer{Name: "second", ClassName: "TextVectorization", Config: Config{}}
	inner := &Graph{ClassName: "Functional", Layers: []*Layer{{Name: "in", ClassName: "InputLayer"}, {Name: "sl", ClassName: "StringLookup", Config: Config{}}}}
	g := &Graph{ClassName: "Sequential", Layers: []*Layer{
		{Name: "input", ClassName: "InputLayer"}, tv, tv2,
		{Name: "sub", ClassName: "Functional", Inner: inner},
		{Name: "d", ClassName: "Dense", Config: Config{}},
	}}
	assets := map[string][]byte{
		"layers/text_vectorization/vocabulary.txt":               []byte("\n[UNK]\nx"),
		"layers/text_vectorization/_lookup_layer/vocabulary.txt": []byte("\n[UNK]\nx"),
		"layers/text_vectorization_1/vocabulary.txt":             []byte("\n[UNK]\ny"),
		"layers/functional/layers/string_lookup/vocabulary.txt":  []byte("[UNK]\nz"),
		"layers/dense/vocabulary.txt":                            []byte("not a lookup"),
	}
	attachAssets(g, "", assets, 0)
	if !reflect.DeepEqual(tv.Vocabulary, []string{"", "[UNK]", "x"}) || len(tv.Assets) != 2 {
		t.Errorf("first TextVectorization: %q, assets %v", tv.Vocabulary, tv.Assets)
	}
	if !reflect.DeepEqual(tv2.Vocabulary, []string{"", "[UNK]", "y"}) {
		t.Errorf("second TextVectorization: %q", tv2.Vocabulary)
	}
	if sl := inner.Layers[1]; !reflect.DeepEqual(sl.Vocabulary, []string{"[UNK]", "z"}) {
		t.Errorf("nested StringLookup: %q", sl.Vocabulary)
	}
	if d := g.Layers[4]; d.Vocabulary != nil || d.Assets == nil {
		t.Errorf("Dense: vocabulary %q, assets %v", d.Vocabulary, d.Assets)
	}
}
