package kernel

// Panic messages for broken contracts (programmer errors, never file data).
const (
	errNegative = "kernel: negative dimension"
	errLd       = "kernel: leading dimension too small"
	errShortA   = "kernel: short a"
	errShortB   = "kernel: short b"
	errShortC   = "kernel: short c"
	errShortX   = "kernel: short x"
	errShortY   = "kernel: short y"
	errShortW   = "kernel: short w"
	errShortDst = "kernel: short dst"
	errBias     = "kernel: x is not whole rows of bias"
)

// fits reports whether a slice of length l holds rows rows of cols values
// ld apart, that is (rows-1)*ld + cols <= l, without overflowing: the
// assembly kernels trust these checks. ld ≥ max(1, cols) and all are ≥ 0.
func fits(l, rows, ld, cols int) bool {
	if rows == 0 || cols == 0 {
		return true
	}
	if cols > l {
		return false
	}
	return rows-1 <= (l-cols)/ld
}

// MatMul computes c[m×n] (+)= a[m×k] · b[k×n], all row-major with leading
// dimensions lda, ldb and ldc. With accumulate false c is overwritten
// (a k of 0 then zeroes c). It computes
//
//	for i := 0; i < m; i++ {
//		for j := 0; j < n; j++ {
//			s := 0 // or c[i*ldc+j] when accumulating
//			for p := 0; p < k; p++ {
//				s += a[i*lda+p] * b[p*ldb+j]
//			}
//			c[i*ldc+j] = s
//		}
//	}
//
// with float32 products summed in an unspecified order. c must not overlap a
// or b. It panics when a slice is too short for the sizes given.
func MatMul(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	matMulWith(active, m, n, k, a, lda, b, ldb, c, ldc, accumulate)
}

// matMulWith is MatMul on the kernels ks.
func matMulWith(ks *kernelSet, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	if m < 0 || n < 0 || k < 0 {
		panic(errNegative)
	}
	if lda < max(1, k) || ldb < max(1, n) || ldc < max(1, n) {
		panic(errLd)
	}
	if !matMulArgs(m, n, k, a, lda, c, ldc, accumulate) {
		return
	}
	if !fits(len(b), k, ldb, n) {
		panic(errShortB)
	}
	matMul(ks, m, n, k, a, lda, b, ldb, c, ldc, accumulate)
}

// matMulArgs checks a and c for MatMul and MatMulPacked, whose dimensions
// and leading dimensions are already checked, and settles the products
// with nothing to sum (k = 0: c is zeroed unless accumulating). It reports
// whether there is work left for the kernel.
func matMulArgs(m, n, k int, a []float32, lda int, c []float32, ldc int, accumulate bool) bool {
	if m == 0 || n == 0 {
		return false
	}
	if !fits(len(c), m, ldc, n) {
		panic(errShortC)
	}
	if k == 0 {
		if !accumulate {
			for i := 0; i < m; i++ {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return false
	}
	if !fits(len(a), m, lda, k) {
		panic(errShortA)
	}
	return true
}

// VecMat computes y[n] (+)= x[k] · w[k×n] with w row-major: the batch-1
// recurrent step, which streams w once. It computes
//
//	for j := 0; j < n; j++ {
//		s := 0 // or y[j] when accumulating
//		for p := 0; p < k; p++ {
//			s += x[p] * w[p*n+j]
//		}
//		y[j] = s
//	}
//
// with float32 products summed in an unspecified order. y must not overlap
// x or w. It panics when a slice is too short.
func VecMat(y, x, w []float32, k, n int, accumulate bool) {
	vecMatWith(active, y, x, w, k, n, accumulate)
}

// vecMatWith is VecMat on the kernels ks.
func vecMatWith(ks *kernelSet, y, x, w []float32, k, n int, accumulate bool) {
	if k < 0 || n < 0 {
		panic(errNegative)
	}
	if len(y) < n {
		panic(errShortY)
	}
	if len(x) < k {
		panic(errShortX)
	}
	if !fits(len(w), k, n, n) {
		panic(errShortW)
	}
	if n == 0 {
		return
	}
	if k == 0 {
		if !accumulate {
			clear(y[:n])
		}
		return
	}
	vecMat(ks, y[:n], x[:k], w[:k*n], k, n, accumulate)
}

// VecMatAlternating is VecMat (accumulate false) for a loop that streams
// the same large w call after call, such as a recurrent step: it computes
// the output columns in two halves, the second half first when fromEnd is
// set. A caller that flips fromEnd every call starts each call on the half
// of w it read last, which is still in cache, where a cyclic scan of a w
// larger than the cache would miss everywhere. Each output is summed over
// k in order as VecMat sums it, so the results are VecMat's bit for bit.
func VecMatAlternating(y, x, w []float32, k, n int, fromEnd bool) {
	if k < 0 || n < 0 {
		panic(errNegative)
	}
	if len(y) < n {
		panic(errShortY)
	}
	if len(x) < k {
		panic(errShortX)
	}
	if !fits(len(w), k, n, n) {
		panic(errShortW)
	}
	if k*n < alternateMin || active.isa == isaGo {
		vecMatWith(active, y, x, w, k, n, false)
		return
	}
	h := n / 2 &^ 15
	halves := [2][2]int{{0, h}, {h, n}}
	if fromEnd {
		halves[0], halves[1] = halves[1], halves[0]
	}
	for _, c := range halves {
		yc := y[c[0]:c[1]]
		clear(yc)
		vecMatAsm(active, yc, x[:k], w[c[0]:], k, c[1]-c[0], n)
	}
}

// alternateMin is the k·n from which VecMatAlternating splits: 512 KiB of
// weights, half a Zen 4/5 L2.
const alternateMin = 1 << 17

// AddBias adds bias to every row of x, which holds whole rows of
// len(bias) values:
//
//	for i := range x {
//		x[i] += bias[i%len(bias)]
//	}
func AddBias(x []float32, bias []float32) {
	if len(x) == 0 {
		return
	}
	if len(bias) == 0 || len(x)%len(bias) != 0 {
		panic(errBias)
	}
	for off := 0; off < len(x); off += len(bias) {
		add(active, x[off:off+len(bias)], x[off:off+len(bias)], bias)
	}
}

// Sigmoid sets dst[i] = 1 / (1 + exp(-src[i])) for i < len(src), as Keras
// computes it in float32. dst may alias src.
func Sigmoid(dst, src []float32) {
	if len(dst) < len(src) {
		panic(errShortDst)
	}
	sigmoid(active, dst[:len(src)], src)
}

// Tanh sets dst[i] = tanh(src[i]) for i < len(src), numpy's float32 tanh
// bit for bit. dst may alias src.
func Tanh(dst, src []float32) {
	if len(dst) < len(src) {
		panic(errShortDst)
	}
	tanh(active, dst[:len(src)], src)
}

// Exp sets dst[i] = exp(src[i]) for i < len(src), numpy's float32 exp bit
// for bit. dst may alias src.
func Exp(dst, src []float32) {
	if len(dst) < len(src) {
		panic(errShortDst)
	}
	exp(active, dst[:len(src)], src)
}

// HardSigmoidKeras3 sets dst[i] = clip(src[i]/6 + 0.5, 0, 1), Keras 3's
// hard_sigmoid, with the quotient and the sum each rounded to float32 as
// numpy does. dst may alias src.
func HardSigmoidKeras3(dst, src []float32) {
	if len(dst) < len(src) {
		panic(errShortDst)
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = clip01(float32(v/6) + 0.5)
	}
}

// HardSigmoidKeras2 sets dst[i] = clip(0.2*src[i] + 0.5, 0, 1), the
// hard_sigmoid of Keras 1 and 2, with float32(0.2)*x rounded before the
// sum (no fused multiply-add), as numpy and TensorFlow compute it. dst may
// alias src.
func HardSigmoidKeras2(dst, src []float32) {
	if len(dst) < len(src) {
		panic(errShortDst)
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = clip01(float32(0.2*v) + 0.5)
	}
}

// clip01 clamps v to [0, 1], keeping NaN (as numpy's clip does).
func clip01(v float32) float32 {
	if v < 0 {
		return 0
	}
	if v > 1 {
		return 1
	}
	return v
}

// Relu sets dst[i] = max(src[i], 0), keeping NaN as TensorFlow and numpy
// do. dst may alias src.
func Relu(dst, src []float32) {
	if len(dst) < len(src) {
		panic(errShortDst)
	}
	dst = dst[:len(src)]
	for i, v := range src {
		if v < 0 {
			v = 0
		}
		dst[i] = v
	}
}

// Dot returns the sum of a[i]*b[i] over i < len(a), summed in an
// unspecified order.
func Dot(a, b []float32) float32 {
	if len(b) < len(a) {
		panic(errShortB)
	}
	return dot(active, a, b[:len(a)])
}

// Axpy sets y[i] += alpha*x[i] for i < len(x).
func Axpy(alpha float32, x, y []float32) {
	if len(y) < len(x) {
		panic(errShortY)
	}
	axpy(active, alpha, x, y[:len(x)])
}

// Mul sets dst[i] = a[i]*b[i] for i < len(a). dst may alias a or b.
func Mul(dst, a, b []float32) {
	if len(b) < len(a) {
		panic(errShortB)
	}
	if len(dst) < len(a) {
		panic(errShortDst)
	}
	mul(active, dst[:len(a)], a, b[:len(a)])
}

// Add sets dst[i] = a[i]+b[i] for i < len(a). dst may alias a or b.
func Add(dst, a, b []float32) {
	if len(b) < len(a) {
		panic(errShortB)
	}
	if len(dst) < len(a) {
		panic(errShortDst)
	}
	add(active, dst[:len(a)], a, b[:len(a)])
}

// PackedMatrix is the b operand of MatMul laid out once for the fast
// multiply. A batched RNN multiplies the same recurrent kernel every
// timestep; packing it at load time saves re-packing it on every call
// (about a seventh of the time of a 64×256·256×1024 step).
type PackedMatrix struct {
	k, n int
	// ks is the kernel set the panels are laid out for.
	ks *kernelSet
	// b is the caller's row-major matrix (leading dimension ldb), used
	// for few rows and when there is no packed kernel.
	b   []float32
	ldb int
	// panels is the packed layout, or nil (see packPanels).
	panels []float32
}

// PackMatrix packs the k×n row-major matrix b (leading dimension ldb) for
// MatMulPacked. The result refers to b, which must not change afterwards.
// It panics when b is too short.
func PackMatrix(k, n int, b []float32, ldb int) *PackedMatrix {
	return packMatrixWith(active, k, n, b, ldb)
}

// packMatrixWith is PackMatrix for the kernels ks.
func packMatrixWith(ks *kernelSet, k, n int, b []float32, ldb int) *PackedMatrix {
	if k < 0 || n < 0 {
		panic(errNegative)
	}
	if ldb < max(1, n) {
		panic(errLd)
	}
	if !fits(len(b), k, ldb, n) {
		panic(errShortB)
	}
	p := &PackedMatrix{k: k, n: n, ks: ks, b: b, ldb: ldb}
	if k > 0 && n > 0 {
		p.panels = packPanels(ks, k, n, b, ldb)
	}
	return p
}

// Rows is k, the number of rows of the packed matrix.
func (p *PackedMatrix) Rows() int { return p.k }

// Cols is n, the number of columns of the packed matrix.
func (p *PackedMatrix) Cols() int { return p.n }

// MatMulPacked is MatMul with b packed by PackMatrix: c[m×n] (+)= a[m×k] ·
// b[k×n], with k and n those of b. Its results are MatMul's bit for bit
// (the products are summed in the same order). For a single row, VecMat on
// the unpacked matrix is as fast.
func MatMulPacked(m int, a []float32, lda int, b *PackedMatrix, c []float32, ldc int, accumulate bool) {
	k, n := b.k, b.n
	if m < 0 {
		panic(errNegative)
	}
	if lda < max(1, k) || ldc < max(1, n) {
		panic(errLd)
	}
	if !matMulArgs(m, n, k, a, lda, c, ldc, accumulate) {
		return
	}
	matMulPacked(m, a, lda, b, c, ldc, accumulate)
}

// LSTMGates finishes the LSTM step of one sequence of u units after its
// matrix products, in one pass over the gates where the CPU allows (the
// fused streaming step), computing as Keras' numpy backend does, every
// operation rounded on its own:
//
//	z := (xp + rec) + bias     // 4u values, gates i, f, o, g
//	i, f, o := sigmoid(z[:u]), sigmoid(z[u:2u]), sigmoid(z[2u:3u])
//	g := tanh(z[3u:])
//	cNew = f*cOld + i*g        // each product rounded, then the sum
//	hNew = o*tanh(cNew)
//
// with Sigmoid's and Tanh's bits. xp, rec and bias hold 4u values, cOld,
// cNew and hNew u; xp is overwritten (scratch); cNew and hNew must not
// overlap the others. Its results are the separate kernels' bit for bit.
func LSTMGates(u int, xp, rec, bias, cOld, cNew, hNew []float32) {
	lstmGatesWith(active, u, xp, rec, bias, cOld, cNew, hNew)
}

func lstmGatesWith(ks *kernelSet, u int, xp, rec, bias, cOld, cNew, hNew []float32) {
	if u < 0 {
		panic(errNegative)
	}
	if len(xp) < 4*u || len(rec) < 4*u || len(bias) < 4*u {
		panic(errShortX)
	}
	if len(cOld) < u || len(cNew) < u || len(hNew) < u {
		panic(errShortDst)
	}
	if u == 0 {
		return
	}
	lstmGates(ks, u, xp[:4*u], rec[:4*u], bias[:4*u], cOld[:u], cNew[:u], hNew[:u])
}

// lstmGatesGo is LSTMGates with the separate kernels of ks.
func lstmGatesGo(ks *kernelSet, u int, xp, rec, bias, cOld, cNew, hNew []float32) {
	add(ks, xp, xp, rec)
	add(ks, xp, xp, bias)
	sigmoid(ks, xp[:3*u], xp[:3*u])
	tanh(ks, xp[3*u:], xp[3*u:])
	ig, fg, og, gg := xp[:u], xp[u:2*u], xp[2*u:3*u], xp[3*u:]
	mul(ks, cNew, fg, cOld)
	mul(ks, ig, ig, gg)
	add(ks, cNew, cNew, ig)
	tanh(ks, hNew, cNew)
	mul(ks, hNew, og, hNew)
}

// GRUGates finishes the step of a reset_after GRU (Keras 3's default) for
// one sequence of u units after its matrix product, in one pass where the
// CPU allows, as Keras' numpy backend computes it, every operation rounded
// on its own:
//
//	a := rec + recBias          // 3u values, gates z, r, h
//	z := sigmoid(xp[:u] + a[:u])
//	r := sigmoid(xp[u:2u] + a[u:2u])
//	hh := tanh(xp[2u:] + r*a[2u:])
//	hNew = z*hOld + (1-z)*hh    // each product rounded, then the sum
//
// with Sigmoid's and Tanh's bits. xp, rec and recBias hold 3u values,
// hOld and hNew u; xp and rec are overwritten (scratch); hNew must not
// overlap the others. Its results are the separate kernels' bit for bit.
func GRUGates(u int, xp, rec, recBias, hOld, hNew []float32) {
	gruGatesWith(active, u, xp, rec, recBias, hOld, hNew)
}

func gruGatesWith(ks *kernelSet, u int, xp, rec, recBias, hOld, hNew []float32) {
	if u < 0 {
		panic(errNegative)
	}
	if len(xp) < 3*u || len(rec) < 3*u || len(recBias) < 3*u {
		panic(errShortX)
	}
	if len(hOld) < u || len(hNew) < u {
		panic(errShortDst)
	}
	if u == 0 {
		return
	}
	gruGates(ks, u, xp[:3*u], rec[:3*u], recBias[:3*u], hOld[:u], hNew[:u])
}

// gruGatesGo is GRUGates with the separate kernels of ks.
func gruGatesGo(ks *kernelSet, u int, xp, rec, recBias, hOld, hNew []float32) {
	add(ks, rec, rec, recBias)
	add(ks, xp[:2*u], xp[:2*u], rec[:2*u])
	sigmoid(ks, xp[:2*u], xp[:2*u])
	z, r, hh, rh := xp[:u], xp[u:2*u], xp[2*u:], rec[2*u:]
	mul(ks, rh, r, rh)
	add(ks, hh, hh, rh)
	tanh(ks, hh, hh)
	zc := rec[:u] // free again
	for j, v := range z {
		zc[j] = 1 - v
	}
	mul(ks, zc, zc, hh)
	mul(ks, hNew, z, hOld)
	add(ks, hNew, hNew, zc)
}
