package keras_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/rnnkit/rnnkit/h5"
	"github.com/rnnkit/rnnkit/keras"
)

// The fuzz targets that read whole model files (keras FuzzLoad, convert
// FuzzReadHDF5 and FuzzReadKerasZip) seed from the tiny models of
// testdata/fuzzseed, a few KB each, so that mutating and minimizing them
// is cheap: Embedding(5, 2) -> SimpleRNN(2) -> Dense(1) as a legacy
// (Keras 2) HDF5 file, the same as a .keras zip and as a .weights.h5 with
// its architecture JSON. TestFuzzSeeds checks them; RNNKIT_WRITE_FUZZSEEDS=1
// writes them anew from the definition below.
const fuzzSeedDir = "../testdata/fuzzseed"

const tinyConfig = `{"class_name": "Sequential", "config": {"name": "tiny", "layers": [` +
	`{"class_name": "InputLayer", "config": {"batch_input_shape": [null, null], "dtype": "int32", "name": "ids"}}, ` +
	`{"class_name": "Embedding", "config": {"name": "emb", "input_dim": 5, "output_dim": 2, "mask_zero": true}}, ` +
	`{"class_name": "SimpleRNN", "config": {"name": "rnn", "units": 2, "activation": "tanh", "use_bias": true}}, ` +
	`{"class_name": "Dense", "config": {"name": "out", "units": 1, "activation": "sigmoid", "use_bias": true}}]}}`

// tinyLegacyH5 builds the tiny model as Keras 2.4 writes model.save(".h5").
func tinyLegacyH5(t *testing.T) []byte {
	b := h5.NewBuilder()
	root := b.Root()
	root.SetString("model_config", tinyConfig)
	root.SetString("keras_version", "2.4.0")
	root.SetString("backend", "tensorflow")
	wg := root.Group("model_weights")
	wg.SetFixedStrings("layer_names", []string{"emb", "rnn", "out"})
	wg.SetString("keras_version", "2.4.0")
	wg.SetString("backend", "tensorflow")
	vals := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i%7-3) / 4
		}
		return v
	}
	layer := func(name, cell string, ws map[string][]int, order []string) {
		g := wg.Group(name)
		var names []string
		inner := g.Group(name)
		if cell != "" {
			inner = inner.Group(cell)
		}
		for _, w := range order {
			prefix := name + "/"
			if cell != "" {
				prefix += cell + "/"
			}
			names = append(names, prefix+w+":0")
			n := 1
			for _, d := range ws[w] {
				n *= d
			}
			inner.Float32(w+":0", ws[w], vals(n))
		}
		g.SetFixedStrings("weight_names", names)
	}
	layer("emb", "", map[string][]int{"embeddings": {5, 2}}, []string{"embeddings"})
	layer("rnn", "simple_rnn_cell", map[string][]int{"kernel": {2, 2}, "recurrent_kernel": {2, 2}, "bias": {2}}, []string{"kernel", "recurrent_kernel", "bias"})
	layer("out", "", map[string][]int{"kernel": {2, 1}, "bias": {1}}, []string{"kernel", "bias"})
	var buf bytes.Buffer
	if err := b.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tinySeeds returns the seed files by name, built from tinyConfig.
func tinySeeds(t *testing.T) map[string][]byte {
	legacy := tinyLegacyH5(t)
	m, err := keras.LoadFS(fstest.MapFS{"tiny.h5": {Data: legacy}}, "tiny.h5")
	if err != nil {
		t.Fatalf("tiny legacy model: %v", err)
	}
	dir := t.TempDir()
	out := map[string][]byte{"tiny.h5": legacy, "tiny.json": []byte(tinyConfig)}
	for name, opt := range map[string]keras.SaveOptions{"tiny.keras": {}, "tiny.weights.h5": {WeightsOnly: true}} {
		p := filepath.Join(dir, name)
		if _, err := m.SaveKeras(p, opt); err != nil {
			t.Fatalf("saving %s: %v", name, err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = b
	}
	// The weights file needs the architecture Keras 3 writes with it.
	cfg, err := m.Keras3ConfigJSON()
	if err != nil {
		t.Fatal(err)
	}
	out["tiny.json"] = cfg
	return out
}

// TestFuzzSeeds checks that the committed seeds load, agree with each
// other, and are small; with RNNKIT_WRITE_FUZZSEEDS=1 it writes them.
func TestFuzzSeeds(t *testing.T) {
	if os.Getenv("RNNKIT_WRITE_FUZZSEEDS") != "" {
		if err := os.MkdirAll(fuzzSeedDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range tinySeeds(t) {
			if err := os.WriteFile(filepath.Join(fuzzSeedDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	x, err := keras.FromTokenIDs([]int{1, 2, 3, 4, 0, 0}, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	var want []float32
	for _, load := range []struct {
		name string
		load func() (*keras.Model, error)
	}{
		{"tiny.h5", func() (*keras.Model, error) { return keras.Load(filepath.Join(fuzzSeedDir, "tiny.h5")) }},
		{"tiny.keras", func() (*keras.Model, error) { return keras.Load(filepath.Join(fuzzSeedDir, "tiny.keras")) }},
		{"tiny.json + tiny.weights.h5", func() (*keras.Model, error) {
			return keras.LoadConfigAndWeights(filepath.Join(fuzzSeedDir, "tiny.json"), filepath.Join(fuzzSeedDir, "tiny.weights.h5"))
		}},
	} {
		m, err := load.load()
		if err != nil {
			t.Fatalf("%s: %v", load.name, err)
		}
		y, err := m.Predict(x)
		if err != nil {
			t.Fatalf("%s: %v", load.name, err)
		}
		if want == nil {
			want = y[0].Data
		} else if !slices.Equal(y[0].Data, want) {
			t.Errorf("%s computes %v, tiny.h5 %v", load.name, y[0].Data, want)
		}
	}
	for _, name := range []string{"tiny.h5", "tiny.keras", "tiny.json", "tiny.weights.h5"} {
		fi, err := os.Stat(filepath.Join(fuzzSeedDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 8<<10 {
			t.Errorf("%s: %d bytes; fuzz seeds must stay small", name, fi.Size())
		}
	}
}
