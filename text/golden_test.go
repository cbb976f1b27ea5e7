package text

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The goldens in testdata/goldens-text were computed by Keras 3.16's
// legacy Tokenizer and keras.utils.pad_sequences (copied from the shared
// corpus; see its README.md).
const goldenDir = "../testdata/goldens-text"

type goldenCase struct {
	Family        string            `json:"family"`
	TokenizerArgs map[string]any    `json:"tokenizer_args"`
	AltTokenizers map[string]string `json:"alt_tokenizers"`
	PadArgs       map[string]any    `json:"pad_args"`
	ExpectError   string            `json:"expect_error"`
	Files         struct {
		Tokenizer string            `json:"tokenizer"`
		Texts     string            `json:"texts"`
		Sequences string            `json:"sequences"`
		TextsBack string            `json:"texts_back"`
		Matrices  map[string]string `json:"matrices"`
		Padded    string            `json:"padded"`
	} `json:"files"`
}

func goldenCases(t *testing.T, prefix string) map[string]goldenCase {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(goldenDir, prefix+"*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no %s* goldens in %s", prefix, goldenDir)
	}
	out := map[string]goldenCase{}
	for _, d := range dirs {
		var c goldenCase
		readJSON(t, filepath.Join(d, "case.json"), &c)
		out[d] = c
	}
	return out
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// readNpy reads a little-endian f8/f4/i4/i8 .npy file as float64.
func readNpy(t testing.TB, path string) ([]int, []float64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 10 || string(b[1:6]) != "NUMPY" {
		t.Fatalf("%s: not npy", path)
	}
	var hl, off int
	if b[6] == 1 {
		hl, off = int(binary.LittleEndian.Uint16(b[8:])), 10
	} else {
		hl, off = int(binary.LittleEndian.Uint32(b[8:])), 12
	}
	h := string(b[off : off+hl])
	data := b[off+hl:]
	descr := h[strings.Index(h, "'descr': '")+10:]
	descr = descr[:strings.Index(descr, "'")]
	sh := h[strings.Index(h, "'shape': (")+10:]
	sh = sh[:strings.Index(sh, ")")]
	var shape []int
	for _, p := range strings.Split(sh, ",") {
		if p = strings.TrimSpace(p); p != "" {
			n, _ := strconv.Atoi(p)
			shape = append(shape, n)
		}
	}
	var vals []float64
	switch descr {
	case "<f8":
		for i := 0; i+8 <= len(data); i += 8 {
			vals = append(vals, math.Float64frombits(binary.LittleEndian.Uint64(data[i:])))
		}
	case "<f4":
		for i := 0; i+4 <= len(data); i += 4 {
			vals = append(vals, float64(math.Float32frombits(binary.LittleEndian.Uint32(data[i:]))))
		}
	case "<i4":
		for i := 0; i+4 <= len(data); i += 4 {
			vals = append(vals, float64(int32(binary.LittleEndian.Uint32(data[i:]))))
		}
	case "<i8":
		for i := 0; i+8 <= len(data); i += 8 {
			vals = append(vals, float64(int64(binary.LittleEndian.Uint64(data[i:]))))
		}
	default:
		t.Fatalf("%s: dtype %s", path, descr)
	}
	return shape, vals
}

func TestGoldenTokenizers(t *testing.T) {
	cases := goldenCases(t, "tok_")
	n := 0
	for dir, c := range cases {
		var texts []string
		var seqs [][]int
		var back []string
		readJSON(t, filepath.Join(dir, c.Files.Texts), &texts)
		readJSON(t, filepath.Join(dir, c.Files.Sequences), &seqs)
		readJSON(t, filepath.Join(dir, c.Files.TextsBack), &back)
		forms := []string{c.Files.Tokenizer}
		for f := range c.AltTokenizers {
			forms = append(forms, f)
		}
		for _, form := range forms {
			t.Run(filepath.Base(dir)+"/"+form, func(t *testing.T) {
				n++
				tok, err := LoadTokenizer(filepath.Join(dir, form))
				if err != nil {
					t.Fatal(err)
				}
				bare := strings.HasPrefix(form, "word_index")
				if bare && len(c.TokenizerArgs) != 0 {
					t.Fatalf("a bare word index of a non-default tokenizer")
				}
				got, err := tok.TextsToSequences(texts)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(got) != fmt.Sprint(seqs) {
					t.Fatalf("sequences\n got %v\nwant %v", got, seqs)
				}
				gotBack, err := tok.SequencesToTexts(seqs)
				if err != nil {
					t.Fatal(err)
				}
				for i := range back {
					if gotBack[i] != back[i] {
						t.Errorf("text %d back: got %q want %q", i, gotBack[i], back[i])
					}
				}
				for mode, file := range c.Files.Matrices {
					shape, want := readNpy(t, filepath.Join(dir, file))
					m, err := tok.TextsToMatrix(texts, mode)
					if bare && mode == ModeTFIDF {
						// A bare word index has document_count 0: Keras refuses too.
						if !errors.Is(err, ErrArgument) {
							t.Fatalf("tfidf on a bare word index: %v", err)
						}
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					if len(m) != shape[0] || len(m[0]) != shape[1] {
						t.Fatalf("%s: shape %dx%d, want %v", mode, len(m), len(m[0]), shape)
					}
					for i, row := range m {
						for j, v := range row {
							w := want[i*shape[1]+j]
							if math.Abs(v-w) > 1e-12+1e-12*math.Abs(w) {
								t.Fatalf("%s[%d][%d] = %v, Keras %v", mode, i, j, v, w)
							}
						}
					}
				}
			})
		}
	}
	t.Logf("%d tokenizer forms checked", n)
}

func padOptions(t *testing.T, args map[string]any) PadOptions {
	var o PadOptions
	for k, v := range args {
		switch k {
		case "maxlen":
			o.MaxLen = MaxLen(int(v.(float64)))
		case "padding":
			o.Padding = v.(string)
		case "truncating":
			o.Truncating = v.(string)
		case "value":
			o.Value = v.(float64)
		case "dtype":
			o.DType = v.(string)
		default:
			t.Fatalf("pad arg %s", k)
		}
	}
	return o
}

func TestGoldenPad(t *testing.T) {
	for dir, c := range goldenCases(t, "pad_") {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			var seqs [][]int
			readJSON(t, filepath.Join(dir, c.Files.Sequences), &seqs)
			p, err := PadSequences(seqs, padOptions(t, c.PadArgs))
			if c.ExpectError != "" {
				if !errors.Is(err, ErrArgument) {
					t.Fatalf("Keras refuses (%s); got %v, %v", c.ExpectError, p, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			shape, want := readNpy(t, filepath.Join(dir, c.Files.Padded))
			if p.Rows != shape[0] || p.Cols != shape[1] {
				t.Fatalf("shape %dx%d, want %v", p.Rows, p.Cols, shape)
			}
			for i, v := range p.Values {
				if v != want[i] {
					t.Fatalf("value %d = %v, Keras %v", i, v, want[i])
				}
			}
		})
	}
}
