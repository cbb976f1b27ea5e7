package keras_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/h5"
	"github.com/rnnkit/rnnkit/keras"
)

const lstmSeqCase = "../testdata/goldens/lstm_seq"

// copyCase copies the golden case's files into a new folder.
func copyCase(t *testing.T) string {
	t.Helper()
	files := map[string]string{}
	for _, f := range []string{"case.json", "model.keras", "model.h5", "model.json", "model.weights.h5", "x0.npy", "y0.npy"} {
		files[f] = filepath.Join(lstmSeqCase, f)
	}
	return copyTo(t, files)
}

// corruptH5Weight changes one float of the LSTM kernel inside model.h5,
// found by its bytes: HDF5 has no checksums, so the file still loads.
func corruptH5Weight(t *testing.T, p string) {
	t.Helper()
	f, err := h5.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	m, err := convert.ReadHDF5Model(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	k := m.Graph.Layers[1].Weights[0].Data
	pat := make([]byte, 16)
	for i := range 4 {
		binary.LittleEndian.PutUint32(pat[4*i:], math.Float32bits(k[i]))
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(data, pat)
	if at < 0 || bytes.Contains(data[at+1:], pat) {
		t.Fatal("kernel bytes not found once")
	}
	binary.LittleEndian.PutUint32(data[at:], math.Float32bits(k[0]+0.5))
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := keras.Load(p, keras.WithoutSHA256Manifest()); err != nil {
		t.Fatalf("corrupted HDF5 no longer loads, the test proves nothing: %v", err)
	}
}

// TestSHA256Manifest seals models and damages them: each load fails with
// ErrIntegrity naming the file, or loads when the check is off.
func TestSHA256Manifest(t *testing.T) {
	for _, tc := range []struct {
		name    string
		model   string // file in the case copy
		damage  func(t *testing.T, dir string)
		opts    []keras.Option
		wantErr error
		want    string
	}{
		{name: "intact keras", model: "model.keras"},
		{name: "intact h5", model: "model.h5"},
		{name: "h5 weight changed", model: "model.h5", damage: func(t *testing.T, d string) { corruptH5Weight(t, filepath.Join(d, "model.h5")) },
			wantErr: keras.ErrIntegrity, want: "model.h5.sha256 records"},
		{name: "h5 weight changed, check off", model: "model.h5", damage: func(t *testing.T, d string) { corruptH5Weight(t, filepath.Join(d, "model.h5")) },
			opts: []keras.Option{keras.WithoutSHA256Manifest()}},
		{name: "manifest without the model", model: "model.keras", damage: func(t *testing.T, d string) {
			os.WriteFile(filepath.Join(d, "model.keras.sha256"), []byte(strings.Repeat("0", 64)+"  x0.npy\n"), 0o644)
		}, wantErr: keras.ErrIntegrity, want: "does not list model.keras"},
		{name: "manifest lists a missing file", model: "model.keras", damage: func(t *testing.T, d string) {
			f, _ := os.OpenFile(filepath.Join(d, "model.keras.sha256"), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString(strings.Repeat("0", 64) + "  gone.bin\n")
			f.Close()
		}, wantErr: keras.ErrIntegrity, want: "gone.bin"},
		{name: "manifest malformed", model: "model.keras", damage: func(t *testing.T, d string) {
			os.WriteFile(filepath.Join(d, "model.keras.sha256"), []byte("hello\n"), 0o644)
		}, wantErr: keras.ErrFormat, want: "line 1"},
		{name: "manifest escapes its folder", model: "model.keras", damage: func(t *testing.T, d string) {
			os.WriteFile(filepath.Join(d, "model.keras.sha256"), []byte(strings.Repeat("0", 64)+"  ../etc/passwd\n"), 0o644)
		}, wantErr: keras.ErrFormat, want: "outside the manifest's folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyCase(t)
			p := filepath.Join(dir, tc.model)
			mp, err := keras.SealSHA256(p)
			if err != nil || mp != p+".sha256" {
				t.Fatalf("seal: %q %v", mp, err)
			}
			if tc.damage != nil {
				tc.damage(t, dir)
			}
			_, err = keras.Load(p, tc.opts...)
			switch {
			case tc.wantErr == nil && err != nil:
				t.Fatalf("got %v", err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			case tc.wantErr != nil && (!strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.model)):
				t.Errorf("got %v, want %q and the file in it", err, tc.want)
			}
		})
	}
}

// TestWithSHA256 checks the digest option on a single file.
func TestWithSHA256(t *testing.T) {
	dir := copyCase(t)
	p := filepath.Join(dir, "model.h5")
	if _, err := keras.SealSHA256(p); err != nil {
		t.Fatal(err)
	}
	line, err := os.ReadFile(p + ".sha256")
	if err != nil {
		t.Fatal(err)
	}
	sum := string(line[:64])
	os.Remove(p + ".sha256")
	for _, tc := range []struct {
		digest string
		want   error
	}{
		{sum, nil},
		{strings.ToUpper(sum), nil},
		{strings.Repeat("ab", 32), keras.ErrIntegrity},
		{"xyz", keras.ErrConfig},
	} {
		_, err := keras.Load(p, keras.WithSHA256(tc.digest))
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("WithSHA256(%.8s…): got %v, want %v", tc.digest, err, tc.want)
		}
	}
	_, err = keras.LoadConfigAndWeights(filepath.Join(dir, "model.json"), filepath.Join(dir, "model.weights.h5"), keras.WithSHA256(sum))
	if !errors.Is(err, keras.ErrConfig) {
		t.Errorf("WithSHA256 on a pair: got %v, want ErrConfig", err)
	}
}

// TestSelfCheck stores a golden case's vectors beside its models and
// replays them at load; a changed weight, changed vectors or missing
// vectors fail with ErrIntegrity.
func TestSelfCheck(t *testing.T) {
	c, err := keras.ReadCase(lstmSeqCase)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, dir, model string)
		want   string
	}{
		{name: "intact"},
		{name: "h5 weight changed", damage: func(t *testing.T, dir, model string) {
			if filepath.Ext(model) == ".h5" {
				corruptH5Weight(t, model)
			} else {
				os.Remove(keras.SelfCheckPath(model))
			}
		}, want: "self-check"},
		{name: "no vectors", damage: func(t *testing.T, dir, model string) { os.Remove(keras.SelfCheckPath(model)) }, want: "no self-check vectors"},
		{name: "vectors changed", damage: func(t *testing.T, dir, model string) {
			bad := copyCase(t)
			y, _ := os.ReadFile(filepath.Join(bad, "y0.npy"))
			binary.LittleEndian.PutUint32(y[len(y)-4:], math.Float32bits(100))
			os.WriteFile(filepath.Join(bad, "y0.npy"), y, 0o644)
			bc, err := keras.ReadCase(bad)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := keras.WriteSelfCheck(model, bc); err != nil {
				t.Fatal(err)
			}
		}, want: "out of tolerance"},
	} {
		for _, format := range []string{"model.keras", "model.h5"} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				dir := copyCase(t)
				p := filepath.Join(dir, format)
				sp, err := keras.WriteSelfCheck(p, c)
				if err != nil || sp != p+".selfcheck.npz" {
					t.Fatalf("%q %v", sp, err)
				}
				m, err := keras.Load(p)
				if err != nil {
					t.Fatal(err)
				}
				res, err := keras.RunSelfCheck(m, sp)
				if err != nil || len(res) != 1 || !res[0].OK() {
					t.Fatalf("replay: %v %v", res, err)
				}
				if tc.damage != nil {
					tc.damage(t, dir, p)
				}
				_, err = keras.Load(p, keras.WithSelfCheck())
				if tc.want == "" {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				if !errors.Is(err, keras.ErrIntegrity) || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("got %v, want ErrIntegrity %q", err, tc.want)
				}
			})
		}
	}
}

// TestSHA256ManifestSavedModel seals a SavedModel folder (the manifest
// sits beside it and lists every file under it) and changes one byte of
// its variables.
func TestSHA256ManifestSavedModel(t *testing.T) {
	src := "../testdata/savedmodel/lstm_dense_tf24"
	files := map[string]string{}
	for _, f := range []string{"saved_model.pb", "variables/variables.index", "variables/variables.data-00000-of-00001"} {
		files["sm/"+f] = filepath.Join(src, f)
	}
	dir := copyTo(t, files)
	sm := filepath.Join(dir, "sm")
	if _, err := keras.SealSHA256(sm); err != nil {
		t.Fatal(err)
	}
	if m, _ := os.ReadFile(sm + ".sha256"); !strings.Contains(string(m), "  sm/variables/variables.index\n") {
		t.Errorf("manifest:\n%s", m)
	}
	if _, err := keras.Load(sm); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(sm, "variables", "variables.data-00000-of-00001")
	b, _ := os.ReadFile(data)
	b[len(b)/2] ^= 1
	os.WriteFile(data, b, 0o644)
	_, err := keras.Load(sm)
	if !errors.Is(err, keras.ErrIntegrity) || !strings.Contains(err.Error(), "sm/variables/variables.data-00000-of-00001") {
		t.Errorf("got %v", err)
	}
	// A file added to the folder is not covered by the manifest.
	os.WriteFile(data, append(b[:len(b)/2:len(b)/2], 0), 0o644)
	os.WriteFile(filepath.Join(sm, "extra.txt"), []byte("x"), 0o644)
	if _, err := keras.Load(sm); !errors.Is(err, keras.ErrIntegrity) || !strings.Contains(err.Error(), "does not list sm/extra.txt") {
		t.Errorf("extra file: got %v", err)
	}
}
