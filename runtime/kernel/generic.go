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

// Constants of numpy's float32 exp (npy_math's NPY_*_EXPf, used by
// simd_exp_FLOAT in loops_exponent_log.dispatch.c.src), shared with the
// assembly.
const (
	expHi    = 88.72283935546875      // from here on exp is +Inf
	expLo    = -103.97208404541015625 // up to here exp is 0
	expMagic = 0x1.8p23               // x + magic - magic rounds to an integer
	log2e    = 1.442695040888963407359924681001892137
	expC1    = -6.93145752e-1 // Cody-Waite -ln2, high part
	expC2    = -1.42860677e-6 // and low part
	expP0    = 9.999999999980870924916e-01
	expP1    = 7.257664613233124478488e-01
	expP2    = 2.473615434895520810817e-01
	expP3    = 5.114512081637298353406e-02
	expP4    = 6.757896990527504603057e-03
	expP5    = 5.082762527590693718096e-04
	expQ1    = -2.742335390411667452936e-01
	expQ2    = 2.159509375685829852307e-02
)

// exp32 is numpy's float32 exp, which Keras' numpy backend uses for
// sigmoid and softmax: q = round(x·log2e), r = x + q·c1 + q·c2 with fused
// multiply-adds, exp(r) as a (degree 5)/(degree 2) rational function, times
// 2^q rounded once (so results in the denormals round correctly). Max
// error 2.52 ulp, as numpy documents; the bits are numpy's.
func exp32(x float32) float32 {
	switch {
	case x != x:
		return x
	case x >= expHi:
		return float32(math.Inf(1))
	case x <= expLo:
		return 0
	}
	q := float32(x * log2e) // rounded: no fused multiply-add with the next line
	q = q + expMagic
	q = q - expMagic
	r := fma32(q, expC1, x)
	r = fma32(q, expC2, r)
	num := fma32(expP5, r, expP4)
	num = fma32(num, r, expP3)
	num = fma32(num, r, expP2)
	num = fma32(num, r, expP1)
	num = fma32(num, r, expP0)
	den := fma32(expQ2, r, expQ1)
	den = fma32(den, r, 1)
	p := num / den
	return float32(float64(p) * math.Ldexp(1, int(q)))
}

// tanh32 is numpy's float32 tanh (numpy/_core/src/umath/
// loops_hyperbolic.dispatch.cpp.src, converted from Intel SVML), which
// Keras' numpy backend calls: bit-exact agreement matters because a
// recurrent model feeds every rounding difference back into itself. |x| is
// split into 32 intervals by its exponent and top mantissa bits; on each,
// tanh(|x|) is a degree-6 polynomial in |x| - b evaluated with fused
// multiply-adds; |x| ≥ 2^127 saturates to 1 (the table's last interval is
// 1 + 0·y already); then x's sign is copied back, so tanh(-0) = -0.
func tanh32(x float32) float32 {
	if x != x {
		return x
	}
	bits := math.Float32bits(x)
	var r float32 = 1
	if nd := int32(bits & 0x7fe00000); nd <= 0x7f000000 {
		i := min(max(nd-0x3d400000, 0), 0x3e00000) >> 21
		y := math.Float32frombits(bits&0x7fffffff) - math.Float32frombits(tanhTable[0][i])
		r = math.Float32frombits(tanhTable[7][i])
		for row := 6; row >= 1; row-- {
			r = fma32(r, y, math.Float32frombits(tanhTable[row][i]))
		}
	}
	return math.Float32frombits(math.Float32bits(r) | bits&(1<<31))
}

// tanhTable holds numpy's tanh coefficients per interval (column): row 0
// is b, rows 1 to 7 the polynomial's c0 to c6. tanhLUT in const_amd64.s is
// the same table.
var tanhTable = [8][32]uint32{
	{0x0, 0x3d700000, 0x3d900000, 0x3db00000, 0x3dd00000, 0x3df00000, 0x3e100000, 0x3e300000,
		0x3e500000, 0x3e700000, 0x3e900000, 0x3eb00000, 0x3ed00000, 0x3ef00000, 0x3f100000, 0x3f300000,
		0x3f500000, 0x3f700000, 0x3f900000, 0x3fb00000, 0x3fd00000, 0x3ff00000, 0x40100000, 0x40300000,
		0x40500000, 0x40700000, 0x40900000, 0x40b00000, 0x40d00000, 0x40f00000, 0x41100000, 0x0},
	{0x0, 0x3d6fb9c9, 0x3d8fc35f, 0x3daf9169, 0x3dcf49ab, 0x3deee849, 0x3e0f0ee8, 0x3e2e4984,
		0x3e4d2f8e, 0x3e6bb32e, 0x3e8c51cd, 0x3ea96163, 0x3ec543f1, 0x3edfd735, 0x3f028438, 0x3f18abf0,
		0x3f2bc480, 0x3f3bec1c, 0x3f4f2e5b, 0x3f613c53, 0x3f6ce37d, 0x3f743c4f, 0x3f7a5feb, 0x3f7dea85,
		0x3f7f3b3d, 0x3f7fb78c, 0x3f7fefd4, 0x3f7ffdd0, 0x3f7fffb4, 0x3f7ffff6, 0x3f7fffff, 0x3f800000},
	{0x3f800000, 0x3f7f1f84, 0x3f7ebd11, 0x3f7e1e5f, 0x3f7d609f, 0x3f7c842d, 0x3f7b00e5, 0x3f789580,
		0x3f75b8ad, 0x3f726fd9, 0x3f6cc59b, 0x3f63fb92, 0x3f59ff97, 0x3f4f11d7, 0x3f3d7573, 0x3f24f360,
		0x3f0cbfe7, 0x3eec1a69, 0x3eb0a801, 0x3e6753a2, 0x3e132f1a, 0x3db7e7d3, 0x3d320845, 0x3c84d3d4,
		0x3bc477b7, 0x3b10d3da, 0x3a01601e, 0x388c1a3b, 0x3717b0da, 0x35a43bce, 0x338306c6, 0x0},
	{0xb0343c7b, 0xbd6ee69d, 0xbd8f0da7, 0xbdae477d, 0xbdcd2a1f, 0xbdeba80d, 0xbe0c443b, 0xbe293cf3,
		0xbe44f282, 0xbe5f3651, 0xbe81c7c0, 0xbe96d7ca, 0xbea7fb8e, 0xbeb50e9e, 0xbec12efe, 0xbec4be92,
		0xbebce070, 0xbead510e, 0xbe8ef7d6, 0xbe4b8704, 0xbe083237, 0xbdaf7449, 0xbd2e1ec4, 0xbc83bf06,
		0xbbc3e0b5, 0xbb10aadc, 0xba0157db, 0xb88c18f2, 0xb717b096, 0xb5a43bae, 0xb383012c, 0x0},
	{0xbeaaaaa5, 0xbeab0612, 0xbea7f01f, 0xbea4e120, 0xbea387b7, 0xbea15962, 0xbe9d57f7, 0xbe976b5a,
		0xbe90230d, 0xbe880dff, 0xbe7479b3, 0xbe4c3d88, 0xbe212482, 0xbdeb8cba, 0xbd5e78ad, 0x3c6b5e6e,
		0x3d839143, 0x3dc21ee1, 0x3de347af, 0x3dcbec96, 0x3d99ef2d, 0x3d542ea1, 0x3cdde701, 0x3c2cca67,
		0x3b81cb27, 0x3ac073a1, 0x39ac3032, 0x383a94d9, 0x36ca081d, 0x355abd4c, 0x332b3cb6, 0x0},
	{0xb76dd6b9, 0xbe1c276d, 0x3c1dcf2f, 0x3dc1a78d, 0x3d96f985, 0x3da2b61b, 0x3dc13397, 0x3dd2f670,
		0x3df48a0a, 0x3e06c5a8, 0x3e1a3aba, 0x3e27c405, 0x3e2e78d0, 0x3e2c3e44, 0x3e1d3097, 0x3df4a8f4,
		0x3da38508, 0x3d31416a, 0x3b562657, 0xbcaeeac9, 0xbcce9419, 0xbcaaeac4, 0xbc49e7d0, 0xbba71ddd,
		0xbb003b0e, 0xba3f9a05, 0xb92c08a7, 0xb7ba9232, 0xb64a0b0f, 0xb4dac169, 0xb2ab78ac, 0x0},
	{0x3e0910e9, 0x43761143, 0x4165ecdc, 0xc190f756, 0xc08c097d, 0xc02ba813, 0xbf7f6bda, 0x3f2b1dc0,
		0x3ece105d, 0x3f426a94, 0xbadb0dc4, 0x3da43b17, 0xbd51ab88, 0xbcaea23d, 0xbd3b6d8d, 0xbd6caaad,
		0xbd795bed, 0xbd5fddda, 0xbd038f3b, 0xbc1cad63, 0x3abb4766, 0x3b95f10b, 0x3b825873, 0x3afaea66,
		0x3a49f878, 0x39996bf3, 0x388f3e6c, 0x371bb0e3, 0x35a8a5e6, 0x34369b17, 0x322487b0, 0x0},
	{0xbc0e2f66, 0x460bda12, 0x43d638ef, 0xc3e11c3e, 0xc2baa4e9, 0xc249da2d, 0xc1859b82, 0x40dd5b57,
		0x40494640, 0x40c730a8, 0xbf0f160e, 0x3e30e76f, 0xbea81387, 0xbdb26a1c, 0xbd351e57, 0xbb4c01a0,
		0x3c1d7bfb, 0x3c722cd1, 0x3c973f1c, 0x3c33a31b, 0x3b862ef4, 0x3a27b3d0, 0xba3b5907, 0xba0efc22,
		0xb97f9f0f, 0xb8c8af50, 0xb7bdddfb, 0xb64f2950, 0xb4e085b1, 0xb3731dfa, 0xb15a1f04, 0x0},
}

// fma32 returns a*b + c rounded once to float32, as a float32 FMA
// instruction does. The product is exact in float64; the float64 sum is
// rounded to odd (its last bit set when inexact), which makes the final
// rounding to float32 correct.
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b)
	s := p + float64(c)
	// TwoSum: e is the exact error of s.
	bb := s - p
	e := (p - (s - bb)) + (float64(c) - bb)
	if e != 0 && !math.IsInf(s, 0) {
		if u := math.Float64bits(s); u&1 == 0 {
			if (e > 0) == (s > 0) {
				u++
			} else {
				u--
			}
			s = math.Float64frombits(u)
		}
	}
	return float32(s)
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
