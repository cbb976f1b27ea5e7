package tfjs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
)

// realworldDir returns ../shared/realworld beside the repository root, or
// skips the test when it is absent (it is never committed).
func realworldDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root not found")
		}
		dir = parent
	}
	rw := filepath.Join(dir, "..", "shared", "realworld")
	if _, err := os.Stat(filepath.Join(rw, "MANIFEST.json")); err != nil {
		t.Skipf("real-world files absent (%v)", err)
	}
	return rw
}

type caseFile struct {
	Writer struct {
		KerasVersion string `json:"keras_version"`
	} `json:"writer"`
	Weights []struct {
		Path   string `json:"path"`
		Shape  []int  `json:"shape"`
		Source string `json:"source"`
	} `json:"weights"`
}

// modelWeights lists every weight of g in graph order, innermost layers
// included, as the reference case files do.
func modelWeights(g *convert.Graph) []convert.Weight {
	var out []convert.Weight
	var visit func(l *convert.Layer)
	visit = func(l *convert.Layer) {
		if l.Inner != nil {
			for _, s := range l.Inner.Layers {
				visit(s)
			}
			return
		}
		out = append(out, l.Weights...)
		for _, k := range []string{"layer", "backward_layer", "cell"} {
			if s, ok := l.Config[k].(*convert.Layer); ok {
				visit(s)
			}
		}
	}
	for _, l := range g.Layers {
		visit(l)
	}
	return out
}

// TestRealworldRead reads both real TF.js models (early converter output
// and a tfjs-layers-written model) and compares each layer's weights with
// the manifest names, order and shapes Keras' reference loader used
// (expected/case.json).
func TestRealworldRead(t *testing.T) {
	rw := realworldDir(t)
	var manifest []struct {
		ID     string `json:"id"`
		Format string `json:"format"`
	}
	data, err := os.ReadFile(filepath.Join(rw, "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &manifest); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range manifest {
		if e.Format != "tfjs-layers" {
			continue
		}
		n++
		t.Run(e.ID, func(t *testing.T) {
			dir := filepath.Join(rw, e.ID)
			data, err := os.ReadFile(filepath.Join(dir, "expected", "case.json"))
			if err != nil {
				t.Fatal(err)
			}
			var c caseFile
			if err := json.Unmarshal(data, &c); err != nil {
				t.Fatal(err)
			}
			m, err := ReadFile(filepath.Join(dir, "model.json"), convert.ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Format != Format || m.KerasVersion != c.Writer.KerasVersion {
				t.Errorf("format %q version %q, want %q %q", m.Format, m.KerasVersion, Format, c.Writer.KerasVersion)
			}
			got := modelWeights(m.Graph)
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
	if n != 2 {
		t.Errorf("MANIFEST.json lists %d TF.js models, want 2", n)
	}
}
