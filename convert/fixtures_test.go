package convert

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/h5"
)

// fixtureDir holds the legacy HDF5 fixtures written by gen_fixtures.py
// and the values Keras' own conversion formulas give for them.
const fixtureDir = "../testdata/convert"

type expectedWeight struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

func loadExpected(t *testing.T) map[string]map[string][]expectedWeight {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp map[string]map[string][]expectedWeight
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	return exp
}

// findLayer resolves "layer" or "nested_model/layer" in g.
func findLayer(g *Graph, path string) *Layer {
	parts := strings.SplitN(path, "/", 2)
	for _, l := range g.Layers {
		if l.Name != parts[0] {
			continue
		}
		if len(parts) == 1 {
			return l
		}
		if l.Inner != nil {
			return findLayer(l.Inner, parts[1])
		}
		return findSub(l, parts[1])
	}
	return nil
}

// findSub finds a layer nested in l's config (wrapped layer, RNN cell).
func findSub(l *Layer, name string) *Layer {
	for _, s := range subLayers(l) {
		if s.Name == name {
			return s
		}
		if f := findSub(s, name); f != nil {
			return f
		}
	}
	return nil
}

func openFixture(t *testing.T, name string) *h5.File {
	t.Helper()
	f, err := h5.Open(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestLegacyFixtures(t *testing.T) {
	exp := loadExpected(t)
	for file, layers := range exp {
		t.Run(file, func(t *testing.T) {
			var m *Model
			var err error
			switch file {
			case "keras1_weights.h5", "tfkeras_ckptdeps.weights.h5", "keras1_conv_weights.h5":
				arch := map[string]string{"keras1_weights.h5": "keras1.json", "tfkeras_ckptdeps.weights.h5": "configs/stacked_rnn_cells.json",
					"keras1_conv_weights.h5": "keras1_conv.json"}[file]
				cfg, rerr := os.ReadFile(filepath.Join(fixtureDir, arch))
				if rerr != nil {
					t.Fatal(rerr)
				}
				m, err = ReadConfigAndWeights(cfg, openFixture(t, file))
			default:
				m, err = ReadHDF5Model(openFixture(t, file))
			}
			if err != nil {
				t.Fatal(err)
			}
			for path, want := range layers {
				l := findLayer(m.Graph, path)
				if l == nil {
					t.Fatalf("no layer %s", path)
				}
				if len(l.Weights) != len(want) {
					t.Fatalf("%s: %d weights, want %d", path, len(l.Weights), len(want))
				}
				for i, w := range want {
					got := l.Weights[i]
					if !equalInts(got.Shape, w.Shape) {
						t.Errorf("%s weight %d: shape %v, want %v", path, i, got.Shape, w.Shape)
						continue
					}
					for j, v := range w.Data {
						if math.Abs(float64(got.Data[j])-v) > 1e-6 {
							t.Errorf("%s weight %d [%d]: got %v, want %v", path, i, j, got.Data[j], v)
							break
						}
					}
				}
			}
		})
	}
}

func TestLegacySemantics(t *testing.T) {
	m, err := ReadHDF5Model(openFixture(t, "cudnn.h5"))
	if err != nil {
		t.Fatal(err)
	}
	lstm, gru := findLayer(m.Graph, "cu_dnnlstm_1"), findLayer(m.Graph, "cu_dnngru_1")
	if lstm.ClassName != "LSTM" || gru.ClassName != "GRU" || gru.Config["reset_after"] != true ||
		lstm.Config["recurrent_activation"] != "sigmoid" || m.KerasVersion != "2.1.5" || m.Backend != "tensorflow" {
		t.Errorf("CuDNN model: %s %v, %s %v, version %q backend %q", lstm.ClassName, lstm.Config, gru.ClassName, gru.Config, m.KerasVersion, m.Backend)
	}
	m, err = ReadHDF5Model(openFixture(t, "split_lists.h5"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Backend != "theano" || len(findLayer(m.Graph, "dropout_1").Weights) != 0 {
		t.Errorf("split lists: backend %q", m.Backend)
	}
	cfg, err := os.ReadFile(filepath.Join(fixtureDir, "keras1.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err = ReadConfigAndWeights(cfg, openFixture(t, "keras1_weights.h5"))
	if err != nil {
		t.Fatal(err)
	}
	if g := findLayer(m.Graph, "gru_1"); g.Config["reset_after"] != false || g.Config["recurrent_activation"] != "hard_sigmoid_keras2" || m.KerasVersion != "1.2.2" {
		t.Errorf("Keras 1 GRU %v, version %q", g.Config, m.KerasVersion)
	}
	cfg, err = os.ReadFile(filepath.Join(fixtureDir, "keras1_conv.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err = ReadConfigAndWeights(cfg, openFixture(t, "keras1_conv_weights.h5"))
	if err != nil {
		t.Fatal(err)
	}
	c := findLayer(m.Graph, "conv_a")
	r := c.Config.Reader(c.Name)
	if c.ClassName != "Conv1D" || r.Int("filters", 0) != 4 || r.Int("kernel_size", 0) != 3 || r.String("padding", "") != "same" ||
		r.Int("strides", 0) != 1 || !r.Bool("use_bias", false) || r.Err() != nil {
		t.Errorf("Keras 1 Convolution1D config: %s %v", c.ClassName, c.Config)
	}
	// A weights-only file has no architecture.
	if _, err := ReadHDF5Model(openFixture(t, "keras1_weights.h5")); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "weights-only") {
		t.Errorf("weights-only file as a model: %v", err)
	}
}

// TestWeightErrors checks that mismatched weights are reported with the
// layer, the weight and both shapes.
func TestWeightErrors(t *testing.T) {
	g := mustParse(t, `{"class_name": "Sequential", "keras_version": "2.4.0", "config": {"name": "s", "layers": [
	  {"class_name": "LSTM", "config": {"name": "lstm", "units": 2, "batch_input_shape": [null, 3, 1]}},
	  {"class_name": "GRU", "config": {"name": "gru", "units": 2, "reset_after": false}},
	  {"class_name": "Dense", "config": {"name": "dense", "units": 1}}]}}`, ParseOptions{})
	w := func(name string, shape ...int) Weight {
		return Weight{Name: name, Shape: shape, Data: make([]float32, shapeSize(shape))}
	}
	good := map[string][]Weight{
		"lstm":  {w("k", 1, 8), w("r", 2, 8), w("b", 8)},
		"gru":   {w("k", 2, 6), w("r", 2, 6), w("b", 6)},
		"dense": {w("k", 2, 1), w("b", 1)},
	}
	groups := func(edit func(map[string][]Weight)) []LayerWeights {
		m := map[string][]Weight{}
		for k, v := range good {
			m[k] = append([]Weight(nil), v...)
		}
		edit(m)
		var out []LayerWeights
		for _, n := range []string{"lstm", "gru", "dense"} {
			out = append(out, LayerWeights{Layer: n, Weights: m[n]})
		}
		return out
	}
	if err := AssignModelWeights(g, groups(func(map[string][]Weight) {}), "w.h5"); err != nil {
		t.Fatalf("good weights: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(map[string][]Weight)
		msg  string
	}{
		{"recurrent shape", func(m map[string][]Weight) { m["lstm"][1] = w("r", 3, 8) }, `weight recurrent_kernel "r": got shape [3 8], want (2, 8)`},
		{"count", func(m map[string][]Weight) { m["dense"] = m["dense"][:1] }, "got 1 weights, want 2"},
		{"gru bias rank", func(m map[string][]Weight) { m["gru"][2] = w("b", 2, 6) }, "want (6)"},
		{"missing layer", func(m map[string][]Weight) { m["gru"] = nil }, `no weights in the file for layer "gru"`},
		{"data size", func(m map[string][]Weight) { m["dense"][1] = Weight{Name: "b", Shape: []int{1}} }, "data has 0"},
		{"top level", func(m map[string][]Weight) { m["top_level_model_weights"] = []Weight{w("x", 1)} }, ""},
	} {
		gs := groups(tc.edit)
		if tc.name == "top level" {
			gs = append(gs, LayerWeights{Layer: "top_level_model_weights", Weights: []Weight{w("x", 1)}})
		}
		g2 := mustParse(t, `{"class_name": "Sequential", "keras_version": "2.4.0", "config": {"name": "s", "layers": [
		  {"class_name": "LSTM", "config": {"name": "lstm", "units": 2, "batch_input_shape": [null, 3, 1]}},
		  {"class_name": "GRU", "config": {"name": "gru", "units": 2, "reset_after": false}},
		  {"class_name": "Dense", "config": {"name": "dense", "units": 1}}]}}`, ParseOptions{})
		err := AssignModelWeights(g2, gs, "w.h5")
		if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "w.h5") {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.msg)
		}
		if tc.name == "top level" && !errors.Is(err, ErrUnsupported) {
			t.Errorf("top-level weights: %v, want ErrUnsupported", err)
		} else if tc.name != "top level" && !errors.Is(err, ErrWeights) {
			t.Errorf("%s: %v does not match ErrWeights", tc.name, err)
		}
	}
}

// TestAssignByPosition pairs weight groups with layers by order when the
// file's layer names differ from the config's (a model rebuilt in code,
// saved with save_weights).
func TestAssignByPosition(t *testing.T) {
	g := mustParse(t, `{"class_name": "Sequential", "keras_version": "2.2.4", "config": [
	  {"class_name": "Dense", "config": {"name": "a", "units": 2, "batch_input_shape": [null, 3]}},
	  {"class_name": "Dropout", "config": {"name": "drop", "rate": 0.1}},
	  {"class_name": "Dense", "config": {"name": "b", "units": 1}}]}`, ParseOptions{})
	w := func(v float32, shape ...int) Weight {
		d := make([]float32, shapeSize(shape))
		for i := range d {
			d[i] = v
		}
		return Weight{Name: "w", Shape: shape, Data: d}
	}
	groups := []LayerWeights{
		{Layer: "dense_7", Weights: []Weight{w(1, 3, 2), w(2, 2)}},
		{Layer: "dropout_3"},
		{Layer: "dense_8", Weights: []Weight{w(3, 2, 1), w(4, 1)}},
	}
	if err := AssignModelWeights(g, groups, "w.h5"); err != nil {
		t.Fatal(err)
	}
	if a, b := layerByName(t, g, "a"), layerByName(t, g, "b"); a.Weights[1].Data[0] != 2 || b.Weights[0].Data[0] != 3 {
		t.Errorf("positional pairing: a %v, b %v", a.Weights, b.Weights)
	}
	err := AssignModelWeights(g, groups[:1], "w.h5")
	if !errors.Is(err, ErrWeights) || !strings.Contains(err.Error(), "weights for 1 layers, the model has 2") {
		t.Errorf("count mismatch: %v", err)
	}
}
