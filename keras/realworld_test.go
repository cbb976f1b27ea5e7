package keras_test

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"github.com/rnnkit/rnnkit/internal/testutil"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"testing/fstest"

	"github.com/rnnkit/rnnkit/keras"
)

type artifact struct {
	ID     string `json:"id"`
	Format string `json:"format"`
	Files  []struct {
		Name string `json:"name"`
	} `json:"files"`
}

// TestRealworld loads every artifact of the real-world corpus, runs it on
// the inputs of its expected/ folder and compares with Keras' outputs at
// the stated tolerance. Artifacts without a reference must load, or fail
// with a clear error (weights-only files: ErrNoArchitecture).
func TestRealworld(t *testing.T) {
	// The corpus holds real Keras files from public projects, with
	// reference outputs computed by Keras in expected/. They are never
	// copied into this repository; the test skips when they are absent.
	realworldDir := testutil.RealworldDir(t)
	data, err := os.ReadFile(filepath.Join(realworldDir, "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	var arts []artifact
	if err := json.Unmarshal(data, &arts); err != nil {
		t.Fatalf("MANIFEST.json: %v", err)
	}
	for _, a := range arts {
		t.Run(a.ID, func(t *testing.T) { runArtifact(t, realworldDir, a) })
	}
}

func runArtifact(t *testing.T, realworldDir string, a artifact) {
	dir := filepath.Join(realworldDir, a.ID)
	c, err := keras.ReadCase(filepath.Join(dir, "expected"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := loadArtifact(t, dir, a, c)
	if c.Reference != nil && !*c.Reference {
		if err != nil {
			if !errors.Is(err, keras.ErrNoArchitecture) && !errors.Is(err, keras.ErrUnsupported) {
				t.Fatalf("artifact without reference failed with an unclear error: %v", err)
			}
			t.Logf("fails as expected: %v", err)
			return
		}
		if s := m.Summary(); s.ShapeError != "" {
			t.Fatalf("loads but does not run: %s", s.ShapeError)
		}
		return
	}
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	results, err := c.Run(m)
	if err != nil {
		t.Fatal(err)
	}
	reportResults(t, results)
}

var siblingRE = regexp.MustCompile(`sibling artifact (\S+)`)

// loadArtifact loads an artifact through Case.Load, except a weights-only
// Keras 3 file whose architecture lives in a sibling artifact's .keras zip,
// as its reference's case.json says (loaded_how).
func loadArtifact(t *testing.T, dir string, a artifact, c *keras.Case) (*keras.Model, error) {
	t.Helper()
	if a.Format != "keras3-weights-h5" {
		return c.Load("artifact")
	}
	raw, err := os.ReadFile(filepath.Join(dir, "expected", "case.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cj struct {
		LoadedHow string `json:"loaded_how"`
	}
	if err := json.Unmarshal(raw, &cj); err != nil {
		t.Fatal(err)
	}
	sm := siblingRE.FindStringSubmatch(cj.LoadedHow)
	if sm == nil {
		t.Fatalf("no sibling architecture named in loaded_how %q", cj.LoadedHow)
	}
	cfg := configFromZip(t, filepath.Join(filepath.Dir(dir), sm[1]))
	if len(a.Files) != 1 {
		t.Fatalf("artifact %s: want one weights file, got %d", a.ID, len(a.Files))
	}
	weights, err := os.ReadFile(filepath.Join(dir, a.Files[0].Name))
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"config.json":      {Data: cfg},
		"model.weights.h5": {Data: weights},
	}
	return keras.LoadConfigAndWeightsFS(fsys, "config.json", "model.weights.h5")
}

// configFromZip returns config.json from the .keras zip in dir.
func configFromZip(t *testing.T, dir string) []byte {
	t.Helper()
	zips, _ := filepath.Glob(filepath.Join(dir, "*.keras"))
	if len(zips) != 1 {
		t.Fatalf("%s: want one .keras file, found %v", dir, zips)
	}
	zr, err := zip.OpenReader(zips[0])
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open("config.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
