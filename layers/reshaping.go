package layers

import (
	"fmt"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// This file holds Keras' reshaping layers (keras/src/layers/reshaping):
// Flatten, Reshape, Permute, RepeatVector, ZeroPadding1D, Cropping1D and
// UpSampling1D, plus the tensor helpers (transpose, numpy broadcasting) the
// issue-4 layers share. None of these layers supports masking in Keras 3:
// an incoming mask is dropped (Keras warns), so their outputs carry none.

func init() { builtins = append(builtins, registerReshaping) }

func registerReshaping(r *Registry) {
	r.Register("Flatten", buildFlatten)
	r.Register("Reshape", buildReshape)
	r.Register("Permute", buildPermute)
	r.Register("RepeatVector", buildRepeatVector)
	r.Register("ZeroPadding1D", buildZeroPadding1D)
	r.Register("Cropping1D", buildCropping1D)
	r.Register("UpSampling1D", buildUpSampling1D)
}

// Flatten reshapes [batch, d1, ..., dn] to [batch, d1·…·dn], row-major
// (for channels_first the channel axis is moved last first, as Keras does).
type Flatten struct {
	layerIdent
	ChannelsFirst bool
}

func buildFlatten(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	cf, err := dataFormat(spec)
	if err != nil {
		return nil, err
	}
	return &Flatten{layerIdent: idOf(spec), ChannelsFirst: cf}, nil
}

// dataFormat reads data_format and reports channels_first.
func dataFormat(spec *convert.Layer) (bool, error) {
	r := spec.Config.Reader(spec.Name)
	df := r.String("data_format", "channels_last")
	if err := r.Err(); err != nil {
		return false, err
	}
	switch df {
	case "channels_last":
		return false, nil
	case "channels_first":
		return true, nil
	}
	return false, fmt.Errorf("layer %q: data_format %q: want channels_last or channels_first: %w", spec.Name, df, convert.ErrConfig)
}

// Call flattens all axes but the batch axis.
func (l *Flatten) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, err := singleInput(call)
	if err != nil {
		return nil, err
	}
	x := in.T
	if x.Rank() < 1 {
		return nil, fmt.Errorf("input shape %v: want a batch axis", x.Shape)
	}
	if l.ChannelsFirst && x.Rank() > 2 {
		perm := []int{0}
		for i := 2; i < x.Rank(); i++ {
			perm = append(perm, i)
		}
		x = transposeTensor(x, append(perm, 1))
	}
	out := &runtime.Tensor{Shape: []int{x.Shape[0], shapeSize(x.Shape[1:])}, Data: append([]float32(nil), x.Data...)}
	return []runtime.Value{{T: out}}, nil
}

// Reshape gives each sample the TargetShape (one entry may be -1, inferred);
// the data keep their row-major order (a reshape, not a transpose).
type Reshape struct {
	layerIdent
	TargetShape []int
}

func buildReshape(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	ts := r.Ints("target_shape", nil)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if ts == nil {
		return nil, fmt.Errorf("layer %q: missing target_shape: %w", spec.Name, convert.ErrConfig)
	}
	unknown, known := 0, 1
	for _, d := range ts {
		if d < -1 {
			return nil, fmt.Errorf("layer %q: target_shape %v: negative dimension: %w", spec.Name, ts, convert.ErrConfig)
		}
		if d == -1 {
			unknown++
			continue
		}
		// Keep the product exact: it is compared with the input's size.
		if d > 0 && known > (1<<62)/d {
			return nil, fmt.Errorf("layer %q: target_shape %v: too many values: %w", spec.Name, ts, convert.ErrConfig)
		}
		known *= d
	}
	if unknown > 1 {
		return nil, fmt.Errorf("layer %q: target_shape %v: more than one unknown dimension: %w", spec.Name, ts, convert.ErrConfig)
	}
	return &Reshape{layerIdent: idOf(spec), TargetShape: ts}, nil
}

// Call reshapes each sample.
func (l *Reshape) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, err := singleInput(call)
	if err != nil {
		return nil, err
	}
	x := in.T
	if x.Rank() < 1 {
		return nil, fmt.Errorf("input shape %v: want a batch axis", x.Shape)
	}
	per := shapeSize(x.Shape[1:])
	shape := append([]int{x.Shape[0]}, l.TargetShape...)
	known, unknown := 1, -1
	for i, d := range l.TargetShape {
		if d == -1 {
			unknown = i + 1
			continue
		}
		known *= d
	}
	if unknown >= 0 {
		if known == 0 || per%known != 0 {
			return nil, fmt.Errorf("cannot reshape input %v to %v", x.Shape, l.TargetShape)
		}
		shape[unknown] = per / known
	} else if known != per {
		return nil, fmt.Errorf("cannot reshape input %v to %v", x.Shape, l.TargetShape)
	}
	return []runtime.Value{{T: &runtime.Tensor{Shape: shape, Data: append([]float32(nil), x.Data...)}}}, nil
}

// Permute transposes the non-batch axes: Dims lists, 1-based, which input
// axis each output axis takes.
type Permute struct {
	layerIdent
	Dims []int
}

func buildPermute(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	dims := r.Ints("dims", nil)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if len(dims) == 0 {
		return nil, fmt.Errorf("layer %q: missing dims: %w", spec.Name, convert.ErrConfig)
	}
	seen := make([]bool, len(dims)+1)
	for _, d := range dims {
		if d < 1 || d > len(dims) || seen[d] {
			return nil, fmt.Errorf("layer %q: dims %v: want a permutation of 1..%d: %w", spec.Name, dims, len(dims), convert.ErrConfig)
		}
		seen[d] = true
	}
	return &Permute{layerIdent: idOf(spec), Dims: dims}, nil
}

// Call transposes x with the pattern (0, dims...).
func (l *Permute) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, err := singleInput(call)
	if err != nil {
		return nil, err
	}
	if in.T.Rank() != len(l.Dims)+1 {
		return nil, fmt.Errorf("input shape %v: want rank %d", in.T.Shape, len(l.Dims)+1)
	}
	return []runtime.Value{{T: transposeTensor(in.T, append([]int{0}, l.Dims...))}}, nil
}

// RepeatVector repeats a [batch, features] input N times: [batch, N, features].
type RepeatVector struct {
	layerIdent
	N int
}

func buildRepeatVector(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	n := r.Int("n", -1)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if n < 0 || n > 1<<24 {
		return nil, fmt.Errorf("layer %q: n %d: want a repetition count in [0, 2^24]: %w", spec.Name, n, convert.ErrConfig)
	}
	return &RepeatVector{layerIdent: idOf(spec), N: n}, nil
}

// Call repeats each sample N times along a new axis 1.
func (l *RepeatVector) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, err := singleInput(call)
	if err != nil {
		return nil, err
	}
	x := in.T
	if x.Rank() != 2 {
		return nil, fmt.Errorf("input shape %v: want [batch, features]", x.Shape)
	}
	b, f := x.Shape[0], x.Shape[1]
	if err := checkExpanded(b, l.N, f); err != nil {
		return nil, err
	}
	out := ctx.NewTensor(b, l.N, f)
	for i := 0; i < b; i++ {
		row := x.Data[i*f : (i+1)*f]
		for t := 0; t < l.N; t++ {
			copy(out.Data[(i*l.N+t)*f:], row)
		}
	}
	return []runtime.Value{{T: out}}, nil
}

// intPair reads an option that is one integer or a pair (left, right), as
// ZeroPadding1D's padding and Cropping1D's cropping are.
func intPair(spec *convert.Layer, key string, def int) ([2]int, error) {
	r := spec.Config.Reader(spec.Name)
	v := r.Ints(key, []int{def})
	if err := r.Err(); err != nil {
		return [2]int{}, err
	}
	var p [2]int
	switch len(v) {
	case 1:
		p = [2]int{v[0], v[0]}
	case 2:
		p = [2]int{v[0], v[1]}
	default:
		return p, fmt.Errorf("layer %q: %s %v: want an integer or a pair: %w", spec.Name, key, v, convert.ErrConfig)
	}
	if p[0] < 0 || p[1] < 0 || p[0] > 1<<24 || p[1] > 1<<24 {
		return p, fmt.Errorf("layer %q: %s %v: want sizes in [0, 2^24]: %w", spec.Name, key, v, convert.ErrConfig)
	}
	return p, nil
}

// sequenceInput returns the call's single input, checked to be [batch,
// time, features].
func sequenceInput(call *runtime.Call) (*runtime.Tensor, error) {
	in, err := singleInput(call)
	if err != nil {
		return nil, err
	}
	if in.T.Rank() != 3 {
		return nil, fmt.Errorf("input shape %v: want [batch, time, features]", in.T.Shape)
	}
	return in.T, nil
}

// ZeroPadding1D adds Padding[0] zero steps before and Padding[1] after
// axis 1 of [batch, time, features].
type ZeroPadding1D struct {
	layerIdent
	Padding [2]int
}

func buildZeroPadding1D(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	p, err := intPair(spec, "padding", 1)
	if err != nil {
		return nil, err
	}
	return &ZeroPadding1D{layerIdent: idOf(spec), Padding: p}, nil
}

// Call pads the time axis with zeros.
func (l *ZeroPadding1D) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	x, err := sequenceInput(call)
	if err != nil {
		return nil, err
	}
	b, t, f := x.Shape[0], x.Shape[1], x.Shape[2]
	nt := t + l.Padding[0] + l.Padding[1]
	if err := checkExpanded(b, nt, f); err != nil {
		return nil, err
	}
	out := ctx.NewTensor(b, nt, f)
	for i := 0; i < b; i++ {
		copy(out.Data[(i*nt+l.Padding[0])*f:], x.Data[i*t*f:(i+1)*t*f])
	}
	return []runtime.Value{{T: out}}, nil
}

// Cropping1D removes Cropping[0] steps from the start and Cropping[1] from
// the end of axis 1 of [batch, time, features].
type Cropping1D struct {
	layerIdent
	Cropping [2]int
}

func buildCropping1D(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	p, err := intPair(spec, "cropping", 1)
	if err != nil {
		return nil, err
	}
	return &Cropping1D{layerIdent: idOf(spec), Cropping: p}, nil
}

// Call crops the time axis.
func (l *Cropping1D) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	x, err := sequenceInput(call)
	if err != nil {
		return nil, err
	}
	b, t, f := x.Shape[0], x.Shape[1], x.Shape[2]
	nt := t - l.Cropping[0] - l.Cropping[1]
	if nt <= 0 {
		return nil, fmt.Errorf("input shape %v: cropping %v leaves no steps", x.Shape, l.Cropping)
	}
	out := ctx.NewTensor(b, nt, f)
	for i := 0; i < b; i++ {
		copy(out.Data[i*nt*f:(i+1)*nt*f], x.Data[(i*t+l.Cropping[0])*f:])
	}
	return []runtime.Value{{T: out}}, nil
}

// UpSampling1D repeats each step Size times along axis 1.
type UpSampling1D struct {
	layerIdent
	Size int
}

func buildUpSampling1D(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	size := r.Int("size", 2)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if size < 1 || size > 1<<16 {
		return nil, fmt.Errorf("layer %q: size %d: want 1..65536: %w", spec.Name, size, convert.ErrConfig)
	}
	return &UpSampling1D{layerIdent: idOf(spec), Size: size}, nil
}

// Call repeats steps: out[:, t·size+k] = x[:, t].
func (l *UpSampling1D) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	x, err := sequenceInput(call)
	if err != nil {
		return nil, err
	}
	b, t, f := x.Shape[0], x.Shape[1], x.Shape[2]
	nt := t * l.Size
	if err := checkExpanded(b, nt, f); err != nil {
		return nil, err
	}
	out := ctx.NewTensor(b, nt, f)
	for i := 0; i < b; i++ {
		for s := 0; s < t; s++ {
			src := x.Data[(i*t+s)*f : (i*t+s+1)*f]
			for k := 0; k < l.Size; k++ {
				copy(out.Data[(i*nt+s*l.Size+k)*f:], src)
			}
		}
	}
	return []runtime.Value{{T: out}}, nil
}

// maxExpandedElems bounds the output of layers that enlarge their input
// by a factor read from the model file (RepeatVector, UpSampling1D,
// ZeroPadding1D), so that a hostile config cannot demand unbounded memory.
const maxExpandedElems = 1 << 28

// checkExpanded rejects an output shape whose size exceeds maxExpandedElems.
func checkExpanded(shape ...int) error {
	n := 1
	for _, d := range shape {
		if d < 0 || (d > 0 && n > maxExpandedElems/d) {
			return fmt.Errorf("output shape %v exceeds %d values", shape, maxExpandedElems)
		}
		n *= d
	}
	return nil
}

// shapeSize is the number of elements of shape; a shape whose size
// overflows stops the graph run with a *runtime.SizeError.
func shapeSize(shape []int) int { return runtime.MustSize(shape...) }

// rowStrides returns row-major strides for shape.
func rowStrides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

// transposeTensor returns x with its axes permuted: output axis i is input
// axis perm[i], as numpy.transpose.
func transposeTensor(x *runtime.Tensor, perm []int) *runtime.Tensor {
	rank := x.Rank()
	shape := make([]int, rank)
	for i, p := range perm {
		shape[i] = x.Shape[p]
	}
	out := runtime.NewTensor(shape...)
	if len(out.Data) == 0 {
		return out
	}
	in := rowStrides(x.Shape)
	st := make([]int, rank) // source stride of each output axis
	for i, p := range perm {
		st[i] = in[p]
	}
	idx := make([]int, rank)
	src := 0
	for o := range out.Data {
		out.Data[o] = x.Data[src]
		for a := rank - 1; a >= 0; a-- {
			idx[a]++
			src += st[a]
			if idx[a] < shape[a] {
				break
			}
			src -= st[a] * shape[a]
			idx[a] = 0
		}
	}
	return out
}

// bcastShape returns the numpy broadcast of two shapes (trailing axes
// aligned; size-1 axes stretch).
func bcastShape(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// bcastStrides returns, for each axis of out, the stride of shape's
// matching axis (0 where shape lacks the axis or has size 1).
func bcastStrides(shape, out []int) []int {
	st := rowStrides(shape)
	res := make([]int, len(out))
	for i := range out {
		j := len(shape) - len(out) + i
		if j >= 0 && shape[j] != 1 {
			res[i] = st[j]
		}
	}
	return res
}

// bcastBinary applies f elementwise over the numpy broadcast of a and b.
func bcastBinary(a, b *runtime.Tensor, f func(x, y float32) float32) (*runtime.Tensor, error) {
	if len(a.Data) != shapeSize(a.Shape) || len(b.Data) != shapeSize(b.Shape) {
		return nil, fmt.Errorf("tensors %v and %v do not hold their shapes' sizes", a.Shape, b.Shape)
	}
	shape, err := bcastShape(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	out := runtime.NewTensor(shape...)
	if len(out.Data) == 0 {
		return out, nil
	}
	if len(a.Data) == len(out.Data) && len(b.Data) == len(out.Data) && len(a.Shape) == len(b.Shape) {
		for i := range out.Data {
			out.Data[i] = f(a.Data[i], b.Data[i])
		}
		return out, nil
	}
	sa, sb := bcastStrides(a.Shape, shape), bcastStrides(b.Shape, shape)
	idx := make([]int, len(shape))
	ia, ib := 0, 0
	for o := range out.Data {
		out.Data[o] = f(a.Data[ia], b.Data[ib])
		for ax := len(shape) - 1; ax >= 0; ax-- {
			idx[ax]++
			ia += sa[ax]
			ib += sb[ax]
			if idx[ax] < shape[ax] {
				break
			}
			ia -= sa[ax] * shape[ax]
			ib -= sb[ax] * shape[ax]
			idx[ax] = 0
		}
	}
	return out, nil
}

// bcastTo returns a new tensor holding x broadcast to shape.
func bcastTo(x *runtime.Tensor, shape []int) (*runtime.Tensor, error) {
	zero := &runtime.Tensor{Shape: shape, Data: make([]float32, shapeSize(shape))}
	out, err := bcastBinary(zero, x, func(_, b float32) float32 { return b })
	if err != nil {
		return nil, err
	}
	if len(out.Shape) != len(shape) {
		return nil, fmt.Errorf("cannot broadcast %v to %v", x.Shape, shape)
	}
	for i := range shape {
		if out.Shape[i] != shape[i] {
			return nil, fmt.Errorf("cannot broadcast %v to %v", x.Shape, shape)
		}
	}
	return out, nil
}
