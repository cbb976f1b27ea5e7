package layers

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
)

// readNpy reads a little-endian float32, float64 or int32 .npy file into
// float32 values, for comparing with the Keras goldens in testdata.
func readNpy(t testing.TB, path string) ([]float32, []int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 10 || string(b[1:6]) != "NUMPY" {
		t.Fatalf("%s: not a .npy file", path)
	}
	var hlen, off int
	if b[6] == 1 {
		hlen, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	} else {
		hlen, off = int(binary.LittleEndian.Uint32(b[8:12])), 12
	}
	header := string(b[off : off+hlen])
	data := b[off+hlen:]
	descr := regexp.MustCompile(`'descr':\s*'([^']+)'`).FindStringSubmatch(header)
	shapeM := regexp.MustCompile(`'shape':\s*\(([^)]*)\)`).FindStringSubmatch(header)
	if descr == nil || shapeM == nil || strings.Contains(header, "'fortran_order': True") {
		t.Fatalf("%s: unsupported header %q", path, header)
	}
	var shape []int
	for _, f := range strings.Split(shapeM[1], ",") {
		if f = strings.TrimSpace(f); f != "" {
			n, err := strconv.Atoi(f)
			if err != nil {
				t.Fatal(err)
			}
			shape = append(shape, n)
		}
	}
	var out []float32
	switch descr[1] {
	case "<f4":
		for i := 0; i+4 <= len(data); i += 4 {
			out = append(out, math.Float32frombits(binary.LittleEndian.Uint32(data[i:])))
		}
	case "<f8":
		for i := 0; i+8 <= len(data); i += 8 {
			out = append(out, float32(math.Float64frombits(binary.LittleEndian.Uint64(data[i:]))))
		}
	case "<i4":
		for i := 0; i+4 <= len(data); i += 4 {
			out = append(out, float32(int32(binary.LittleEndian.Uint32(data[i:]))))
		}
	case "<i8":
		for i := 0; i+8 <= len(data); i += 8 {
			out = append(out, float32(int64(binary.LittleEndian.Uint64(data[i:]))))
		}
	default:
		t.Fatalf("%s: dtype %s", path, descr[1])
	}
	return out, shape
}

// closeTo reports the first element outside atol + rtol*|want|.
func closeTo(got, want []float32, atol, rtol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d values, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(w) && math.IsNaN(g) {
			continue
		}
		if math.IsInf(w, 0) && g == w {
			continue
		}
		if !(math.Abs(g-w) <= atol+rtol*math.Abs(w)) {
			return fmt.Errorf("index %d: got %v, want %v", i, g, w)
		}
	}
	return nil
}

// TestActivationGoldens applies each activation to the Keras 3.16 golden
// grid and compares with keras.activations' own outputs.
func TestActivationGoldens(t *testing.T) {
	dir := filepath.Join("..", "testdata", "goldens", "activation_functions_table")
	raw, err := os.ReadFile(filepath.Join(dir, "case.json"))
	if err != nil {
		t.Skip("golden case not present:", err)
	}
	var c struct {
		Outputs []struct {
			File, Name string
		}
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	x, shape := readNpy(t, filepath.Join(dir, "x0.npy"))
	last := shape[len(shape)-1]
	tested := 0
	for _, o := range c.Outputs {
		f, err := Activation(o.Name)
		if err != nil {
			continue // parameter variants (relu_max_value_2...) belong to layers
		}
		tested++
		t.Run(o.Name, func(t *testing.T) {
			want, _ := readNpy(t, filepath.Join(dir, o.File))
			dim, err := ActivationOutputDim(o.Name, last)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, len(x)/last*dim)
			f(got, x, last)
			if err := closeTo(got, want, 1e-5, 1e-4); err != nil {
				t.Errorf("%s: %v", o.Name, err)
			}
		})
	}
	if tested < 31 {
		t.Errorf("tested %d activations, want the 31 plain Keras 3 ones", tested)
	}
}

func TestActivationKeras2HardSigmoid(t *testing.T) {
	f, err := Activation("hard_sigmoid_keras2")
	if err != nil {
		t.Fatal(err)
	}
	src := []float32{-3, -2.5, -1, 0, 1, 2.5, 3}
	got := make([]float32, len(src))
	f(got, src, len(src))
	for i, v := range src {
		want := math.Min(math.Max(0.2*float64(v)+0.5, 0), 1)
		if math.Abs(float64(got[i])-want) > 1e-7 {
			t.Errorf("hard_sigmoid_keras2(%v) = %v, want %v", v, got[i], want)
		}
	}
}

func TestActivationUnknown(t *testing.T) {
	_, err := Activation("no_such_thing")
	if !errors.Is(err, convert.ErrUnsupported) || !strings.Contains(err.Error(), "no_such_thing") {
		t.Errorf("got %v, want ErrUnsupported naming the activation", err)
	}
	if _, err := ActivationOutputDim("glu", 3); !errors.Is(err, convert.ErrConfig) {
		t.Errorf("glu on an odd axis: got %v, want ErrConfig", err)
	}
	f, err := Activation("")
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 2)
	f(got, []float32{-1, 2}, 2)
	if got[0] != -1 || got[1] != 2 {
		t.Errorf("empty name is not linear: %v", got)
	}
}

// TestActivationAliasing checks that dst may alias src.
func TestActivationAliasing(t *testing.T) {
	for _, name := range ActivationNames() {
		if name == "glu" {
			continue
		}
		f, _ := Activation(name)
		src := []float32{-2, -0.3, 0.1, 0.7, 1.5, 3}
		want := make([]float32, len(src))
		f(want, src, 3)
		buf := append([]float32(nil), src...)
		f(buf, buf, 3)
		if err := closeTo(buf, want, 0, 0); err != nil {
			t.Errorf("%s in place: %v", name, err)
		}
	}
}
