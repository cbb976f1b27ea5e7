package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Plain float64 reference loops, written straight from the definitions.
// Every implementation is checked against these.

func refMatMul(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) (want []float64, bound []float64) {
	want = make([]float64, m*n)
	bound = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, abs float64
			if accumulate {
				s = float64(c[i*ldc+j])
				abs = math.Abs(s)
			}
			for p := 0; p < k; p++ {
				v := float64(a[i*lda+p]) * float64(b[p*ldb+j])
				s += v
				abs += math.Abs(v)
			}
			want[i*n+j] = s
			// Float32 summation of k+1 terms in any order, each product
			// rounded once: |error| ≤ (k+2)·u·Σ|terms| with u = 2^-24.
			bound[i*n+j] = float64(k+2)*0x1p-24*abs + 1e-30
		}
	}
	return want, bound
}

func refExp(x float32) float32     { return float32(math.Exp(float64(x))) }
func refTanh(x float32) float32    { return float32(math.Tanh(float64(x))) }
func refSigmoid(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }

// guardVal marks the padding around test slices; a kernel that writes out
// of bounds changes it.
const guardVal = float32(-12345.5)

// guarded returns a slice of n values at an odd offset inside a larger
// buffer filled with guards, plus the buffer for checking the guards later.
func guarded(n, offset int) (s, buf []float32) {
	buf = make([]float32, n+offset+7)
	for i := range buf {
		buf[i] = guardVal
	}
	return buf[offset : offset+n : offset+n], buf
}

func checkGuards(t *testing.T, name string, buf []float32, offset, n int) {
	t.Helper()
	for i, v := range buf {
		if (i < offset || i >= offset+n) && v != guardVal {
			t.Fatalf("%s: guard at %d (slice [%d,%d)) overwritten with %v", name, i, offset, offset+n, v)
		}
	}
}

func randSlice(r *rand.Rand, s []float32) {
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
}

// activationInputs returns a spread of values over [-lim, lim] plus the edge
// cases: signed zeros, denormals, huge values, infinities and NaN.
func activationInputs(lim float64) []float32 {
	var xs []float32
	for i := -200000; i <= 200000; i++ {
		xs = append(xs, float32(lim*float64(i)/200000))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100000; i++ {
		xs = append(xs, float32((r.Float64()*2-1)*lim))
	}
	for e := -149; e < 8; e++ {
		v := float32(math.Ldexp(1, e))
		xs = append(xs, v, -v, v*1.3, -v*1.7)
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)),
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		math.MaxFloat32, -math.MaxFloat32, 1e30, -1e30, 88.7, 88.72283935546875, 88.73, 89, -87.3, -88, -100, -103.27, -103.9, -104,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()))
	return xs
}

func TestReferenceSelfCheck(t *testing.T) {
	// The reference must agree with the definition on hand-checked values,
	// so that a broken reference cannot hide a broken kernel.
	if got := refSigmoid(0); got != 0.5 {
		t.Fatalf("refSigmoid(0) = %v", got)
	}
	if got := refTanh(1); math.Abs(float64(got)-0.7615941559557649) > 1e-7 {
		t.Fatalf("refTanh(1) = %v", got)
	}
	a := []float32{1, 2, 3, 4, 5, 6}    // 2×3
	b := []float32{7, 8, 9, 10, 11, 12} // 3×2
	want, _ := refMatMul(2, 2, 3, a, 3, b, 2, nil, 2, false)
	if want[0] != 58 || want[1] != 64 || want[2] != 139 || want[3] != 154 {
		t.Fatalf("refMatMul = %v", want)
	}
}
