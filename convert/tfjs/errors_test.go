package tfjs

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/internal/modeltest"
	"github.com/rnnkit/rnnkit/internal/testutil"
)

// fixtureFS returns the fixture files in memory after edit changes them.
func fixtureFS(edit func(files map[string][]byte)) fstest.MapFS {
	files := fixtureFiles()
	if edit != nil {
		edit(files)
	}
	return testutil.MapFS(files)
}

// replaceJSON edits model.json textually.
func replaceJSON(old, new string) func(files map[string][]byte) {
	return func(files map[string][]byte) {
		s := string(files["model.json"])
		if !strings.Contains(s, old) {
			panic("fixture has no " + old)
		}
		files["model.json"] = []byte(strings.Replace(s, old, new, 1))
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(files map[string][]byte)
		kind error
		msg  string
	}{
		{"not json", func(f map[string][]byte) { f["model.json"] = []byte("{") }, convert.ErrFormat, "model.json: invalid JSON at byte 1 (line 1, column 2): unexpected end of JSON input"},
		{"graph model", replaceJSON(`"format": "layers-model"`, `"format": "graph-model"`), convert.ErrUnsupported, `"graph-model" model`},
		{"no topology", func(f map[string][]byte) { f["model.json"] = []byte(`{"weightsManifest": []}`) }, convert.ErrFormat, "modelTopology: missing"},
		{"empty topology", func(f map[string][]byte) { f["model.json"] = []byte(`{"modelTopology": {}}`) }, convert.ErrFormat, "neither model_config nor class_name"},
		{"short shard", func(f map[string][]byte) { f["group1-shard2of2.bin"] = f["group1-shard2of2.bin"][:10] }, convert.ErrFormat, "hold 50 bytes, the manifest describes 76"},
		{"missing shard", func(f map[string][]byte) { delete(f, "group1-shard1of2.bin") }, fs.ErrNotExist, "group1-shard1of2.bin"},
		{"string weight", replaceJSON(`"shape": [1], "dtype": "float32"`, `"shape": [1], "dtype": "string"`), convert.ErrUnsupported, `dense_Dense1/bias: unsupported: dtype "string"`},
		{"unknown quantization", replaceJSON(`"dtype": "float16"`, `"dtype": "int4"`), convert.ErrUnsupported, `quantization dtype "int4"`},
		{"no scale", replaceJSON(`"scale": 0.5, `, ``), convert.ErrFormat, "uint8 quantization without scale and min"},
		{"escaping path", replaceJSON(`"group1-shard1of2.bin"`, `"../group1-shard1of2.bin"`), convert.ErrFormat, "leaves the model directory"},
		{"negative dim", replaceJSON(`"shape": [2, 1]`, `"shape": [-2, 1]`), convert.ErrFormat, "bad shape [-2 1]"},
		{"huge dim", replaceJSON(`"shape": [2, 1]`, `"shape": [4294967296, 4294967296]`), convert.ErrFormat, "bad shape"},
		{"extra weight", func(f map[string][]byte) {
			replaceJSON(`{"name": "dense_Dense1/bias", "shape": [1], "dtype": "float32"}`,
				`{"name": "dense_Dense1/bias", "shape": [1], "dtype": "float32"}, {"name": "other/bias", "shape": [1], "dtype": "float32"}`)(f)
			f["group1-shard2of2.bin"] = append(f["group1-shard2of2.bin"], 0, 0, 0, 0)
		}, convert.ErrWeights, "1 weights match no layer of the model: other/bias"},
		{"wrong shape", replaceJSON(`"shape": [8], "dtype": "float32", "quantization": {"dtype": "float16"}`, `"shape": [4, 2], "dtype": "float32", "quantization": {"dtype": "float16"}`), convert.ErrWeights, "lstm_LSTM1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(fixtureFS(tc.edit), "model.json", convert.ParseOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %v containing %q", err, tc.kind, tc.msg)
			}
			if !strings.Contains(err.Error(), "model.json") {
				t.Errorf("error %v does not name model.json", err)
			}
		})
	}
}

// TestOptimizerGroupSkipped checks that optimizer state saved with the
// model (tfjs includeOptimizer) is not taken for a layer weight.
func TestOptimizerGroupSkipped(t *testing.T) {
	edit := func(f map[string][]byte) {
		replaceJSON(`{"name": "dense_Dense1/bias", "shape": [1], "dtype": "float32"}`,
			`{"name": "dense_Dense1/bias", "shape": [1], "dtype": "float32"}, {"name": "dense_Dense1/bias/m", "shape": [1], "dtype": "float32", "group": "optimizer"}`)(f)
		f["group1-shard2of2.bin"] = append(f["group1-shard2of2.bin"], 0, 0, 0, 0)
	}
	if _, err := Read(fixtureFS(edit), "model.json", convert.ParseOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestModelConfigWrapper reads the Python converter's topology form
// ({keras_version, model_config}) with the version taken from it.
func TestModelConfigWrapper(t *testing.T) {
	edit := func(f map[string][]byte) {
		s := string(f["model.json"])
		s = strings.Replace(s, `"modelTopology": {`, `"modelTopology": {"keras_version": "2.1.5", "backend": "tensorflow", "model_config": {`, 1)
		s = strings.Replace(s, `"keras_version": "tfjs-layers 4.20.0",
    "backend": "tensor_flow.js"
  },`, `"keras_version": "tfjs-layers 4.20.0"}},`, 1)
		s = strings.Replace(s, `"format": "layers-model",`, ``, 1)
		f["model.json"] = []byte(s)
	}
	m, err := Read(fixtureFS(edit), "model.json", convert.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.KerasVersion != "2.1.5" || m.Backend != "tensorflow" {
		t.Errorf("version %q backend %q, want 2.1.5 tensorflow", m.KerasVersion, m.Backend)
	}
	if n := len(modeltest.Weights(m.Graph)); n != 5 {
		t.Errorf("%d weights, want 5", n)
	}
}

func TestWriterFromGeneratedBy(t *testing.T) {
	for in, want := range map[string]string{
		"keras v2.1.5":                      "2.1.5",
		"TensorFlow.js tfjs-layers v4.20.0": "tfjs-layers 4.20.0",
		"":                                  defaultWriter,
	} {
		if got := writerFromGeneratedBy(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// FuzzRead feeds arbitrary model.json contents (with the fixture shards)
// to the reader: errors are fine, panics, hangs and huge allocations not.
func FuzzRead(f *testing.F) {
	f.Add([]byte(fixtureModelJSON))
	f.Add([]byte(`{"modelTopology": {"model_config": {"class_name": "Sequential", "config": []}}, "weightsManifest": [{"paths": ["group1-shard1of2.bin"], "weights": [{"name": "a/b", "shape": [3], "dtype": "float32"}]}]}`))
	a, b := fixtureShards()
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{
			"model.json":           &fstest.MapFile{Data: data},
			"group1-shard1of2.bin": &fstest.MapFile{Data: a},
			"group1-shard2of2.bin": &fstest.MapFile{Data: b},
		}
		Read(fsys, "model.json", convert.ParseOptions{})
	})
}
