package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
)

const caseDir = "../../testdata/example/char_gru_generator"
const statefulDir = "../../testdata/goldens/char_gru_generator_stateful"

func runCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVerifyCase(t *testing.T) {
	code, out, errs := runCmd("verify", "--case", caseDir)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, f := range []string{"[keras]", "[h5]", "[weights_h5+json]"} {
		if !strings.Contains(out, f) {
			t.Errorf("output lacks format %s:\n%s", f, out)
		}
	}
	if !strings.Contains(out, "ok   y0.npy") {
		t.Errorf("output lacks the y0 result:\n%s", out)
	}
}

// predict with --calls on a stateful model: one session carries the
// state from call to call, outputs are numbered across calls, and verify
// agrees with Keras' outputs.
func TestPredictAndVerifyCalls(t *testing.T) {
	dir := t.TempDir()
	in := func(f string) string { return filepath.Join(statefulDir, f) }
	code, out, errs := runCmd("predict", in("model.keras"), "--input", in("x0.npy"), "--input", in("x1.npy"), "--input", in("x2.npy"), "--calls", "3", "--out", dir)
	if code != 0 {
		t.Fatalf("predict exit %d: %s%s", code, out, errs)
	}
	for i := 0; i < 3; i++ {
		got, err := keras.ReadNPYFile(filepath.Join(dir, "y"+string(rune('0'+i))+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		want, err := keras.ReadNPYFile(in("y" + string(rune('0'+i)) + ".npy"))
		if err != nil {
			t.Fatal(err)
		}
		if r := keras.Compare(got, want, keras.DefaultAtol, keras.DefaultRtol); !r.OK() {
			t.Errorf("y%d: %s", i, &r)
		}
	}
	code, out, errs = runCmd("verify", "--config", in("model.json"), "--weights", in("model.weights.h5"),
		"--input", in("x0.npy"), "--input", in("x1.npy"), "--input", in("x2.npy"), "--calls", "3",
		"--expect", in("y0.npy"), "--expect", in("y1.npy"), "--expect", in("y2.npy"))
	if code != 0 {
		t.Fatalf("verify exit %d: %s%s", code, out, errs)
	}
	// Without --calls the three inputs do not fit a one-input model.
	code, _, errs = runCmd("verify", in("model.keras"), "--input", in("x0.npy"), "--input", in("x1.npy"), "--expect", in("y0.npy"))
	if code != 2 || !strings.Contains(errs, "model has 1 inputs, got 2 per call") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

func TestVerifyDetectsMismatch(t *testing.T) {
	// y0 of another case has another shape: verify must fail, not pass.
	code, out, _ := runCmd("verify", filepath.Join(caseDir, "model.keras"), "--input", filepath.Join(caseDir, "x0.npy"),
		"--expect", filepath.Join(statefulDir, "y0.npy"))
	if code != 1 || !strings.Contains(out, "FAIL") {
		t.Errorf("exit %d, stdout %q", code, out)
	}
}

func TestInspect(t *testing.T) {
	code, out, errs := runCmd("inspect", filepath.Join(caseDir, "model.h5"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"gru (GRU)", "(None, None, 8)", "Total params: 834", "keras-h5"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	code, out, errs = runCmd("inspect", filepath.Join(caseDir, "model.keras"), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var s keras.Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if s.TotalParams != 834 || len(s.Layers) != 4 || s.KerasVersion != "3.16.0" {
		t.Errorf("summary %+v", s)
	}
	// Inputs and outputs use snake_case keys like the rest of the summary.
	var raw struct {
		Inputs, Outputs []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Inputs) != 1 || len(raw.Outputs) != 1 {
		t.Fatalf("inputs %v, outputs %v", raw.Inputs, raw.Outputs)
	}
	for _, spec := range []map[string]any{raw.Inputs[0], raw.Outputs[0]} {
		if spec["name"] == nil || spec["shape"] == nil || spec["dtype"] == nil {
			t.Errorf("tensor spec keys %v, want name, shape, dtype", spec)
		}
	}
	if raw.Inputs[0]["token_ids"] != true || raw.Inputs[0]["vocabulary_size"] != 30.0 || len(raw.Outputs[0]) != 3 {
		t.Errorf("input spec %v (want token_ids and vocabulary_size 30), output spec %v (want 3 keys)", raw.Inputs[0], raw.Outputs[0])
	}
	if raw.Outputs[0]["name"] != "dense" || raw.Inputs[0]["dtype"] != "int32" {
		t.Errorf("inputs %v, outputs %v", raw.Inputs, raw.Outputs)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage:"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"inspect"}, 2, "want exactly one MODEL"},
		{[]string{"predict", filepath.Join(caseDir, "model.keras")}, 2, "no input given: pass --ids, --values or --input"},
		{[]string{"inspect", filepath.Join(caseDir, "x0.npy")}, 1, "not a Keras model"},
		{[]string{"inspect", filepath.Join(caseDir, "model.weights.h5")}, 1, "weights-only file"},
		{[]string{"inspect", "/nonexistent/model.h5"}, 1, "no such file"},
	} {
		code, _, errs := runCmd(tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d containing %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}

// The h5 subcommand dispatches to the HDF5 dump.
func TestH5Dispatch(t *testing.T) {
	code, out, errs := runCmd("h5", filepath.Join(caseDir, "model.weights.h5"))
	if code != 0 || !strings.Contains(out, "layers/gru/cell/vars") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// inspect still describes a model with a layer rnnkit cannot build, then
// fails naming it.
func TestInspectUnsupported(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(caseDir, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	c := cfg["config"].(map[string]any)
	ls := c["layers"].([]any)
	custom := map[string]any{"module": "my.layers", "class_name": "MyIdentity", "registered_name": "MyIdentity",
		"config": map[string]any{"name": "my_identity", "trainable": true}}
	c["layers"] = append(ls[:3:3], append([]any{custom}, ls[3:]...)...)
	raw, _ = json.Marshal(cfg)
	p := filepath.Join(t.TempDir(), "model.json")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd("inspect", "--config", p, "--weights", filepath.Join(caseDir, "model.weights.h5"))
	if code != 1 || !strings.Contains(out, "my_identity (MyIdentity)") || !strings.Contains(out, "Total params: 834") ||
		!strings.Contains(errs, `1 unsupported layer: "my_identity" (MyIdentity; config keys: name, trainable)`) {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}

func TestKerasVersionFlag(t *testing.T) {
	code, out, errs := runCmd("inspect", "--keras-version", "3.16.0", "--json", "--config", filepath.Join(caseDir, "model.json"),
		"--weights", filepath.Join(caseDir, "model.weights.h5"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var s keras.Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	// model.json alone does not record the exact version; the flag sets it.
	if s.KerasVersion != "3.16.0" || s.Format != "json+weights" {
		t.Errorf("keras_version %q, format %q", s.KerasVersion, s.Format)
	}
}
