package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
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
	if err := json.Unmarshal(b, &want); err != nil {
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
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
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
					if !reflect.DeepEqual(g[k], wv) && !(emptyList(g[k]) && emptyList(wv)) {
						t.Errorf("%s: %s = %.200v, want %.200v", w["path"], k, g[k], wv)
					}
				}
			}
		})
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
