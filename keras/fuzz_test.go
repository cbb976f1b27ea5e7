package keras_test

import (
	"os"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rnnkit/rnnkit/keras"
)

// FuzzLoad feeds arbitrary bytes through the whole loading stack (format
// detection, HDF5 or zip, config parsing, weights, layer building) and runs
// what loads on trial inputs: no input may panic or hang. Seeds are the
// example model in every format.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"model.h5", "model.keras", "model.weights.h5", "model.json"} {
		data, err := os.ReadFile(exampleDir + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// Richer graphs: functional with shared layers, nested models, masks.
	for _, c := range []string{"shared_lstm_siamese/model.keras", "nested_sequential_in_functional/model.h5", "bidi_lstm_mask_seq/model.keras", "seq2seq_gru/model.keras"} {
		if data, err := os.ReadFile("../testdata/goldens/" + c); err == nil {
			f.Add(data)
		}
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
