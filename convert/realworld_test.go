package convert

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/h5"
)

type manifestEntry struct {
	ID     string `json:"id"`
	Format string `json:"format"`
	Files  []struct {
		Name string `json:"name"`
	} `json:"files"`
}

// loadRealworld loads one artifact of ../shared/realworld with the reader
// its format needs; handled reports whether the format is this package's.
func loadRealworld(t *testing.T, dir string, e manifestEntry) (m *Model, handled bool, err error) {
	t.Helper()
	file := func(suffixes ...string) string {
		for _, f := range e.Files {
			for _, s := range suffixes {
				if strings.HasSuffix(f.Name, s) {
					return filepath.Join(dir, f.Name)
				}
			}
		}
		t.Fatalf("%s: no file with suffix %v", e.ID, suffixes)
		return ""
	}
	openH5 := func(p string) *h5.File {
		hf, err := h5.Open(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		t.Cleanup(func() { hf.Close() })
		return hf
	}
	switch e.Format {
	case "keras-h5-full", "keras-h5-weights":
		m, err = ReadHDF5Model(openH5(filepath.Join(dir, e.Files[0].Name)))
	case "keras-json+h5-weights", "keras3-json+weights-h5":
		cfg, rerr := os.ReadFile(file(".json"))
		if rerr != nil {
			t.Fatal(rerr)
		}
		m, err = ReadConfigAndWeights(cfg, openH5(file(".h5")))
	case "keras3-zip":
		f, oerr := os.Open(filepath.Join(dir, e.Files[0].Name))
		if oerr != nil {
			t.Fatal(oerr)
		}
		defer f.Close()
		st, _ := f.Stat()
		m, err = ReadKerasZip(f, st.Size(), f.Name())
	case "keras3-weights-h5":
		// The architecture is the sibling .keras zip's (expected/case.json
		// says so for 57).
		zips, _ := filepath.Glob(filepath.Join(dir, "..", "56_*", "*.keras"))
		if len(zips) == 0 {
			t.Skip("sibling 56 artifact absent")
		}
		cfg := zipMember(t, zips[0], "config.json")
		m, err = ReadConfigAndWeights(cfg, openH5(filepath.Join(dir, e.Files[0].Name)))
	default:
		return nil, false, nil
	}
	return m, true, err
}

// TestRealworld loads every Keras HDF5/zip/JSON artifact of
// ../shared/realworld and checks the weights against expected/case.json.
func TestRealworld(t *testing.T) {
	root := shared(t, "realworld")
	b, err := os.ReadFile(filepath.Join(root, "MANIFEST.json"))
	if err != nil {
		t.Skip("no realworld manifest")
	}
	var entries []manifestEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Run(e.ID, func(t *testing.T) {
			dir := filepath.Join(root, e.ID)
			m, handled, err := loadRealworld(t, dir, e)
			if !handled {
				t.Skipf("format %s is read by another package", e.Format)
			}
			if e.Format == "keras-h5-weights" {
				// No architecture: the reader must say so.
				if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "weights-only") {
					t.Fatalf("weights-only file: got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cb, err := os.ReadFile(filepath.Join(dir, "expected", "case.json"))
			if err != nil {
				t.Fatal(err)
			}
			var c goldenCase
			if err := json.Unmarshal(cb, &c); err != nil {
				t.Fatal(err)
			}
			if len(c.Weights) > 0 {
				checkGoldenWeights(t, c, m, e.Format)
			}
			if m.KerasVersion == "" {
				t.Errorf("no Keras version")
			}
		})
	}
}

// readUnderArch reads the weights-only file of a realworld artifact under
// an architecture from testdata/convert, skipping when it is absent.
func readUnderArch(t *testing.T, artifact, file, arch string) (*Model, *h5.File) {
	t.Helper()
	path := filepath.Join(shared(t, "realworld/"+artifact), file)
	if _, err := os.Stat(path); err != nil {
		t.Skip("artifact absent")
	}
	cfg, err := os.ReadFile(filepath.Join(fixtureDir, arch))
	if err != nil {
		t.Fatal(err)
	}
	hf := openH5(t, path)
	m, err := ReadConfigAndWeights(cfg, hf)
	if err != nil {
		t.Fatal(err)
	}
	return m, hf
}

// TestRealworldCuDNNWeights loads textgenrnn's CuDNNLSTM weights-only
// file (realworld 18) under an architecture written from textgenrnn's
// model code (testdata/convert/textgenrnn_arch.json): the CuDNN layers
// become LSTMs with summed biases, and the custom attention layer keeps
// its weight for a user-registered builder.
func TestRealworldCuDNNWeights(t *testing.T) {
	m, hf := readUnderArch(t, "18_textgenrnn_cudnn_weights", "textgenrnn_weights.hdf5", "textgenrnn_arch.json")
	if m.KerasVersion != "2.1.5" || m.Backend != "tensorflow" {
		t.Errorf("version %q backend %q", m.KerasVersion, m.Backend)
	}
	raw, err := hf.Root().Dataset("rnn_1/rnn_1/bias:0")
	if err != nil {
		t.Fatal(err)
	}
	rawBias, err := raw.ReadFloat32()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"rnn_1", "rnn_2"} {
		l := findLayer(m.Graph, name)
		if l.ClassName != "LSTM" || l.OriginalClassName() != "CuDNNLSTM" || len(l.Weights) != 3 {
			t.Fatalf("%s: %s with %d weights", name, l.ClassName, len(l.Weights))
		}
		if !equalInts(l.Weights[2].Shape, []int{512}) || !equalInts(l.Weights[1].Shape, []int{128, 512}) {
			t.Errorf("%s: shapes %v %v", name, l.Weights[1].Shape, l.Weights[2].Shape)
		}
	}
	b := findLayer(m.Graph, "rnn_1").Weights[2].Data
	for i := range b {
		if b[i] != rawBias[i]+rawBias[512+i] {
			t.Fatalf("bias[%d] = %v, want %v + %v", i, b[i], rawBias[i], rawBias[512+i])
		}
	}
	if a := findLayer(m.Graph, "attention"); len(a.Weights) != 1 || !equalInts(a.Weights[0].Shape, []int{356, 1}) {
		t.Errorf("custom layer weights %v", a.Weights)
	}
}

// TestRealworldKeras1WeightsOnly loads the Keras 1 weights-only file of
// realworld 04 (no version attribute, 12 per-gate LSTM arrays) under the
// architecture its notebook builds (testdata/convert/aind2rnn_arch.json).
func TestRealworldKeras1WeightsOnly(t *testing.T) {
	m, hf := readUnderArch(t, "04_aind2rnn_keras1_lstm_weights", "best_RNN_large_textdata_weights.hdf5", "aind2rnn_arch.json")
	if m.KerasVersion != "1.2.2" {
		t.Errorf("version %q", m.KerasVersion)
	}
	l := findLayer(m.Graph, "lstm_1")
	if len(l.Weights) != 3 || !equalInts(l.Weights[0].Shape, []int{33, 800}) || l.Config["recurrent_activation"] != "hard_sigmoid_keras2" {
		t.Fatalf("lstm_1: %d weights, config %v", len(l.Weights), l.Config)
	}
	// Column block 1 of the kernel is the forget gate: W_f.
	wf, err := hf.Root().Dataset("lstm_1/lstm_1_W_f:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := wf.ReadFloat32()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 33; i++ {
		for j := 0; j < 200; j++ {
			if got, want := l.Weights[0].Data[i*800+200+j], f[i*200+j]; got != want {
				t.Fatalf("kernel[%d][%d] = %v, want W_f %v", i, 200+j, got, want)
			}
		}
	}
}
