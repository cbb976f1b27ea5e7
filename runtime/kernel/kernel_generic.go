//go:build !amd64 || noasm

package kernel

// Without assembly every kernel is its Go implementation.

// supportedSets is the Go set alone.
func supportedSets() []*kernelSet { return []*kernelSet{setGo} }

func matMul(_ *kernelSet, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	matMulGo(m, n, k, a, lda, b, ldb, c, ldc, accumulate)
}

func vecMat(_ *kernelSet, y, x, w []float32, k, n int, accumulate bool) {
	vecMatGo(y, x, w, n, k, n, accumulate)
}

func dot(_ *kernelSet, a, b []float32) float32         { return dotGo(a, b) }
func axpy(_ *kernelSet, alpha float32, x, y []float32) { axpyGo(alpha, x, y) }
func mul(_ *kernelSet, dst, a, b []float32)            { mulGo(dst, a, b) }
func add(_ *kernelSet, dst, a, b []float32)            { addGo(dst, a, b) }
func exp(_ *kernelSet, dst, src []float32)             { expGo(dst, src) }
func tanh(_ *kernelSet, dst, src []float32)            { tanhGo(dst, src) }
func sigmoid(_ *kernelSet, dst, src []float32)         { sigmoidGo(dst, src) }

// packPanels has no packed layout to make without the assembly kernels.
func packPanels(_ *kernelSet, k, n int, b []float32, ldb int) []float32 { return nil }

func matMulPacked(m int, a []float32, lda int, p *PackedMatrix, c []float32, ldc int, accumulate bool) {
	matMulGo(m, p.n, p.k, a, lda, p.b, p.ldb, c, ldc, accumulate)
}

func lstmGates(ks *kernelSet, u int, xp, rec, bias, cOld, cNew, hNew []float32) {
	lstmGatesGo(ks, u, xp, rec, bias, cOld, cNew, hNew)
}

func gruGates(ks *kernelSet, u int, xp, rec, recBias, hOld, hNew []float32) {
	gruGatesGo(ks, u, xp, rec, recBias, hOld, hNew)
}

// vecMatAsm has no assembly to run: VecMatAlternating never calls it on the
// Go set; it is the Go loop for completeness.
func vecMatAsm(_ *kernelSet, y, x, w []float32, k, n, ldw int) { vecMatGo(y, x, w, ldw, k, n, true) }
