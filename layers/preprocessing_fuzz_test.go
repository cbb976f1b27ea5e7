package layers

import (
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// FuzzTextVectorization feeds arbitrary strings (invalid UTF-8 included)
// through TextVectorization in each split mode, with ngrams, and through
// Hashing: no panic, every id within the vocabulary, the padded width
// as configured.
func FuzzTextVectorization(f *testing.F) {
	for _, s := range []string{"The movie was GREAT!", "", "   ", "\xff\xfe", "İstanbul ß 😀", "a\tb\nc\rd\ve\ff"} {
		f.Add(s, "x y")
	}
	reg := Standard()
	vocab := anyList("the", "movie", "a", "b", "ß", "😀", "the movie", "a b")
	var tvs []runtime.Layer
	for _, cfg := range []convert.Config{
		{"vocabulary": vocab},
		{"vocabulary": vocab, "split": "character", "output_sequence_length": 7.0},
		{"vocabulary": vocab, "split": nil, "standardize": "lower"},
		{"vocabulary": vocab, "ngrams": 3.0, "output_mode": "count"},
		{"vocabulary": vocab, "ngrams": anyList(2.0), "output_mode": "tf_idf", "idf_weights": anyList(1.0, 2, 3, 4, 5, 6, 7, 8)},
	} {
		l, err := reg.Build(&convert.Layer{Name: "tv", ClassName: "TextVectorization", Config: cfg}, &Env{Registry: reg})
		if err != nil {
			f.Fatal(err)
		}
		tvs = append(tvs, l)
	}
	h, err := reg.Build(&convert.Layer{Name: "h", ClassName: "Hashing", Config: convert.Config{"num_bins": 5.0, "mask_value": "", "salt": 7.0}}, &Env{Registry: reg})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		x := &runtime.Tensor{Shape: []int{2, 1}, Strings: []string{a, b}}
		for i, l := range tvs {
			out, err := callLayer(t, l, x)
			if err != nil {
				t.Fatalf("layer %d: %v", i, err)
			}
			if i == 1 && out.Shape[1] != 7 {
				t.Fatalf("character split: width %d, want 7", out.Shape[1])
			}
			for _, v := range out.Data {
				if i < 3 && (v < 0 || v >= 10 || v != float32(int(v))) {
					t.Fatalf("layer %d: id %v outside the vocabulary", i, v)
				}
				if v != v {
					t.Fatalf("layer %d: NaN", i)
				}
			}
		}
		out, err := callLayer(t, h, x)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out.Data {
			if v < 0 || v >= 5 {
				t.Fatalf("bin %v outside [0, 5)", v)
			}
		}
	})
}
