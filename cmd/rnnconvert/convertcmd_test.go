package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/internal/testutil"
	"github.com/rnnkit/rnnkit/keras"
)

const convertSrc = "../../testdata/example/char_gru_generator/"

// noTemp fails when a folder holds a leftover temporary file.
func noTemp(t *testing.T, dir string) {
	t.Helper()
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestConvertBareForm(t *testing.T) {
	src, err := filepath.Abs(convertSrc + "model.h5")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	code, out, errs := runCmd(src)
	if code != 0 || !strings.Contains(out, "wrote model.keras: ") || !strings.Contains(out, "verified: ") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if _, err := keras.Load(filepath.Join(dir, "model.keras")); err != nil {
		t.Fatal(err)
	}
	// A second run keeps the file: one line, exit 1, naming --force.
	code, _, errs = runCmd(src)
	if code != 1 || !strings.Contains(errs, "model.keras exists: pass --force") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("existing output: exit %d: %q", code, errs)
	}
	if code, out, errs := runCmd(src, "--force"); code != 0 {
		t.Errorf("--force: exit %d\n%s%s", code, out, errs)
	}
	noTemp(t, dir)
}

func TestConvertForms(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"keras zip", []string{"convert", convertSrc + "model.keras", "-o", filepath.Join(dir, "a.keras")}, "wrote "},
		{"config and weights", []string{"convert", "--config", convertSrc + "model.json", "--weights", convertSrc + "model.weights.h5", "-o", filepath.Join(dir, "b.keras")}, "wrote "},
		{"fp16", []string{"convert", convertSrc + "model.h5", "-o", filepath.Join(dir, "c.keras"), "--fp16"}, "float16 weights"},
		{"weights only", []string{"convert", convertSrc + "model.h5", "-o", filepath.Join(dir, "d.weights.h5"), "--weights-only"}, "wrote "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCmd(tc.args...)
			if code != 0 || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d\n%s%s", code, out, errs)
			}
		})
	}
	// The weights-only file loads with the model's architecture.
	if _, err := keras.LoadConfigAndWeights(convertSrc+"model.json", filepath.Join(dir, "d.weights.h5")); err != nil {
		t.Error(err)
	}
	noTemp(t, dir)
}

func TestConvertErrors(t *testing.T) {
	dir := t.TempDir()
	weightsOnly := filepath.Join(dir, "w.weights.h5")
	if code, out, errs := runCmd("convert", convertSrc+"model.h5", "-o", weightsOnly, "--weights-only"); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unwritable", []string{"convert", convertSrc + "model.h5", "-o", filepath.Join(dir, "missing", "x.keras")}, "does not exist"},
		{"weights-only input", []string{"convert", weightsOnly, "-o", filepath.Join(dir, "y.keras")}, "pass the architecture too, as --config model.json --weights FILE"},
		{"not a model", []string{"convert", convertSrc + "x0.npy", "-o", filepath.Join(dir, "z.keras")}, "x0.npy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCmd(tc.args...)
			if code != 1 || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, want 1 with %q\n%s%s", code, tc.want, out, errs)
			}
		})
	}
	es, _ := os.ReadDir(dir)
	if len(es) != 1 {
		t.Errorf("files left: %v", es)
	}
}

// keras2Config rewrites a golden's model.json as a Keras 2 writer's, where
// hard_sigmoid means clip(0.2x + 0.5, 0, 1); with edit applied to its
// layers.
func keras2Config(t *testing.T, golden string, edit func(layers []any) []any) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("../../testdata/goldens", golden, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	c := cfg["config"].(map[string]any)
	if edit != nil {
		c["layers"] = edit(c["layers"].([]any))
	}
	cfg["keras_version"] = "2.3.1"
	raw, _ = json.Marshal(cfg)
	p := filepath.Join(t.TempDir(), "model.json")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConvertKeras2HardSigmoid checks both outcomes for a Keras 1/2
// hard_sigmoid: kept exact where its input is a weighted sum (an LSTM's
// gates, a Dense layer), refused with the layer, option and difference
// where it is not (an Activation layer), unless --allow-approx.
func TestConvertKeras2HardSigmoid(t *testing.T) {
	dir := t.TempDir()
	for _, golden := range []string{"lstm_ract_hard_sigmoid", "dense_act_hard_sigmoid"} {
		cfg := keras2Config(t, golden, nil)
		code, out, errs := runCmd("convert", "--keras-version", "2.3.1", "--config", cfg, "--weights",
			filepath.Join("../../testdata/goldens", golden, "model.weights.h5"), "-o", filepath.Join(dir, golden+".keras"))
		if code != 0 || !strings.Contains(out, "rewritten: layer ") || !strings.Contains(out, "within 1e-5") {
			t.Errorf("%s: exit %d\n%s%s", golden, code, out, errs)
		}
	}
	// Dense(linear) then Activation(hard_sigmoid): nothing to rescale.
	cfg := keras2Config(t, "dense_act_hard_sigmoid", func(ls []any) []any {
		d := ls[1].(map[string]any)
		d["config"].(map[string]any)["activation"] = "linear"
		return append(ls, map[string]any{"class_name": "Activation", "config": map[string]any{"name": "act", "activation": "hard_sigmoid"}})
	})
	args := []string{"convert", "--keras-version", "2.3.1", "--config", cfg, "--weights",
		filepath.Join("../../testdata/goldens", "dense_act_hard_sigmoid", "model.weights.h5"), "-o", filepath.Join(dir, "act.keras")}
	code, out, errs := runCmd(args...)
	for _, part := range []string{`layer "act" option activation`, "clip(0.2x + 0.5, 0, 1)", "differs by up to", "--allow-approx"} {
		if code != 1 || !strings.Contains(errs, part) {
			t.Errorf("refusal: exit %d, stderr lacks %q\n%s%s", code, part, out, errs)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "act.keras")); err == nil {
		t.Error("a refused conversion left its file")
	}
	code, out, errs = runCmd(append(args, "--allow-approx")...)
	if code != 0 || !strings.Contains(out, `approximated: layer "act" option activation`) || !strings.Contains(out, "over the tolerance") {
		t.Errorf("--allow-approx: exit %d\n%s%s", code, out, errs)
	}
	noTemp(t, dir)
}

// TestConvertRefusesInexact converts a real character LSTM whose Keras 2
// hard_sigmoid, kept by rescaling, moves outputs past the tolerance on
// one-hot inputs: the verify step must refuse it.
func TestConvertRefusesInexact(t *testing.T) {
	src := filepath.Join(testutil.SharedDir(t, "realworld"), "31_tfjs0x_lstm_textgen", "model.json")
	code, out, errs := runCmd("convert", src, "-o", filepath.Join(t.TempDir(), "x.keras"))
	if code != 1 || !strings.Contains(errs, `layer "lstm_2" recurrent_activation`) || !strings.Contains(errs, "--allow-approx") {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
}
