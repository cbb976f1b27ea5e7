package convert

import (
	"archive/zip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// sharedDir is the read-only ground truth next to the repository.
const sharedDir = "../../shared"

func needShared(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(sharedDir); err != nil {
		t.Skip("../shared absent")
	}
}

type goldenCase struct {
	Name        string              `json:"name"`
	FormatFiles map[string][]string `json:"format_files"`
	Layers      []struct {
		Name      string `json:"name"`
		ClassName string `json:"class_name"`
	} `json:"layers"`
	Weights []struct {
		Path  string `json:"path"`
		Shape []int  `json:"shape"`
	} `json:"weights"`
}

func goldenCases(t *testing.T) []string {
	needShared(t)
	dirs, err := filepath.Glob(filepath.Join(sharedDir, "goldens", "*", "case.json"))
	if err != nil || len(dirs) == 0 {
		t.Skip("no golden cases")
	}
	for i := range dirs {
		dirs[i] = filepath.Dir(dirs[i])
	}
	return dirs
}

func readCase(t *testing.T, dir string) goldenCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "case.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c goldenCase
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func zipMember(t *testing.T, path, member string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == member {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("%s: no member %s", path, member)
	return nil
}

// TestParseGoldenConfigs parses model.json and the .keras config.json of
// every golden case and checks the layer list against case.json.
func TestParseGoldenConfigs(t *testing.T) {
	for _, dir := range goldenCases(t) {
		c := readCase(t, dir)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var configs [][]byte
			if b, err := os.ReadFile(filepath.Join(dir, "model.json")); err == nil {
				configs = append(configs, b)
			}
			if _, err := os.Stat(filepath.Join(dir, "model.keras")); err == nil {
				configs = append(configs, zipMember(t, filepath.Join(dir, "model.keras"), "config.json"))
			}
			for _, b := range configs {
				g, err := ParseModelConfig(b, ParseOptions{File: dir})
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]string{}
				for _, l := range g.Layers {
					got[l.Name] = l.OriginalClassName()
				}
				for _, l := range c.Layers {
					if got[l.Name] != l.ClassName {
						t.Errorf("layer %q: class %q, want %q", l.Name, got[l.Name], l.ClassName)
					}
				}
			}
		})
	}
}
