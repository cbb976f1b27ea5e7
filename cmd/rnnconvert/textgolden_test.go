package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
)

// The CLI contract of issue 8 point 6, driven by index.json: every case of
// testdata/goldens-text (the shared Keras 3.16 set), of
// testdata/goldens-text-extra (more of the same kinds, other texts, seeds,
// sizes and arguments: gen_extra.py there) and of any folder listed in
// RNNKIT_TEXT_GOLDENS (colon-separated; a folder with an index.json of the
// same layout) goes through the exact commands and flags of the issue,
// with every tokenizer form its case.json lists.

var textGoldenDirs = []string{textGoldens, "../../testdata/goldens-text-extra"}

type indexFile struct {
	Cases []struct {
		Name   string `json:"name"`
		Family string `json:"family"`
	} `json:"cases"`
}

type contractCase struct {
	textCase
	Layers map[string]string `json:"layers"`
	Files2 struct {
		Vocab   string `json:"vocab"`
		Decoded string `json:"decoded"`
	} `json:"files"`
}

func TestCLIContractGoldens(t *testing.T) {
	dirs := append([]string(nil), textGoldenDirs...)
	if env := os.Getenv("RNNKIT_TEXT_GOLDENS"); env != "" {
		dirs = append(dirs, filepath.SplitList(env)...)
	}
	families := map[string]int{}
	for _, root := range dirs {
		var idx indexFile
		mustJSON(t, filepath.Join(root, "index.json"), &idx)
		if len(idx.Cases) == 0 {
			t.Fatalf("%s: index.json lists no cases", root)
		}
		for _, ic := range idx.Cases {
			dir := filepath.Join(root, ic.Name)
			var c contractCase
			mustJSON(t, filepath.Join(dir, "case.json"), &c.textCase)
			mustJSON(t, filepath.Join(dir, "case.json"), &c)
			t.Run(ic.Name, func(t *testing.T) {
				switch ic.Family {
				case "tokenizer":
					contractTokenizer(t, dir, c)
				case "pad":
					contractPad(t, dir, c)
				case "pipeline":
					contractPipeline(t, dir, c)
				case "generate":
					contractGenerate(t, dir, c)
				case "seq2seq":
					contractSeq2seq(t, dir, c)
				case "textvectorization":
					t.Skip("string-input models: another helper's part")
				default:
					t.Fatalf("family %q: no contract test", ic.Family)
				}
			})
			families[ic.Family]++
		}
	}
	for _, f := range []string{"tokenizer", "pad", "pipeline", "generate", "seq2seq"} {
		if families[f] == 0 {
			t.Errorf("no %s case ran", f)
		}
	}
	t.Logf("cases by family: %v", families)
}

// flagArgs renders case.json arguments as CLI flags, in a fixed order.
func flagArgs(args map[string]any) []string {
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var a []string
	for _, k := range keys {
		a = append(a, "--"+k, fmt.Sprint(args[k]))
	}
	return a
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := runCmd(args...)
	if code != 0 {
		t.Fatalf("%q: exit %d: %s", args, code, errs)
	}
	return out
}

func sameFloats(t *testing.T, what string, got [][]float64, shape []int, want []float64, tol float64) {
	t.Helper()
	if len(got) != shape[0] {
		t.Fatalf("%s: %d rows, want shape %v", what, len(got), shape)
	}
	for i, row := range got {
		if len(row) != shape[1] {
			t.Fatalf("%s: row %d has %d values, want shape %v", what, i, len(row), shape)
		}
		for j, v := range row {
			if w := want[i*shape[1]+j]; math.Abs(v-w) > tol || math.IsNaN(v) != math.IsNaN(w) {
				t.Fatalf("%s[%d][%d] = %v, Keras %v", what, i, j, v, w)
			}
		}
	}
}

func contractTokenizer(t *testing.T, dir string, c contractCase) {
	var seqs [][]int
	var back, texts []string
	mustJSON(t, filepath.Join(dir, c.Files.Sequences), &seqs)
	mustJSON(t, filepath.Join(dir, c.Files.TextsBack), &back)
	textsFile := filepath.Join(dir, c.Files.Texts)
	mustJSON(t, textsFile, &texts)
	forms := []string{c.Files.Tokenizer}
	for f := range c.AltTokenizers {
		forms = append(forms, f)
	}
	sort.Strings(forms[1:])
	var textFlags []string
	for _, s := range texts {
		textFlags = append(textFlags, "--text", s)
	}
	for _, form := range forms {
		tok := filepath.Join(dir, form)
		t.Run(form, func(t *testing.T) {
			for _, in := range [][]string{{"--texts", textsFile}, textFlags} {
				var got struct {
					Sequences *[][]int `json:"sequences"`
				}
				decodeOut(t, mustRun(t, append([]string{"tokenize", "--tokenizer", tok}, in...)...), &got)
				if got.Sequences == nil || fmt.Sprint(*got.Sequences) != fmt.Sprint(seqs) {
					t.Fatalf("tokenize %s: sequences %v, Keras %v", in[0], got.Sequences, seqs)
				}
			}
			var gotBack struct {
				Texts []string `json:"texts"`
			}
			decodeOut(t, mustRun(t, "detokenize", "--tokenizer", tok, "--sequences", filepath.Join(dir, c.Files.Sequences)), &gotBack)
			if fmt.Sprintf("%q", gotBack.Texts) != fmt.Sprintf("%q", back) {
				t.Fatalf("detokenize: %q, Keras %q", gotBack.Texts, back)
			}
			bare := strings.HasPrefix(form, "word_index")
			for _, mode := range []string{"binary", "count", "freq", "tfidf"} {
				file, ok := c.Files.Matrices[mode]
				if !ok {
					continue
				}
				code, out, errs := runCmd("tokenize", "--tokenizer", tok, "--texts", textsFile, "--matrix", mode)
				if bare && mode == "tfidf" {
					// A bare word index has no document counts: Keras
					// refuses tfidf ("Fit the Tokenizer on some data").
					if code == 0 || !strings.Contains(errs, "tfidf") {
						t.Errorf("tfidf from a bare word index: exit %d, %q", code, errs)
					}
					continue
				}
				if code != 0 {
					t.Fatalf("--matrix %s: exit %d: %s", mode, code, errs)
				}
				var m struct {
					Matrix [][]float64 `json:"matrix"`
				}
				decodeOut(t, out, &m)
				shape, want := npy64(t, filepath.Join(dir, file))
				sameFloats(t, mode, m.Matrix, shape, want, 1e-9)
			}
			// --maxlen with every padding flag: "padded" is pad_sequences
			// of the sequences (checked against Keras by the pad cases).
			for _, pa := range [][]string{
				{"--maxlen", "5"},
				{"--maxlen", "3", "--padding", "post", "--truncating", "post", "--value", "-1"},
				{"--maxlen", "0", "--truncating", "post"},
			} {
				var got struct {
					Sequences [][]int     `json:"sequences"`
					Padded    [][]float64 `json:"padded"`
				}
				decodeOut(t, mustRun(t, append([]string{"tokenize", "--tokenizer", tok, "--texts", textsFile}, pa...)...), &got)
				want := refPad(seqs, pa)
				if fmt.Sprint(got.Padded) != fmt.Sprint(want) || fmt.Sprint(got.Sequences) != fmt.Sprint(seqs) {
					t.Fatalf("tokenize %q: padded %v, want %v", pa, got.Padded, want)
				}
			}
		})
	}
}

// refPad is pad_sequences for the flag sets contractTokenizer uses (maxlen
// given, int32), written out plainly.
func refPad(seqs [][]int, flags []string) [][]float64 {
	maxlen, padding, truncating, value := 0, "pre", "pre", 0.0
	for i := 0; i < len(flags); i += 2 {
		switch flags[i] {
		case "--maxlen":
			fmt.Sscan(flags[i+1], &maxlen)
		case "--padding":
			padding = flags[i+1]
		case "--truncating":
			truncating = flags[i+1]
		case "--value":
			fmt.Sscan(flags[i+1], &value)
		}
	}
	out := make([][]float64, len(seqs))
	for i, s := range seqs {
		row := make([]float64, maxlen)
		for j := range row {
			row[j] = value
		}
		if len(s) > maxlen {
			if truncating == "pre" {
				s = s[len(s)-maxlen:]
			} else {
				s = s[:maxlen]
			}
		}
		off := 0
		if padding == "pre" {
			off = maxlen - len(s)
		}
		for j, v := range s {
			row[off+j] = float64(v)
		}
		out[i] = row
	}
	return out
}

func contractPad(t *testing.T, dir string, c contractCase) {
	args := append([]string{"pad", "--sequences", filepath.Join(dir, c.Files.Sequences)}, flagArgs(c.PadArgs)...)
	code, out, errs := runCmd(args...)
	if c.ExpectError != "" {
		if code == 0 || strings.TrimSpace(errs) == "" || out != "" {
			t.Fatalf("Keras refuses (%s); exit %d, stdout %q, stderr %q", c.ExpectError, code, out, errs)
		}
		return
	}
	if code != 0 {
		t.Fatalf("%q: exit %d: %s", args, code, errs)
	}
	var got struct {
		Padded [][]float64 `json:"padded"`
	}
	decodeOut(t, out, &got)
	shape, want := npy64(t, filepath.Join(dir, c.Files.Padded))
	sameFloats(t, "padded", got.Padded, shape, want, 0)
}

func contractPipeline(t *testing.T, dir string, c contractCase) {
	tok := filepath.Join(dir, c.Files.Tokenizer)
	texts := filepath.Join(dir, c.Files.Texts)
	var ids struct {
		Padded [][]float64 `json:"padded"`
	}
	decodeOut(t, mustRun(t, append([]string{"tokenize", "--tokenizer", tok, "--texts", texts}, flagArgs(c.PadArgs)...)...), &ids)
	shape, x0 := npy64(t, filepath.Join(dir, c.Files.IDs))
	sameFloats(t, "padded ids", ids.Padded, shape, x0, 0)
	// predict takes --maxlen --padding --truncating (and --value).
	for _, mf := range c.Files.Models {
		t.Run(mf, func(t *testing.T) {
			outDir := t.TempDir()
			mustRun(t, append([]string{"predict", filepath.Join(dir, mf), "--tokenizer", tok, "--texts", texts, "--out", outDir}, flagArgs(c.PadArgs)...)...)
			got, err := keras.ReadNPYFile(filepath.Join(outDir, "y0.npy"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := keras.ReadNPYFile(filepath.Join(dir, c.Files.Output))
			if err != nil {
				t.Fatal(err)
			}
			if r := keras.Compare(got, want, 1e-5, 1e-4); !r.OK() {
				t.Errorf("y0: %s", &r)
			}
			// Without --out, --json prints the same numbers.
			var js struct {
				Outputs []struct {
					Shape  []int `json:"shape"`
					Values any   `json:"values"`
				} `json:"outputs"`
			}
			decodeOut(t, mustRun(t, append([]string{"predict", filepath.Join(dir, mf), "--tokenizer", tok, "--texts", texts, "--json"}, flagArgs(c.PadArgs)...)...), &js)
			if len(js.Outputs) != 1 || fmt.Sprint(js.Outputs[0].Shape) != fmt.Sprint(want.Shape) {
				t.Fatalf("--json outputs %+v, want one of shape %v", js.Outputs, want.Shape)
			}
			var flat []float64
			var walk func(v any)
			walk = func(v any) {
				switch v := v.(type) {
				case []any:
					for _, e := range v {
						walk(e)
					}
				case float64:
					flat = append(flat, v)
				}
			}
			walk(js.Outputs[0].Values)
			for i, v := range flat {
				if w := float64(want.Data[i]); math.Abs(v-w) > 1e-5+1e-4*math.Abs(w) {
					t.Fatalf("--json value %d = %v, Keras %v", i, v, w)
				}
			}
			if len(flat) != len(want.Data) {
				t.Fatalf("--json: %d values, want %d", len(flat), len(want.Data))
			}
		})
	}
}

func contractGenerate(t *testing.T, dir string, c contractCase) {
	var want []struct {
		Seed string `json:"seed"`
		IDs  []int  `json:"ids"`
		Text string `json:"text"`
	}
	mustJSON(t, filepath.Join(dir, c.Files.Generated), &want)
	tok := filepath.Join(dir, c.Files.Tokenizer)
	for _, mf := range c.Files.Models {
		t.Run(mf, func(t *testing.T) {
			for _, w := range want {
				var got struct {
					IDs  []int  `json:"ids"`
					Text string `json:"text"`
				}
				decodeOut(t, mustRun(t, "generate", filepath.Join(dir, mf), "--tokenizer", tok, "--seed", w.Seed,
					"--steps", fmt.Sprint(c.Steps), "--window", fmt.Sprint(c.Window), "--greedy", "--json"), &got)
				if fmt.Sprint(got.IDs) != fmt.Sprint(w.IDs) || got.Text != w.Text {
					t.Errorf("seed %q: %v %q, Keras %v %q", w.Seed, got.IDs, got.Text, w.IDs, w.Text)
				}
			}
		})
	}
}

func contractSeq2seq(t *testing.T, dir string, c contractCase) {
	var want []struct {
		Input   string `json:"input"`
		Decoded string `json:"decoded"`
	}
	mustJSON(t, filepath.Join(dir, c.Files2.Decoded), &want)
	var inputs, expect []string
	for _, w := range want {
		inputs = append(inputs, w.Input)
		expect = append(expect, w.Decoded)
	}
	textsFile := filepath.Join(t.TempDir(), "texts.json")
	b, _ := json.Marshal(inputs)
	if err := os.WriteFile(textsFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, mf := range c.Files.Models {
		t.Run(mf, func(t *testing.T) {
			out := mustRun(t, "translate", filepath.Join(dir, mf), "--vocab", filepath.Join(dir, c.Files2.Vocab), "--texts", textsFile, "--json")
			got := translations(t, out)
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", expect) {
				t.Errorf("translations %q\nKeras %q", got, expect)
			}
		})
	}
}

// Sampling is reproducible from --rand-seed, --stop ends generation, and
// detokenize --lenient is Keras' sequences_to_texts.
func TestCLIGenerateSamplingAndStop(t *testing.T) {
	dir := filepath.Join(textGoldens, "gen_char_lstm_en")
	model, tok := filepath.Join(dir, "model.keras"), filepath.Join(dir, "tokenizer.json")
	gen := func(extra ...string) (ids []int, text string) {
		t.Helper()
		var got struct {
			IDs  []int  `json:"ids"`
			Text string `json:"text"`
		}
		decodeOut(t, mustRun(t, append([]string{"generate", model, "--tokenizer", tok, "--seed", "the movie ", "--steps", "40", "--window", "10", "--json"}, extra...)...), &got)
		return got.IDs, got.Text
	}
	for _, s := range [][]string{
		{"--temperature", "1.3", "--rand-seed", "7"},
		{"--temperature", "0.8", "--top-k", "3", "--rand-seed", "7"},
		{"--temperature", "1", "--top-p", "0.9", "--rand-seed", "11"},
		{"--temperature", "2", "--top-k", "5", "--top-p", "0.8", "--rand-seed", "3"},
	} {
		a, ta := gen(s...)
		b, tb := gen(s...)
		if fmt.Sprint(a) != fmt.Sprint(b) || ta != tb || len(a) != 40 {
			t.Errorf("%q: not reproducible: %v / %v", s, a, b)
		}
		other := append(append([]string(nil), s[:len(s)-1]...), "12345")
		c, _ := gen(other...)
		if fmt.Sprint(a) == fmt.Sprint(c) {
			t.Errorf("%q: another --rand-seed gives the same 40 ids %v", s, a)
		}
	}
	// Stop at the first '&' the greedy continuation produces (the
	// continuation is "nv)))n&se...": char level, one rune per id).
	greedy, text := gen("--greedy")
	r := []rune(text)
	sp := strings.IndexRune(text, '&')
	if sp < 0 || len(r) != len(greedy) {
		t.Fatalf("greedy continuation %q has no '&' to stop at", text)
	}
	sp = len([]rune(text[:sp]))
	ids, stopped := gen("--greedy", "--stop", "&")
	if stopped != string(r[:sp]) || fmt.Sprint(ids) != fmt.Sprint(greedy[:sp]) {
		t.Errorf("--stop '&': %v %q, want %v %q", ids, stopped, greedy[:sp], string(r[:sp]))
	}
	// detokenize --lenient drops the padding id as Keras does; strict fails.
	seqs := filepath.Join(t.TempDir(), "s.json")
	if err := os.WriteFile(seqs, []byte("[[0, 0, 3, 4, 99999]]"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCmd("detokenize", "--tokenizer", tok, "--sequences", seqs); code != 1 || !strings.Contains(errs, "index_word") {
		t.Errorf("strict detokenize of padding: exit %d %q", code, errs)
	}
	var got struct {
		Texts []string `json:"texts"`
	}
	decodeOut(t, mustRun(t, "detokenize", "--lenient", "--tokenizer", tok, "--sequences", seqs), &got)
	if len(got.Texts) != 1 || len(got.Texts[0]) != 3 {
		t.Errorf("lenient: %q, want the two words of ids 3 and 4", got.Texts)
	}
}
