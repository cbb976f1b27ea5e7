package keras_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/layers"
	"github.com/rnnkit/rnnkit/runtime"
)

// readTexts reads a JSON list of strings.
func readTexts(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	if err := json.Unmarshal(b, &texts); err != nil {
		t.Fatal(err)
	}
	return texts
}

// layerOutput builds the layer named name of m's description alone and
// runs it on x.
func layerOutput(t *testing.T, m *keras.Model, name string, x *keras.Tensor) *keras.Tensor {
	t.Helper()
	var spec *convert.Layer
	for _, l := range m.Description().Graph.Layers {
		if l.Name == name {
			spec = l
		}
	}
	if spec == nil {
		t.Fatalf("no layer %q", name)
	}
	reg := layers.Standard()
	l, err := reg.Build(spec, &layers.Env{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := l.Call(runtime.NewWorkspace(false), &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: x}}}}})
	if err != nil {
		t.Fatal(err)
	}
	return outs[0].T
}

// TestTextVectorizationGoldens runs the six string-input models of
// goldens-text/textvectorization (Keras 3 .keras files: TextVectorization
// with its vocabulary asset, Embedding, a recurrent layer, Dense) on their
// texts: the TextVectorization ids must equal ids.npy exactly and the
// model's output y0.npy within 1e-5 + 1e-4 relative.
func TestTextVectorizationGoldens(t *testing.T) {
	root := "../testdata/goldens-text/textvectorization"
	for _, c := range []string{"tv_default_len12_lstm", "tv_ragged_mask_gru", "tv_lower_only", "tv_strip_only", "tv_no_standardize", "tv_character_bilstm"} {
		t.Run(c, func(t *testing.T) {
			dir := filepath.Join(root, c)
			m, err := keras.Load(filepath.Join(dir, "model.keras"))
			if err != nil {
				t.Fatal(err)
			}
			in := m.Inputs()
			if len(in) != 1 || in[0].DType != "string" {
				t.Fatalf("inputs %+v: want one string input", in)
			}
			texts := readTexts(t, filepath.Join(dir, "texts.json"))
			x, err := keras.FromStrings(texts)
			if err != nil {
				t.Fatal(err)
			}
			wantIDs, err := keras.ReadNPYFile(filepath.Join(dir, "ids.npy"))
			if err != nil {
				t.Fatal(err)
			}
			ids := layerOutput(t, m, "text_vectorization", x)
			if len(ids.Shape) != 2 || ids.Shape[0] != wantIDs.Shape[0] || ids.Shape[1] != wantIDs.Shape[1] {
				t.Fatalf("ids shape %v, want %v", ids.Shape, wantIDs.Shape)
			}
			for i, v := range ids.Data {
				if v != wantIDs.Data[i] {
					t.Fatalf("id %d (text %d %q) = %v, want %v", i, i/ids.Shape[1], texts[i/ids.Shape[1]], v, wantIDs.Data[i])
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

func checkClose(t *testing.T, got, want *keras.Tensor) {
	t.Helper()
	if len(got.Data) != len(want.Data) {
		t.Fatalf("output shape %v, want %v", got.Shape, want.Shape)
	}
	for i, v := range got.Data {
		w := float64(want.Data[i])
		if d := math.Abs(float64(v) - w); !(d <= 1e-5+1e-4*math.Abs(w)) {
			t.Errorf("output %d = %v, Keras %v", i, v, w)
		}
	}
}
