package testutil

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// CheckFixtures checks that each file under root holds the bytes the
// fixture writer produced for it (files maps slash-separated names to
// contents), so committed fixtures stay reproducible. With update it
// rewrites them instead.
func CheckFixtures(t testing.TB, root string, files map[string][]byte, update bool) {
	t.Helper()
	for name, want := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if update {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the fixture writer's output; run go test -run TestFixtures -update", p)
		}
	}
}

// MapFS returns files (slash-separated names) as an in-memory file system.
func MapFS(files map[string][]byte) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: data}
	}
	return fsys
}
