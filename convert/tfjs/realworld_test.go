package tfjs

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/internal/modeltest"
	"github.com/rnnkit/rnnkit/internal/testutil"
)

// TestRealworldRead reads both real TF.js models (early converter output
// and a tfjs-layers-written model) and compares each layer's weights with
// the manifest names, order and shapes Keras' reference loader used
// (expected/case.json).
func TestRealworldRead(t *testing.T) {
	rw, ids := testutil.RealworldIDs(t, "tfjs-layers")
	if len(ids) != 2 {
		t.Errorf("MANIFEST.json lists %d TF.js models, want 2", len(ids))
	}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			dir := filepath.Join(rw, id)
			c := testutil.ReadRealworldCase(t, dir)
			m, err := ReadFile(filepath.Join(dir, "model.json"), convert.ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Format != Format || m.KerasVersion != c.Writer.KerasVersion {
				t.Errorf("format %q version %q, want %q %q", m.Format, m.KerasVersion, Format, c.Writer.KerasVersion)
			}
			got := modeltest.Weights(m.Graph)
			if len(got) != len(c.Weights) {
				t.Fatalf("%d weights, want %d", len(got), len(c.Weights))
			}
			for i, w := range got {
				want := c.Weights[i]
				if w.Name != want.Source || !reflect.DeepEqual(w.Shape, want.Shape) {
					t.Errorf("weight %d: %s %v, want %s %v", i, w.Name, w.Shape, want.Source, want.Shape)
				}
				size := 1
				for _, d := range w.Shape {
					size *= d
				}
				if len(w.Data) != size {
					t.Errorf("weight %d (%s): %d values for shape %v", i, w.Name, len(w.Data), w.Shape)
				}
			}
		})
	}
}
