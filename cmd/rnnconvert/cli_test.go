package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
)

func TestVersion(t *testing.T) {
	for _, arg := range []string{"--version", "version", "-version"} {
		code, out, errs := runCmd(arg)
		if code != 0 || !strings.HasPrefix(out, "rnnconvert ") || !strings.Contains(out, "module github.com/rnnkit/rnnkit") ||
			!strings.Contains(out, "go go1.") || errs != "" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", arg, code, out, errs)
		}
	}
}

// TestCommandHelp checks that every command answers --help (and -h, and
// "help CMD") on stdout with exit 0, listing every flag it accepts with
// its default, and examples.
func TestCommandHelp(t *testing.T) {
	for _, name := range []string{"inspect", "predict", "verify", "serve"} {
		for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}, {name, "MODEL", "--ids", "1", "--help"}} {
			code, out, errs := runCmd(args...)
			if code != 0 || errs != "" {
				t.Errorf("%v: exit %d, stderr %q", args, code, errs)
				continue
			}
			for _, want := range []string{"usage:\n  rnnconvert " + name, "flags:", "examples:\n  rnnconvert " + name, "--config JSON", "--keras-version VERSION"} {
				if !strings.Contains(out, want) {
					t.Errorf("%v: help lacks %q:\n%s", args, want, out)
				}
			}
		}
	}
	// Every flag predict and verify define is listed, with its default.
	for name, want := range map[string][]string{
		"predict": {"--ids IDS", "--values VALUES", "--input FILE.npy", "--json", "--out DIR", "--name-outputs", "--calls int", "(default 1)", "--weights FILE"},
		"verify":  {"--case DIR", "--expect FILE.npy", "--atol float", "(default 1e-05)", "--rtol float", "(default 0.0001)", "--ids IDS"},
		"inspect": {"--json"},
		"serve": {"--name NAME", "--addr HOST:PORT", "(default 127.0.0.1:8080)", "--grpc-addr HOST:PORT", "--model-repository DIR",
			"--max-batch int", "(default 32)", "--batch-timeout duration", "(default 2ms)", "--max-body-bytes int", "--request-timeout duration",
			"--tokenizer FILE", "--maxlen int", "--log-format string", "(default text)"},
	} {
		_, out, _ := runCmd(name, "--help")
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s --help lacks %q", name, w)
			}
		}
	}
	_, out, _ := runCmd("--help")
	for _, w := range []string{"inspect", "predict", "verify", "h5", "--version", "COMMAND --help"} {
		if !strings.Contains(out, w) {
			t.Errorf("rnnconvert --help lacks %q", w)
		}
	}
}

type jsonOutputs struct {
	Outputs []struct {
		Name   string          `json:"name"`
		Call   int             `json:"call"`
		File   string          `json:"file"`
		Shape  []int           `json:"shape"`
		Values json.RawMessage `json:"values"`
	} `json:"outputs"`
}

// flatten reads nested JSON arrays of numbers.
func flatten(t *testing.T, raw json.RawMessage) []float32 {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	var out []float32
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				walk(e)
			}
		case float64:
			out = append(out, float32(v))
		default:
			t.Fatalf("value %v (%T) in JSON output", v, v)
		}
	}
	walk(v)
	return out
}

// TestPredictIDsJSON runs inline token ids and checks the JSON against
// Keras: the ids are the first 4 steps of two rows of x0.npy, so the
// outputs are the first 4 steps of Keras' y0.npy for them.
func TestPredictIDsJSON(t *testing.T) {
	x, err := keras.ReadNPYFile(filepath.Join(caseDir, "x0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	y, err := keras.ReadNPYFile(filepath.Join(caseDir, "y0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	T, V := x.Shape[1], y.Shape[2]
	var rows []string
	for b := 0; b < 2; b++ {
		var ids []string
		for s := 0; s < 4; s++ {
			ids = append(ids, fmt.Sprint(int(x.Data[b*T+s])))
		}
		rows = append(rows, strings.Join(ids, ","))
	}
	code, out, errs := runCmd("predict", filepath.Join(caseDir, "model.keras"), "--ids", strings.Join(rows, "; "), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got jsonOutputs
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(got.Outputs) != 1 || got.Outputs[0].Name != "dense" || fmt.Sprint(got.Outputs[0].Shape) != "[2 4 30]" {
		t.Fatalf("outputs %+v", got.Outputs)
	}
	vals := flatten(t, got.Outputs[0].Values)
	want := keras.NewTensor(2, 4, V)
	for b := 0; b < 2; b++ {
		copy(want.Data[b*4*V:(b+1)*4*V], y.Data[b*T*V:(b*T+4)*V])
	}
	gotT, _ := keras.FromFloat32(vals, 2, 4, V)
	if r := keras.Compare(gotT, want, keras.DefaultAtol, keras.DefaultRtol); !r.OK() {
		t.Errorf("JSON values against Keras: %s", &r)
	}
	// Without --json the outputs print as text, one row per line.
	code, out, _ = runCmd("predict", filepath.Join(caseDir, "model.keras"), "--ids", "22,9")
	if code != 0 || !strings.HasPrefix(out, "dense: shape [1 2 30]\n  [0 0] ") || strings.Count(out, "\n") != 3 {
		t.Errorf("text output (exit %d):\n%s", code, out)
	}
}

// TestPredictValuesNamedOutputs feeds a float model its x0.npy inline and
// writes the outputs by name: two outputs of one layer get distinct names.
func TestPredictValuesNamedOutputs(t *testing.T) {
	dir := "../../testdata/goldens/bidi_gru_none_last"
	x, err := keras.ReadNPYFile(filepath.Join(dir, "x0.npy")) // [3, 7, 5]
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	per := x.Shape[1] * x.Shape[2]
	for b := 0; b < x.Shape[0]; b++ {
		var vs []string
		for _, v := range x.Data[b*per : (b+1)*per] {
			vs = append(vs, formatFloat(v))
		}
		rows = append(rows, strings.Join(vs, ","))
	}
	out := t.TempDir()
	code, stdout, errs := runCmd("predict", filepath.Join(dir, "model.keras"), "--values", strings.Join(rows, ";"), "--out", out, "--name-outputs")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for i, name := range []string{"bidirectional.npy", "bidirectional_1.npy"} {
		got, err := keras.ReadNPYFile(filepath.Join(out, name))
		if err != nil {
			t.Fatalf("%v (stdout %q)", err, stdout)
		}
		want, err := keras.ReadNPYFile(filepath.Join(dir, fmt.Sprintf("y%d.npy", i)))
		if err != nil {
			t.Fatal(err)
		}
		if r := keras.Compare(got, want, keras.DefaultAtol, keras.DefaultRtol); !r.OK() {
			t.Errorf("%s: %s", name, &r)
		}
	}
	// Without --name-outputs the files stay y0.npy, y1.npy.
	out2 := t.TempDir()
	if code, _, errs := runCmd("predict", filepath.Join(dir, "model.keras"), "--input", filepath.Join(dir, "x0.npy"), "--out", out2); code != 0 {
		t.Fatal(errs)
	}
	for _, f := range []string{"y0.npy", "y1.npy"} {
		if _, err := os.Stat(filepath.Join(out2, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestFixedBatchCLI runs a Keras 3 model whose InputLayer fixes batch 32
// on a batch of 2, as Keras does.
func TestFixedBatchCLI(t *testing.T) {
	code, out, errs := runCmd("predict", "../../testdata/batch_rule/fixed_batch_stateless/model.keras", "--ids", "1,2,3,4,5,6,7;7,6,5,4,3,2,1", "--json")
	if code != 0 || !strings.Contains(out, `"shape": [2, 3]`) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestCLIErrors covers the command-line errors the issue names: each exits
// non-zero, without a panic, and says what to pass instead in CLI flags.
func TestCLIErrors(t *testing.T) {
	ex := func(f string) string { return filepath.Join(caseDir, f) }
	art := t.TempDir()
	os.MkdirAll(filepath.Join(art, "expected"), 0o755)
	os.WriteFile(filepath.Join(art, "expected", "case.json"), []byte(`{"name": "a"}`), 0o644)
	pair := t.TempDir()
	for _, f := range []string{"model.json", "model.weights.h5"} {
		data, _ := os.ReadFile(ex(f))
		os.WriteFile(filepath.Join(pair, f), data, 0o644)
	}
	sm := filepath.Join(t.TempDir(), "saved_model.pb")
	os.WriteFile(sm, []byte("not really"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
		not  []string
	}{
		{"bad token id", []string{"predict", ex("model.keras"), "--ids", "3,99,1"}, 1,
			[]string{`input "input_layer"`, "at [0, 1]", "token id 99", "[0, 30)"}, nil},
		{"negative token id", []string{"predict", ex("model.keras"), "--ids", "-1"}, 1, []string{`input "input_layer"`, "token id -1"}, nil},
		{"fractional id", []string{"predict", ex("model.keras"), "--ids", "1,2.5"}, 2, []string{`"2.5" is not an integer`, "--help"}, nil},
		{"ragged ids", []string{"predict", ex("model.keras"), "--ids", "1,2;3"}, 2, []string{"row 1 has 1 values, row 0 has 2"}, nil},
		{"not a number", []string{"predict", ex("model.keras"), "--values", "1,x"}, 2, []string{`"x" is not a number`}, nil},
		{"values do not fill the features", []string{"predict", "../../testdata/goldens/bidi_gru_none_last/model.keras", "--values", "1,2,3"}, 2,
			[]string{"rows of 3 values do not fill", "multiple of 5"}, nil},
		{"bad keras version", []string{"inspect", "--keras-version", "banana", ex("model.h5")}, 2, []string{`--keras-version "banana"`, "3.16.0"}, nil},
		{"weights-only file", []string{"predict", ex("model.weights.h5"), "--ids", "1"}, 1,
			[]string{"weights-only", "pass --config " + ex("model.json") + " --weights " + ex("model.weights.h5")}, []string{"LoadConfigAndWeights"}},
		{".keras as --config", []string{"inspect", "--config", ex("model.keras"), "--weights", ex("model.weights.h5")}, 1,
			[]string{"model.keras: is a .keras model file", "pass it as MODEL without --config/--weights: rnnconvert inspect " + ex("model.keras")}, []string{"Load"}},
		{"architecture JSON as MODEL", []string{"inspect", ex("model.json")}, 1, []string{"pass --config " + ex("model.json") + " --weights " + ex("model.weights.h5")}, []string{"LoadConfigAndWeights"}},
		{"folder with a JSON + .h5 pair", []string{"inspect", pair}, 1,
			[]string{"pass --config " + filepath.Join(pair, "model.json") + " --weights " + filepath.Join(pair, "model.weights.h5")}, nil},
		{"saved_model.pb", []string{"inspect", sm}, 1, []string{"SavedModel", "rnnconvert inspect " + filepath.Dir(sm)}, nil},
		{"verify --case on an artifact folder", []string{"verify", "--case", art}, 2, []string{"expected/", "pass --case " + filepath.Join(art, "expected")}, nil},
		{"verify --case without case.json", []string{"verify", "--case", t.TempDir()}, 2, []string{"no case.json"}, nil},
		{"--name-outputs without --out", []string{"predict", ex("model.keras"), "--ids", "1", "--name-outputs"}, 2, []string{"--name-outputs needs --out"}, nil},
		{"stateful batch", []string{"predict", "../../testdata/batch_rule/fixed_batch_stateful/model.keras", "--ids", "1,2,3,4,5,6,7"}, 1,
			[]string{`input "tokens"`, "got batch 1, want 4", "stateful"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCmd(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errs)
			}
			if strings.Contains(errs, "panic") || strings.Contains(errs, "goroutine") {
				t.Fatalf("panic: %s", errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q lacks %q", errs, w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(errs, w) {
					t.Errorf("stderr %q names %q (a Go function, not a flag)", errs, w)
				}
			}
		})
	}
}

// TestEveryCommandHelp runs --help on every command the global usage
// lists: each prints its help on stdout, with an example, and exits 0.
func TestEveryCommandHelp(t *testing.T) {
	_, usageText, _ := runCmd("--help")
	in := false
	n := 0
	for _, line := range strings.Split(usageText, "\n") {
		switch {
		case line == "commands:":
			in = true
			continue
		case in && !strings.HasPrefix(line, "  "):
			in = false
		}
		if !in || strings.HasPrefix(line, "    ") {
			continue // continuation lines are indented further
		}
		name := strings.Fields(line)[0]
		n++
		code, out, errs := runCmd(name, "--help")
		if code != 0 || errs != "" || !strings.Contains(out, "usage") || !strings.Contains(strings.ToLower(out), "example") {
			t.Errorf("%s --help: exit %d, stderr %q, stdout:\n%s", name, code, errs, out)
		}
	}
	if n < 4 {
		t.Errorf("global usage lists %d commands:\n%s", n, usageText)
	}
}
