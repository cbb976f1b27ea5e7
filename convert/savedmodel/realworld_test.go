package savedmodel

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/internal/modeltest"
	"github.com/rnnkit/rnnkit/internal/testutil"
)

// TestRealworldBundles checks every tensor of every real SavedModel's
// checkpoint against the CRC32C TensorFlow stored for it.
func TestRealworldBundles(t *testing.T) {
	rw, ids := testutil.RealworldIDs(t, "tf-savedmodel")
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			c := testutil.ReadRealworldCase(t, filepath.Join(rw, id))
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
	rw, ids := testutil.RealworldIDs(t, "tf-savedmodel")
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			c := testutil.ReadRealworldCase(t, filepath.Join(rw, id))
			smDir := filepath.Dir(filepath.Dir(c.Artifact.Files[len(c.Artifact.Files)-1]))
			m, err := ReadDir(filepath.Join(rw, id, smDir), convert.ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Format != Format || m.KerasVersion != c.Writer.KerasVersion || m.Backend != "tensorflow" {
				t.Errorf("format %q version %q backend %q, want %q %q tensorflow", m.Format, m.KerasVersion, m.Backend, Format, c.Writer.KerasVersion)
			}
			got := modeltest.Weights(m.Graph)
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
