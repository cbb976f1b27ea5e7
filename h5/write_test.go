package h5

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/internal/float16"
)

// sampleBuilder builds what Keras 3 writes in a .weights.h5, plus every
// other kind of value the builder has.
func sampleBuilder() *Builder {
	b := NewBuilder()
	cell := b.Root().Group("layers").Group("lstm").Group("cell").Group("vars")
	cell.SetString("name", "lstm_cell")
	cell.Float32("0", []int{2, 3}, []float32{1, 2, 3, 4, 5, float32(math.Inf(-1))})
	cell.Float32("1", []int{3}, []float32{-0.5, 0.25, 1e-30})
	b.Root().Group("layers").Group("lstm").Group("vars").SetString("name", "lstm")
	b.Root().Group("vars").SetString("name", "sequential")
	o := b.Root().Group("other")
	o.Float16("half", []int{4}, []float32{0.5, -1.25, 65504, 6.1035156e-05})
	o.Float64("f64", []int{2}, []float64{math.Pi, -1e300})
	o.Int64("i64", []int{2}, []int64{-3, 1 << 40})
	o.Int32("i32", []int{3}, []int32{-7, 0, 7})
	o.Float32("empty", []int{0, 4}, nil)
	ds := o.Float32("scalar_like", []int{1}, []float32{42})
	ds.SetString("note", "ünïcode ✓")
	o.SetStrings("names", []string{"embedding", "", "dense_1"})
	o.SetFixedStrings("layer_names", []string{"a", "bbb"})
	o.SetFloat64("version", 3.5)
	o.SetInt64("count", -12)
	return b
}

func writeSample(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sample.h5")
	if err := sampleBuilder().WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBuilderRoundTrip reads a written file back with this package's
// reader: every group, dataset, value and attribute.
func TestBuilderRoundTrip(t *testing.T) {
	f, err := Open(writeSample(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	root := f.Root()
	d, err := root.Dataset("layers/lstm/cell/vars/0")
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.ReadFloat32()
	if err != nil || !reflect.DeepEqual(d.Shape(), []int{2, 3}) || !reflect.DeepEqual(got, []float32{1, 2, 3, 4, 5, float32(math.Inf(-1))}) {
		t.Errorf("vars/0: shape %v data %v err %v", d.Shape(), got, err)
	}
	checkAttrString(t, root, "layers/lstm/cell/vars", "name", "lstm_cell")
	checkAttrString(t, root, "vars", "name", "sequential")
	for _, tc := range []struct {
		path string
		want []float64
	}{
		{"other/half", []float64{0.5, -1.25, 65504, 6.103515625e-05}},
		{"other/f64", []float64{math.Pi, -1e300}},
		{"other/i64", []float64{-3, 1 << 40}},
		{"other/i32", []float64{-7, 0, 7}},
		{"other/empty", []float64{}},
	} {
		d, err := root.Dataset(tc.path)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		got, err := d.ReadFloat64()
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if len(got) != len(tc.want) || (len(got) > 0 && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("%s: %v, want %v", tc.path, got, tc.want)
		}
	}
	o, err := root.Group("other")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]any{
		"names":       []string{"embedding", "", "dense_1"},
		"layer_names": []string{"a", "bbb"},
	} {
		a, err := o.Attr(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Strings()
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("attribute %s: %v (%v), want %v", name, got, err, want)
		}
	}
	if a, err := o.Attr("version"); err != nil {
		t.Error(err)
	} else if v, err := a.Float64s(); err != nil || v[0] != 3.5 {
		t.Errorf("version: %v %v", v, err)
	}
	if a, err := o.Attr("count"); err != nil {
		t.Error(err)
	} else if v, err := a.Int64s(); err != nil || v[0] != -12 {
		t.Errorf("count: %v %v", v, err)
	}
	ds, err := o.Dataset("scalar_like")
	if err != nil {
		t.Fatal(err)
	}
	if a, err := ds.Attr("note"); err != nil {
		t.Error(err)
	} else if s, err := a.String(); err != nil || s != "ünïcode ✓" {
		t.Errorf("dataset attribute: %q %v", s, err)
	}
}

func checkAttrString(t *testing.T, root *Group, path, name, want string) {
	t.Helper()
	g, err := root.Group(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := g.Attr(name)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := a.String(); err != nil || s != want {
		t.Errorf("%s@%s = %q (%v), want %q", path, name, s, err, want)
	}
}

// TestBuilderReadByLibhdf5 has h5dump (hdf5-tools) and h5py read a
// written file. CI installs both; elsewhere the test skips without them.
func TestBuilderReadByLibhdf5(t *testing.T) {
	path := writeSample(t)
	if _, err := exec.LookPath("h5dump"); err != nil {
		t.Skip("h5dump not installed (apt-get install hdf5-tools)")
	}
	out, err := exec.Command("h5dump", path).CombinedOutput()
	if err != nil {
		t.Fatalf("h5dump: %v\n%s", err, out)
	}
	for _, part := range []string{`(0): "lstm_cell"`, `(0,0): 1, 2, 3,`, `(0): 0.5, -1.25, 65504, 6.10352e-05`, `"embedding", "", "dense_1"`, `(0): -3, 1099511627776`} {
		if !bytes.Contains(out, []byte(part)) {
			t.Errorf("h5dump output lacks %q:\n%s", part, out)
		}
	}
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import h5py").Run(); err != nil {
		t.Skip("h5py not installed (apt-get install python3-h5py)")
	}
	script := `
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
assert f["layers/lstm/cell/vars"].attrs["name"] == "lstm_cell"
assert f["vars"].attrs["name"] == "sequential"
np.testing.assert_array_equal(f["layers/lstm/cell/vars/0"][()], np.array([[1, 2, 3], [4, 5, -np.inf]], "float32"))
assert f["other/half"].dtype == np.float16
np.testing.assert_array_equal(f["other/half"][()], np.array([0.5, -1.25, 65504, 6.1035156e-05], "float16"))
assert list(f["other"].attrs["names"]) == ["embedding", "", "dense_1"]
assert f["other/scalar_like"].attrs["note"] == "ünïcode ✓"
assert f["other/i64"][1] == 1 << 40 and f["other/empty"].shape == (0, 4)
print("ok")
`
	out, err = exec.Command(py, "-c", script, path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("h5py: %v\n%s", err, out)
	}
}

// TestFloat32ToHalf checks the rounding against the decoder: every finite
// half value encodes back to itself, and values between two halves round
// to the nearer (ties to even), as numpy's astype(float16) does.
func TestFloat32ToHalf(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		v := float16.ToFloat32(uint16(h))
		if v != v {
			if got := Float32ToHalf(v); got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
				t.Fatalf("NaN %#04x encodes to %#04x", h, got)
			}
			continue
		}
		if got := Float32ToHalf(v); got != uint16(h) {
			t.Fatalf("half %#04x (%g) encodes to %#04x", h, v, got)
		}
	}
	for _, tc := range []struct {
		v    float32
		want uint16
	}{
		{1 + 1.0/2048, 0x3c00},         // tie: to even (1.0)
		{1 + 3.0/2048, 0x3c02},         // tie: to even (1 + 2/1024)
		{1 + 1.0/2048 + 1e-7, 0x3c01},  // above the tie
		{65520, 0x7c00},                // rounds past the largest half
		{-1e-8, 0x8000},                // underflows to -0
		{2.9802322e-08, 0x0000},        // half of the smallest subnormal: tie to 0
		{2.9802326e-08, 0x0001},        // just above it
		{float32(math.Inf(1)), 0x7c00}, // infinity
	} {
		if got := Float32ToHalf(tc.v); got != tc.want {
			t.Errorf("Float32ToHalf(%g) = %#04x, want %#04x", tc.v, got, tc.want)
		}
	}
}

// TestBuilderWriteFileNoPartial checks that a failed write leaves no file.
func TestBuilderWriteFileNoPartial(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	if err := sampleBuilder().WriteFile(filepath.Join(dir, "x.h5")); err == nil {
		t.Fatal("no error writing into a missing folder")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("stat %s: %v", dir, err)
	}
}

func TestBuilderPanicsOnMisuse(t *testing.T) {
	for name, f := range map[string]func(){
		"slash in name":  func() { NewBuilder().Root().Group("a/b") },
		"count mismatch": func() { NewBuilder().Root().Float32("x", []int{2, 2}, []float32{1}) },
		"dataset twice": func() {
			g := NewBuilder().Root()
			g.Float32("x", []int{1}, []float32{1})
			g.Float32("x", []int{1}, []float32{1})
		},
		"group over set": func() { g := NewBuilder().Root(); g.Float32("x", []int{1}, []float32{1}); g.Group("x") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
