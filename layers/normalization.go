package layers

import (
	"fmt"
	"math"
	"slices"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// This file holds Keras' normalization layers at inference:
// LayerNormalization and BatchNormalization (moving statistics). Both
// support masking: the output carries the input's mask.

func init() { builtins = append(builtins, registerNormalization) }

func registerNormalization(r *Registry) {
	r.Register("LayerNormalization", buildLayerNormalization)
	r.Register("BatchNormalization", buildBatchNormalization)
}

// weightVector checks that w is a vector of n values and returns its data.
func weightVector(spec *convert.Layer, w convert.Weight, n int) ([]float32, error) {
	if len(w.Shape) != 1 || w.Shape[0] != n || len(w.Data) != n {
		return nil, fmt.Errorf("layer %q: weight %q: got shape %v, want [%d]: %w", spec.Name, w.Name, w.Shape, n, convert.ErrWeights)
	}
	return w.Data, nil
}

// LayerNormalization normalizes each sample over Axis:
// y = (x - mean) / sqrt(var + epsilon) · gamma + beta, with the biased
// (1/n) variance. Keras 3's rms_scaling computes y = x / sqrt(var + epsilon)
// · gamma: the variance, not the mean square (Keras warns about it), and
// no beta.
type LayerNormalization struct {
	layerIdent
	Axis       []int
	Epsilon    float64
	RMSScaling bool
	// Gamma and Beta have the normalized axes' shape, or are nil when
	// scale or center is off.
	Gamma, Beta *runtime.Tensor
}

func buildLayerNormalization(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	r := spec.Config.Reader(spec.Name)
	axis := r.Ints("axis", []int{-1})
	eps := r.Float("epsilon", 1e-3)
	center := r.Bool("center", true)
	scale := r.Bool("scale", true)
	rms := r.Bool("rms_scaling", false)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if len(axis) == 0 {
		return nil, fmt.Errorf("layer %q: empty axis list: %w", spec.Name, convert.ErrConfig)
	}
	if eps < 0 {
		return nil, fmt.Errorf("layer %q: epsilon %v: want ≥ 0: %w", spec.Name, eps, convert.ErrConfig)
	}
	if rms {
		// Keras 3: rms_scaling always has gamma and never beta.
		scale, center = true, false
	}
	want := 0
	if scale {
		want++
	}
	if center {
		want++
	}
	if len(spec.Weights) != want {
		return nil, fmt.Errorf("layer %q: got %d weights, want %d (scale=%v, center=%v): %w",
			spec.Name, len(spec.Weights), want, scale, center, convert.ErrWeights)
	}
	l := &LayerNormalization{layerIdent: idOf(spec), Axis: axis, Epsilon: eps, RMSScaling: rms}
	var shape []int
	for i, w := range spec.Weights {
		t, err := runtime.FromData(w.Data, w.Shape...)
		if err != nil {
			return nil, fmt.Errorf("layer %q: weight %q: %v: %w", spec.Name, w.Name, err, convert.ErrWeights)
		}
		if shape == nil {
			shape = w.Shape
		} else if !slices.Equal(shape, w.Shape) {
			return nil, fmt.Errorf("layer %q: weight %q: got shape %v, want %v: %w", spec.Name, w.Name, w.Shape, shape, convert.ErrWeights)
		}
		if i == 0 && scale {
			l.Gamma = t
		} else {
			l.Beta = t
		}
	}
	return l, nil
}

// Call normalizes x (any rank) over the configured axes.
func (l *LayerNormalization) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, err := singleInput(call)
	if err != nil {
		return nil, err
	}
	x := in.T
	axes, err := normAxes(l.Axis, x.Rank())
	if err != nil {
		return nil, err
	}
	slices.Sort(axes)
	n := 1
	for _, a := range axes {
		n *= x.Shape[a]
	}
	for _, p := range []*runtime.Tensor{l.Gamma, l.Beta} {
		if p != nil && p.Len() != n {
			return nil, fmt.Errorf("input shape %v: normalized axes %v hold %d values, weights have shape %v", x.Shape, l.Axis, n, p.Shape)
		}
	}
	// Move the normalized axes last so that each group is a contiguous row;
	// gamma and beta then index the row directly.
	perm, identity := moveAxesLast(x.Rank(), axes)
	var t *runtime.Tensor
	if identity {
		t = x.Clone()
	} else {
		t = transposeTensor(x, perm)
	}
	for r := 0; n > 0 && r+n <= len(t.Data); r += n {
		l.normalizeRow(t.Data[r : r+n])
	}
	if !identity {
		t = transposeTensor(t, invertPerm(perm))
	}
	return []runtime.Value{{T: t, Mask: inputMask(call, in)}}, nil
}

func (l *LayerNormalization) normalizeRow(row []float32) {
	n := float64(len(row))
	var mean, sq float64
	for _, v := range row {
		mean += float64(v)
	}
	mean /= n
	for _, v := range row {
		d := float64(v) - mean
		sq += d * d
	}
	inv := 1 / math.Sqrt(sq/n+l.Epsilon)
	if l.RMSScaling {
		mean = 0 // Keras scales x itself
	}
	for i, v := range row {
		y := (float64(v) - mean) * inv
		if l.Gamma != nil {
			y *= float64(l.Gamma.Data[i])
		}
		if l.Beta != nil {
			y += float64(l.Beta.Data[i])
		}
		row[i] = float32(y)
	}
}

// BatchNormalization at inference: per channel on Axis,
// y = (x - moving_mean) / sqrt(moving_variance + epsilon) · gamma + beta,
// folded at load time into y = x·Scale + Offset as Keras' numpy backend
// computes it.
type BatchNormalization struct {
	layerIdent
	Axis          int
	Scale, Offset []float32
}

func buildBatchNormalization(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	r := spec.Config.Reader(spec.Name)
	axis := r.Ints("axis", []int{-1})
	eps := r.Float("epsilon", 1e-3)
	center := r.Bool("center", true)
	scale := r.Bool("scale", true)
	mode := r.Int("mode", 0)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if mode != 0 {
		// Keras 1 modes 1 and 2 normalize with batch statistics even at
		// inference.
		return nil, fmt.Errorf("layer %q: Keras 1 BatchNormalization mode %d: %w", spec.Name, mode, convert.ErrUnsupported)
	}
	if len(axis) != 1 {
		return nil, fmt.Errorf("layer %q: axis %v: want one axis: %w", spec.Name, axis, convert.ErrUnsupported)
	}
	if eps < 0 {
		return nil, fmt.Errorf("layer %q: epsilon %v: want ≥ 0: %w", spec.Name, eps, convert.ErrConfig)
	}
	want := 2
	if scale {
		want++
	}
	if center {
		want++
	}
	if len(spec.Weights) != want {
		return nil, fmt.Errorf("layer %q: got %d weights, want %d (scale=%v, center=%v, moving mean and variance): %w",
			spec.Name, len(spec.Weights), want, scale, center, convert.ErrWeights)
	}
	if len(spec.Weights[0].Shape) != 1 {
		return nil, fmt.Errorf("layer %q: weight %q: got shape %v, want a vector: %w", spec.Name, spec.Weights[0].Name, spec.Weights[0].Shape, convert.ErrWeights)
	}
	c := spec.Weights[0].Shape[0]
	vecs := make([][]float32, len(spec.Weights))
	for i, w := range spec.Weights {
		v, err := weightVector(spec, w, c)
		if err != nil {
			return nil, err
		}
		vecs[i] = v
	}
	var gamma, beta []float32
	if scale {
		gamma, vecs = vecs[0], vecs[1:]
	}
	if center {
		beta, vecs = vecs[0], vecs[1:]
	}
	mean, variance := vecs[0], vecs[1]
	l := &BatchNormalization{layerIdent: idOf(spec), Axis: axis[0], Scale: make([]float32, c), Offset: make([]float32, c)}
	for k := 0; k < c; k++ {
		// Keras: inv = gamma/sqrt(var+eps); y = x·inv + (beta - mean·inv).
		inv := float32(1 / math.Sqrt(float64(variance[k])+eps))
		if gamma != nil {
			inv *= gamma[k]
		}
		off := -mean[k] * inv
		if beta != nil {
			off += beta[k]
		}
		l.Scale[k], l.Offset[k] = inv, off
	}
	return l, nil
}

// Call normalizes x (any rank) per channel of Axis.
func (l *BatchNormalization) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, err := singleInput(call)
	if err != nil {
		return nil, err
	}
	x := in.T
	axis := l.Axis
	if axis < 0 {
		axis += x.Rank()
	}
	if axis < 0 || axis >= x.Rank() || x.Shape[axis] != len(l.Scale) {
		return nil, fmt.Errorf("input shape %v: axis %d does not have %d channels", x.Shape, l.Axis, len(l.Scale))
	}
	out := ctx.NewTensor(x.Shape...)
	c := len(l.Scale)
	inner := shapeSize(x.Shape[axis+1:])
	for i, v := range x.Data {
		k := (i / inner) % c
		out.Data[i] = v*l.Scale[k] + l.Offset[k]
	}
	return []runtime.Value{{T: out, Mask: inputMask(call, in)}}, nil
}
