package keras_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
)

// copyTo copies example files into a new folder and returns it.
func copyTo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for dst, src := range files {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, dst)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestLoadErrorHints covers the files the issue names that do not load
// as given: each is a *LoadError saying what the file is and what to load
// instead, checkable with errors.Is, and its message names the file once.
func TestLoadErrorHints(t *testing.T) {
	ex := func(f string) string { return exampleDir + f }
	pair := copyTo(t, map[string]string{"arch.json": ex("model.json"), "w.weights.h5": ex("model.weights.h5")})
	sm := copyTo(t, map[string]string{"sm/saved_model.pb": ex("x0.npy")})
	lone := copyTo(t, map[string]string{"m.weights.h5": ex("model.weights.h5")})
	for _, tc := range []struct {
		name                   string
		load                   func() error
		kind                   error
		file                   string
		model, config, weights string
		want                   []string
	}{
		{"weights-only file", func() error { _, err := keras.Load(ex("model.weights.h5")); return err },
			keras.ErrNoArchitecture, ex("model.weights.h5"), "", ex("model.json"), ex("model.weights.h5"),
			[]string{"keras: model.weights.h5: weights-only file", "LoadConfigAndWeights"}},
		{"weights-only file, no JSON beside it", func() error { _, err := keras.Load(filepath.Join(lone, "m.weights.h5")); return err },
			keras.ErrNoArchitecture, filepath.Join(lone, "m.weights.h5"), "", "", filepath.Join(lone, "m.weights.h5"),
			[]string{"m.weights.h5: weights-only file", "architecture JSON"}},
		{"architecture JSON alone", func() error { _, err := keras.Load(filepath.Join(pair, "arch.json")); return err },
			keras.ErrFormat, filepath.Join(pair, "arch.json"), "", filepath.Join(pair, "arch.json"), filepath.Join(pair, "w.weights.h5"),
			[]string{"arch.json: architecture JSON without weights"}},
		{"folder holding a JSON + weights pair", func() error { _, err := keras.Load(pair); return err },
			keras.ErrFormat, pair, "", filepath.Join(pair, "arch.json"), filepath.Join(pair, "w.weights.h5"),
			[]string{"folder holds an architecture JSON and a weights file"}},
		{".keras zip as the config", func() error {
			_, err := keras.LoadConfigAndWeights(ex("model.keras"), ex("model.weights.h5"))
			return err
		},
			keras.ErrFormat, ex("model.keras"), ex("model.keras"), "", "",
			[]string{"model.keras: is a .keras model file, not an architecture JSON"}},
		{"HDF5 model as the config", func() error { _, err := keras.LoadConfigAndWeights(ex("model.h5"), ex("model.weights.h5")); return err },
			keras.ErrFormat, ex("model.h5"), ex("model.h5"), "", "",
			[]string{"model.h5: is an HDF5 file, not an architecture JSON"}},
		{"config and weights swapped", func() error {
			_, err := keras.LoadConfigAndWeights(ex("model.weights.h5"), ex("model.json"))
			return err
		},
			keras.ErrFormat, ex("model.weights.h5"), "", ex("model.json"), ex("model.weights.h5"),
			[]string{"swapped"}},
		{".keras zip as the weights", func() error { _, err := keras.LoadConfigAndWeights(ex("model.json"), ex("model.keras")); return err },
			keras.ErrFormat, ex("model.keras"), ex("model.keras"), "", "",
			[]string{"model.keras: is a .keras model file, not a weights file"}},
		{"saved_model.pb instead of its folder", func() error { _, err := keras.Load(filepath.Join(sm, "sm", "saved_model.pb")); return err },
			keras.ErrFormat, filepath.Join(sm, "sm", "saved_model.pb"), filepath.Join(sm, "sm"), "", "",
			[]string{"saved_model.pb: is the graph file of a TensorFlow SavedModel"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.load()
			var le *keras.LoadError
			if !errors.Is(err, tc.kind) || !errors.As(err, &le) {
				t.Fatalf("error %v, want a *LoadError that is %v", err, tc.kind)
			}
			if le.File != tc.file || le.Model != tc.model || le.Config != tc.config || le.Weights != tc.weights {
				t.Errorf("LoadError %+v, want file %q model %q config %q weights %q", le, tc.file, tc.model, tc.config, tc.weights)
			}
			msg := err.Error()
			if base := filepath.Base(tc.file); strings.Count(msg, base+":") != 1 {
				t.Errorf("message %q must name %s once", msg, base)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
}

// TestModelErrorNamesOnce checks errors that pass through several
// packages: the message names the file once by base name and the layer
// once (with its class), and the *ModelError keeps the full path.
func TestModelErrorNamesOnce(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile(exampleDir + "model.json")
	if err != nil {
		t.Fatal(err)
	}
	badUnits := filepath.Join(dir, "units.json")
	os.WriteFile(badUnits, []byte(strings.Replace(string(raw), `"units": 8`, `"units": 9`, 1)), 0o644)
	badType := filepath.Join(dir, "type.json")
	os.WriteFile(badType, []byte(strings.Replace(string(raw), `"units": 8`, `"units": "eight"`, 1)), 0o644)
	h5, _ := os.ReadFile(exampleDir + "model.h5")
	trunc := filepath.Join(dir, "trunc.h5")
	os.WriteFile(trunc, h5[:3000], 0o644)
	weights := exampleDir + "model.weights.h5"
	for _, tc := range []struct {
		name  string
		load  func() error
		kind  error
		file  string
		names []string
		want  []string
	}{
		{"weights do not fit", func() error { _, err := keras.LoadConfigAndWeights(badUnits, weights); return err },
			keras.ErrWeights, badUnits + " + " + weights, []string{"units.json", "model.weights.h5", `layer "gru"`}, []string{`layer "gru" (GRU)`, "got shape [6 24]"}},
		{"bad option type", func() error { _, err := keras.LoadConfigAndWeights(badType, weights); return err },
			keras.ErrConfig, badType + " + " + weights, []string{"type.json", `layer "gru"`}, []string{`option "units"`, "want an integer"}},
		{"truncated HDF5", func() error { _, err := keras.Load(trunc); return err },
			keras.ErrFormat, trunc, []string{"trunc.h5", "model_config"}, []string{"run past the end of the file"}},
		{"bad Keras version", func() error {
			_, err := keras.Load(exampleDir+"model.h5", keras.WithKerasVersion("banana"))
			return err
		},
			keras.ErrConfig, exampleDir + "model.h5", []string{"banana"}, []string{"want a Keras version"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.load()
			var me *keras.ModelError
			if !errors.Is(err, tc.kind) || !errors.As(err, &me) {
				t.Fatalf("error %v, want a *ModelError that is %v", err, tc.kind)
			}
			if me.File != tc.file {
				t.Errorf("ModelError.File = %q, want %q", me.File, tc.file)
			}
			msg := err.Error()
			if strings.Contains(msg, dir) || strings.Contains(msg, "testdata") {
				t.Errorf("message %q shows a directory", msg)
			}
			for _, n := range tc.names {
				if c := strings.Count(msg, n); c != 1 {
					t.Errorf("message %q names %s %d times, want once", msg, n, c)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
}
