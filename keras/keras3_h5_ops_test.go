package keras_test

import (
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
)

// TestKeras3LegacyH5OpNodes loads legacy .h5 files Keras 3 wrote for
// models with operation nodes, which it records without their module
// (testdata/keras3_h5_ops/generate.py), and checks Keras' outputs.
func TestKeras3LegacyH5OpNodes(t *testing.T) {
	for _, name := range []string{"multi_input_multi_output", "seq2seq_lstm"} {
		t.Run(name, func(t *testing.T) {
			c, err := keras.ReadCase(filepath.Join("..", "testdata", "keras3_h5_ops", name))
			if err != nil {
				t.Fatal(err)
			}
			m, err := c.Load("h5")
			if err != nil {
				t.Fatal(err)
			}
			results, err := c.Run(m)
			if err != nil {
				t.Fatal(err)
			}
			reportResults(t, results)
		})
	}
}
