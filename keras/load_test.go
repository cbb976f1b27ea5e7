package keras_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/runtime"
)

// checkExample runs the example model and compares with Keras' y0.
func checkExample(t *testing.T, m *keras.Model) {
	t.Helper()
	x, err := keras.ReadNPYFile(exampleDir + "x0.npy")
	if err != nil {
		t.Fatal(err)
	}
	want, err := keras.ReadNPYFile(exampleDir + "y0.npy")
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if r := keras.Compare(out[0], want, keras.DefaultAtol, keras.DefaultRtol); !r.OK() {
		t.Error(&r)
	}
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(exampleDir + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The format comes from the content: names without extensions load.
func TestLoadDetectsFormatByContent(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"model.keras", "model.h5"} {
		p := filepath.Join(dir, strings.ReplaceAll(name, ".", "_")) // no extension
		if err := os.WriteFile(p, read(t, name), 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := keras.Load(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkExample(t, m)
	}
}

// HDF5 files may start with a user block; the superblock then sits at
// 512, 1024, ... (HDF5 spec §II.A).
func TestLoadHDF5UserBlock(t *testing.T) {
	data := read(t, "model.h5")
	if !bytes.HasPrefix(data, []byte("\x89HDF")) {
		t.Skip("model.h5 already has a user block")
	}
	p := filepath.Join(t.TempDir(), "ub.h5")
	if err := os.WriteFile(p, append(make([]byte, 512), data...), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := keras.Load(p)
	if err != nil {
		// The superblock's base address is 0, so every address is relative
		// to the file start plus the user block: h5 must honour it.
		t.Fatalf("load with a 512-byte user block: %v", err)
	}
	checkExample(t, m)
}

// noReaderAt hides io.ReaderAt so that LoadFS must read files into memory.
type noReaderAt struct{ fsys fs.FS }

type plainFile struct{ f fs.File }

func (p plainFile) Stat() (fs.FileInfo, error) { return p.f.Stat() }
func (p plainFile) Read(b []byte) (int, error) { return p.f.Read(b) }
func (p plainFile) Close() error               { return p.f.Close() }

func (n noReaderAt) Open(name string) (fs.File, error) {
	f, err := n.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return f, nil
	}
	return plainFile{f}, nil
}

func TestLoadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"m/model.keras":      {Data: read(t, "model.keras")},
		"m/model.h5":         {Data: read(t, "model.h5")},
		"m/model.json":       {Data: read(t, "model.json")},
		"m/model.weights.h5": {Data: read(t, "model.weights.h5")},
	}
	for _, f := range []fs.FS{fsys, noReaderAt{fsys}} {
		for _, name := range []string{"m/model.keras", "m/model.h5"} {
			m, err := keras.LoadFS(f, name)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			checkExample(t, m)
		}
		m, err := keras.LoadConfigAndWeightsFS(f, "m/model.json", "m/model.weights.h5")
		if err != nil {
			t.Fatal(err)
		}
		checkExample(t, m)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("metadata.json")
	w.Write([]byte(`{"keras_version": "3.16.0"}`))
	zw.Close()
	emptyDir := filepath.Join(dir, "emptydir")
	os.Mkdir(emptyDir, 0o755)

	for _, tc := range []struct {
		name string
		path string
		is   error
		want string
	}{
		{"architecture only", write("arch.json", read(t, "model.json")), keras.ErrFormat, "architecture JSON without weights"},
		{"weights only", exampleDir + "model.weights.h5", keras.ErrNoArchitecture, "model.weights.h5"},
		{"garbage", write("junk.bin", []byte("hello, this is not a model")), keras.ErrFormat, "not a Keras model"},
		{"empty", write("empty.h5", nil), keras.ErrFormat, "empty.h5"},
		{"json but not keras", write("other.json", []byte(`{"a": 1}`)), keras.ErrFormat, "neither a TF.js model"},
		{"zip without config", write("noconfig.keras", zbuf.Bytes()), keras.ErrFormat, "noconfig.keras"},
		{"truncated h5", write("trunc.h5", read(t, "model.h5")[:3000]), keras.ErrFormat, "trunc.h5"},
		{"empty directory", emptyDir, keras.ErrFormat, "neither saved_model.pb"},
		{"bad superblock", write("badsb.h5", append([]byte("\x89HDF\r\n\x1a\n\x00"), bytes.Repeat([]byte{0xff}, 200)...)), keras.ErrFormat, "badsb.h5"},
	} {
		_, err := keras.Load(tc.path)
		if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v; want %v containing %q", tc.name, err, tc.is, tc.want)
		}
	}
	// An HDF5 feature h5 does not read is ErrUnsupported for keras too.
	if _, err := keras.Load(write("sb255.h5", append([]byte("\x89HDF\r\n\x1a\n\xff"), make([]byte, 200)...))); !errors.Is(err, keras.ErrUnsupported) {
		t.Errorf("superblock version 255: %v, want ErrUnsupported", err)
	}
	if _, err := keras.Load(filepath.Join(dir, "missing.h5")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// Weights that are not HDF5.
	_, err := keras.LoadConfigAndWeights(exampleDir+"model.json", exampleDir+"x0.npy")
	if !errors.Is(err, keras.ErrFormat) || !strings.Contains(err.Error(), "x0.npy") {
		t.Errorf("npy as weights: %v", err)
	}
}

func TestWithKerasVersion(t *testing.T) {
	m, err := keras.Load(exampleDir+"model.h5", keras.WithKerasVersion("3.16.0"))
	if err != nil {
		t.Fatal(err)
	}
	if m.KerasVersion() != "3.16.0" {
		t.Errorf("KerasVersion %q", m.KerasVersion())
	}
	checkExample(t, m)
}

// Sessions: stateful layers carry state only within a session; Predict and
// fresh sessions start from zeros; Reset restarts.
func TestSessionReset(t *testing.T) {
	const dir = "../testdata/goldens/char_gru_generator_stateful/"
	m, err := keras.Load(dir + "model.keras")
	if err != nil {
		t.Fatal(err)
	}
	x0, _ := keras.ReadNPYFile(dir + "x0.npy")
	x1, _ := keras.ReadNPYFile(dir + "x1.npy")
	y0, _ := keras.ReadNPYFile(dir + "y0.npy")
	y1, _ := keras.ReadNPYFile(dir + "y1.npy")
	s := m.NewSession()
	for round := 0; round < 2; round++ {
		for i, step := range []struct{ x, want *runtime.Tensor }{{x0, y0}, {x1, y1}} {
			out, err := s.Predict(step.x)
			if err != nil {
				t.Fatal(err)
			}
			if r := keras.Compare(out[0], step.want, keras.DefaultAtol, keras.DefaultRtol); !r.OK() {
				t.Errorf("round %d call %d: %s", round, i, &r)
			}
		}
		s.Reset()
	}
	// Predict on a stateful model starts from zeros every time, so x1 alone
	// does not give y1 (which depends on the state x0 left).
	out, err := m.Predict(x1)
	if err != nil {
		t.Fatal(err)
	}
	if r := keras.Compare(out[0], y1, keras.DefaultAtol, keras.DefaultRtol); r.OK() {
		t.Error("Predict(x1) matched y1: state leaked between Predict calls")
	}
	out2, _ := m.Predict(x1)
	if r := keras.Compare(out2[0], out[0], 0, 0); !r.OK() {
		t.Errorf("two Predict calls differ: %s", &r)
	}
}

// A stream gives the same outputs feeding a sequence whole or one step at
// a time, also for non-stateful models.
func TestStreamMatchesWholeSequence(t *testing.T) {
	m, err := keras.Load(exampleDir + "model.keras")
	if err != nil {
		t.Fatal(err)
	}
	x, _ := keras.ReadNPYFile(exampleDir + "x0.npy") // [3, 20]
	y, _ := keras.ReadNPYFile(exampleDir + "y0.npy") // [3, 20, 30]
	batch, steps, vocab := x.Shape[0], x.Shape[1], y.Shape[2]
	s := m.NewStream()
	for step := 0; step < steps; step++ {
		xs := runtime.NewTensor(batch, 1)
		for b := 0; b < batch; b++ {
			xs.Data[b] = x.Data[b*steps+step]
		}
		out, err := s.Predict(xs)
		if err != nil {
			t.Fatal(err)
		}
		want := runtime.NewTensor(batch, 1, vocab)
		for b := 0; b < batch; b++ {
			copy(want.Data[b*vocab:], y.Data[(b*steps+step)*vocab:(b*steps+step+1)*vocab])
		}
		if r := keras.Compare(out[0], want, keras.DefaultAtol, keras.DefaultRtol); !r.OK() {
			t.Fatalf("step %d: %s", step, &r)
		}
	}
}

// Damaged files fail with an error a caller can classify, never a bare one.
func TestLoadDamagedClassified(t *testing.T) {
	kinds := []error{keras.ErrFormat, keras.ErrUnsupported, keras.ErrConfig, keras.ErrWeights, keras.ErrNoArchitecture}
	for _, name := range []string{"model.h5", "model.keras", "model.weights.h5"} {
		data := read(t, name)
		for i := 1; i < 40; i++ {
			// Truncations, and a run of flipped bytes, at spread offsets.
			cut := len(data) * i / 40
			flipped := append([]byte(nil), data...)
			for j := cut; j < cut+16 && j < len(flipped); j++ {
				flipped[j] ^= 0x5a
			}
			for variant, b := range [][]byte{data[:cut], flipped} {
				m, err := keras.LoadFS(fstest.MapFS{"m": {Data: b}}, "m")
				if err == nil {
					_ = m.Summary()
					continue
				}
				known := false
				for _, k := range kinds {
					if errors.Is(err, k) {
						known = true
					}
				}
				if !known {
					t.Errorf("%s variant %d at %d: unclassified error: %v", name, variant, cut, err)
				}
			}
		}
	}
}

// TestUnsupportedNamesConfig checks that, for an architecture JSON with a
// weights file, the unsupported-layer error names the JSON the classes
// come from, not only the weights file.
func TestUnsupportedNamesConfig(t *testing.T) {
	cfg := string(read(t, "model.json"))
	for old, repl := range map[string]string{`"class_name": "GRU"`: `"class_name": "FancyGRU"`, `"class_name": "Dense"`: `"class_name": "MyDense"`} {
		if strings.Count(cfg, old) != 1 {
			t.Fatalf("model.json holds %q %d times, want once", old, strings.Count(cfg, old))
		}
		cfg = strings.Replace(cfg, old, repl, 1)
	}
	cfgPath := filepath.Join(t.TempDir(), "custom.json")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	weights := exampleDir + "model.weights.h5"
	_, err := keras.LoadConfigAndWeights(cfgPath, weights)
	var u *keras.UnsupportedLayersError
	if !errors.As(err, &u) || len(u.Layers) != 2 {
		t.Fatalf("got %v, want 2 unsupported layers", err)
	}
	// The message names both files once, by base name (the full paths
	// are in the error values), each layer with its class and config keys
	// (weights are not read for a class nothing builds), then the way to
	// supply it.
	msg := err.Error()
	for _, part := range []string{
		`keras: custom.json + model.weights.h5: 2 unsupported layers: "gru" (FancyGRU; config keys: activation, `,
		`"dense" (MyDense; config keys: activation, bias_constraint`,
		`units, use_bias). Implement the class in Go and register it with keras.WithLayer(class, builder) for "FancyGRU", "MyDense"`,
	} {
		if !strings.Contains(msg, part) {
			t.Errorf("error\n%s\ndoes not contain\n%s", msg, part)
		}
	}
	var me *keras.ModelError
	if !errors.As(err, &me) || me.File != cfgPath+" + "+weights || u.File != cfgPath+" + "+weights {
		t.Errorf("ModelError %+v, UnsupportedLayersError.File %q: want the full paths", me, u.File)
	}
}
