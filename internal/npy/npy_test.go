package npy

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// numpyFiles writes arrays with numpy itself (every dtype Read converts,
// both byte orders, format 2.0) and returns the directory; it skips when
// numpy is not installed. The expected values are numpy's, printed as
// float64 by the same script.
func numpyFiles(t *testing.T) (string, map[string]string) {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	dir := t.TempDir()
	script := `
import numpy as np, sys, os
d = sys.argv[1]
base = np.array([[0, 1, -2, 3.5], [65504, -0.25, 7, 100]])
arrs = {
  'f4': base.astype('<f4'), 'f8': base.astype('<f8'), 'f2': base.astype('<f2'),
  'be_f4': base.astype('>f4'), 'i4': base.astype(np.int64).astype('<i4'),
  'i8': base.astype(np.int64), 'u1': np.abs(base).astype(np.int64).astype(np.uint8),
  'i2': base.astype(np.int64).astype('>i2'), 'b1': base > 1, 'scalar': np.float32(2.5),
  'empty': np.zeros((0, 3), np.float32), 'rank3': np.arange(24, dtype=np.float32).reshape(2, 3, 4),
}
for k, a in arrs.items():
    np.save(os.path.join(d, k + '.npy'), a)
    print(k, a.shape, a.astype(np.float64).ravel().tolist())
np.lib.format.write_array(open(os.path.join(d, 'v2.npy'), 'wb'), base.astype('<f4'), version=(2, 0))
print('v2', base.shape, base.astype('<f4').astype(np.float64).ravel().tolist())
np.save(os.path.join(d, 'fortran.npy'), np.asfortranarray(base.astype('<f4')))
np.save(os.path.join(d, 'complex.npy'), np.zeros(2, np.complex64))
`
	out, err := exec.Command(py, "-c", script, dir).CombinedOutput()
	if err != nil {
		t.Skipf("numpy unavailable: %v: %s", err, out)
	}
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, " ")
		want[k] = v
	}
	return dir, want
}

func TestReadNumpyWritten(t *testing.T) {
	dir, want := numpyFiles(t)
	for name, w := range want {
		f, err := os.Open(filepath.Join(dir, name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		h, data, err := Read(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := describe(h.Shape, data); got != w {
			t.Errorf("%s: got %s, numpy says %s", name, got, w)
		}
	}
	for _, name := range []string{"fortran", "complex"} {
		f, err := os.Open(filepath.Join(dir, name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = Read(f)
		f.Close()
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: error %v, want ErrUnsupported", name, err)
		}
	}
}

// describe prints shape and values the way the numpy script does:
// "(2, 4) [0.0, 1.0, ...]".
func describe(shape []int, data []float32) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		b.WriteByte(',')
	}
	b.WriteString(") [")
	for i, v := range data {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pyFloat(float64(v)))
	}
	b.WriteByte(']')
	return b.String()
}

// pyFloat formats like Python's float repr for the values the script
// uses (no exponents): 3.5, 65504.0, -0.25.
func pyFloat(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func TestWriteRead(t *testing.T) {
	for _, shape := range [][]int{{}, {5}, {2, 3}, {0, 4}, {1, 2, 3}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(i)*0.25 - 1
		}
		var buf bytes.Buffer
		if err := Write(&buf, shape, data); err != nil {
			t.Fatal(err)
		}
		if (buf.Len()-4*n)%64 != 0 {
			t.Errorf("shape %v: header not padded to 64 bytes", shape)
		}
		h, got, err := Read(&buf)
		if err != nil {
			t.Fatalf("shape %v: %v", shape, err)
		}
		if len(h.Shape) != len(shape) || len(got) != n {
			t.Fatalf("shape %v: read shape %v, %d values", shape, h.Shape, len(got))
		}
		for i := range got {
			if got[i] != data[i] {
				t.Fatalf("shape %v: value %d: got %v want %v", shape, i, got[i], data[i])
			}
		}
	}
	if err := Write(&bytes.Buffer{}, []int{2, 2}, make([]float32, 3)); err == nil {
		t.Error("Write accepted 3 values for shape [2 2]")
	}
}

func header(dict string) []byte {
	b := []byte("\x93NUMPY\x01\x00")
	b = append(b, byte(len(dict)), byte(len(dict)>>8))
	return append(b, dict...)
}

func TestReadBad(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrFormat},
		{"bad magic", []byte("PK\x03\x04\x00\x00\x00\x00\x00\x00"), ErrFormat},
		{"version 9", []byte("\x93NUMPY\x09\x00\x00\x00"), ErrUnsupported},
		{"short header", []byte("\x93NUMPY\x01\x00\x40\x00{'descr'"), ErrFormat},
		{"v2 huge header", []byte("\x93NUMPY\x02\x00\xff\xff\xff\xff"), ErrFormat},
		{"no brace", header("'descr': '<f4'\n"), ErrFormat},
		{"missing shape", header("{'descr': '<f4', 'fortran_order': False}\n"), ErrFormat},
		{"bad shape", header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }\n"), ErrFormat},
		{"negative dim", header("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }\n"), ErrFormat},
		{"unterminated", header("{'descr': '<f4, 'fortran_order': False, 'shape': (2,), }\n"), ErrFormat},
		{"huge shape", header("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }\n"), ErrFormat},
		{"truncated data", append(header("{'descr': '<f4', 'fortran_order': False, 'shape': (1000,), }\n"), 1, 2, 3), ErrFormat},
		{"structured", header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n"), ErrFormat},
		{"string dtype", header("{'descr': '<U5', 'fortran_order': False, 'shape': (1,), }\n"), ErrUnsupported},
		{"unknown key", header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}\n"), ErrFormat},
	} {
		_, _, err := Read(bytes.NewReader(tc.data))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
}

// A header announcing a billion elements over a short stream must fail
// without allocating for all of them.
func TestReadHugeClaimSmallAlloc(t *testing.T) {
	data := header("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000,), }\n")
	var ms1, ms2 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	if _, _, err := Read(bytes.NewReader(data)); !errors.Is(err, ErrFormat) {
		t.Errorf("error %v, want ErrFormat", err)
	}
	runtime.ReadMemStats(&ms2)
	if grown := ms2.TotalAlloc - ms1.TotalAlloc; grown > 64<<20 {
		t.Errorf("allocated %d bytes for a 100-byte input", grown)
	}
}

func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	_ = Write(&buf, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	f.Add(buf.Bytes())
	f.Add(header("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }\n"))
	f.Add([]byte("\x93NUMPY\x02\x00\x10\x00\x00\x00{'descr': '|b1'}"))
	for _, p := range []string{"../../testdata/goldens/char_gru_generator/x0.npy", "../../testdata/goldens/char_gru_generator/y0.npy"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, vals, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		n := 1
		for _, d := range h.Shape {
			n *= d
		}
		if n != len(vals) {
			t.Fatalf("shape %v but %d values", h.Shape, len(vals))
		}
	})
}

// TestReadFileSize: read from a file, an array the file cannot hold fails
// before anything is allocated for it, and one it holds reads as from any
// reader.
func TestReadFileSize(t *testing.T) {
	dir := t.TempDir()
	var good bytes.Buffer
	if err := Write(&good, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "good.npy")
	if err := os.WriteFile(p, good.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, data, err := Read(f); err != nil || len(data) != 6 || data[5] != 6 {
		t.Fatalf("Read(file) = %v, %v", data, err)
	}
	// The header of a [10^8, 10] float32 array with six values of data.
	b := bytes.Replace(good.Bytes(), []byte("(2, 3)"), []byte("(100000000, 10)"), 1)
	p = filepath.Join(dir, "short.npy")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err = Read(g)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "the file has") {
		t.Fatalf("got %v, want ErrFormat saying the file is too short", err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
		t.Errorf("refusing allocated %d bytes", d)
	}
}
