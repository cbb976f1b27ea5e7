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
//
// Seeds are the fixtures of at most 8 KiB and the tiny models of
// testdata/fuzzseed: larger seeds make each mutation and minimization
// slow (the fixtures of 11-18 KB held the rate to a few execs per second
// without -fuzzminimizetime).
// fuzzSeedDir holds the tiny models the file-reading fuzz targets seed
// from (written by keras TestFuzzSeeds).
const fuzzSeedDir = "../testdata/fuzzseed"

func FuzzReadHDF5(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(fixtureDir, "*.h5"))
	seeds = append(seeds, filepath.Join(fuzzSeedDir, "tiny.h5"), filepath.Join(fuzzSeedDir, "tiny.weights.h5"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) <= 8<<10 {
			f.Add(b)
		}
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

// FuzzReadKerasZip feeds mutated .keras archives to the zip reader:
// errors, never panics. The seed is the tiny model of testdata/fuzzseed
// (7 KB, a deflated config and a stored weights file), small enough that
// mutation and minimization stay cheap.
func FuzzReadKerasZip(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(fuzzSeedDir, "tiny.keras"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	// A deflated archive, so that inflation and its checks are fuzzed.
	if _, err := os.Stat(committedKeras); err == nil {
		f.Add(rezip(f, committedKeras, nil, nil))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ReadKerasZip(bytes.NewReader(data), int64(len(data)), "fuzz.keras")
	})
}
