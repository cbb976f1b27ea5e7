package keras_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
)

// TestPreprocessingGoldens runs the cases of testdata/preprocessing
// (gen_modes.py: TextVectorization ngrams in int and multi_hot modes,
// count with pad_to_max_tokens, tf_idf with its idf weights in the
// weights file, max_tokens with a ragged batch, and StringLookup with a
// config vocabulary and a mask token on a (None, 4) input, each followed
// by layers real Keras 3.16 computed): the preprocessing layer's output
// must equal pre.npy (TensorFlow's string-op rules) and the model's output
// y0.npy within 1e-5 + 1e-4 relative.
func TestPreprocessingGoldens(t *testing.T) {
	root := "../testdata/preprocessing"
	for _, c := range []struct{ dir, layer string }{
		{"tv_ngrams2_multi_hot", "text_vectorization"},
		{"tv_count_pad_to_max", "text_vectorization"},
		{"tv_tf_idf", "text_vectorization"},
		{"tv_ngrams12_int_gru", "text_vectorization"},
		{"tv_max_tokens_ragged_gru", "text_vectorization"},
		{"stringlookup_mask_embedding", "string_lookup"},
	} {
		t.Run(c.dir, func(t *testing.T) {
			dir := filepath.Join(root, c.dir)
			m, err := keras.Load(filepath.Join(dir, "model.keras"))
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, "texts.json"))
			if err != nil {
				t.Fatal(err)
			}
			var x *keras.Tensor
			var flat []string
			if json.Unmarshal(b, &flat) == nil {
				x, err = keras.FromStrings(flat)
			} else {
				flat = nil
				var rows [][]string
				if err := json.Unmarshal(b, &rows); err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					flat = append(flat, r...)
				}
				x, err = keras.FromStrings(flat, len(rows), len(rows[0]))
			}
			if err != nil {
				t.Fatal(err)
			}
			pre, err := keras.ReadNPYFile(filepath.Join(dir, "pre.npy"))
			if err != nil {
				t.Fatal(err)
			}
			got := layerOutput(t, m, c.layer, x)
			if len(got.Data) != len(pre.Data) || got.Shape[len(got.Shape)-1] != pre.Shape[len(pre.Shape)-1] {
				t.Fatalf("%s output shape %v, want %v", c.layer, got.Shape, pre.Shape)
			}
			for i, v := range got.Data {
				if math.Abs(float64(v-pre.Data[i])) > 1e-6*math.Abs(float64(pre.Data[i])) {
					t.Fatalf("%s output %d = %v, want %v", c.layer, i, v, pre.Data[i])
				}
			}
			want, err := keras.ReadNPYFile(filepath.Join(dir, "y0.npy"))
			if err != nil {
				t.Fatal(err)
			}
			ys, err := m.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			checkClose(t, ys[0], want)
		})
	}
}
