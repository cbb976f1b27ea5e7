package savedmodel

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
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

type manifestEntry struct {
	ID     string `json:"id"`
	Format string `json:"format"`
}

// realworldCases lists the artifacts of one format with the case.json
// weight list that Keras' own loader reported.
func realworldCases(t *testing.T, format string) (rw string, ids []string) {
	rw = realworldDir(t)
	data, err := os.ReadFile(filepath.Join(rw, "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m []manifestEntry
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, e := range m {
		if e.Format == format {
			ids = append(ids, e.ID)
		}
	}
	if len(ids) == 0 {
		t.Fatalf("MANIFEST.json lists no %s artifact", format)
	}
	return rw, ids
}

type caseWeight struct {
	Path   string `json:"path"`
	Shape  []int  `json:"shape"`
	Source string `json:"source"`
}

type caseFile struct {
	Artifact struct {
		Files []string `json:"files"`
	} `json:"artifact"`
	Writer struct {
		KerasVersion string `json:"keras_version"`
	} `json:"writer"`
	Weights []caseWeight `json:"weights"`
}

func readCase(t *testing.T, dir string) caseFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "expected", "case.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c caseFile
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c
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
		if cs, ok := l.Config["cells"].([]any); ok {
			for _, c := range cs {
				if s, ok := c.(*convert.Layer); ok {
					visit(s)
				}
			}
		}
	}
	for _, l := range g.Layers {
		visit(l)
	}
	return out
}

// TestRealworldBundles checks every tensor of every real SavedModel's
// checkpoint against the CRC32C TensorFlow stored for it.
func TestRealworldBundles(t *testing.T) {
	rw, ids := realworldCases(t, "tf-savedmodel")
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			c := readCase(t, filepath.Join(rw, id))
			smDir := filepath.Dir(filepath.Dir(c.Artifact.Files[len(c.Artifact.Files)-1]))
			b, err := OpenBundle(os.DirFS(filepath.Join(rw, id, smDir)), "variables/variables")
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if len(b.Keys()) < 2 {
				t.Fatalf("bundle has %d keys", len(b.Keys()))
			}
			for _, k := range b.Keys() {
				raw, err := b.ReadRaw(k)
				if err != nil {
					t.Fatal(err)
				}
				e, _ := b.Entry(k)
				if int64(len(raw)) != e.Size {
					t.Errorf("%s: read %d bytes, entry says %d", k, len(raw), e.Size)
				}
			}
		})
	}
}

// TestRealworldRead reads every real SavedModel and compares the weights
// each layer got (order and shapes) with the list Keras reported for the
// same files in expected/case.json, including the checkpoint key the
// reference loader used.
func TestRealworldRead(t *testing.T) {
	rw, ids := realworldCases(t, "tf-savedmodel")
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			c := readCase(t, filepath.Join(rw, id))
			smDir := filepath.Dir(filepath.Dir(c.Artifact.Files[len(c.Artifact.Files)-1]))
			m, err := ReadDir(filepath.Join(rw, id, smDir), convert.ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Format != Format || m.KerasVersion != c.Writer.KerasVersion || m.Backend != "tensorflow" {
				t.Errorf("format %q version %q backend %q, want %q %q tensorflow", m.Format, m.KerasVersion, m.Backend, Format, c.Writer.KerasVersion)
			}
			got := modelWeights(m.Graph)
			if len(got) != len(c.Weights) {
				t.Fatalf("%d weights, want %d", len(got), len(c.Weights))
			}
			for i, w := range got {
				want := c.Weights[i]
				if !reflect.DeepEqual(w.Shape, want.Shape) {
					t.Errorf("weight %d (%s): shape %v, want %v (%s)", i, w.Name, w.Shape, want.Shape, want.Path)
				}
				// The reference names the TF variable it used; ours must be the same one.
				if !strings.Contains(want.Source, "; "+w.Name+")") {
					t.Errorf("weight %d: variable %q, reference used %q", i, w.Name, want.Source)
				}
				n := 1
				for _, d := range w.Shape {
					n *= d
				}
				if len(w.Data) != n {
					t.Errorf("weight %d (%s): %d values for shape %v", i, w.Name, len(w.Data), w.Shape)
				}
			}
		})
	}
}

func TestReadNotSavedModel(t *testing.T) {
	_, err := Read(os.DirFS(t.TempDir()), ".", convert.ParseOptions{})
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want a not-exist error", err)
	}
}
