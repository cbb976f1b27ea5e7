package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestH5JSON checks "rnnconvert h5 --json --data" against what h5py reads
// from the h5 fixtures (testdata/h5/expected.json, from gen_fixtures.py).
func TestH5JSON(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "h5")
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Files map[string]struct {
			Objects []map[string]any `json:"objects"`
		} `json:"files"`
	}
	if err := decodeNumbers(b, &want); err != nil {
		t.Fatal(err)
	}
	for name, exp := range want.Files {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runH5([]string{filepath.Join(dir, name), "--json", "--data"}, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			var got struct {
				Objects []map[string]any `json:"objects"`
			}
			if err := decodeNumbers(stdout.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Objects) != len(exp.Objects) {
				t.Fatalf("%d objects, want %d", len(got.Objects), len(exp.Objects))
			}
			for i, w := range exp.Objects {
				g := got.Objects[i]
				for _, k := range []string{"path", "type", "attrs", "shape", "dtype", "data"} {
					wv, ok := w[k]
					if !ok || (k == "shape" || k == "data") && w["type"] == "group" {
						continue
					}
					if !reflect.DeepEqual(exactNumbers(g[k]), exactNumbers(wv)) && !(emptyList(g[k]) && emptyList(wv)) {
						t.Errorf("%s: %s = %.200v, want %.200v", w["path"], k, g[k], wv)
					}
				}
			}
		})
	}
}

// decodeNumbers unmarshals with json.Number, so that integers such as
// 18446744073709551615 are not rounded through float64 before comparison.
func decodeNumbers(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// exactNumbers replaces every json.Number by its exact integer text when it
// is an integer beyond float64's exact range and by its float64 value
// otherwise (Python and Go spell floats differently: 5.0 and 5).
func exactNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		// Integers beyond 2^53 compare as exact text; the rest as float64.
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil && (i > 1<<53 || i < -1<<53) {
			return "int " + strconv.FormatInt(i, 10)
		}
		if u, err := strconv.ParseUint(string(v), 10, 64); err == nil && u > 1<<53 {
			return "int " + strconv.FormatUint(u, 10)
		}
		f, err := v.Float64()
		if err != nil {
			return "bad number " + string(v)
		}
		return f
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = exactNumbers(x)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = exactNumbers(x)
		}
		return out
	}
	return v
}

// TestH5JSONUint64 checks that uint64 attributes above MaxInt64 print as
// exact integers (h5py reads 2^64-1 there, testdata/h5/expected.json).
func TestH5JSONUint64(t *testing.T) {
	var stdout, stderr bytes.Buffer
	file := filepath.Join("..", "..", "testdata", "h5", "basic_latest.h5")
	if code := runH5([]string{file, "--json", "--data"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	if strings.Contains(out, "18446744073709552000") || strings.Contains(out, "1.8446744073709552e+19") {
		t.Errorf("uint64 printed through float64")
	}
	var got struct {
		Objects []struct {
			Path  string                     `json:"path"`
			Attrs map[string]json.RawMessage `json:"attrs"`
		} `json:"objects"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a_le_u8": "[0,18446744073709551615,0,1,7]", "u8_big": "[18446744073709551615]"}
	for _, o := range got.Objects {
		if o.Path != "/numbers" {
			continue
		}
		for k, w := range want {
			if g := string(o.Attrs[k]); g != w {
				t.Errorf("/numbers attribute %s = %s, want %s", k, g, w)
			}
			delete(want, k)
		}
	}
	if len(want) > 0 {
		t.Errorf("no /numbers attributes %v", want)
	}
}

func emptyList(v any) bool {
	l, ok := v.([]any)
	return v == nil || ok && len(l) == 0
}

func TestH5Text(t *testing.T) {
	var stdout, stderr bytes.Buffer
	file := filepath.Join("..", "..", "testdata", "h5", "chunked_latest.h5")
	if code := runH5([]string{file}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	for _, s := range []string{"/ext1 ", "Dataset {14, 6} float32, chunked, chunks {3, 4} (extensible array)",
		"/shuffle_gzip_fletcher", "filter shuffle, filter deflate, filter fletcher32"} {
		if !strings.Contains(out, s) {
			t.Errorf("listing lacks %q:\n%s", s, out)
		}
	}
	stdout.Reset()
	if code := runH5([]string{filepath.Join("..", "..", "testdata", "h5", "softlinks.h5")}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, s := range []string{"Link: dangling -> /nowhere", "Link: good -> /real", "/real "} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("listing lacks %q:\n%s", s, stdout.String())
		}
	}
	if code := runH5([]string{"/nonexistent.h5"}, &stdout, &stderr); code != 1 {
		t.Errorf("missing file: exit %d, want 1", code)
	}
	if code := runH5(nil, &stdout, &stderr); code != 2 {
		t.Errorf("no arguments: exit %d, want 2", code)
	}
}
