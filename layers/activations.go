package layers

import (
	"fmt"
	"math"
	"sort"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime/kernel"
)

// ActivationFunc applies a Keras activation to src and writes the result to
// dst. src holds rows of lastDim values (the tensor's last axis), which is
// what the softmax family (softmax, log_softmax, sparsemax) normalizes over
// and what glu splits in half. Element-wise activations ignore lastDim.
//
// dst has len(src) values, except for glu, whose rows have lastDim/2 values
// (see ActivationOutputDim). dst may alias src for every activation but glu.
type ActivationFunc func(dst, src []float32, lastDim int)

// activationInfo describes one entry of the table.
type activationInfo struct {
	fn ActivationFunc
	// elementwise is false for activations that look at a whole row.
	elementwise bool
	// halves is true for glu, whose output has half the last axis.
	halves bool
}

// activationTable maps Keras activation names to their definitions. Names are
// Keras 3's (keras/src/activations/__init__.py ALL_OBJECTS) plus the Keras
// 1/2 ones; convert renames a Keras < 3 "hard_sigmoid" to
// "hard_sigmoid_keras2" because the two versions define it differently.
var activationTable = map[string]activationInfo{
	"linear":      {fn: actLinear, elementwise: true},
	"relu":        {fn: actKernel(kernel.Relu), elementwise: true},
	"relu6":       {fn: actElementwise(func(x float64) float64 { return math.Min(math.Max(x, 0), 6) }), elementwise: true},
	"sigmoid":     {fn: actKernel(kernel.Sigmoid), elementwise: true},
	"tanh":        {fn: actKernel(kernel.Tanh), elementwise: true},
	"exponential": {fn: actKernel(kernel.Exp), elementwise: true},
	// Keras 3: hard_sigmoid(x) = clip(x/6 + 1/2, 0, 1) (keras/src/ops/nn.py).
	"hard_sigmoid": {fn: actKernel(kernel.HardSigmoidKeras3), elementwise: true},
	// Keras 1/2, tf.keras and TF.js: clip(0.2x + 0.5, 0, 1).
	"hard_sigmoid_keras2": {fn: actKernel(kernel.HardSigmoidKeras2), elementwise: true},
	"hard_silu":           {fn: actHardSilu, elementwise: true},
	"hard_swish":          {fn: actHardSilu, elementwise: true},
	"hard_tanh":           {fn: actElementwise(func(x float64) float64 { return math.Min(math.Max(x, -1), 1) }), elementwise: true},
	"hard_shrink": {fn: actElementwise(func(x float64) float64 {
		if math.Abs(x) > 0.5 {
			return x
		}
		return 0
	}), elementwise: true},
	"soft_shrink": {fn: actElementwise(func(x float64) float64 {
		switch {
		case x > 0.5:
			return x - 0.5
		case x < -0.5:
			return x + 0.5
		}
		return 0
	}), elementwise: true},
	"tanh_shrink": {fn: actElementwise(func(x float64) float64 { return x - math.Tanh(x) }), elementwise: true},
	// Keras 3's string "leaky_relu" uses negative_slope 0.2 (the LeakyReLU
	// layer's default is 0.3; that layer has its own code).
	"leaky_relu": {fn: actElementwise(func(x float64) float64 { return math.Max(x, 0.2*x) }), elementwise: true},
	"elu":        {fn: actElementwise(func(x float64) float64 { return actEluF(x, 1) }), elementwise: true},
	"selu": {fn: actElementwise(func(x float64) float64 {
		return actSeluScale * actEluF(x, actSeluAlpha)
	}), elementwise: true},
	// celu(x) = max(x, 0) + alpha*expm1(min(x, 0)/alpha), alpha 1.
	"celu": {fn: actElementwise(func(x float64) float64 {
		return math.Max(x, 0) + math.Expm1(math.Min(x, 0))
	}), elementwise: true},
	"softplus":    {fn: actElementwise(actSoftplusF), elementwise: true},
	"softsign":    {fn: actElementwise(func(x float64) float64 { return x / (1 + math.Abs(x)) }), elementwise: true},
	"log_sigmoid": {fn: actElementwise(func(x float64) float64 { return -actSoftplusF(-x) }), elementwise: true},
	"silu":        {fn: actSilu, elementwise: true},
	"swish":       {fn: actSilu, elementwise: true},
	"mish": {fn: actElementwise(func(x float64) float64 {
		return x * math.Tanh(actSoftplusF(x))
	}), elementwise: true},
	// Keras 3 and tf.keras: the string "gelu" is the exact erf form
	// (approximate=False); "gelu_approximate" is the tanh form.
	"gelu": {fn: actElementwise(func(x float64) float64 {
		return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
	}), elementwise: true},
	"gelu_approximate": {fn: actElementwise(actGeluTanhF), elementwise: true},
	// TF.js names the tanh approximation gelu_new.
	"gelu_new": {fn: actElementwise(actGeluTanhF), elementwise: true},
	"squareplus": {fn: actElementwise(func(x float64) float64 {
		return (x + math.Sqrt(x*x+4)) / 2 // b = 4
	}), elementwise: true},
	"sparse_plus": {fn: actElementwise(func(x float64) float64 {
		switch {
		case x <= -1:
			return 0
		case x >= 1:
			return x
		}
		return (x + 1) * (x + 1) / 4
	}), elementwise: true},
	"sparse_sigmoid": {fn: actElementwise(func(x float64) float64 {
		switch {
		case x <= -1:
			return 0
		case x >= 1:
			return 1
		}
		return 0.5 * (x + 1)
	}), elementwise: true},
	"softmax":     {fn: actSoftmax},
	"log_softmax": {fn: actLogSoftmax},
	"sparsemax":   {fn: actSparsemax},
	"glu":         {fn: actGlu, halves: true},
}

// Keras' selu constants (Klambauer et al. 2017).
const (
	actSeluAlpha = 1.6732632423543772848170429916717
	actSeluScale = 1.0507009873554804934193349852946
)

// Activation returns the activation named as in a Keras config ("tanh",
// "hard_sigmoid"...). "" and "linear" are the identity. An unknown name is
// an error wrapping convert.ErrUnsupported.
func Activation(name string) (ActivationFunc, error) {
	info, err := activationLookup(name)
	if err != nil {
		return nil, err
	}
	return info.fn, nil
}

// ActivationOutputDim returns the size of the last axis after applying the
// named activation to rows of lastDim values: lastDim, or lastDim/2 for glu
// (which needs an even lastDim).
func ActivationOutputDim(name string, lastDim int) (int, error) {
	info, err := activationLookup(name)
	if err != nil {
		return 0, err
	}
	if info.halves {
		if lastDim%2 != 0 {
			return 0, fmt.Errorf("activation %q needs an even last axis, got %d: %w", name, lastDim, convert.ErrConfig)
		}
		return lastDim / 2, nil
	}
	return lastDim, nil
}

// ActivationNames lists every name Activation accepts, sorted.
func ActivationNames() []string {
	names := make([]string, 0, len(activationTable))
	for n := range activationTable {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func activationLookup(name string) (activationInfo, error) {
	if name == "" {
		name = "linear"
	}
	info, ok := activationTable[name]
	if !ok {
		return activationInfo{}, fmt.Errorf("activation %q: %w", name, convert.ErrUnsupported)
	}
	return info, nil
}

// actKernel adapts a kernel with the (dst, src) signature.
func actKernel(f func(dst, src []float32)) ActivationFunc {
	return func(dst, src []float32, _ int) { f(dst[:len(src)], src) }
}

func actLinear(dst, src []float32, _ int) {
	if len(src) > 0 && len(dst) > 0 && &dst[0] == &src[0] {
		return
	}
	copy(dst, src)
}

// actElementwise builds an activation from a float64 function; the extra
// precision keeps our result within rounding of Keras' float32 one.
func actElementwise(f func(float64) float64) ActivationFunc {
	return func(dst, src []float32, _ int) {
		dst = dst[:len(src)]
		for i, v := range src {
			dst[i] = float32(f(float64(v)))
		}
	}
}

func actEluF(x, alpha float64) float64 {
	if x >= 0 {
		return x
	}
	return alpha * math.Expm1(x)
}

// actSoftplusF is log(1 + e^x) computed without overflow, as numpy's
// logaddexp(x, 0).
func actSoftplusF(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

func actGeluTanhF(x float64) float64 {
	const c = 0.7978845608028654 // sqrt(2/pi)
	return 0.5 * x * (1 + math.Tanh(c*(x+0.044715*x*x*x)))
}

func actSilu(dst, src []float32, _ int) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = v * actSigmoid32(v)
	}
}

func actHardSilu(dst, src []float32, _ int) {
	dst = dst[:len(src)]
	for i, v := range src {
		h := v/6 + 0.5
		if h <= 0 {
			h = 0
		} else if h >= 1 {
			h = 1
		}
		dst[i] = v * h
	}
}

func actSigmoid32(v float32) float32 {
	return float32(1 / (1 + math.Exp(-float64(v))))
}

// actRows calls f on each row of lastDim values of src and dst; a lastDim that
// does not divide the data (a programmer error) applies f to the whole.
func actRows(dst, src []float32, lastDim int, f func(d, s []float32)) {
	if lastDim <= 0 || len(src)%lastDim != 0 {
		lastDim = len(src)
	}
	if lastDim == 0 {
		return
	}
	for off := 0; off < len(src); off += lastDim {
		f(dst[off:off+lastDim], src[off:off+lastDim])
	}
}

// actSoftmax computes exp(x - max) / sum over each row in float32 with
// numpy's operations, as Keras' numpy backend does (nn.softmax): x - max
// rounded, numpy's exp (kernel.Exp), numpy's pairwise sum, then a float32
// division, so that its results match Keras' bit for bit.
func actSoftmax(dst, src []float32, lastDim int) {
	actRows(dst, src, lastDim, func(d, s []float32) {
		m := float32(math.Inf(-1))
		for _, v := range s {
			if v > m || v != v {
				m = v
			}
			if m != m {
				break
			}
		}
		for i, v := range s {
			d[i] = v - m
		}
		kernel.Exp(d, d)
		// np.sum starts from the identity 0, which adds exactly.
		sum := pairwiseSum32(d)
		for i, v := range d {
			d[i] = v / sum
		}
	})
}

// pairwiseSum32 is numpy's float32 pairwise summation (pairwise_sum in
// loops_utils.h.src), which np.sum uses along a contiguous axis: fewer
// than 8 values in order; up to 128 in 8 interleaved accumulators combined
// as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)), then the rest in order; longer
// runs split in two halves (the first a multiple of 8) summed recursively.
func pairwiseSum32(a []float32) float32 {
	n := len(a)
	switch {
	case n < 8:
		var res float32
		for _, v := range a {
			res += v
		}
		return res
	case n <= 128:
		var r [8]float32
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += a[i+j]
			}
		}
		res := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			res += a[i]
		}
		return res
	}
	n2 := n / 2
	n2 -= n2 % 8
	return pairwiseSum32(a[:n2]) + pairwiseSum32(a[n2:])
}

// actLogSoftmax computes x - max - log(sum(exp(x - max))) over each row.
func actLogSoftmax(dst, src []float32, lastDim int) {
	actRows(dst, src, lastDim, func(d, s []float32) {
		m := math.Inf(-1)
		for _, v := range s {
			m = math.Max(m, float64(v))
		}
		var sum float64
		for _, v := range s {
			sum += math.Exp(float64(v) - m)
		}
		lse := math.Log(sum)
		for i, v := range s {
			d[i] = float32(float64(v) - m - lse)
		}
	})
}

// actSparsemax is Keras 3's sparsemax over each row: out = max(x - tau, 0).
// Keras computes tau as (sum of the cumulative sums over the support - 1)/k
// where the paper (Martins and Astudillo 2016) uses the k-th cumulative sum
// alone; the two agree when the support has one element. We follow Keras,
// whose outputs the goldens pin.
func actSparsemax(dst, src []float32, lastDim int) {
	var sorted []float64
	actRows(dst, src, lastDim, func(d, s []float32) {
		sorted = sorted[:0]
		for _, v := range s {
			sorted = append(sorted, float64(v))
		}
		sort.Sort(sort.Reverse(sort.Float64Slice(sorted)))
		var cum, cumSum float64
		k := 0
		for j, v := range sorted {
			cum += v
			if v-(cum-1)/float64(j+1) > 0 {
				k++
				cumSum += cum
			}
		}
		tau := (cumSum - 1) / float64(k)
		for i, v := range s {
			d[i] = float32(math.Max(float64(v)-tau, 0))
		}
	})
}

// actGlu splits each row in halves a and b and returns a * sigmoid(b).
func actGlu(dst, src []float32, lastDim int) {
	if lastDim <= 0 || lastDim%2 != 0 || len(src)%lastDim != 0 {
		panic("layers: glu needs whole rows of even length")
	}
	h := lastDim / 2
	for r, o := 0, 0; r < len(src); r, o = r+lastDim, o+h {
		a, b := src[r:r+h], src[r+h:r+lastDim]
		for i := range h {
			dst[o+i] = a[i] * actSigmoid32(b[i])
		}
	}
}
