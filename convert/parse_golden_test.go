package convert

import (
	"archive/zip"
	"encoding/json"
	"github.com/rnnkit/rnnkit/internal/testutil"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/rnnkit/rnnkit/h5"
)

// shared returns the folder sub of the shared corpus (the read-only ground
// truth beside the repository, or $RNNKIT_SHARED), or skips the test.
func shared(t testing.TB, sub string) string {
	t.Helper()
	return testutil.SharedDir(t, sub)
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
	dirs, err := filepath.Glob(filepath.Join(shared(t, "goldens"), "*", "case.json"))
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

func weightData(ws []Weight) [][]float32 {
	out := make([][]float32, len(ws))
	for i, w := range ws {
		out[i] = w.Data
	}
	return out
}

// collectWeights lists a graph's weights in legacy order.
func collectWeights(g *Graph) []Weight {
	var out []Weight
	var visit func(l *Layer)
	visit = func(l *Layer) {
		if l.Inner != nil {
			out = append(out, collectWeights(l.Inner)...)
			return
		}
		out = append(out, l.Weights...)
		for _, s := range subLayers(l) {
			visit(s)
		}
	}
	for _, l := range g.Layers {
		visit(l)
	}
	return out
}

func checkGoldenWeights(t *testing.T, c goldenCase, m *Model, format string) {
	t.Helper()
	ws := collectWeights(m.Graph)
	if len(ws) != len(c.Weights) {
		t.Errorf("%s: %d weights, case.json lists %d", format, len(ws), len(c.Weights))
		return
	}
	for i, w := range ws {
		if !equalInts(w.Shape, c.Weights[i].Shape) && !(len(w.Shape) == 0 && len(c.Weights[i].Shape) == 0) {
			t.Errorf("%s: weight %d %q: shape %v, want %v (%s)", format, i, w.Name, w.Shape, c.Weights[i].Shape, c.Weights[i].Path)
		}
	}
}

// TestGoldenWeights loads every format of every golden case and checks
// the weights against case.json's list.
func TestGoldenWeights(t *testing.T) {
	for _, dir := range goldenCases(t) {
		c := readCase(t, dir)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var ref []Weight
			refFormat := ""
			formats := make([]string, 0, len(c.FormatFiles))
			for f := range c.FormatFiles {
				formats = append(formats, f)
			}
			sort.Strings(formats)
			for _, format := range formats {
				files := c.FormatFiles[format]
				var m *Model
				var err error
				switch format {
				case "keras":
					var f *os.File
					f, err = os.Open(filepath.Join(dir, files[0]))
					if err != nil {
						t.Fatal(err)
					}
					st, _ := f.Stat()
					m, err = ReadKerasZip(f, st.Size(), f.Name())
					f.Close()
				case "h5":
					var hf *h5.File
					hf, err = h5.Open(filepath.Join(dir, files[0]))
					if err != nil {
						t.Fatal(err)
					}
					m, err = ReadHDF5Model(hf)
					hf.Close()
				case "weights_h5+json":
					cfg, rerr := os.ReadFile(filepath.Join(dir, files[0]))
					if rerr != nil {
						t.Fatal(rerr)
					}
					var hf *h5.File
					hf, err = h5.Open(filepath.Join(dir, files[1]))
					if err != nil {
						t.Fatal(err)
					}
					m, err = ReadConfigAndWeights(cfg, hf)
					hf.Close()
				default:
					t.Errorf("unknown format %q", format)
					continue
				}
				if err == nil && format == "h5" {
					// A full-model file also serves as the weights of an
					// architecture JSON.
					if cfg, rerr := os.ReadFile(filepath.Join(dir, "model.json")); rerr == nil {
						hf, herr := h5.Open(filepath.Join(dir, files[0]))
						if herr != nil {
							t.Fatal(herr)
						}
						m2, err2 := ReadConfigAndWeights(cfg, hf)
						hf.Close()
						if err2 != nil {
							t.Errorf("model.json + model.h5: %v", err2)
						} else if !reflect.DeepEqual(weightData(collectWeights(m.Graph)), weightData(collectWeights(m2.Graph))) {
							t.Errorf("model.json + model.h5 give other weights than model.h5")
						}
					}
				}
				if err != nil {
					t.Errorf("%s: %v", format, err)
					continue
				}
				// Keras 3 to_json and .weights.h5 record no version: the
				// generation is inferred from the config's form.
				if want := "3.16.0"; m.KerasVersion != want && !(format == "weights_h5+json" && m.KerasVersion == "3") {
					t.Errorf("%s: KerasVersion %q", format, m.KerasVersion)
				}
				checkGoldenWeights(t, c, m, format)
				// Every format must give the same values in the same order
				// (Keras 3 paths vs legacy names).
				ws := collectWeights(m.Graph)
				if ref == nil {
					ref, refFormat = ws, format
				} else if !reflect.DeepEqual(weightData(ref), weightData(ws)) {
					t.Errorf("%s and %s give different weight values", refFormat, format)
				}
			}
		})
	}
}
