package keras_test

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rnnkit/rnnkit/keras"
)

// FuzzLoad feeds arbitrary bytes through the whole loading stack (format
// detection, HDF5 or zip, config parsing, weights, layer building) and runs
// what loads on trial inputs: no input may panic or hang. Seeds are the
// tiny model of testdata/fuzzseed in every format (a few KB each: larger
// seeds make each mutation and minimization slow) and the example
// model's architecture JSON.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"tiny.h5", "tiny.keras", "tiny.weights.h5", "tiny.json"} {
		data, err := os.ReadFile(filepath.Join(fuzzSeedDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	if data, err := os.ReadFile(exampleDir + "model.json"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			m, err := keras.LoadFS(fstest.MapFS{"m": {Data: data}}, "m")
			if err != nil {
				return
			}
			_ = m.Summary() // runs the model twice on zeros
		}()
		// A hang is a failure too; failing records the input.
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("load of %d bytes did not finish in 10s", len(data))
		}
	})
}
