package convert

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

type marshalCase struct {
	Python string `json:"python"`
	Code   string `json:"code"`
}

func readMarshalCases(t testing.TB) []marshalCase {
	b, err := os.ReadFile("../testdata/lambda/marshal.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []marshalCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestDescribeLambdaEveryPython reads the same function marshalled by
// CPython 3.6 to 3.13 (testdata/lambda/gen_marshal.sh): each code object
// layout must give its name, arguments, globals, locals and constants.
func TestDescribeLambdaEveryPython(t *testing.T) {
	cases := readMarshalCases(t)
	if len(cases) < 6 {
		t.Fatalf("%d Python versions in marshal.json, want the 3.6-3.13 set", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Python, func(t *testing.T) {
			// Keras 2 func_dump: base64 with line breaks, in a list.
			b64 := c.Code
			var wrapped strings.Builder
			for i := 0; i < len(b64); i += 76 {
				wrapped.WriteString(b64[i:min(i+76, len(b64))] + "\n")
			}
			for _, cfg := range []Config{
				{"function": []any{wrapped.String(), nil, nil}, "function_type": "lambda"},
				{"function": map[string]any{"class_name": "__lambda__", "config": map[string]any{"code": c.Code}}},
			} {
				got := DescribeLambda(cfg)
				for _, part := range []string{"the Python function repeat_tokens (<stdin>, line ", "of (x, times)", "its code uses ", "floor", "len", "scale", `"ab"`, "0.5"} {
					if !strings.Contains(got, part) {
						t.Errorf("description %q lacks %q", got, part)
					}
				}
			}
		})
	}
}

func TestDescribeLambdaForms(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{"function": "my_fn", "function_type": "function", "module": "proj.layers"}, "the Python function proj.layers.my_fn"},
		{Config{"function": map[string]any{"class_name": "function", "config": "my_fn", "module": "builtins"}}, "the Python function my_fn"},
		{Config{"function": map[string]any{"class_name": "function", "config": "my_fn", "module": "proj"}}, "the Python function proj.my_fn"},
		{Config{"function": "not base64 !!", "function_type": "lambda"}, ""},
		{Config{"function": base64.StdEncoding.EncodeToString([]byte("\xe3garbage")), "function_type": "lambda"}, ""},
		{Config{}, ""},
	} {
		if got := DescribeLambda(tc.cfg); got != tc.want {
			t.Errorf("DescribeLambda(%v) = %q, want %q", tc.cfg, got, tc.want)
		}
	}
}

// FuzzDescribeLambda feeds arbitrary bytes to the marshal reader: it must
// return, bounded in time and output, whatever the data.
func FuzzDescribeLambda(f *testing.F) {
	for _, c := range readMarshalCases(f) {
		raw, _ := base64.StdEncoding.DecodeString(c.Code)
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s := DescribeLambda(Config{"function": base64.StdEncoding.EncodeToString(raw), "function_type": "lambda"})
		if len(s) > 4096 {
			t.Fatalf("description of %d bytes", len(s))
		}
	})
}
