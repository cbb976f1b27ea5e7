package kernel

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"testing"
)

// impl is one implementation of the kernels under test: the exported API
// (which runs the fast paths when the CPU has them) and the Go code that
// noasm builds, fallbacks and vector tails run.
type impl struct {
	name    string
	matMul  func(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool)
	vecMat  func(y, x, w []float32, k, n int, accumulate bool)
	exp     func(dst, src []float32)
	tanh    func(dst, src []float32)
	sigmoid func(dst, src []float32)
	dot     func(a, b []float32) float32
	axpy    func(alpha float32, x, y []float32)
	mul     func(dst, a, b []float32)
	add     func(dst, a, b []float32)
}

var impls = append([]impl{
	{"api", MatMul, VecMat, Exp, Tanh, Sigmoid, Dot, Axpy, Mul, Add},
	{"go", matMulGo,
		func(y, x, w []float32, k, n int, acc bool) { vecMatGo(y, x, w, n, k, n, acc) },
		expGo, tanhGo, sigmoidGo, dotGo, axpyGo, mulGo, addGo},
}, setImpls()...)

// setImpls is every kernel set this machine runs (whatever EnvKernel
// chose for the exported functions), through the checked entry points.
func setImpls() []impl {
	var out []impl
	for _, ks := range supportedSets() {
		out = append(out, impl{
			name: "set-" + ks.name,
			matMul: func(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
				matMulWith(ks, m, n, k, a, lda, b, ldb, c, ldc, accumulate)
			},
			vecMat:  func(y, x, w []float32, k, n int, acc bool) { vecMatWith(ks, y, x, w, k, n, acc) },
			exp:     func(dst, src []float32) { exp(ks, dst[:len(src)], src) },
			tanh:    func(dst, src []float32) { tanh(ks, dst[:len(src)], src) },
			sigmoid: func(dst, src []float32) { sigmoid(ks, dst[:len(src)], src) },
			dot:     func(a, b []float32) float32 { return dot(ks, a, b[:len(a)]) },
			axpy:    func(alpha float32, x, y []float32) { axpy(ks, alpha, x, y[:len(x)]) },
			mul:     func(dst, a, b []float32) { mul(ks, dst[:len(a)], a, b[:len(a)]) },
			add:     func(dst, a, b []float32) { add(ks, dst[:len(a)], a, b[:len(a)]) },
		})
	}
	return out
}

func TestAccelerated(t *testing.T) {
	var names []string
	for _, ks := range supportedSets() {
		names = append(names, ks.name)
	}
	t.Logf("kernel set in use: %s (accelerated %v); this machine runs %v", Name(), Accelerated(), names)
}

func TestChooseKernels(t *testing.T) {
	all := []*kernelSet{setGo, setAVX2, setAVX512}
	cases := []struct {
		env  string
		sets []*kernelSet
		want *kernelSet
	}{
		{"", all, setAVX512}, {"avx512", all, setAVX512}, {"AVX2", all, setAVX2}, {" generic ", all, setGo},
		{"noasm", all, setGo}, {"bogus", all, setAVX512}, {"avx512", all[:2], setAVX2}, {"avx2", all[:1], setGo},
		{"", all[:2], setAVX2},
	}
	for _, c := range cases {
		if got := chooseKernels(c.env, c.sets); got != c.want {
			t.Errorf("chooseKernels(%q, %d sets) = %s, want %s", c.env, len(c.sets), got.name, c.want.name)
		}
	}
	if want := chooseKernels(os.Getenv(EnvKernel), supportedSets()); active != want || Name() != want.name {
		t.Errorf("active set %s, want %s for %s=%q", Name(), want.name, EnvKernel, os.Getenv(EnvKernel))
	}
}

func TestMatMul(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	type size struct{ m, n, k int }
	var sizes []size
	for _, m := range []int{0, 1, 2, 3, 5, 6, 7, 13} {
		for _, n := range []int{0, 1, 7, 8, 15, 16, 17, 33, 65} {
			for _, k := range []int{0, 1, 2, 7, 16, 31, 64} {
				sizes = append(sizes, size{m, n, k})
			}
		}
	}
	// Sizes that cross the blocking of the packed fast path (k blocks of
	// 256, n blocks of 1024, m blocks of 96) and partial edge tiles.
	sizes = append(sizes, size{64, 130, 300}, size{97, 100, 261}, size{6, 1024, 256}, size{200, 40, 3}, size{8, 1100, 20}, size{10, 1030, 260})
	type matMulFunc = func(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool)
	fs := []struct {
		name string
		f    matMulFunc
	}{
		{"packed", func(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
			MatMulPacked(m, a, lda, PackMatrix(k, n, b, ldb), c, ldc, accumulate)
		}},
	}
	for _, ks := range supportedSets() {
		fs = append(fs, struct {
			name string
			f    matMulFunc
		}{"packed-" + ks.name, func(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
			MatMulPacked(m, a, lda, packMatrixWith(ks, k, n, b, ldb), c, ldc, accumulate)
		}})
	}
	for _, im := range impls {
		fs = append(fs, struct {
			name string
			f    matMulFunc
		}{im.name, im.matMul})
	}
	small := len(sizes) - 6 // the large sizes above run in one variant each
	for _, im := range fs {
		for si, sz := range sizes {
			for _, pad := range []int{0, 3} {
				for _, acc := range []bool{false, true} {
					if si >= small && (pad == 0 || acc != (si%2 == 0)) {
						continue
					}
					name := fmt.Sprintf("%s/m%d_n%d_k%d_pad%d_acc%v", im.name, sz.m, sz.n, sz.k, pad, acc)
					checkMatMul(t, r, name, im.f, sz.m, sz.n, sz.k, pad, acc)
				}
			}
		}
	}
}

func checkMatMul(t *testing.T, r *rand.Rand, name string, f func(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool), m, n, k, pad int, acc bool) {
	t.Helper()
	lda, ldb, ldc := max(1, k+pad), max(1, n+pad), max(1, n+pad)
	la, lb, lc := 0, 0, 0
	if m > 0 && k > 0 {
		la = (m-1)*lda + k
	}
	if k > 0 && n > 0 {
		lb = (k-1)*ldb + n
	}
	if m > 0 && n > 0 {
		lc = (m-1)*ldc + n
	}
	a, _ := guarded(la, 1)
	b, _ := guarded(lb, 3)
	c, cbuf := guarded(lc, 5)
	randSlice(r, a)
	randSlice(r, b)
	inside := func(idx int) bool { return idx/ldc < m && idx%ldc < n }
	for idx := range c {
		if inside(idx) {
			c[idx] = float32(r.NormFloat64())
		}
	}
	orig := append([]float32(nil), cbuf...)
	want, bound := refMatMul(m, n, k, a, lda, b, ldb, c, ldc, acc)
	f(m, n, k, a, lda, b, ldb, c, ldc, acc)
	for idx := range cbuf {
		ci := idx - 5
		if ci >= 0 && ci < len(c) && inside(ci) {
			i, j := ci/ldc, ci%ldc
			got := float64(c[ci])
			if d := math.Abs(got - want[i*n+j]); !(d <= bound[i*n+j]) {
				t.Fatalf("%s: c[%d,%d] = %v, want %v (|diff| %g > bound %g)", name, i, j, got, want[i*n+j], d, bound[i*n+j])
			}
		} else if cbuf[idx] != orig[idx] {
			t.Fatalf("%s: wrote outside c's m×n region at buffer index %d", name, idx)
		}
	}
}

func TestVecMat(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	type size struct{ k, n int }
	var sizes []size
	// Every k and every n from 0 to 70, each against the other dimension's
	// edge values (empty, under, at and over the 8- and 64-wide blocks).
	for i := 0; i <= 70; i++ {
		for _, e := range []int{0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65, 70} {
			sizes = append(sizes, size{i, e}, size{e, i})
		}
	}
	sizes = append(sizes, size{32, 128}, size{128, 512}, size{256, 1024}, size{513, 2049})
	for _, im := range impls {
		for _, sz := range sizes {
			for _, acc := range []bool{false, true} {
				k, n := sz.k, sz.n
				x, xbuf := guarded(k, 1)
				w, wbuf := guarded(k*n, 3)
				y, ybuf := guarded(n, 5)
				randSlice(r, x)
				randSlice(r, w)
				randSlice(r, y)
				want, bound := refMatMul(1, n, k, x, max(1, k), w, max(1, n), y, max(1, n), acc)
				im.vecMat(y, x, w, k, n, acc)
				name := fmt.Sprintf("%s/k%d_n%d_acc%v", im.name, k, n, acc)
				for j := range y {
					if d := math.Abs(float64(y[j]) - want[j]); !(d <= bound[j]) {
						t.Fatalf("%s: y[%d] = %v, want %v (|diff| %g > bound %g)", name, j, y[j], want[j], d, bound[j])
					}
				}
				checkGuards(t, name+" x", xbuf, 1, k)
				checkGuards(t, name+" w", wbuf, 3, k*n)
				checkGuards(t, name+" y", ybuf, 5, n)
			}
		}
	}
}

// checkExp accepts exp within 4e-7 relative where the result is a normal
// float32, within two denormal steps below that, and exact specials.
func checkExp(x, got float32) error {
	want := refExp(x)
	switch {
	case x != x:
		if got == got {
			return fmt.Errorf("exp(NaN) = %v, want NaN", got)
		}
		return nil
	case math.IsInf(float64(want), 0) || want == 0:
		if got != want {
			return fmt.Errorf("exp(%v) = %v, want %v", x, got, want)
		}
		return nil
	case want < 0x1p-126:
		if d := math.Abs(float64(got) - float64(want)); d > 0x1p-148 {
			return fmt.Errorf("exp(%v) = %v, want %v (denormal, |diff| %g)", x, got, want, d)
		}
		return nil
	}
	if d := math.Abs(float64(got)-float64(want)) / float64(want); !(d <= 4e-7) {
		return fmt.Errorf("exp(%v) = %v, want %v (rel %g)", x, got, want, d)
	}
	return nil
}

// checkBounded accepts tanh and sigmoid within 2e-7 absolute (and, for
// tanh, 4e-7 relative near zero, so small inputs keep their precision).
func checkBounded(name string, ref func(float32) float32, x, got float32) error {
	want := ref(x)
	if x != x {
		if got == got {
			return fmt.Errorf("%s(NaN) = %v, want NaN", name, got)
		}
		return nil
	}
	d := math.Abs(float64(got) - float64(want))
	if !(d <= 2e-7) {
		return fmt.Errorf("%s(%v) = %v, want %v (|diff| %g)", name, x, got, want, d)
	}
	if name == "tanh" && want != 0 && math.Abs(float64(x)) < 1 && !(d/math.Abs(float64(want)) <= 4e-7) {
		return fmt.Errorf("tanh(%v) = %v, want %v (rel %g)", x, got, want, d/math.Abs(float64(want)))
	}
	if name == "tanh" && math.Signbit(float64(got)) != math.Signbit(float64(x)) {
		return fmt.Errorf("tanh(%v) = %v: sign differs", x, got)
	}
	return nil
}

func TestActivationAccuracy(t *testing.T) {
	xs := activationInputs(20)
	xs = append(xs, activationInputs(110)...)
	got := make([]float32, len(xs))
	for _, im := range impls {
		im.exp(got, xs)
		for i, x := range xs {
			if err := checkExp(x, got[i]); err != nil {
				t.Fatalf("%s: %v", im.name, err)
			}
		}
		im.tanh(got, xs)
		for i, x := range xs {
			if err := checkBounded("tanh", refTanh, x, got[i]); err != nil {
				t.Fatalf("%s: %v", im.name, err)
			}
		}
		im.sigmoid(got, xs)
		for i, x := range xs {
			if err := checkBounded("sigmoid", refSigmoid, x, got[i]); err != nil {
				t.Fatalf("%s: %v", im.name, err)
			}
		}
	}
}

// TestActivationTails runs every length 0..70 at odd offsets, in place and
// not, so that vector bodies, tails and guards are all exercised.
func TestActivationTails(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	type act struct {
		name string
		f    func(impl) func(dst, src []float32)
		ok   func(x, got float32) error
	}
	acts := []act{
		{"exp", func(im impl) func(dst, src []float32) { return im.exp }, checkExp},
		{"tanh", func(im impl) func(dst, src []float32) { return im.tanh },
			func(x, g float32) error { return checkBounded("tanh", refTanh, x, g) }},
		{"sigmoid", func(im impl) func(dst, src []float32) { return im.sigmoid },
			func(x, g float32) error { return checkBounded("sigmoid", refSigmoid, x, g) }},
	}
	for _, im := range impls {
		for _, a := range acts {
			f := a.f(im)
			for n := 0; n <= 70; n++ {
				for _, inPlace := range []bool{false, true} {
					src, sbuf := guarded(n, 1+n%3)
					for i := range src {
						src[i] = float32(r.NormFloat64() * 8)
					}
					xs := append([]float32(nil), src...)
					dst, dbuf := src, sbuf
					doff := 1 + n%3
					if !inPlace {
						dst, dbuf = guarded(n, 2)
						doff = 2
					}
					f(dst, src)
					for i, x := range xs {
						if err := a.ok(x, dst[i]); err != nil {
							t.Fatalf("%s n=%d inPlace=%v: %v", im.name, n, inPlace, err)
						}
					}
					checkGuards(t, fmt.Sprintf("%s %s n=%d dst", im.name, a.name, n), dbuf, doff, n)
					if !inPlace {
						checkGuards(t, fmt.Sprintf("%s %s n=%d src", im.name, a.name, n), sbuf, 1+n%3, n)
						for i := range src {
							if src[i] != xs[i] {
								t.Fatalf("%s %s n=%d: src modified", im.name, a.name, n)
							}
						}
					}
				}
			}
		}
	}
}

func TestElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, im := range impls {
		for n := 0; n <= 70; n++ {
			a, abuf := guarded(n, 1)
			b, bbuf := guarded(n, 2)
			dst, dbuf := guarded(n, 3)
			randSlice(r, a)
			randSlice(r, b)
			name := fmt.Sprintf("%s n=%d", im.name, n)

			var want, abs float64
			for i := range a {
				want += float64(a[i]) * float64(b[i])
				abs += math.Abs(float64(a[i]) * float64(b[i]))
			}
			if got := im.dot(a, b); math.Abs(float64(got)-want) > float64(n+1)*0x1p-24*abs {
				t.Fatalf("%s: dot = %v, want %v", name, got, want)
			}

			im.mul(dst, a, b)
			for i := range a {
				if dst[i] != a[i]*b[i] {
					t.Fatalf("%s: mul[%d] = %v, want %v", name, i, dst[i], a[i]*b[i])
				}
			}
			im.add(dst, a, b)
			for i := range a {
				if dst[i] != a[i]+b[i] {
					t.Fatalf("%s: add[%d] = %v, want %v", name, i, dst[i], a[i]+b[i])
				}
			}
			y := append([]float32(nil), b...)
			im.axpy(0.75, a, dst[:n])
			copy(dst, y)
			im.axpy(0.75, a, dst)
			for i := range a {
				w := float64(y[i]) + 0.75*float64(a[i])
				if math.Abs(float64(dst[i])-w) > 2*0x1p-24*(math.Abs(float64(y[i]))+math.Abs(0.75*float64(a[i]))) {
					t.Fatalf("%s: axpy[%d] = %v, want %v", name, i, dst[i], w)
				}
			}
			// In place: dst aliases a.
			copy(dst, a)
			im.add(dst, dst, b)
			for i := range a {
				if dst[i] != a[i]+b[i] {
					t.Fatalf("%s: in-place add[%d] = %v, want %v", name, i, dst[i], a[i]+b[i])
				}
			}
			checkGuards(t, name+" a", abuf, 1, n)
			checkGuards(t, name+" b", bbuf, 2, n)
			checkGuards(t, name+" dst", dbuf, 3, n)
		}
	}
}

func TestSimpleActivations(t *testing.T) {
	nan := float32(math.NaN())
	xs := []float32{-10, -3, -2.5, -1, -0.5, 0, 0.25, 1, 2.5, 3, 10, float32(math.Inf(1)), float32(math.Inf(-1)), nan}
	dst := make([]float32, len(xs))
	check := func(name string, f func(dst, src []float32), ref func(float64) float64) {
		t.Helper()
		f(dst, xs)
		for i, x := range xs {
			want := float32(ref(float64(x)))
			if x != x {
				if dst[i] == dst[i] {
					t.Errorf("%s(NaN) = %v, want NaN", name, dst[i])
				}
				continue
			}
			if math.Abs(float64(dst[i]-want)) > 1e-7 {
				t.Errorf("%s(%v) = %v, want %v", name, x, dst[i], want)
			}
		}
	}
	clip := func(v float64) float64 { return math.Max(0, math.Min(1, v)) }
	check("HardSigmoidKeras3", HardSigmoidKeras3, func(x float64) float64 { return clip(x/6 + 0.5) })
	check("HardSigmoidKeras2", HardSigmoidKeras2, func(x float64) float64 { return clip(0.2*x + 0.5) })
	check("Relu", Relu, func(x float64) float64 { return math.Max(x, 0) })

	x := []float32{1, 2, 3, 4, 5, 6}
	AddBias(x, []float32{10, 20, 30})
	for i, want := range []float32{11, 22, 33, 14, 25, 36} {
		if x[i] != want {
			t.Fatalf("AddBias: x[%d] = %v, want %v", i, x[i], want)
		}
	}
	AddBias(nil, nil)
}

func TestPanics(t *testing.T) {
	cases := []struct {
		name, want string
		f          func()
	}{
		{"matmul short a", errShortA, func() { MatMul(2, 2, 2, make([]float32, 3), 2, make([]float32, 4), 2, make([]float32, 4), 2, false) }},
		{"matmul short b", errShortB, func() { MatMul(2, 2, 2, make([]float32, 4), 2, make([]float32, 3), 2, make([]float32, 4), 2, false) }},
		{"matmul short c", errShortC, func() { MatMul(2, 2, 2, make([]float32, 4), 2, make([]float32, 4), 2, make([]float32, 3), 2, false) }},
		{"matmul lda", errLd, func() { MatMul(2, 2, 2, make([]float32, 4), 1, make([]float32, 4), 2, make([]float32, 4), 2, false) }},
		{"matmul negative", errNegative, func() { MatMul(-1, 2, 2, nil, 2, nil, 2, nil, 2, false) }},
		{"vecmat short w", errShortW, func() { VecMat(make([]float32, 3), make([]float32, 2), make([]float32, 5), 2, 3, false) }},
		{"vecmat short x", errShortX, func() { VecMat(make([]float32, 3), make([]float32, 1), make([]float32, 6), 2, 3, false) }},
		{"vecmat short y", errShortY, func() { VecMat(make([]float32, 2), make([]float32, 2), make([]float32, 6), 2, 3, false) }},
		{"sigmoid short dst", errShortDst, func() { Sigmoid(make([]float32, 1), make([]float32, 2)) }},
		{"tanh short dst", errShortDst, func() { Tanh(make([]float32, 1), make([]float32, 2)) }},
		{"exp short dst", errShortDst, func() { Exp(make([]float32, 1), make([]float32, 2)) }},
		{"dot short b", errShortB, func() { Dot(make([]float32, 2), make([]float32, 1)) }},
		{"axpy short y", errShortY, func() { Axpy(1, make([]float32, 2), make([]float32, 1)) }},
		{"add short dst", errShortDst, func() { Add(make([]float32, 1), make([]float32, 2), make([]float32, 2)) }},
		{"mul short b", errShortB, func() { Mul(make([]float32, 2), make([]float32, 2), make([]float32, 1)) }},
		{"pack short b", errShortB, func() { PackMatrix(2, 2, make([]float32, 3), 2) }},
		{"packed short a", errShortA, func() {
			MatMulPacked(2, make([]float32, 3), 2, PackMatrix(2, 2, make([]float32, 4), 2), make([]float32, 4), 2, false)
		}},
		{"packed short c", errShortC, func() {
			MatMulPacked(2, make([]float32, 4), 2, PackMatrix(2, 2, make([]float32, 4), 2), make([]float32, 3), 2, false)
		}},
		{"bias rows", errBias, func() { AddBias(make([]float32, 5), make([]float32, 2)) }},
	}
	for _, c := range cases {
		func() {
			defer func() {
				if r := recover(); r != c.want {
					t.Errorf("%s: panic %v, want %q", c.name, r, c.want)
				}
			}()
			c.f()
		}()
	}
}

// TestNoAllocs checks that the kernels allocate nothing in steady state
// (the packed MatMul reuses pooled buffers).
func TestNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	m, n, k := 64, 256, 128
	a, b, c := randVec(m*k), randVec(k*n), make([]float32, m*n)
	x, y := randVec(k), make([]float32, n)
	pb := PackMatrix(k, n, b, n)
	cases := map[string]func(){
		"MatMul":  func() { MatMul(m, n, k, a, k, b, n, c, n, true) },
		"Packed":  func() { MatMulPacked(m, a, k, pb, c, n, true) },
		"VecMat":  func() { VecMat(y, x, b, k, n, false) },
		"Sigmoid": func() { Sigmoid(c, a) },
		"Tanh":    func() { Tanh(c, a) },
		"Exp":     func() { Exp(c, a) },
		"Dot":     func() { Dot(a, c) },
		"Axpy":    func() { Axpy(0.5, a, c) },
		"AddBias": func() { AddBias(c, y) },
	}
	for name, f := range cases {
		if allocs := testing.AllocsPerRun(20, f); allocs != 0 {
			t.Errorf("%s allocates %v times per call", name, allocs)
		}
	}
}

// TestConcurrentMatMul runs the packed MatMul from several goroutines at
// once (each with its own output); run with -race.
func TestConcurrentMatMul(t *testing.T) {
	m, n, k := 40, 300, 270
	a, b := randVec(m*k), randVec(k*n)
	want := make([]float32, m*n)
	matMulGo(m, n, k, a, k, b, n, want, n, false)
	done := make(chan error, 4)
	for w := 0; w < 4; w++ {
		go func() {
			c := make([]float32, m*n)
			for it := 0; it < 5; it++ {
				MatMul(m, n, k, a, k, b, n, c, n, false)
				for i := range c {
					if d := math.Abs(float64(c[i] - want[i])); d > 1e-3 {
						done <- fmt.Errorf("c[%d] = %v, want %v", i, c[i], want[i])
						return
					}
				}
			}
			done <- nil
		}()
	}
	for w := 0; w < 4; w++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestFits(t *testing.T) {
	const huge = int(^uint(0) >> 1)
	cases := []struct {
		l, rows, ld, cols int
		want              bool
	}{
		{0, 0, 1, 5, true}, {0, 3, 1, 0, true}, {6, 2, 3, 3, true}, {5, 2, 3, 3, false},
		{7, 2, 4, 3, true}, {6, 2, 4, 3, false}, {10, 1, 100, 10, true}, {9, 1, 100, 10, false},
		{100, huge/2 + 2, 2, 2, false}, {100, 3, huge / 2, 1, false},
	}
	for _, c := range cases {
		if got := fits(c.l, c.rows, c.ld, c.cols); got != c.want {
			t.Errorf("fits(%d, %d, %d, %d) = %v, want %v", c.l, c.rows, c.ld, c.cols, got, c.want)
		}
	}
	defer func() {
		if r := recover(); r != errShortA {
			t.Errorf("MatMul with (m-1)·lda overflowing: panic %v, want %q", r, errShortA)
		}
	}()
	MatMul(2, 1, 1, make([]float32, 4), huge, make([]float32, 1), 1, make([]float32, 2), 1, false)
}

// TestVectorMatchesGo checks that the vector tanh, exp and sigmoid give
// the bits of the Go tanh32, exp32 and sigmoid32 (numpy's algorithms) on
// every interval of the tanh table, across the whole exponent range
// including the denormal results of exp, and on the special values, so
// that vector bodies and tails never differ.
func TestVectorMatchesGo(t *testing.T) {
	xs := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 1e-30, 1, -1,
		expHi, math.Nextafter32(expHi, 0), expLo, math.Nextafter32(expLo, 0), -87.5, -88, -100}
	for e := -30; e <= 130; e++ {
		for _, m := range []float64{1, 1.0625, 1.25, 1.5, 1.75, 1.9999} {
			v := float32(math.Ldexp(m, e))
			xs = append(xs, v, -v, math.Nextafter32(v, 0), math.Nextafter32(v, 1e38))
		}
	}
	r := rand.New(rand.NewPCG(11, 12))
	for range 4096 {
		xs = append(xs, float32(r.NormFloat64()*3), float32(r.Float64()*220-110))
	}
	xs = append(xs, make([]float32, (8-len(xs)%8)%8)...)
	got := make([]float32, len(xs))
	for _, im := range impls {
		for _, f := range []struct {
			name string
			vec  func(dst, src []float32)
			one  func(float32) float32
		}{{"tanh", im.tanh, tanh32}, {"exp", im.exp, exp32}, {"sigmoid", im.sigmoid, sigmoid32}} {
			f.vec(got, xs)
			for i, x := range xs {
				want := f.one(x)
				if math.Float32bits(got[i]) != math.Float32bits(want) && !(x != x && got[i] != got[i]) {
					t.Fatalf("%s %s(%v) = %v (%#x), Go gives %v (%#x)", im.name, f.name, x, got[i], math.Float32bits(got[i]), want, math.Float32bits(want))
				}
			}
		}
	}
}

// TestFma32 checks the float32 fused multiply-add against big.Float's
// exact a*b+c rounded once to float32.
func TestFma32(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	pick := func() float32 {
		switch r.IntN(4) {
		case 0:
			return float32(r.NormFloat64())
		case 1:
			return float32(math.Ldexp(r.Float64()+1, r.IntN(60)-30)) * float32(1-2*r.IntN(2))
		case 2:
			return math.Float32frombits(r.Uint32()&^(0xff<<23) | 127<<23) // [1, 2) or (-2, -1]
		}
		return float32(r.IntN(9) - 4)
	}
	for i := range 200000 {
		a, b := pick(), pick()
		c := pick()
		if i%2 == 0 {
			// c close to -a*b, where cancellation exposes double rounding.
			c = -float32(float64(a)*float64(b)) + c*float32(math.Ldexp(1, -20))
		}
		exact := new(big.Float).SetPrec(200).SetFloat64(float64(a))
		exact.Mul(exact, new(big.Float).SetPrec(200).SetFloat64(float64(b)))
		exact.Add(exact, new(big.Float).SetPrec(200).SetFloat64(float64(c)))
		want, _ := exact.Float32()
		if got := fma32(a, b, c); math.Float32bits(got) != math.Float32bits(want) && !(got == 0 && want == 0) {
			t.Fatalf("fma32(%v, %v, %v) = %v, want %v", a, b, c, got, want)
		}
	}
}

// TestMatMulPackedSameBits checks that MatMulPacked sums in MatMul's
// order: recurrent layers switch between the two and must not change
// Keras-matching results by a bit.
func TestMatMulPackedSameBits(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, k := range []int{64, 256, 300, 512} {
		for _, m := range []int{1, 2, 4, 5, 8, 10, 16} {
			n := 72
			a := make([]float32, m*k)
			b := make([]float32, k*n)
			for i := range a {
				a[i] = float32(r.NormFloat64())
			}
			for i := range b {
				b[i] = float32(r.NormFloat64())
			}
			want := make([]float32, m*n)
			got := make([]float32, m*n)
			MatMul(m, n, k, a, k, b, n, want, n, false)
			MatMulPacked(m, a, k, PackMatrix(k, n, b, n), got, n, false)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("m=%d n=%d k=%d: c[%d] = %v packed, %v unpacked", m, n, k, i, got[i], want[i])
				}
			}
		}
	}
}

// TestSetsSameBits checks that every assembly set gives the bits of the
// AVX2 set (the same fused multiply-adds in the same order, only wider) for
// MatMul, MatMulPacked and VecMat, across the blocking and edge sizes:
// forcing a set (EnvKernel) never changes a model's results.
func TestSetsSameBits(t *testing.T) {
	var asm []*kernelSet
	for _, ks := range supportedSets() {
		if ks.isa != isaGo {
			asm = append(asm, ks)
		}
	}
	if len(asm) < 2 {
		t.Skipf("this machine runs %d assembly kernel sets", len(asm))
	}
	r := rand.New(rand.NewPCG(17, 18))
	type size struct{ m, n, k int }
	sizes := []size{{1, 128, 32}, {1, 512, 128}, {1, 2048, 512}, {1, 70, 9}, {1, 200, 300}, {3, 100, 40},
		{7, 1024, 256}, {12, 33, 17}, {32, 1024, 256}, {64, 1024, 256}, {64, 768, 256}, {97, 100, 261},
		{200, 1030, 300}, {640, 512, 128}, {6, 1100, 20}, {13, 1024, 513}}
	for _, sz := range sizes {
		a, b := make([]float32, sz.m*sz.k), make([]float32, sz.k*sz.n)
		randSlice(r, a)
		randSlice(r, b)
		var ref [3][]float32
		for si, ks := range asm {
			var got [3][]float32
			for i := range got {
				got[i] = make([]float32, sz.m*sz.n)
				randSlice(rand.New(rand.NewPCG(1, 2)), got[i])
			}
			acc := sz.m%2 == 1
			matMulWith(ks, sz.m, sz.n, sz.k, a, sz.k, b, sz.n, got[0], sz.n, acc)
			MatMulPacked(sz.m, a, sz.k, packMatrixWith(ks, sz.k, sz.n, b, sz.n), got[1], sz.n, acc)
			vecMatWith(ks, got[2][:sz.n], a[:sz.k], b, sz.k, sz.n, acc)
			if si == 0 {
				ref = got
				continue
			}
			for v, name := range []string{"MatMul", "MatMulPacked", "VecMat"} {
				for i := range got[v] {
					if math.Float32bits(got[v][i]) != math.Float32bits(ref[v][i]) {
						t.Fatalf("%s %v: %s gives %v at %d, %s %v", name, sz, ks.name, got[v][i], i, asm[0].name, ref[v][i])
					}
				}
			}
		}
	}
}

// TestLSTMGates checks the fused LSTM gate pass of every kernel set
// against the separate Go kernels bit for bit, for unit counts on and off
// the 16-lane width, with large pre-activations (saturating gates) and
// specials among the inputs, and that it writes only cNew and hNew.
func TestLSTMGates(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, ks := range supportedSets() {
		for _, u := range []int{1, 7, 16, 32, 40, 128, 256} {
			xp, rec, bias := make([]float32, 4*u), make([]float32, 4*u), make([]float32, 4*u)
			cOld := make([]float32, u)
			for i := range xp {
				xp[i] = float32(r.NormFloat64() * 6)
				rec[i] = float32(r.NormFloat64() * 3)
				bias[i] = float32(r.NormFloat64())
			}
			for i := range cOld {
				cOld[i] = float32(r.NormFloat64() * 4)
			}
			xp[0], rec[u] = float32(math.Inf(1)), float32(math.NaN())
			if u > 3 {
				xp[3*u+1], cOld[2] = -100, float32(math.Copysign(0, -1))
			}
			wantX := append([]float32(nil), xp...)
			wantC, wantH := make([]float32, u), make([]float32, u)
			lstmGatesGo(setGo, u, wantX, rec, bias, cOld, wantC, wantH)
			cNew, hbuf := guarded(u, 2)
			hNew, _ := guarded(u, 1)
			got := append([]float32(nil), xp...)
			lstmGatesWith(ks, u, got, rec, bias, cOld, cNew, hNew)
			name := fmt.Sprintf("%s u=%d", ks.name, u)
			for i := range wantC {
				if math.Float32bits(cNew[i]) != math.Float32bits(wantC[i]) && !(cNew[i] != cNew[i] && wantC[i] != wantC[i]) {
					t.Fatalf("%s: cNew[%d] = %v, want %v", name, i, cNew[i], wantC[i])
				}
				if math.Float32bits(hNew[i]) != math.Float32bits(wantH[i]) && !(hNew[i] != hNew[i] && wantH[i] != wantH[i]) {
					t.Fatalf("%s: hNew[%d] = %v, want %v", name, i, hNew[i], wantH[i])
				}
			}
			checkGuards(t, name+" cNew", hbuf, 2, u)
		}
	}
}

// TestGRUGates is TestLSTMGates for the fused reset_after GRU pass.
func TestGRUGates(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, ks := range supportedSets() {
		for _, u := range []int{1, 9, 16, 32, 48, 256} {
			xp, rec, rb := make([]float32, 3*u), make([]float32, 3*u), make([]float32, 3*u)
			hOld := make([]float32, u)
			for i := range xp {
				xp[i] = float32(r.NormFloat64() * 6)
				rec[i] = float32(r.NormFloat64() * 3)
				rb[i] = float32(r.NormFloat64())
			}
			for i := range hOld {
				hOld[i] = float32(r.NormFloat64())
			}
			xp[0], rec[2*u] = float32(math.Inf(-1)), 1e30
			if u > 3 {
				xp[u+2], hOld[3] = 90, float32(math.Copysign(0, -1))
			}
			wx, wr, want := append([]float32(nil), xp...), append([]float32(nil), rec...), make([]float32, u)
			gruGatesGo(setGo, u, wx, wr, rb, hOld, want)
			hNew, hbuf := guarded(u, 3)
			gx, gr := append([]float32(nil), xp...), append([]float32(nil), rec...)
			gruGatesWith(ks, u, gx, gr, rb, hOld, hNew)
			for i := range want {
				if math.Float32bits(hNew[i]) != math.Float32bits(want[i]) && !(hNew[i] != hNew[i] && want[i] != want[i]) {
					t.Fatalf("%s u=%d: hNew[%d] = %v, want %v", ks.name, u, i, hNew[i], want[i])
				}
			}
			checkGuards(t, fmt.Sprintf("%s u=%d hNew", ks.name, u), hbuf, 3, u)
		}
	}
}

// TestVecMatAlternating checks that both column orders give VecMat's bits
// on every set, above and below the size where the halves split.
func TestVecMatAlternating(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for _, sz := range [][2]int{{256, 1024}, {256, 768}, {300, 500}, {512, 2048}, {32, 128}, {257, 513}} {
		k, n := sz[0], sz[1]
		x, w := make([]float32, k), make([]float32, k*n)
		randSlice(r, x)
		randSlice(r, w)
		want := make([]float32, n)
		VecMat(want, x, w, k, n, false)
		for _, fromEnd := range []bool{false, true} {
			y, ybuf := guarded(n, 2)
			randSlice(r, y)
			VecMatAlternating(y, x, w, k, n, fromEnd)
			for j := range y {
				if math.Float32bits(y[j]) != math.Float32bits(want[j]) {
					t.Fatalf("k=%d n=%d fromEnd=%v: y[%d] = %v, VecMat %v", k, n, fromEnd, j, y[j], want[j])
				}
			}
			checkGuards(t, "VecMatAlternating y", ybuf, 2, n)
		}
	}
}
