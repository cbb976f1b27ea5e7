package layers

import (
	"fmt"
	"math"
	"slices"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// This file holds Keras' activation layers (keras/src/layers/activations):
// Activation, ReLU, LeakyReLU, PReLU, ELU and Softmax (and Keras 2's
// ThresholdedReLU). All of them support
// masking: the output carries the input's mask.

func init() { builtins = append(builtins, registerActivationLayers) }

func registerActivationLayers(r *Registry) {
	r.Register("Activation", buildActivationLayer)
	r.Register("ReLU", buildReLU)
	r.Register("LeakyReLU", buildLeakyReLU)
	r.Register("PReLU", buildPReLU)
	r.Register("ELU", buildELU)
	r.Register("ThresholdedReLU", buildThresholdedReLU)
	r.Register("Softmax", buildSoftmax)
}

// elementwise is an activation layer that maps each element on its own.
type elementwise struct {
	layerIdent
	f func(v float32) float32
}

// Call applies the function to every element; the mask passes through.
func (l *elementwise) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, err := singleInput(call)
	if err != nil {
		return nil, err
	}
	out, res := newLayerResult(ctx, l, in.T.Shape...)
	for i, v := range in.T.Data {
		out.Data[i] = l.f(v)
	}
	res[0].Mask = inputMask(call, in)
	return res, nil
}

// ActivationLayer applies a named Keras activation (Keras' Activation
// layer); softmax-like activations act on the last axis.
type ActivationLayer struct {
	layerIdent
	Activation string
	fn         ActivationFunc
}

func buildActivationLayer(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	name := r.String("activation", "linear")
	if err := r.Err(); err != nil {
		return nil, err
	}
	fn, err := Activation(name)
	if err != nil {
		return nil, fmt.Errorf("layer %q: %w", spec.Name, err)
	}
	return &ActivationLayer{layerIdent: idOf(spec), Activation: name, fn: fn}, nil
}

// Call applies the activation; x: any shape, the last axis is the one
// softmax-like activations normalize (and glu halves).
func (l *ActivationLayer) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, err := singleInput(call)
	if err != nil {
		return nil, err
	}
	last := 1
	if in.T.Rank() > 0 {
		last = in.T.Shape[in.T.Rank()-1]
	}
	outLast, err := ActivationOutputDim(l.Activation, last)
	if err != nil {
		return nil, err
	}
	var buf [maxLayerResultRank]int
	shape := append(buf[:0], in.T.Shape...)
	if len(shape) > 0 {
		shape[len(shape)-1] = outLast
	}
	out, res := newLayerResult(ctx, l, shape...)
	if len(in.T.Data) > 0 {
		l.fn(out.Data, in.T.Data, last)
	}
	res[0].Mask = inputMask(call, in)
	return res, nil
}

func buildReLU(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	slope := float32(r.Float("negative_slope", 0))
	threshold := float32(r.Float("threshold", 0))
	hasMax := spec.Config.Has("max_value")
	maxValue := float32(r.Float("max_value", 0))
	if err := r.Err(); err != nil {
		return nil, err
	}
	if hasMax && maxValue < 0 {
		return nil, fmt.Errorf("layer %q: max_value %v: want ≥ 0: %w", spec.Name, maxValue, convert.ErrConfig)
	}
	if slope < 0 {
		return nil, fmt.Errorf("layer %q: negative_slope %v: want ≥ 0: %w", spec.Name, slope, convert.ErrConfig)
	}
	// Keras (activations.relu): x if x > threshold else 0 (plain relu when
	// threshold is 0), clipped to [0, max_value] when given, minus
	// negative_slope·relu(threshold - x).
	f := func(v float32) float32 {
		var y float32
		switch {
		case threshold != 0:
			if v > threshold {
				y = v
			}
		case v > 0:
			y = v
		}
		if hasMax {
			y = min(max(y, 0), maxValue)
		}
		if slope != 0 && v < threshold {
			y -= slope * (threshold - v)
		}
		return y
	}
	if slope != 0 && !hasMax && threshold == 0 {
		// Keras takes the leaky_relu shortcut here: max(x, slope·x).
		f = func(v float32) float32 { return max(v, slope*v) }
	}
	return &elementwise{idOf(spec), f}, nil
}

func buildLeakyReLU(spec *convert.Layer, env *Env) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	// Keras 3 names it negative_slope; Keras 1/2 alpha. The layer default
	// is 0.3 (the leaky_relu activation's is 0.2).
	slope := r.Float("alpha", 0.3)
	slope = r.Float("negative_slope", slope)
	if err := r.Err(); err != nil {
		return nil, err
	}
	s := float32(slope)
	if env == nil || kerasAtLeast(env.KerasVersion, 3, 0) {
		// Keras 3: max(x, slope·x), which differs only for slopes above 1.
		return &elementwise{idOf(spec), func(v float32) float32 { return max(v, s*v) }}, nil
	}
	// Keras 1/2: relu(x) - alpha·relu(-x).
	return &elementwise{idOf(spec), func(v float32) float32 {
		if v >= 0 {
			return v
		}
		return s * v
	}}, nil
}

func buildELU(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	alpha := r.Float("alpha", 1)
	if err := r.Err(); err != nil {
		return nil, err
	}
	return &elementwise{idOf(spec), func(v float32) float32 {
		if v > 0 {
			return v
		}
		return float32(alpha * math.Expm1(float64(v)))
	}}, nil
}

// buildThresholdedReLU builds Keras 2's ThresholdedReLU: x if x > theta
// else 0.
func buildThresholdedReLU(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	theta := float32(r.Float("theta", 1))
	if err := r.Err(); err != nil {
		return nil, err
	}
	return &elementwise{idOf(spec), func(v float32) float32 {
		if v > theta {
			return v
		}
		return 0
	}}, nil
}

// PReLU is a leaky ReLU whose slope is a learned weight: x for x ≥ 0,
// alpha·x otherwise. Alpha has the input's shape without the batch axis,
// with size 1 on each shared axis, and broadcasts over the input.
type PReLU struct {
	layerIdent
	Alpha *runtime.Tensor
}

func buildPReLU(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	if len(spec.Weights) != 1 {
		return nil, fmt.Errorf("layer %q: got %d weights, want 1 (alpha): %w", spec.Name, len(spec.Weights), convert.ErrWeights)
	}
	w := spec.Weights[0]
	alpha, err := runtime.FromData(w.Data, w.Shape...)
	if err != nil {
		return nil, fmt.Errorf("layer %q: weight %q: %v: %w", spec.Name, w.Name, err, convert.ErrWeights)
	}
	r := spec.Config.Reader(spec.Name)
	shared := r.Ints("shared_axes", nil)
	if err := r.Err(); err != nil {
		return nil, err
	}
	for _, a := range shared {
		if a < 1 || a > alpha.Rank() || alpha.Shape[a-1] != 1 {
			return nil, fmt.Errorf("layer %q: weight %q: shape %v has no size-1 dimension for shared axis %d: %w",
				spec.Name, w.Name, w.Shape, a, convert.ErrWeights)
		}
	}
	return &PReLU{layerIdent: idOf(spec), Alpha: alpha}, nil
}

// Call applies the leaky ReLU with alpha broadcast over the batch.
func (l *PReLU) Call(_ *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, err := singleInput(call)
	if err != nil {
		return nil, err
	}
	x := in.T
	if x.Rank() != l.Alpha.Rank()+1 {
		return nil, fmt.Errorf("input shape %v does not match alpha shape %v", x.Shape, l.Alpha.Shape)
	}
	ashape := append([]int{1}, l.Alpha.Shape...)
	out, err := bcastBinary(x, &runtime.Tensor{Shape: ashape, Data: l.Alpha.Data}, func(v, a float32) float32 {
		if v >= 0 {
			return v
		}
		return a * v
	})
	if err != nil {
		return nil, err
	}
	if !slices.Equal(out.Shape, x.Shape) {
		return nil, fmt.Errorf("input shape %v does not match alpha shape %v", x.Shape, l.Alpha.Shape)
	}
	return []runtime.Value{{T: out, Mask: inputMask(call, in)}}, nil
}

// Softmax normalizes over Axis (one or several axes). With a mask, masked
// positions get -1e9 added first, as Keras does (the mask broadcasts
// against the input the numpy way).
type Softmax struct {
	layerIdent
	Axis []int
}

func buildSoftmax(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	axis := r.Ints("axis", []int{-1})
	if err := r.Err(); err != nil {
		return nil, err
	}
	if len(axis) == 0 {
		return nil, fmt.Errorf("layer %q: empty axis list: %w", spec.Name, convert.ErrConfig)
	}
	return &Softmax{layerIdent: idOf(spec), Axis: axis}, nil
}

// Call computes the softmax over the configured axes.
func (l *Softmax) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, err := singleInput(call)
	if err != nil {
		return nil, err
	}
	x := in.T
	mask := inputMask(call, in)
	if mask != nil {
		x, err = bcastBinary(x, mask, func(v, m float32) float32 { return v + (1-m)*-1e9 })
		if err != nil {
			return nil, fmt.Errorf("mask: %w", err)
		}
	} else {
		out := ctx.Output(l, 0, x.Shape...)
		copy(out.Data, x.Data)
		x = out
	}
	axes, err := normAxes(l.Axis, x.Rank())
	if err != nil {
		return nil, err
	}
	softmaxAxes(x, axes)
	res := ctx.Values(l, 0, 1)
	res[0] = runtime.Value{T: x, Mask: mask}
	return res, nil
}

// normAxes resolves negative axes against rank and rejects duplicates
// and out-of-range axes.
func normAxes(axes []int, rank int) ([]int, error) {
	out := make([]int, len(axes))
	for i, a := range axes {
		if a < 0 {
			a += rank
		}
		if a < 0 || a >= rank {
			return nil, fmt.Errorf("axis %d out of range for rank %d", axes[i], rank)
		}
		if slices.Contains(out[:i], a) {
			return nil, fmt.Errorf("axis %d repeated", axes[i])
		}
		out[i] = a
	}
	return out, nil
}

// moveAxesLast returns the permutation that keeps the other axes in order
// and puts axes last, and whether it is the identity.
func moveAxesLast(rank int, axes []int) ([]int, bool) {
	perm := make([]int, 0, rank)
	for i := 0; i < rank; i++ {
		if !slices.Contains(axes, i) {
			perm = append(perm, i)
		}
	}
	perm = append(perm, axes...)
	for i, p := range perm {
		if p != i {
			return perm, false
		}
	}
	return perm, true
}

// invertPerm returns the inverse permutation.
func invertPerm(perm []int) []int {
	inv := make([]int, len(perm))
	for i, p := range perm {
		inv[p] = i
	}
	return inv
}

// softmaxAxes replaces x in place with its softmax over axes: exp(x-max)
// divided by its sum, per group of elements that differ only on axes.
func softmaxAxes(x *runtime.Tensor, axes []int) {
	n := 1
	for _, a := range axes {
		n *= x.Shape[a]
	}
	perm, identity := moveAxesLast(x.Rank(), axes)
	if identity {
		softmaxRows(x.Data, n)
		return
	}
	t := transposeTensor(x, perm)
	softmaxRows(t.Data, n)
	copy(x.Data, transposeTensor(t, invertPerm(perm)).Data)
}

// softmaxRows normalizes each row of n values in place.
func softmaxRows(data []float32, n int) {
	if n == 0 {
		return
	}
	for r := 0; r+n <= len(data); r += n {
		row := data[r : r+n]
		m := row[0]
		for _, v := range row[1:] {
			m = max(m, v)
		}
		var sum float64
		for i, v := range row {
			e := math.Exp(float64(v) - float64(m))
			row[i] = float32(e)
			sum += e
		}
		inv := 1 / sum
		for i, v := range row {
			row[i] = float32(float64(v) * inv)
		}
	}
}
