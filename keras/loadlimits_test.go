package keras_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/rnnkit/rnnkit/keras"
)

// lstmSeqKeras is a small golden .keras model (Sequential: InputLayer
// (None, None, 5), LSTM(8)).
const lstmSeqKeras = "../testdata/goldens/lstm_seq/model.keras"

// rewriteKeras copies a .keras archive into dir with its config.json
// changed by edit (the decoded JSON) or replaced by raw when raw != nil.
func rewriteKeras(t *testing.T, src, dst string, edit func(cfg map[string]any), raw []byte) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "config.json" {
			if raw != nil {
				data = raw
			} else {
				var cfg map[string]any
				if err := json.Unmarshal(data, &cfg); err != nil {
					t.Fatal(err)
				}
				edit(cfg)
				if data, err = json.Marshal(cfg); err != nil {
					t.Fatal(err)
				}
			}
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: f.Method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// layerConfig returns the config object of layer i of a Sequential
// config.json.
func layerConfig(cfg map[string]any, i int) map[string]any {
	return cfg["config"].(map[string]any)["layers"].([]any)[i].(map[string]any)["config"].(map[string]any)
}

// TestLoadLimits loads hostile variants of a golden model: each fails
// fast with ErrLimit (not ErrInput), names the limit, stays short, and
// loads or fails otherwise once the limit is lifted with WithLoadLimits.
func TestLoadLimits(t *testing.T) {
	dir := t.TempDir()
	ones := make([]any, 300_000)
	for i := range ones {
		ones[i] = 1
	}
	deep := strings.Repeat("[", 300) + strings.Repeat("]", 300)
	for _, tc := range []struct {
		name   string
		edit   func(map[string]any)
		raw    string
		want   string
		lifted keras.LoadLimits
	}{
		{name: "batch_shape_300k", edit: func(c map[string]any) { layerConfig(c, 0)["batch_shape"] = ones },
			want: `option "batch_shape": rank 300000 exceeds the limit of 32 (Limits.Rank)`, lifted: keras.LoadLimits{Rank: -1}},
		{name: "units_1e12", edit: func(c map[string]any) { layerConfig(c, 1)["units"] = 1e12 },
			want: `option "units": 1e+12 exceeds the limit of 67108864 (Limits.Units)`, lifted: keras.LoadLimits{Units: -1}},
		{name: "dim_1e15", edit: func(c map[string]any) { layerConfig(c, 0)["batch_shape"] = []any{nil, 1e15, 5} },
			want: `option "batch_shape": dimension 1e+15 exceeds the limit of 2147483647 (Limits.Dim)`, lifted: keras.LoadLimits{Dim: -1}},
		{name: "deep", edit: func(c map[string]any) {
			var v any
			_ = json.Unmarshal([]byte(deep), &v)
			layerConfig(c, 1)["extra"] = v
		}, want: "deeper than 256 levels (Limits.Depth)", lifted: keras.LoadLimits{Depth: -1}},
		{name: "long_list", edit: func(c map[string]any) { layerConfig(c, 1)["extra"] = ones },
			want: "JSON list of more than 100000 entries (Limits.ListLength)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".keras")
			var raw []byte
			if tc.raw != "" {
				raw = []byte(tc.raw)
			}
			rewriteKeras(t, lstmSeqKeras, p, tc.edit, raw)
			var opts []keras.Option
			if tc.name == "long_list" {
				opts = append(opts, keras.WithLoadLimits(keras.LoadLimits{ListLength: 100_000}))
			}
			start := time.Now()
			_, err := keras.Load(p, opts...)
			d := time.Since(start)
			t.Logf("failed in %v", d)
			// Linear work on a 600 KB config takes well under a second on an
			// idle core; the quadratic message builders this guards against
			// took 100 s. The bound leaves room for a loaded CI machine.
			if d > raceSlowdown*5*time.Second {
				t.Errorf("load took %v", d)
			}
			if !errors.Is(err, keras.ErrLimit) || errors.Is(err, keras.ErrInput) || errors.Is(err, keras.ErrFormat) {
				t.Fatalf("got %v, want ErrLimit only", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, tc.name+".keras") || len(msg) > 4096 {
				t.Errorf("message (%d bytes) %.300q, want it naming the file and %q", len(msg), msg, tc.want)
			}
			if tc.lifted == (keras.LoadLimits{}) {
				return
			}
			start = time.Now()
			_, err = keras.Load(p, keras.WithLoadLimits(tc.lifted))
			if errors.Is(err, keras.ErrLimit) {
				t.Errorf("with %+v: still %v", tc.lifted, err)
			}
			if err != nil && len(err.Error()) > 4096 {
				t.Errorf("with the limit lifted: message of %d bytes", len(err.Error()))
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("with the limit lifted: load took %v", d)
			}
		})
	}
}

// TestLoadLimitsLayerCount lowers the layer and node limits below a
// model's counts.
func TestLoadLimitsLayerCount(t *testing.T) {
	for _, tc := range []struct {
		lim  keras.LoadLimits
		want string
	}{
		{keras.LoadLimits{Layers: 1}, "layer count over 1 exceeds the limit of 1 (Limits.Layers)"},
		{keras.LoadLimits{ConfigBytes: 100}, "exceeds the limit of 100 (Limits.ConfigBytes)"},
	} {
		_, err := keras.Load(lstmSeqKeras, keras.WithLoadLimits(tc.lim))
		if !errors.Is(err, keras.ErrLimit) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want ErrLimit %q", tc.lim, err, tc.want)
		}
	}
	if _, err := keras.Load(lstmSeqKeras, keras.WithLoadLimits(keras.LoadLimits{Layers: 2, Rank: 3})); err != nil {
		t.Errorf("limits just met: %v", err)
	}
}

// TestLoadErrorLengthBounded: a hostile layer name of 1 MB in an error
// message is clipped; the message stays under 4 KiB.
func TestLoadErrorLengthBounded(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", 1<<20)
	p := filepath.Join(dir, "long.keras")
	rewriteKeras(t, lstmSeqKeras, p, func(c map[string]any) {
		layerConfig(c, 1)["name"] = long
		layerConfig(c, 1)["activation"] = []any{long, long}
	}, nil)
	start := time.Now()
	_, err := keras.Load(p)
	if err == nil {
		t.Fatal("loaded")
	}
	if n := len(err.Error()); n > 4096 {
		t.Errorf("message of %d bytes", n)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestLoadErrorLocations: JSON, zip and SavedModel errors at the API
// say where: file, offset, line:column, structure, directory.
func TestLoadErrorLocations(t *testing.T) {
	dir := t.TempDir()
	brokenCfg := filepath.Join(dir, "cfg.keras")
	rewriteKeras(t, lstmSeqKeras, brokenCfg, nil, []byte("{\"class_name\": \"Sequential\",\n  \"config\": {\"layers\": [}}"))
	badJSON := filepath.Join(dir, "model.json")
	os.WriteFile(badJSON, []byte("{\n\"modelTopology\": {}, \"weightsManifest\": [1,]}"), 0o644)
	zipData, _ := os.ReadFile(lstmSeqKeras)
	truncated := filepath.Join(dir, "trunc.keras")
	os.WriteFile(truncated, zipData[:len(zipData)-40], 0o644)
	files := map[string]string{}
	for _, f := range []string{"saved_model.pb", "variables/variables.index"} {
		files["sm/"+f] = filepath.Join("../testdata/savedmodel/lstm_dense_tf24", f)
	}
	smDir := copyTo(t, files)
	idx := filepath.Join(smDir, "sm", "variables", "variables.index")
	b, _ := os.ReadFile(idx)
	os.WriteFile(idx, b[:len(b)/2], 0o644)
	for _, tc := range []struct {
		name string
		path string
		kind error
		want []string
	}{
		{"config.json", brokenCfg, keras.ErrFormat, []string{"cfg.keras", "config.json", "invalid JSON at byte 53 (line 2, column 25): invalid character '}' looking for beginning of value"}},
		{"json file", badJSON, keras.ErrFormat, []string{"model.json", "invalid JSON at byte 45 (line 2, column 44)", "invalid character ']'"}},
		{"zip", truncated, keras.ErrFormat, []string{"trunc.keras", "zip: end of central directory", "no end of central directory record"}},
		{"savedmodel", filepath.Join(smDir, "sm"), keras.ErrFormat, []string{"sm/variables/variables.index"}},
	} {
		_, err := keras.Load(tc.path)
		if !errors.Is(err, tc.kind) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.kind)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v: want %q in it", tc.name, err, w)
			}
		}
	}
}

// TestConfigSizeAgainstWeights: a size under the limits that the weights
// present contradict fails with ErrWeights before anything is allocated
// from it.
func TestConfigSizeAgainstWeights(t *testing.T) {
	p := filepath.Join(t.TempDir(), "units.keras")
	rewriteKeras(t, lstmSeqKeras, p, func(c map[string]any) { layerConfig(c, 1)["units"] = 50_000_000 }, nil)
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	_, err := keras.Load(p)
	goruntime.ReadMemStats(&after)
	if !errors.Is(err, keras.ErrWeights) || !strings.Contains(err.Error(), "200000000") {
		t.Fatalf("got %v, want ErrWeights naming the 4*units columns", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
		t.Errorf("allocated %d bytes", n)
	}
}
