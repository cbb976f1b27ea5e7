package kernel

import "math"

// This file holds the portable Go implementations. They are what -tags noasm
// and non-amd64 builds run, the fallback when the CPU lacks AVX2 or FMA, and
// the tails that the vector paths leave over.

// matMulGo is MatMul in Go: each row of c is a VecMat of a's row against b.
func matMulGo(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	if n == 0 {
		return
	}
	if k == 0 {
		a, lda = nil, 0
	}
	for i := 0; i < m; i++ {
		vecMatGo(c[i*ldc:i*ldc+n], a[i*lda:i*lda+k], b, ldb, k, n, accumulate)
	}
}

// vecMatGo computes y[:n] (+)= x[:k] · w, where row p of w starts at p*ldw.
// Four rows at a time halve the loads and stores of y against a plain axpy.
func vecMatGo(y, x, w []float32, ldw, k, n int, accumulate bool) {
	y = y[:n]
	if !accumulate {
		clear(y)
	}
	if n == 0 {
		return
	}
	p := 0
	for ; p+4 <= k; p += 4 {
		x0, x1, x2, x3 := x[p], x[p+1], x[p+2], x[p+3]
		w0 := w[p*ldw : p*ldw+n]
		w1 := w[(p+1)*ldw : (p+1)*ldw+n]
		w2 := w[(p+2)*ldw : (p+2)*ldw+n]
		w3 := w[(p+3)*ldw : (p+3)*ldw+n]
		for j := range y {
			y[j] += x0*w0[j] + x1*w1[j] + x2*w2[j] + x3*w3[j]
		}
	}
	for ; p < k; p++ {
		axpyGo(x[p], w[p*ldw:p*ldw+n], y)
	}
}

func dotGo(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func axpyGo(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

func mulGo(dst, a, b []float32) {
	dst, b = dst[:len(a)], b[:len(a)]
	for i, v := range a {
		dst[i] = v * b[i]
	}
}

func addGo(dst, a, b []float32) {
	dst, b = dst[:len(a)], b[:len(a)]
	for i, v := range a {
		dst[i] = v + b[i]
	}
}

// Constants of the float32 exp: Cephes' expf range reduction and minimax
// polynomial (relative error about 1 ulp), shared with the assembly.
const (
	expHi   = 88.72283935546875 // above this exp overflows float32
	expLo   = -103.972076416    // below ln(2^-150) exp rounds to 0
	log2e   = 1.44269504088896341
	ln2Hi   = 0.693359375 // ln2 split so that n*ln2Hi is exact
	ln2Lo   = -2.12194440e-4
	expP0   = 1.9875691500e-4
	expP1   = 1.3981999507e-3
	expP2   = 8.3334519073e-3
	expP3   = 4.1665795894e-2
	expP4   = 1.6666665459e-1
	expP5   = 5.0000001201e-1
	tanhLim = 0.625 // below it tanh uses its own odd polynomial (Cephes tanhf)
	tanhP0  = -5.70498872745e-3
	tanhP1  = 2.06390887954e-2
	tanhP2  = -5.37397155531e-2
	tanhP3  = 1.33314422036e-1
	tanhP4  = -3.33332819422e-1
)

// exp32 is exp in float32: x = n·ln2 + r with |r| ≤ ln2/2, exp(r) from a
// degree-7 polynomial, times 2^n applied in two halves so that results down
// in the denormals round only once.
func exp32(x float32) float32 {
	if x > expHi {
		return float32(math.Inf(1))
	}
	if x < expLo {
		return 0
	}
	if x != x {
		return x
	}
	n := float32(math.RoundToEven(float64(x * log2e)))
	r := x - n*ln2Hi
	r -= n * ln2Lo
	p := float32(expP0)
	p = p*r + expP1
	p = p*r + expP2
	p = p*r + expP3
	p = p*r + expP4
	p = p*r + expP5
	p = p*(r*r) + r + 1
	ni := int32(n)
	n1 := ni >> 1
	n2 := ni - n1
	p *= math.Float32frombits(uint32(n1+127) << 23)
	return p * math.Float32frombits(uint32(n2+127)<<23)
}

// tanh32 is tanh in float32: an odd polynomial near zero, where 1-2/(e+1)
// would cancel, and 1 - 2/(exp(2|x|)+1) with x's sign elsewhere.
func tanh32(x float32) float32 {
	// Work on |x| and copy x's sign back at the end: tanh is odd, and this
	// keeps tanh(-0) = -0.
	z := math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
	var t float32
	if z < tanhLim {
		s := z * z
		p := float32(tanhP0)
		p = p*s + tanhP1
		p = p*s + tanhP2
		p = p*s + tanhP3
		p = p*s + tanhP4
		t = p*s*z + z
	} else {
		// NaN lands here and stays NaN.
		t = 1 - 2/(exp32(z+z)+1)
	}
	return math.Float32frombits(math.Float32bits(t) | math.Float32bits(x)&(1<<31))
}

func sigmoid32(x float32) float32 { return 1 / (1 + exp32(-x)) }

func expGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = exp32(v)
	}
}

func tanhGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = tanh32(v)
	}
}

func sigmoidGo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = sigmoid32(v)
	}
}
