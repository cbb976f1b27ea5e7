package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
)

// Every tok_*, pad_*, gen_* and pipe_* golden (Keras 3.16) through the CLI.
const textGoldens = "../../testdata/goldens-text"

type textCase struct {
	AltTokenizers map[string]string `json:"alt_tokenizers"`
	TokenizerArgs map[string]any    `json:"tokenizer_args"`
	PadArgs       map[string]any    `json:"pad_args"`
	ExpectError   string            `json:"expect_error"`
	Window        int               `json:"window"`
	Steps         int               `json:"steps"`
	Tolerance     struct {
		Atol float64 `json:"atol"`
		Rtol float64 `json:"rtol"`
	} `json:"tolerance"`
	Files struct {
		Tokenizer string            `json:"tokenizer"`
		Texts     string            `json:"texts"`
		Sequences string            `json:"sequences"`
		TextsBack string            `json:"texts_back"`
		Matrices  map[string]string `json:"matrices"`
		Padded    string            `json:"padded"`
		Generated string            `json:"generated"`
		IDs       string            `json:"ids"`
		Output    string            `json:"output"`
		Models    []string          `json:"models"`
	} `json:"files"`
}

func textCases(t *testing.T, prefix string) map[string]textCase {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(textGoldens, prefix+"*"))
	if len(dirs) == 0 {
		t.Fatalf("no %s* goldens", prefix)
	}
	out := map[string]textCase{}
	for _, d := range dirs {
		var c textCase
		mustJSON(t, filepath.Join(d, "case.json"), &c)
		out[d] = c
	}
	return out
}

func mustJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// npy64 reads a little-endian f8/f4/i4/i8 .npy file as float64.
func npy64(t testing.TB, path string) ([]int, []float64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hl := int(binary.LittleEndian.Uint16(b[8:]))
	h, data := string(b[10:10+hl]), b[10+hl:]
	descr := h[strings.Index(h, "'descr': '")+10:]
	descr = descr[:strings.Index(descr, "'")]
	sh := h[strings.Index(h, "'shape': (")+10:]
	sh = sh[:strings.Index(sh, ")")]
	var shape []int
	for _, p := range strings.Split(sh, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(p), &n); err == nil {
			shape = append(shape, n)
		}
	}
	var vals []float64
	for i := 0; i < len(data); {
		switch descr {
		case "<f8":
			vals = append(vals, math.Float64frombits(binary.LittleEndian.Uint64(data[i:])))
			i += 8
		case "<i8":
			vals = append(vals, float64(int64(binary.LittleEndian.Uint64(data[i:]))))
			i += 8
		case "<f4":
			vals = append(vals, float64(math.Float32frombits(binary.LittleEndian.Uint32(data[i:]))))
			i += 4
		case "<i4":
			vals = append(vals, float64(int32(binary.LittleEndian.Uint32(data[i:]))))
			i += 4
		default:
			t.Fatalf("%s: dtype %s", path, descr)
		}
	}
	return shape, vals
}

func padArgs(c textCase) []string {
	var a []string
	for k, v := range c.PadArgs {
		a = append(a, "--"+k, fmt.Sprint(v))
	}
	return a
}

func decodeOut(t *testing.T, out string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
}

func TestCLITokenizeGoldens(t *testing.T) {
	n := 0
	for dir, c := range textCases(t, "tok_") {
		var seqs [][]int
		var back []string
		mustJSON(t, filepath.Join(dir, c.Files.Sequences), &seqs)
		mustJSON(t, filepath.Join(dir, c.Files.TextsBack), &back)
		texts := filepath.Join(dir, c.Files.Texts)
		forms := []string{c.Files.Tokenizer}
		for f := range c.AltTokenizers {
			forms = append(forms, f)
		}
		for _, form := range forms {
			tok := filepath.Join(dir, form)
			t.Run(filepath.Base(dir)+"/"+form, func(t *testing.T) {
				n++
				code, out, errs := runCmd("tokenize", "--tokenizer", tok, "--texts", texts)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errs)
				}
				var got struct{ Sequences [][]int }
				decodeOut(t, out, &got)
				if fmt.Sprint(got.Sequences) != fmt.Sprint(seqs) {
					t.Fatalf("sequences %v, Keras %v", got.Sequences, seqs)
				}
				code, out, errs = runCmd("detokenize", "--tokenizer", tok, "--sequences", filepath.Join(dir, c.Files.Sequences))
				if code != 0 {
					t.Fatalf("detokenize exit %d: %s", code, errs)
				}
				var gotBack struct{ Texts []string }
				decodeOut(t, out, &gotBack)
				if fmt.Sprintf("%q", gotBack.Texts) != fmt.Sprintf("%q", back) {
					t.Fatalf("texts %q, Keras %q", gotBack.Texts, back)
				}
				bare := strings.HasPrefix(form, "word_index")
				for mode, file := range c.Files.Matrices {
					code, out, errs := runCmd("tokenize", "--tokenizer", tok, "--texts", texts, "--matrix", mode)
					if bare && mode == "tfidf" {
						if code != 1 {
							t.Errorf("tfidf on a bare word index: exit %d, want 1 (Keras refuses)", code)
						}
						continue
					}
					if code != 0 {
						t.Fatalf("%s: exit %d: %s", mode, code, errs)
					}
					var m struct{ Matrix [][]float64 }
					decodeOut(t, out, &m)
					shape, want := npy64(t, filepath.Join(dir, file))
					if len(m.Matrix) != shape[0] {
						t.Fatalf("%s: %d rows, want %v", mode, len(m.Matrix), shape)
					}
					for i, row := range m.Matrix {
						for j, v := range row {
							if w := want[i*shape[1]+j]; math.Abs(v-w) > 1e-9 {
								t.Fatalf("%s[%d][%d] = %v, Keras %v", mode, i, j, v, w)
							}
						}
					}
				}
			})
		}
	}
	t.Logf("%d tokenizer files through tokenize/detokenize", n)
}

func TestCLIPadGoldens(t *testing.T) {
	for dir, c := range textCases(t, "pad_") {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			args := append([]string{"pad", "--sequences", filepath.Join(dir, c.Files.Sequences)}, padArgs(c)...)
			code, out, errs := runCmd(args...)
			if c.ExpectError != "" {
				if code != 1 || errs == "" {
					t.Fatalf("Keras refuses (%s); exit %d, stdout %s", c.ExpectError, code, out)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var got struct{ Padded [][]float64 }
			decodeOut(t, out, &got)
			shape, want := npy64(t, filepath.Join(dir, c.Files.Padded))
			if len(got.Padded) != shape[0] {
				t.Fatalf("%d rows, want %v", len(got.Padded), shape)
			}
			for i, row := range got.Padded {
				if len(row) != shape[1] {
					t.Fatalf("row %d has %d values, want %d", i, len(row), shape[1])
				}
				for j, v := range row {
					if v != want[i*shape[1]+j] {
						t.Fatalf("[%d][%d] = %v, Keras %v", i, j, v, want[i*shape[1]+j])
					}
				}
			}
		})
	}
}

func TestCLIGenerateGoldens(t *testing.T) {
	for dir, c := range textCases(t, "gen_") {
		var want []struct {
			Seed string `json:"seed"`
			IDs  []int  `json:"ids"`
			Text string `json:"text"`
		}
		mustJSON(t, filepath.Join(dir, c.Files.Generated), &want)
		for _, mf := range c.Files.Models {
			t.Run(filepath.Base(dir)+"/"+mf, func(t *testing.T) {
				for _, w := range want {
					code, out, errs := runCmd("generate", filepath.Join(dir, mf), "--tokenizer", filepath.Join(dir, c.Files.Tokenizer),
						"--seed", w.Seed, "--steps", fmt.Sprint(c.Steps), "--window", fmt.Sprint(c.Window), "--greedy", "--json")
					if code != 0 {
						t.Fatalf("exit %d: %s", code, errs)
					}
					var got struct {
						IDs  []int
						Text string
					}
					decodeOut(t, out, &got)
					if fmt.Sprint(got.IDs) != fmt.Sprint(w.IDs) || got.Text != w.Text {
						t.Errorf("seed %q: got %v %q, Keras %v %q", w.Seed, got.IDs, got.Text, w.IDs, w.Text)
					}
					// Without --json: the text and a newline.
					code, out, _ = runCmd("generate", filepath.Join(dir, mf), "--tokenizer", filepath.Join(dir, c.Files.Tokenizer),
						"--seed", w.Seed, "--steps", fmt.Sprint(c.Steps))
					if code != 0 || out != w.Text+"\n" {
						t.Errorf("seed %q plain: exit %d, %q", w.Seed, code, out)
					}
				}
			})
		}
	}
}

func TestCLIPipelineGoldens(t *testing.T) {
	for dir, c := range textCases(t, "pipe_") {
		tok := filepath.Join(dir, c.Files.Tokenizer)
		texts := filepath.Join(dir, c.Files.Texts)
		// The ids Keras fed: tokenize with the same pad arguments.
		code, out, errs := runCmd(append([]string{"tokenize", "--tokenizer", tok, "--texts", texts}, padArgs(c)...)...)
		if code != 0 {
			t.Fatalf("%s: tokenize exit %d: %s", dir, code, errs)
		}
		var ids struct{ Padded [][]float64 }
		decodeOut(t, out, &ids)
		_, x0 := npy64(t, filepath.Join(dir, c.Files.IDs))
		var flat []float64
		for _, r := range ids.Padded {
			flat = append(flat, r...)
		}
		if fmt.Sprint(flat) != fmt.Sprint(x0) {
			t.Errorf("%s: padded ids %v, Keras %v", dir, flat, x0)
		}
		for _, mf := range c.Files.Models {
			t.Run(filepath.Base(dir)+"/"+mf, func(t *testing.T) {
				outDir := t.TempDir()
				args := append([]string{"predict", filepath.Join(dir, mf), "--tokenizer", tok, "--texts", texts, "--out", outDir}, padArgs(c)...)
				code, out, errs := runCmd(args...)
				if code != 0 {
					t.Fatalf("exit %d: %s%s", code, out, errs)
				}
				got, err := keras.ReadNPYFile(filepath.Join(outDir, "y0.npy"))
				if err != nil {
					t.Fatal(err)
				}
				want, err := keras.ReadNPYFile(filepath.Join(dir, c.Files.Output))
				if err != nil {
					t.Fatal(err)
				}
				if r := keras.Compare(got, want, c.Tolerance.Atol, c.Tolerance.Rtol); !r.OK() {
					t.Errorf("y0: %s", &r)
				}
			})
		}
	}
}

func TestCLITextErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tok := filepath.Join(textGoldens, "tok_default_en", "tokenizer.json")
	seqs := write("s.json", "[[1, 2], [3]]")
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"tokenize", "--text", "x"}, 2},      // no tokenizer
		{[]string{"tokenize", "--tokenizer", tok}, 2}, // no texts
		{[]string{"tokenize", "--tokenizer", write("t.json", "[1]"), "--text", "x"}, 1},
		{[]string{"tokenize", "--tokenizer", tok, "--texts", write("x.json", `{"a": 1}`)}, 1},
		{[]string{"tokenize", "--tokenizer", tok, "--text", "x", "--matrix", "bogus"}, 1},
		{[]string{"detokenize", "--tokenizer", tok, "--sequences", write("u.json", "[[1, 999]]")}, 1},
		{[]string{"detokenize", "--tokenizer", tok, "--sequences", write("f.json", "[[1.5]]")}, 1},
		{[]string{"pad", "--sequences", seqs, "--maxlen", "-1"}, 1},
		{[]string{"pad", "--sequences", seqs, "--padding", "middle"}, 1},
		{[]string{"pad", "--sequences", seqs, "--truncating", "middle"}, 1},
		{[]string{"pad", "--sequences", seqs, "--dtype", "int8"}, 1},
		{[]string{"pad", "--sequences", seqs, "--maxlen", "x"}, 2},
		{[]string{"pad", "--sequences", write("bad.json", "[[[1]]]")}, 1},
		{[]string{"generate", "--tokenizer", tok, "--seed", "x"}, 2}, // no steps, no model
		{[]string{"generate", filepath.Join(textGoldens, "gen_word_gru_en", "model.keras"), "--tokenizer", tok, "--steps", "3", "--window", "4"}, 2},
		{[]string{"generate", filepath.Join(textGoldens, "gen_word_gru_en", "model.keras"), "--tokenizer", tok, "--steps", "3", "--greedy", "--temperature", "1"}, 2},
	} {
		code, out, errs := runCmd(c.args...)
		if code != c.code {
			t.Errorf("%q: exit %d, want %d\n%s%s", c.args, code, c.code, out, errs)
		}
		if code != 0 && errs == "" {
			t.Errorf("%q: no message", c.args)
		}
	}
	// Every text command answers --help on stdout with its flags and an
	// example.
	for _, cmd := range []string{"tokenize", "detokenize", "pad", "generate"} {
		code, out, _ := runCmd(cmd, "--help")
		if code != 0 || !strings.Contains(out, "example:") || !strings.Contains(out, "-") {
			t.Errorf("%s --help: exit %d\n%s", cmd, code, out)
		}
	}
}
