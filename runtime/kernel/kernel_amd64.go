//go:build amd64 && !noasm

package kernel

import (
	"sync"

	"golang.org/x/sys/cpu"
)

// Assembly kernels (kernel_amd64.s). They require AVX2 and FMA; the
// kernel set (dispatch.go) says whether the CPU and OS provide them, and the
// Go implementations run otherwise.

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

// AVX-512 counterparts (kernel_avx512_amd64.s), with the same summation
// order as the AVX2 kernels, so that the two sets give the same bits.

// gemm6x32 is gemm6x16 for a 6×32 tile and a 32-column packed b panel.
//
//go:noescape
func gemm6x32(kc int, a, b, c *float32, ldc int, accumulate bool)

// vecMatRowsZ is vecMatRows with zmm registers and masked tails.
//
//go:noescape
func vecMatRowsZ(y, x, w *float32, k, n, ldw int)

// vecMatPanelsZ is vecMatPanels for n a multiple of 128 (128-column blocks
// of y in eight zmm registers).
//
//go:noescape
func vecMatPanelsZ(y, x, w *float32, k, n, ldw int)

// expZ, sigmoidZ and tanhZ are expAVX2, sigmoidAVX2 and tanhAVX2 for n a
// multiple of 16.
//
//go:noescape
func expZ(dst, src *float32, n int)

//go:noescape
func sigmoidZ(dst, src *float32, n int)

//go:noescape
func tanhZ(dst, src *float32, n int)

// lstmGatesZ is lstmGatesGo for u a multiple of 16 (see LSTMGates).
//
//go:noescape
func lstmGatesZ(u int, xp, rec, bias, cOld, cNew, hNew *float32)

// gruGatesZ is gruGatesGo for u a multiple of 16 (see GRUGates).
//
//go:noescape
func gruGatesZ(u int, xp, rec, recBias, hOld, hNew *float32)

// packB32 copies kc rows of 32 floats, ldb apart in src, to dst[:32*kc].
//
//go:noescape
func packB32(dst, src *float32, kc, ldb int)

// supportedSets lists the kernel sets this CPU and OS run, from the Go set
// up: AVX2 needs AVX2 and FMA, AVX-512 also F, BW, DQ and VL (x/sys/cpu
// checks that the OS saves the vector and mask registers).
func supportedSets() []*kernelSet {
	sets := []*kernelSet{setGo}
	x := &cpu.X86
	if x.HasAVX && x.HasAVX2 && x.HasFMA {
		sets = append(sets, setAVX2)
		if x.HasAVX512F && x.HasAVX512BW && x.HasAVX512DQ && x.HasAVX512VL {
			sets = append(sets, setAVX512)
		}
	}
	return sets
}

// Blocking of the packed matrix multiply, after GotoBLAS: a kc×nc block of
// b is packed into panels of nr columns (16 for AVX2, 32 for AVX-512; at
// most 1 MiB, L3-resident), an mc×kc block of a into 6-row panels (96 KiB,
// L2-resident), and the micro-kernel runs each b panel (16 or 32 KiB,
// L1-resident) against every a panel. kc is the same for every set, so
// that every set sums in the same order.
const (
	gemmMR = 6
	gemmKC = 256
	gemmMC = 96
	gemmNC = 1024
	// Below gemmMinRows rows of a, packing b costs more than it saves:
	// each row streams b once through vecMatAsm instead (measured on
	// 64×128 to 256×1024 b: rows win up to 8 rows, packing from 12).
	// With b packed beforehand (MatMulPacked) the kernel wins from 4.
	gemmMinRows   = 10
	packedMinRows = 4

	// vecMatPanelMax is the largest k·n that vecMatAsm runs through
	// the panel kernel (64 KiB of weights).
	vecMatPanelMax = 16384
)

type gemmBuf struct {
	a [gemmMC * gemmKC]float32
	b [gemmKC * gemmNC]float32
}

// gemmPool holds packing buffers, so that steady-state calls do not
// allocate and concurrent callers do not share one.
var gemmPool = sync.Pool{New: func() any { return new(gemmBuf) }}

func matMul(ks *kernelSet, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	if ks.isa == isaGo {
		matMulGo(m, n, k, a, lda, b, ldb, c, ldc, accumulate)
		return
	}
	if m < gemmMinRows {
		for i := 0; i < m; i++ {
			ci := c[i*ldc : i*ldc+n]
			if !accumulate {
				clear(ci)
			}
			vecMatAsm(ks, ci, a[i*lda:], b, k, n, ldb)
		}
		return
	}
	buf := gemmPool.Get().(*gemmBuf)
	defer gemmPool.Put(buf)
	for jc := 0; jc < n; jc += gemmNC {
		nc := min(gemmNC, n-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kc := min(gemmKC, k-pc)
			packB(ks, buf.b[:], b[pc*ldb+jc:], ldb, kc, nc)
			gemmBlock(ks, m, nc, kc, a[pc:], lda, buf.b[:], c[jc:], ldc, accumulate || pc > 0, buf)
		}
	}
}

// gemmBlock computes c[m×n] (+)= a[m×kc] · b, where b holds the kc×n block
// packed by packB, with the micro-kernel of ks over 6-row panels of a
// packed gemmMC rows at a time into buf.
func gemmBlock(ks *kernelSet, m, n, kc int, a []float32, lda int, b []float32, c []float32, ldc int, acc bool, buf *gemmBuf) {
	var tile [gemmMR * 32]float32
	nrw := ks.nr
	wide := ks.isa == isaAVX512
	for ic := 0; ic < m; ic += gemmMC {
		mc := min(gemmMC, m-ic)
		packA(buf.a[:], a[ic*lda:], lda, mc, kc)
		for jr := 0; jr < n; jr += nrw {
			nr := min(nrw, n-jr)
			bp := &b[jr*kc]
			for ir := 0; ir < mc; ir += gemmMR {
				mr := min(gemmMR, mc-ir)
				ap := &buf.a[ir*kc]
				ci := (ic+ir)*ldc + jr
				if mr == gemmMR && nr == nrw {
					if wide {
						gemm6x32(kc, ap, bp, &c[ci], ldc, acc)
					} else {
						gemm6x16(kc, ap, bp, &c[ci], ldc, acc)
					}
					continue
				}
				// An edge tile: compute the whole tile (the packing padded
				// with zeros) and keep the part inside c.
				if wide {
					gemm6x32(kc, ap, bp, &tile[0], nrw, false)
				} else {
					gemm6x16(kc, ap, bp, &tile[0], nrw, false)
				}
				for r := 0; r < mr; r++ {
					row := c[ci+r*ldc : ci+r*ldc+nr]
					t := tile[r*nrw : r*nrw+nr]
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

// packB copies the kc×nc block of b (row stride ldb) into dst as panels
// ks.nr columns wide, each kc rows of ks.nr values, zero-padding the last.
func packB(ks *kernelSet, dst, b []float32, ldb, kc, nc int) {
	nrw := ks.nr
	for jr := 0; jr < nc; jr += nrw {
		nr := min(nrw, nc-jr)
		d := dst[jr*kc : jr*kc+kc*nrw]
		if nr == nrw && ks.isa != isaGo {
			// Bounds for the assembly: the last row read ends inside b.
			_ = b[(kc-1)*ldb+jr+nrw-1]
			if nrw == 32 {
				packB32(&d[0], &b[jr], kc, ldb)
			} else {
				packB16(&d[0], &b[jr], kc, ldb)
			}
			continue
		}
		for p := 0; p < kc; p++ {
			row := d[p*nrw : p*nrw+nrw]
			copy(row, b[p*ldb+jr:p*ldb+jr+nr])
			if nr < nrw {
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

func vecMat(ks *kernelSet, y, x, w []float32, k, n int, accumulate bool) {
	if ks.isa == isaGo {
		vecMatGo(y, x, w, n, k, n, accumulate)
		return
	}
	if !accumulate {
		clear(y)
	}
	vecMatAsm(ks, y, x, w, k, n, n)
}

// vecMatAsm adds x[:k]·w to y[:n] (w's row stride ldw) with the assembly
// of ks. Small matrices (cache-resident, where keeping y in registers
// pays) go through the panel kernel and the rows and columns it leaves
// through the row kernel; large ones, bound by streaming w, through the row
// kernel alone, whose four sequential row streams measured faster there.
// Both sum each output over k in order, so every split gives the same bits.
func vecMatAsm(ks *kernelSet, y, x, w []float32, k, n, ldw int) {
	wide := ks.isa == isaAVX512
	if k*n > vecMatPanelMax {
		if wide {
			vecMatRowsZ(&y[0], &x[0], &w[0], k, n, ldw)
		} else {
			vecMatRows(&y[0], &x[0], &w[0], k, n, ldw)
		}
		return
	}
	block := 64
	if wide {
		block = 128
	}
	k8, nb := k&^7, n&^(block-1)
	if k8 > 0 && nb > 0 {
		if wide {
			vecMatPanelsZ(&y[0], &x[0], &w[0], k8, nb, ldw)
		} else {
			vecMatPanels(&y[0], &x[0], &w[0], k8, nb, ldw)
		}
	}
	if k > k8 && nb > 0 {
		if wide {
			vecMatRowsZ(&y[0], &x[k8], &w[k8*ldw], k-k8, nb, ldw)
		} else {
			vecMatRows(&y[0], &x[k8], &w[k8*ldw], k-k8, nb, ldw)
		}
	}
	if n > nb {
		if wide {
			vecMatRowsZ(&y[nb], &x[0], &w[nb], k, n-nb, ldw)
		} else {
			vecMatRows(&y[nb], &x[0], &w[nb], k, n-nb, ldw)
		}
	}
}

// The activations run 16 lanes at a time with AVX-512, then 8 with AVX2,
// then the rest in Go; every part gives the Go function's bits.

func exp(ks *kernelSet, dst, src []float32) {
	n := 0
	if ks.isa == isaAVX512 {
		if n = len(src) &^ 15; n > 0 {
			expZ(&dst[0], &src[0], n)
		}
	}
	if ks.isa != isaGo {
		if n8 := (len(src) - n) &^ 7; n8 > 0 {
			expAVX2(&dst[n], &src[n], n8)
			n += n8
		}
	}
	expGo(dst[n:], src[n:])
}

func sigmoid(ks *kernelSet, dst, src []float32) {
	n := 0
	if ks.isa == isaAVX512 {
		if n = len(src) &^ 15; n > 0 {
			sigmoidZ(&dst[0], &src[0], n)
		}
	}
	if ks.isa != isaGo {
		if n8 := (len(src) - n) &^ 7; n8 > 0 {
			sigmoidAVX2(&dst[n], &src[n], n8)
			n += n8
		}
	}
	sigmoidGo(dst[n:], src[n:])
}

func tanh(ks *kernelSet, dst, src []float32) {
	n := 0
	if ks.isa == isaAVX512 {
		if n = len(src) &^ 15; n > 0 {
			tanhZ(&dst[0], &src[0], n)
		}
	}
	if ks.isa != isaGo {
		if n8 := (len(src) - n) &^ 7; n8 > 0 {
			tanhAVX2(&dst[n], &src[n], n8)
			n += n8
		}
	}
	tanhGo(dst[n:], src[n:])
}

// The elementwise kernels are bound by memory at the sizes the layers use;
// the AVX2 versions serve the AVX-512 set too.

func dot(ks *kernelSet, a, b []float32) float32 {
	n, s := 0, float32(0)
	if ks.isa != isaGo {
		if n = len(a) &^ 7; n > 0 {
			s = dotAVX2(&a[0], &b[0], n)
		}
	}
	return s + dotGo(a[n:], b[n:])
}

func axpy(ks *kernelSet, alpha float32, x, y []float32) {
	n := 0
	if ks.isa != isaGo {
		if n = len(x) &^ 7; n > 0 {
			axpyAVX2(alpha, &x[0], &y[0], n)
		}
	}
	axpyGo(alpha, x[n:], y[n:])
}

func mul(ks *kernelSet, dst, a, b []float32) {
	n := 0
	if ks.isa != isaGo {
		if n = len(a) &^ 7; n > 0 {
			mulAVX2(&dst[0], &a[0], &b[0], n)
		}
	}
	mulGo(dst[n:], a[n:], b[n:])
}

func add(ks *kernelSet, dst, a, b []float32) {
	n := 0
	if ks.isa != isaGo {
		if n = len(a) &^ 7; n > 0 {
			addAVX2(&dst[0], &a[0], &b[0], n)
		}
	}
	addGo(dst[n:], a[n:], b[n:])
}

// packPanels lays b out as matMulPacked reads it for ks: for each block of
// gemmKC rows, the ks.nr-column panels that packB makes, one after
// another. It returns nil for the Go set.
func packPanels(ks *kernelSet, k, n int, b []float32, ldb int) []float32 {
	if ks.isa == isaGo {
		return nil
	}
	width := (n + ks.nr - 1) / ks.nr * ks.nr
	panels := make([]float32, k*width)
	for pc := 0; pc < k; pc += gemmKC {
		kc := min(gemmKC, k-pc)
		packB(ks, panels[pc*width:], b[pc*ldb:], ldb, kc, n)
	}
	return panels
}

func matMulPacked(m int, a []float32, lda int, p *PackedMatrix, c []float32, ldc int, accumulate bool) {
	// Below gemmMinRows rows MatMul streams b row by row, summing each
	// output over all of k in order; the packed kernel does too within one
	// block of gemmKC rows of b, so deeper b goes to MatMul to keep the
	// results bit for bit those of MatMul.
	ks := p.ks
	if p.panels == nil || m < packedMinRows || (m < gemmMinRows && p.k > gemmKC) {
		matMul(ks, m, p.n, p.k, a, lda, p.b, p.ldb, c, ldc, accumulate)
		return
	}
	buf := gemmPool.Get().(*gemmBuf)
	defer gemmPool.Put(buf)
	n, k := p.n, p.k
	width := (n + ks.nr - 1) / ks.nr * ks.nr
	for pc := 0; pc < k; pc += gemmKC {
		kc := min(gemmKC, k-pc)
		block := p.panels[pc*width:]
		gemmBlock(ks, m, n, kc, a[pc:], lda, block, c, ldc, accumulate || pc > 0, buf)
	}
}

func lstmGates(ks *kernelSet, u int, xp, rec, bias, cOld, cNew, hNew []float32) {
	if ks.isa == isaAVX512 && u%16 == 0 {
		lstmGatesZ(u, &xp[0], &rec[0], &bias[0], &cOld[0], &cNew[0], &hNew[0])
		return
	}
	lstmGatesGo(ks, u, xp, rec, bias, cOld, cNew, hNew)
}

func gruGates(ks *kernelSet, u int, xp, rec, recBias, hOld, hNew []float32) {
	if ks.isa == isaAVX512 && u%16 == 0 {
		gruGatesZ(u, &xp[0], &rec[0], &recBias[0], &hOld[0], &hNew[0])
		return
	}
	gruGatesGo(ks, u, xp, rec, recBias, hOld, hNew)
}
