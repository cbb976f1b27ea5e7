package keras

import (
	"bytes"
	"math"

	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/runtime"
)

func TestNPYRoundTrip(t *testing.T) {
	for _, shape := range [][]int{{5}, {2, 3}, {1, 2, 3}, {0, 4}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(i)*0.5 - 1
		}
		if n > 1 {
			data[1] = float32(math.Inf(-1))
		}
		x, _ := runtime.FromData(data, shape...)
		var buf bytes.Buffer
		if err := WriteNPY(&buf, x); err != nil {
			t.Fatal(err)
		}
		if (buf.Len()-4*n)%64 != 0 {
			t.Errorf("shape %v: header not padded to 64 bytes", shape)
		}
		y, err := ReadNPY(&buf)
		if err != nil {
			t.Fatalf("shape %v: %v", shape, err)
		}
		if !equalInts(y.Shape, shape) || !equal(y.Data, data) {
			t.Errorf("shape %v: round trip gave %v %v", shape, y.Shape, y.Data)
		}
	}
}

// The goldens store token ids as int32 and values as float32.
func TestReadNPYGolden(t *testing.T) {
	x, err := ReadNPYFile("../testdata/goldens/char_gru_generator_stateful/x0.npy")
	if err != nil {
		t.Fatal(err)
	}
	// Written by numpy: [[23 28 22 19 28 26 24]] (int32).
	if !equalInts(x.Shape, []int{1, 7}) || !equal(x.Data, []float32{23, 28, 22, 19, 28, 26, 24}) {
		t.Errorf("got %v %v", x.Shape, x.Data)
	}
}

// numpy reads what WriteNPY writes, when numpy is installed.
func TestWriteNPYReadByNumpy(t *testing.T) {
	py, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Skip("no /usr/bin/python3")
	}
	if exec.Command(py, "-c", "import numpy").Run() != nil {
		t.Skip("numpy not installed")
	}
	p := filepath.Join(t.TempDir(), "a.npy")
	x, _ := runtime.FromData([]float32{1, 2.5, -3, 4, 5, 6}, 2, 3)
	if err := WriteNPYFile(p, x); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", "import numpy as np,sys; a=np.load(sys.argv[1]); print(a.dtype, a.shape, a.tolist())", p).CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "float32 (2, 3) [[1.0, 2.5, -3.0], [4.0, 5.0, 6.0]]"; got != want {
		t.Errorf("numpy read %q, want %q", got, want)
	}
}

func TestReadNPYBad(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":     nil,
		"not npy":   []byte("PK\x03\x04 zip"),
		"truncated": append([]byte("\x93NUMPY\x01\x00\x46\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1000,), }"), bytes.Repeat([]byte(" "), 5)...),
		"huge":      []byte("\x93NUMPY\x01\x00\x46\x00{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }     \n"),
		"complex":   []byte("\x93NUMPY\x01\x00\x46\x00{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }            \n12345678"),
	} {
		if _, err := ReadNPY(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestCompare(t *testing.T) {
	want, _ := runtime.FromData([]float32{1, 100, float32(math.NaN()), 0}, 4)
	got, _ := runtime.FromData([]float32{1 + 1e-5, 100.01, float32(math.NaN()), 2e-5}, 4)
	r := Compare(got, want, 1e-5, 1e-4)
	// index 0: 1e-5 <= 1e-5+1e-4 ok; 1: 0.01 <= 1e-5+0.01 ok; 2: NaN==NaN; 3: 2e-5 > 1e-5 bad.
	if r.Bad != 1 || r.FirstBad != 3 || r.MaxIndex != 1 {
		t.Errorf("got %+v", r)
	}
	short, _ := runtime.FromData([]float32{1, 2}, 2)
	if r := Compare(short, want, 1e-5, 1e-4); r.Err == nil || r.OK() {
		t.Error("shape mismatch not reported")
	}
}
