//go:build amd64 && !noasm

package kernel

import "sync"

// Assembly kernels (kernel_amd64.s). They require AVX2 and FMA; useAVX2
// says whether the CPU and OS provide them, and the Go implementations run
// otherwise.

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

// gemm6x16 sets the 6×16 tile at c (row stride ldc) to, or with accumulate
// adds to it, Σ_p a[p*6+i]·b[p*16+j] over p < kc: a is a packed 6-row
// panel, b a packed 16-column panel (see packA, packB).
//
//go:noescape
func gemm6x16(kc int, a, b, c *float32, ldc int, accumulate bool)

// vecMatRows adds x[:k]·w to y[:n], where row p of w starts at p*ldw.
//
//go:noescape
func vecMatRows(y, x, w *float32, k, n, ldw int)

// vecMatPanels is vecMatRows for k a multiple of 8 and n a multiple of 64
// (n > 0), with y held in registers across each panel of eight rows.
//
//go:noescape
func vecMatPanels(y, x, w *float32, k, n, ldw int)

// expAVX2, sigmoidAVX2 and tanhAVX2 compute exp32, sigmoid32 and tanh32
// of src[:n] into dst[:n]; n is a multiple of 8.
//
//go:noescape
func expAVX2(dst, src *float32, n int)

//go:noescape
func sigmoidAVX2(dst, src *float32, n int)

//go:noescape
func tanhAVX2(dst, src *float32, n int)

// packB16 copies kc rows of 16 floats, ldb apart in src, to dst[:16*kc].
//
//go:noescape
func packB16(dst, src *float32, kc, ldb int)

// axpyAVX2, dotAVX2, mulAVX2 and addAVX2 are axpyGo, dotGo, mulGo and
// addGo for n a multiple of 8.
//
//go:noescape
func axpyAVX2(alpha float32, x, y *float32, n int)

//go:noescape
func dotAVX2(a, b *float32, n int) float32

//go:noescape
func mulAVX2(dst, a, b *float32, n int)

//go:noescape
func addAVX2(dst, a, b *float32, n int)

var useAVX2 = detectAVX2()

// detectAVX2 checks CPUID for AVX, FMA and AVX2 and XGETBV for the OS
// saving YMM state.
func detectAVX2() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0
}

// Accelerated reports whether the assembly fast paths are in use.
func Accelerated() bool { return useAVX2 }

// Blocking of the packed matrix multiply, after GotoBLAS: a kc×nc block of
// b is packed into 16-column panels (at most 1 MiB, L3-resident), an mc×kc
// block of a into 6-row panels (96 KiB, L2-resident), and the micro-kernel
// runs each 16-column b panel (16 KiB, L1-resident) against every a panel.
const (
	gemmMR = 6
	gemmNR = 16
	gemmKC = 256
	gemmMC = 96
	gemmNC = 1024
	// Below gemmMinRows rows of a, packing b costs more than it saves:
	// each row streams b once through vecMatAVX2 instead (measured on
	// 64×128 to 256×1024 b: rows win up to 8 rows, packing from 12).
	// With b packed beforehand (MatMulPacked) the kernel wins from 4.
	gemmMinRows   = 10
	packedMinRows = 4

	// vecMatPanelMax is the largest k·n that vecMatAVX2 runs through
	// vecMatPanels (64 KiB of weights).
	vecMatPanelMax = 16384
)

type gemmBuf struct {
	a [gemmMC * gemmKC]float32
	b [gemmKC * gemmNC]float32
}

// gemmPool holds packing buffers, so that steady-state calls do not
// allocate and concurrent callers do not share one.
var gemmPool = sync.Pool{New: func() any { return new(gemmBuf) }}

func matMul(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	if !useAVX2 {
		matMulGo(m, n, k, a, lda, b, ldb, c, ldc, accumulate)
		return
	}
	if m < gemmMinRows {
		for i := 0; i < m; i++ {
			ci := c[i*ldc : i*ldc+n]
			if !accumulate {
				clear(ci)
			}
			vecMatAVX2(ci, a[i*lda:], b, k, n, ldb)
		}
		return
	}
	buf := gemmPool.Get().(*gemmBuf)
	defer gemmPool.Put(buf)
	for jc := 0; jc < n; jc += gemmNC {
		nc := min(gemmNC, n-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			packB(buf.b[:], b[pc*ldb+jc:], ldb, kc, nc)
			gemmBlock(m, nc, kc, a[pc:], lda, buf.b[:], c[jc:], ldc, accumulate || pc > 0, buf)
		}
	}
}

// gemmBlock computes c[m×n] (+)= a[m×kc] · b, where b holds the kc×n block
// packed by packB, with the micro-kernel over 6-row panels of a packed
// gemmMC rows at a time into buf.
func gemmBlock(m, n, kc int, a []float32, lda int, b []float32, c []float32, ldc int, acc bool, buf *gemmBuf) {
	var tile [gemmMR * gemmNR]float32
	for ic := 0; ic < m; ic += gemmMC {
		mc := min(gemmMC, m-ic)
		packA(buf.a[:], a[ic*lda:], lda, mc, kc)
		for jr := 0; jr < n; jr += gemmNR {
			nr := min(gemmNR, n-jr)
			bp := &b[jr*kc]
			for ir := 0; ir < mc; ir += gemmMR {
				mr := min(gemmMR, mc-ir)
				ap := &buf.a[ir*kc]
				ci := (ic+ir)*ldc + jr
				if mr == gemmMR && nr == gemmNR {
					gemm6x16(kc, ap, bp, &c[ci], ldc, acc)
					continue
				}
				// An edge tile: compute all 6×16 (the packing padded
				// with zeros) and keep the part inside c.
				gemm6x16(kc, ap, bp, &tile[0], gemmNR, false)
				for r := 0; r < mr; r++ {
					row := c[ci+r*ldc : ci+r*ldc+nr]
					t := tile[r*gemmNR : r*gemmNR+nr]
					if acc {
						addGo(row, row, t)
					} else {
						copy(row, t)
					}
				}
			}
		}
	}
}

// packB copies the kc×nc block of b (row stride ldb) into dst as 16-column
// panels, each kc rows of 16 values, zero-padding the last panel.
func packB(dst, b []float32, ldb, kc, nc int) {
	for jr := 0; jr < nc; jr += gemmNR {
		nr := min(gemmNR, nc-jr)
		d := dst[jr*kc : jr*kc+kc*gemmNR]
		if nr == gemmNR && useAVX2 {
			// Bounds for the assembly: the last row read ends inside b.
			_ = b[(kc-1)*ldb+jr+gemmNR-1]
			packB16(&d[0], &b[jr], kc, ldb)
			continue
		}
		for p := 0; p < kc; p++ {
			row := d[p*gemmNR : p*gemmNR+gemmNR]
			copy(row, b[p*ldb+jr:p*ldb+jr+nr])
			if nr < gemmNR {
				clear(row[nr:])
			}
		}
	}
}

// packA copies the mc×kc block of a (row stride lda) into dst as 6-row
// panels, each kc steps of 6 values, zero-padding the last panel.
func packA(dst, a []float32, lda, mc, kc int) {
	for ir := 0; ir < mc; ir += gemmMR {
		mr := min(gemmMR, mc-ir)
		d := dst[ir*kc : ir*kc+kc*gemmMR]
		for r := 0; r < gemmMR; r++ {
			if r >= mr {
				for p := 0; p < kc; p++ {
					d[p*gemmMR+r] = 0
				}
				continue
			}
			src := a[(ir+r)*lda : (ir+r)*lda+kc]
			for p, v := range src {
				d[p*gemmMR+r] = v
			}
		}
	}
}

func vecMat(y, x, w []float32, k, n int, accumulate bool) {
	if !useAVX2 {
		vecMatGo(y, x, w, n, k, n, accumulate)
		return
	}
	if !accumulate {
		clear(y)
	}
	vecMatAVX2(y, x, w, k, n, n)
}

// vecMatAVX2 adds x[:k]·w to y[:n] (w's row stride ldw). Small matrices
// (cache-resident, where keeping y in registers pays) go through
// vecMatPanels and the rows and columns it leaves through vecMatRows; large
// ones, bound by streaming w, through vecMatRows alone, whose four
// sequential row streams measured faster there.
func vecMatAVX2(y, x, w []float32, k, n, ldw int) {
	if k*n > vecMatPanelMax {
		vecMatRows(&y[0], &x[0], &w[0], k, n, ldw)
		return
	}
	k8, n64 := k&^7, n&^63
	if k8 > 0 && n64 > 0 {
		vecMatPanels(&y[0], &x[0], &w[0], k8, n64, ldw)
	}
	if k > k8 && n64 > 0 {
		vecMatRows(&y[0], &x[k8], &w[k8*ldw], k-k8, n64, ldw)
	}
	if n > n64 {
		vecMatRows(&y[n64], &x[0], &w[n64], k, n-n64, ldw)
	}
}

func exp(dst, src []float32) {
	n := 0
	if useAVX2 {
		if n = len(src) &^ 7; n > 0 {
			expAVX2(&dst[0], &src[0], n)
		}
	}
	expGo(dst[n:], src[n:])
}

func sigmoid(dst, src []float32) {
	n := 0
	if useAVX2 {
		if n = len(src) &^ 7; n > 0 {
			sigmoidAVX2(&dst[0], &src[0], n)
		}
	}
	sigmoidGo(dst[n:], src[n:])
}

func tanh(dst, src []float32) {
	n := 0
	if useAVX2 {
		if n = len(src) &^ 7; n > 0 {
			tanhAVX2(&dst[0], &src[0], n)
		}
	}
	tanhGo(dst[n:], src[n:])
}

func dot(a, b []float32) float32 {
	n, s := 0, float32(0)
	if useAVX2 {
		if n = len(a) &^ 7; n > 0 {
			s = dotAVX2(&a[0], &b[0], n)
		}
	}
	return s + dotGo(a[n:], b[n:])
}

func axpy(alpha float32, x, y []float32) {
	n := 0
	if useAVX2 {
		if n = len(x) &^ 7; n > 0 {
			axpyAVX2(alpha, &x[0], &y[0], n)
		}
	}
	axpyGo(alpha, x[n:], y[n:])
}

func mul(dst, a, b []float32) {
	n := 0
	if useAVX2 {
		if n = len(a) &^ 7; n > 0 {
			mulAVX2(&dst[0], &a[0], &b[0], n)
		}
	}
	mulGo(dst[n:], a[n:], b[n:])
}

func add(dst, a, b []float32) {
	n := 0
	if useAVX2 {
		if n = len(a) &^ 7; n > 0 {
			addAVX2(&dst[0], &a[0], &b[0], n)
		}
	}
	addGo(dst[n:], a[n:], b[n:])
}

// packPanels lays b out as matMulPanels reads it: for each block of gemmKC
// rows, the 16-column panels that packB makes, one after another. It
// returns nil when the CPU lacks the kernels.
func packPanels(k, n int, b []float32, ldb int) []float32 {
	if !useAVX2 {
		return nil
	}
	width := (n + gemmNR - 1) &^ (gemmNR - 1)
	panels := make([]float32, k*width)
	for pc := 0; pc < k; pc += gemmKC {
		kc := min(gemmKC, k-pc)
		packB(panels[pc*width:], b[pc*ldb:], ldb, kc, n)
	}
	return panels
}

func matMulPacked(m int, a []float32, lda int, p *PackedMatrix, c []float32, ldc int, accumulate bool) {
	// Below gemmMinRows rows MatMul streams b row by row, summing each
	// output over all of k in order; the packed kernel does too within one
	// block of gemmKC rows of b, so deeper b goes to MatMul to keep the
	// results bit for bit those of MatMul.
	if p.panels == nil || m < packedMinRows || (m < gemmMinRows && p.k > gemmKC) {
		matMul(m, p.n, p.k, a, lda, p.b, p.ldb, c, ldc, accumulate)
		return
	}
	buf := gemmPool.Get().(*gemmBuf)
	defer gemmPool.Put(buf)
	n, k := p.n, p.k
	width := (n + gemmNR - 1) &^ (gemmNR - 1)
	for pc := 0; pc < k; pc += gemmKC {
		kc := min(gemmKC, k-pc)
		block := p.panels[pc*width:]
		gemmBlock(m, n, kc, a[pc:], lda, block, c, ldc, accumulate || pc > 0, buf)
	}
}
