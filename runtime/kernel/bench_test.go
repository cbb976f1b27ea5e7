package kernel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Benchmarks mirror the perf workloads: VecMat is the batch-1 recurrent
// step of an LSTM (k = H, n = 4H), MatMul the batch-64 recurrent step and
// the input projections of W3/W4. Each has a naive baseline beside it.

func naiveVecMat(y, x, w []float32, k, n int) {
	for j := 0; j < n; j++ {
		var s float32
		for p := 0; p < k; p++ {
			s += x[p] * w[p*n+j]
		}
		y[j] = s
	}
}

func naiveMatMul(m, n, k int, a, b, c []float32) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += a[i*k+p] * b[p*n+j]
			}
			c[i*n+j] = s
		}
	}
}

func randVec(n int) []float32 {
	r := rand.New(rand.NewPCG(11, 12))
	s := make([]float32, n)
	randSlice(r, s)
	return s
}

func reportFlops(b *testing.B, flops float64) {
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkVecMat(b *testing.B) {
	for _, h := range []int{32, 128, 256, 512, 1024} {
		k, n := h, 4*h
		x, w, y := randVec(k), randVec(k*n), make([]float32, n)
		run := func(name string, f func()) {
			b.Run(fmt.Sprintf("%s/h%d", name, h), func(b *testing.B) {
				b.SetBytes(int64(4 * k * n)) // MB/s is the rate w streams at
				b.ReportAllocs()
				for b.Loop() {
					f()
				}
				reportFlops(b, float64(2*k*n))
			})
		}
		run("fast", func() { VecMat(y, x, w, k, n, false) })
		run("go", func() { vecMatGo(y, x, w, n, k, n, false) })
		if h <= 512 {
			run("naive", func() { naiveVecMat(y, x, w, k, n) })
		}
	}
}

func BenchmarkMatMul(b *testing.B) {
	shapes := []struct {
		name    string
		m, n, k int
		naive   bool
	}{
		{"m64_k128_n1024", 64, 1024, 128, true},    // W3 input projection per 64 rows
		{"m64_k256_n1024", 64, 1024, 256, true},    // W3 LSTM recurrent step, batch 64
		{"m64_k256_n768", 64, 768, 256, false},     // W3 GRU recurrent step
		{"m32_k128_n512", 32, 512, 128, false},     // W4 recurrent step, batch 32
		{"m6400_k128_n512", 6400, 512, 128, false}, // W4 input projection, T·B rows
		{"m100_k128_n1024", 100, 1024, 128, false}, // W2 input projection, batch 1
	}
	for _, s := range shapes {
		a, bm, c := randVec(s.m*s.k), randVec(s.k*s.n), make([]float32, s.m*s.n)
		flops := float64(2 * s.m * s.n * s.k)
		b.Run("fast/"+s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				MatMul(s.m, s.n, s.k, a, s.k, bm, s.n, c, s.n, false)
			}
			reportFlops(b, flops)
		})
		pb := PackMatrix(s.k, s.n, bm, s.n)
		b.Run("packed/"+s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				MatMulPacked(s.m, a, s.k, pb, c, s.n, false)
			}
			reportFlops(b, flops)
		})
		b.Run("go/"+s.name, func(b *testing.B) {
			for b.Loop() {
				matMulGo(s.m, s.n, s.k, a, s.k, bm, s.n, c, s.n, false)
			}
			reportFlops(b, flops)
		})
		if s.naive {
			b.Run("naive/"+s.name, func(b *testing.B) {
				for b.Loop() {
					naiveMatMul(s.m, s.n, s.k, a, bm, c)
				}
				reportFlops(b, flops)
			})
		}
	}
}

func benchActivation(b *testing.B, fast, goImpl func(dst, src []float32), naive func(float64) float64) {
	const n = 1024
	src := randVec(n)
	for i := range src {
		src[i] *= 4
	}
	dst := make([]float32, n)
	run := func(name string, f func()) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(4 * n)
			for b.Loop() {
				f()
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/n, "ns/value")
		})
	}
	run("fast", func() { fast(dst, src) })
	run("go", func() { goImpl(dst, src) })
	run("naive", func() {
		for i, v := range src {
			dst[i] = float32(naive(float64(v)))
		}
	})
}

func BenchmarkSigmoid(b *testing.B) {
	benchActivation(b, Sigmoid, sigmoidGo, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) })
}

func BenchmarkTanh(b *testing.B) { benchActivation(b, Tanh, tanhGo, math.Tanh) }

func BenchmarkExp(b *testing.B) { benchActivation(b, Exp, expGo, math.Exp) }

// BenchmarkSets runs the workloads' kernel shapes on every kernel set this
// machine has, side by side in one process (benchstat-friendly names:
// Sets/<shape>/<set>), so that the sets compare under the same load.
func BenchmarkSets(b *testing.B) {
	type shape struct {
		name    string
		m, k, n int
		packed  bool
	}
	shapes := []shape{
		{"vecmat_h32", 1, 32, 128, false}, {"vecmat_h128", 1, 128, 512, false},
		{"vecmat_h256", 1, 256, 1024, false}, {"vecmat_h512", 1, 512, 2048, false},
		{"packed_m64_k256_n1024", 64, 256, 1024, true}, {"packed_m32_k128_n512", 32, 128, 512, true},
		{"matmul_m6400_k128_n1024", 6400, 128, 1024, false}, {"matmul_m3200_k128_n512", 3200, 128, 512, false},
	}
	for _, sh := range shapes {
		a, w, c := randVec(sh.m*sh.k), randVec(sh.k*sh.n), make([]float32, sh.m*sh.n)
		for _, ks := range supportedSets() {
			if ks.isa == isaGo && sh.m > 64 {
				continue
			}
			pm := packMatrixWith(ks, sh.k, sh.n, w, sh.n)
			b.Run(sh.name+"/"+ks.name, func(b *testing.B) {
				for b.Loop() {
					switch {
					case sh.m == 1:
						vecMatWith(ks, c, a, w, sh.k, sh.n, false)
					case sh.packed:
						MatMulPacked(sh.m, a, sh.k, pm, c, sh.n, false)
					default:
						matMulWith(ks, sh.m, sh.n, sh.k, a, sh.k, w, sh.n, c, sh.n, false)
					}
				}
				reportFlops(b, float64(2*sh.m*sh.k*sh.n))
			})
		}
	}
	src := randVec(1024)
	for i := range src {
		src[i] *= 4
	}
	dst := make([]float32, len(src))
	for _, act := range []struct {
		name string
		f    func(ks *kernelSet, dst, src []float32)
	}{{"sigmoid", sigmoid}, {"tanh", tanh}, {"exp", exp}} {
		for _, n := range []int{32, 1024} {
			for _, ks := range supportedSets() {
				b.Run(fmt.Sprintf("%s_%d/%s", act.name, n, ks.name), func(b *testing.B) {
					for b.Loop() {
						act.f(ks, dst[:n], src[:n])
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/value")
				})
			}
		}
	}
}
