package testutil

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// RealworldDir returns the real-world corpus, SharedDir(t, "realworld"),
// or skips the test when it (or its MANIFEST.json) is absent.
func RealworldDir(t testing.TB) string {
	t.Helper()
	rw := SharedDir(t, "realworld")
	if _, err := os.Stat(filepath.Join(rw, "MANIFEST.json")); err != nil {
		skipShared(t, rw, err)
	}
	return rw
}

// RealworldIDs returns RealworldDir and the IDs of the artifacts MANIFEST.json lists with
// the given format ("tf-savedmodel", "tfjs-layers"), in manifest order.
// It fails the test when there is none.
func RealworldIDs(t testing.TB, format string) (rw string, ids []string) {
	t.Helper()
	rw = RealworldDir(t)
	data, err := os.ReadFile(filepath.Join(rw, "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m []struct {
		ID     string `json:"id"`
		Format string `json:"format"`
	}
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

// RealworldCase is the part of an artifact's expected/case.json the readers'
// tests check against.
type RealworldCase struct {
	Artifact struct {
		Files []string `json:"files"`
	} `json:"artifact"`
	Writer struct {
		KerasVersion string `json:"keras_version"`
	} `json:"writer"`
	// Weights lists every weight in graph order, innermost layers
	// included, with the name or key the reference loader read it from
	// (Source).
	Weights []struct {
		Path   string `json:"path"`
		Shape  []int  `json:"shape"`
		Source string `json:"source"`
	} `json:"weights"`
}

// ReadRealworldCase reads dir/expected/case.json.
func ReadRealworldCase(t testing.TB, dir string) RealworldCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "expected", "case.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c RealworldCase
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
