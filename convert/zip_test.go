package convert

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/h5"
)

// rezip copies a .keras archive, with every member deflated, minus the
// members drop names, plus extra members.
func rezip(t testing.TB, src string, drop map[string]bool, extra map[string]string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		if drop[f.Name] {
			continue
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
	for n, v := range extra {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, v)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestKerasZipDeflatedAndBroken(t *testing.T) {
	src := filepath.Join(shared(t, "goldens/bidi_gru_concat_seq"), "model.keras")
	if _, err := os.Stat(src); err != nil {
		t.Skip("golden case absent")
	}
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	stored, err := ReadKerasZip(f, st.Size(), src)
	if err != nil {
		t.Fatal(err)
	}
	b := rezip(t, src, nil, nil)
	deflated, err := ReadKerasZip(bytes.NewReader(b), int64(len(b)), "deflated.keras")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(weightData(collectWeights(stored.Graph)), weightData(collectWeights(deflated.Graph))) {
		t.Error("deflated archive gives other weights")
	}
	if deflated.Format != "keras-zip" || deflated.File != "deflated.keras" || deflated.KerasVersion != "3.16.0" {
		t.Errorf("model info %q %q %q", deflated.Format, deflated.File, deflated.KerasVersion)
	}
	for _, tc := range []struct {
		name string
		data []byte
		kind error
		msg  string
	}{
		{"not a zip", []byte("hello"), ErrFormat, "zip: end of central directory: file of 5 bytes is too short"},
		{"no config", rezip(t, src, map[string]bool{"config.json": true}, nil), ErrFormat, "no config.json"},
		{"no weights", rezip(t, src, map[string]bool{"model.weights.h5": true}, nil), ErrFormat, "no model.weights.h5"},
		{"npz weights", rezip(t, src, map[string]bool{"model.weights.h5": true}, map[string]string{"model.weights.npz": "x"}), ErrUnsupported, "npz"},
		{"bad metadata", rezip(t, src, map[string]bool{"metadata.json": true}, map[string]string{"metadata.json": "{"}), ErrFormat, "metadata.json"},
		{"bad weights", rezip(t, src, map[string]bool{"model.weights.h5": true}, map[string]string{"model.weights.h5": "not hdf5"}), ErrFormat, "model.weights.h5"},
	} {
		_, err := ReadKerasZip(bytes.NewReader(tc.data), int64(len(tc.data)), "bad.keras")
		if err == nil || !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "bad.keras") {
			t.Errorf("%s: got %v, want %v containing %q", tc.name, err, tc.kind, tc.msg)
		}
	}
}

// TestKeras3WeightsMismatch loads a golden .weights.h5 under an
// architecture with other sizes: the error names layer and shapes.
func TestKeras3WeightsMismatch(t *testing.T) {
	dir := shared(t, "goldens/lstm_seq")
	cfg, err := os.ReadFile(filepath.Join(dir, "model.json"))
	if err != nil {
		t.Skip("golden case absent")
	}
	bad := bytes.Replace(cfg, []byte(`"units": 8`), []byte(`"units": 9`), 1)
	if bytes.Equal(bad, cfg) {
		t.Fatal("fixture edit did not apply")
	}
	_, err = ReadConfigAndWeights(bad, openH5(t, filepath.Join(dir, "model.weights.h5")))
	if err == nil || !errors.Is(err, ErrWeights) || !strings.Contains(err.Error(), `layer "lstm"`) || !strings.Contains(err.Error(), "want (?, 36)") {
		t.Errorf("got %v", err)
	}
}

func openH5(t *testing.T, path string) *h5.File {
	t.Helper()
	f, err := h5.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}
