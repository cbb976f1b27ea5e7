package convert

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/h5"
)

// FuzzParseModelConfig checks that no configuration makes the parser
// panic or hang, and that an accepted graph is self-consistent. Seeds:
// golden configs (testdata/convert/configs, copied from Keras 3.16
// output), the Keras 1 fixture config and the table tests' snippets.
func FuzzParseModelConfig(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(fixtureDir, "configs", "*.json"))
	seeds = append(seeds, filepath.Join(fixtureDir, "keras1.json"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{keras1Sequential, keras2Model, keras3Functional} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ParseModelConfig(data, ParseOptions{File: "fuzz.json"})
		if err != nil {
			return
		}
		if len(g.Inputs) == 0 || len(g.Outputs) == 0 || len(g.Layers) == 0 {
			t.Fatalf("accepted a graph with %d inputs, %d outputs, %d layers", len(g.Inputs), len(g.Outputs), len(g.Layers))
		}
		for _, l := range g.Layers {
			_ = l.clone()
			ownsWeights(l)
			expectedShapes(l)
			// Assigning no weights must fail or succeed cleanly.
			_ = AssignWeights(l, nil)
		}
	})
}

// FuzzReadHDF5 feeds mutated legacy HDF5 fixtures to the HDF5 model and
// weights readers: they must return errors, never panic.
func FuzzReadHDF5(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(fixtureDir, "*.h5"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	cfg, err := os.ReadFile(filepath.Join(fixtureDir, "keras1.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		hf, err := h5.OpenReaderAt(bytes.NewReader(data), int64(len(data)), "fuzz.h5")
		if err != nil {
			return
		}
		defer hf.Close()
		_, _ = ReadHDF5Model(hf)
		_, _ = ReadConfigAndWeights(cfg, hf)
	})
}

// FuzzReadKerasZip feeds mutated .keras archives (golden cases copied to
// testdata/goldens) to the zip reader: errors, never panics.
func FuzzReadKerasZip(f *testing.F) {
	for _, c := range []string{"lstm_seq", "bidi_gru_concat_seq", "nested_sequential_in_functional"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "goldens", c, "model.keras"))
		if err != nil {
			continue
		}
		f.Add(b)
	}
	// A deflated archive, so that inflation and its checks are fuzzed.
	if _, err := os.Stat(committedKeras); err == nil {
		f.Add(rezip(f, committedKeras, nil, nil))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ReadKerasZip(bytes.NewReader(data), int64(len(data)), "fuzz.keras")
	})
}
