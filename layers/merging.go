package layers

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
	"github.com/rnnkit/rnnkit/runtime/kernel"
)

// This file holds Keras' merge layers (keras/src/layers/merging): Add,
// Subtract, Multiply, Average, Maximum, Minimum, Concatenate and Dot.
//
// Their output mask depends on the Keras version that wrote the model:
// tf.keras 2, multi-backend Keras and Keras 3 before 3.4 AND the masks that
// are present; Keras 3.4 and later OR them and give no mask when any input
// is unmasked (Concatenate: any over the last axis instead of all). From
// 3.4 on, Multiply, Maximum and Minimum also ignore masked-out values.

func init() { builtins = append(builtins, registerMerging) }

func registerMerging(r *Registry) {
	for _, op := range []mergeOp{mergeAdd, mergeSubtract, mergeMultiply, mergeAverage, mergeMaximum, mergeMinimum} {
		r.Register(op.String(), func(spec *convert.Layer, env *Env) (runtime.Layer, error) {
			return buildMerge(spec, env, op)
		})
	}
	r.Register("Concatenate", buildConcatenate)
	r.Register("Dot", buildDot)
}

// kerasAtLeast reports whether the writer's Keras version is at least
// major.minor. An empty or unparsable version means the latest Keras.
func kerasAtLeast(version string, major, minor int) bool {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return true
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return true
	}
	return ma > major || (ma == major && mi >= minor)
}

// modernMergeMasks reports whether the writer uses Keras ≥ 3.4 merge masks.
func modernMergeMasks(env *Env) bool {
	return env == nil || kerasAtLeast(env.KerasVersion, 3, 4)
}

type mergeOp int

const (
	mergeAdd mergeOp = iota
	mergeSubtract
	mergeMultiply
	mergeAverage
	mergeMaximum
	mergeMinimum
)

func (op mergeOp) String() string {
	return [...]string{"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}[op]
}

// Merge is an elementwise merge layer (Add, Subtract, Multiply, Average,
// Maximum, Minimum). Inputs of lower rank get size-1 axes inserted at axis
// 1 and everything broadcasts, as Keras does.
type Merge struct {
	layerIdent
	op mergeOp
	// orMasks selects Keras ≥ 3.4 mask handling.
	orMasks bool
}

func buildMerge(spec *convert.Layer, env *Env, op mergeOp) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	return &Merge{layerIdent: idOf(spec), op: op, orMasks: modernMergeMasks(env)}, nil
}

// Call merges the input list: each x [batch, ...], broadcast together.
func (l *Merge) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in := call.Inputs()
	if len(in) < 1 {
		return nil, fmt.Errorf("got no inputs, want a list of tensors")
	}
	if l.op == mergeSubtract && len(in) != 2 {
		return nil, fmt.Errorf("got %d inputs, want exactly 2", len(in))
	}
	masks := inputMasks(call, in)
	allMasked := true
	for i, v := range in {
		if v.T == nil {
			return nil, fmt.Errorf("input %d is not a tensor", i)
		}
		if err := checkMask(masks[i], v.T); err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		if v.T.Rank() < 1 || v.T.Shape[0] != in[0].T.Shape[0] {
			return nil, fmt.Errorf("input shapes %v and %v: batch sizes differ", in[0].T.Shape, v.T.Shape)
		}
		if masks[i] == nil {
			allMasked = false
		}
	}
	xs := sameRank(in)
	outMask, err := l.outputMask(masks)
	if err != nil {
		return nil, err
	}
	var out *runtime.Tensor
	switch {
	case l.orMasks && l.op == mergeMultiply && allMasked:
		out, err = maskedMultiply(xs, masks)
	case l.orMasks && (l.op == mergeMaximum || l.op == mergeMinimum):
		out, err = l.maskedExtremum(xs, masks)
	default:
		out, err = l.plain(xs)
	}
	if err != nil {
		return nil, err
	}
	return []runtime.Value{{T: out, Mask: outMask}}, nil
}

// sameRank expands lower-rank inputs at axis 1 until all ranks match.
func sameRank(in []runtime.Value) []*runtime.Tensor {
	rank := 0
	for _, v := range in {
		rank = max(rank, v.T.Rank())
	}
	xs := make([]*runtime.Tensor, len(in))
	for i, v := range in {
		x := v.T
		if x.Rank() < rank {
			shape := []int{x.Shape[0]}
			for j := x.Rank(); j < rank; j++ {
				shape = append(shape, 1)
			}
			shape = append(shape, x.Shape[1:]...)
			x = &runtime.Tensor{Shape: shape, Data: x.Data}
		}
		xs[i] = x
	}
	return xs
}

func (l *Merge) binary() func(a, b float32) float32 {
	switch l.op {
	case mergeSubtract:
		return func(a, b float32) float32 { return a - b }
	case mergeMultiply:
		return func(a, b float32) float32 { return a * b }
	case mergeMaximum:
		return func(a, b float32) float32 { return max(a, b) }
	case mergeMinimum:
		return func(a, b float32) float32 { return min(a, b) }
	}
	return func(a, b float32) float32 { return a + b }
}

func (l *Merge) plain(xs []*runtime.Tensor) (*runtime.Tensor, error) {
	f := l.binary()
	out := xs[0].Clone()
	for _, x := range xs[1:] {
		var err error
		if out, err = bcastBinary(out, x, f); err != nil {
			return nil, err
		}
	}
	if l.op == mergeAverage {
		n := float32(len(xs))
		for i := range out.Data {
			out.Data[i] /= n
		}
	}
	return out, nil
}

// expandMask broadcasts a [batch, ...] mask over x by adding a last axis.
func expandMask(m, x *runtime.Tensor) (*runtime.Tensor, error) {
	return bcastTo(&runtime.Tensor{Shape: append(append([]int(nil), m.Shape...), 1), Data: m.Data}, x.Shape)
}

func orF(a, b float32) float32 {
	if a != 0 || b != 0 {
		return 1
	}
	return 0
}

func andF(a, b float32) float32 {
	if a != 0 && b != 0 {
		return 1
	}
	return 0
}

// maskedMultiply is Keras ≥ 3.4 Multiply with every input masked: masked
// values count as 1, and the product is zeroed where no input is valid.
func maskedMultiply(xs []*runtime.Tensor, masks []*runtime.Tensor) (*runtime.Tensor, error) {
	var out, outMask *runtime.Tensor
	for i, x := range xs {
		m, err := expandMask(masks[i], x)
		if err != nil {
			return nil, err
		}
		xm, err := bcastBinary(x, m, func(v, k float32) float32 {
			if k != 0 {
				return v
			}
			return 1
		})
		if err != nil {
			return nil, err
		}
		if out == nil {
			out, outMask = xm, m
			continue
		}
		if out, err = bcastBinary(out, xm, func(a, b float32) float32 { return a * b }); err != nil {
			return nil, err
		}
		if outMask, err = bcastBinary(outMask, m, orF); err != nil {
			return nil, err
		}
	}
	return bcastBinary(out, outMask, func(v, k float32) float32 {
		if k != 0 {
			return v
		}
		return 0
	})
}

// maskedExtremum is Keras ≥ 3.4 Maximum/Minimum: a masked-out value is
// replaced by the other operand before the op, so it never wins.
func (l *Merge) maskedExtremum(xs []*runtime.Tensor, masks []*runtime.Tensor) (*runtime.Tensor, error) {
	f := l.binary()
	var out, outMask *runtime.Tensor
	for i, x := range xs {
		var m *runtime.Tensor
		if masks[i] != nil {
			var err error
			if m, err = expandMask(masks[i], x); err != nil {
				return nil, err
			}
		}
		if out == nil {
			out, outMask = x.Clone(), m
			continue
		}
		shape, err := bcastShape(out.Shape, x.Shape)
		if err != nil {
			return nil, err
		}
		ob, err := bcastTo(out, shape)
		if err != nil {
			return nil, err
		}
		xb, err := bcastTo(x, shape)
		if err != nil {
			return nil, err
		}
		if m != nil {
			mb, err := bcastTo(m, shape)
			if err != nil {
				return nil, err
			}
			for j := range xb.Data {
				if mb.Data[j] == 0 {
					xb.Data[j] = ob.Data[j]
				}
			}
		}
		if outMask != nil {
			omb, err := bcastTo(outMask, shape)
			if err != nil {
				return nil, err
			}
			for j := range ob.Data {
				if omb.Data[j] == 0 {
					ob.Data[j] = xb.Data[j]
				}
			}
		}
		if m != nil && outMask != nil {
			if outMask, err = bcastBinary(outMask, m, orF); err != nil {
				return nil, err
			}
		} else {
			outMask = nil
		}
		for j := range ob.Data {
			ob.Data[j] = f(ob.Data[j], xb.Data[j])
		}
		out = ob
	}
	return out, nil
}

// outputMask combines the input masks the way the writer's Keras did.
func (l *Merge) outputMask(masks []*runtime.Tensor) (*runtime.Tensor, error) {
	var present []*runtime.Tensor
	for _, m := range masks {
		if m != nil {
			present = append(present, m)
		} else if l.orMasks {
			return nil, nil
		}
	}
	if len(present) == 0 {
		return nil, nil
	}
	f := andF
	if l.orMasks {
		f = orF
	}
	out := present[0].Clone()
	for _, m := range present[1:] {
		var err error
		if out, err = bcastBinary(out, m, f); err != nil {
			return nil, fmt.Errorf("masks: %w", err)
		}
	}
	return out, nil
}

// Concatenate joins its inputs along Axis.
type Concatenate struct {
	layerIdent
	Axis    int
	orMasks bool
}

func buildConcatenate(spec *convert.Layer, env *Env) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	axis := r.Int("axis", -1)
	if err := r.Err(); err != nil {
		return nil, err
	}
	return &Concatenate{layerIdent: idOf(spec), Axis: axis, orMasks: modernMergeMasks(env)}, nil
}

// Call concatenates; all inputs have the same shape except on Axis.
func (l *Concatenate) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in := call.Inputs()
	if len(in) < 1 {
		return nil, fmt.Errorf("got no inputs, want a list of tensors")
	}
	xs := make([]*runtime.Tensor, len(in))
	for i, v := range in {
		if v.T == nil {
			return nil, fmt.Errorf("input %d is not a tensor", i)
		}
		xs[i] = v.T
	}
	axis := l.Axis
	if axis < 0 {
		axis += xs[0].Rank()
	}
	if axis < 0 || axis >= xs[0].Rank() {
		return nil, fmt.Errorf("axis %d out of range for input shape %v", l.Axis, xs[0].Shape)
	}
	out, err := concatAxis(xs, axis)
	if err != nil {
		return nil, err
	}
	mask, err := l.outputMask(xs, inputMasks(call, in), axis)
	if err != nil {
		return nil, err
	}
	return []runtime.Value{{T: out, Mask: mask}}, nil
}

// concatAxis concatenates tensors of equal rank along axis.
func concatAxis(xs []*runtime.Tensor, axis int) (*runtime.Tensor, error) {
	shape := append([]int(nil), xs[0].Shape...)
	shape[axis] = 0
	for _, x := range xs {
		if x.Rank() != len(shape) || len(x.Data) != shapeSize(x.Shape) {
			return nil, fmt.Errorf("input shapes %v and %v: ranks differ", xs[0].Shape, x.Shape)
		}
		for i, d := range x.Shape {
			if i != axis && d != shape[i] {
				return nil, fmt.Errorf("input shapes %v and %v differ off the concatenation axis %d", xs[0].Shape, x.Shape, axis)
			}
		}
		shape[axis] += x.Shape[axis]
	}
	out := runtime.NewTensor(shape...)
	outer := shapeSize(shape[:axis])
	inner := shapeSize(shape[axis+1:])
	row := shape[axis] * inner
	off := 0
	for _, x := range xs {
		chunk := x.Shape[axis] * inner
		for o := 0; o < outer; o++ {
			copy(out.Data[o*row+off:o*row+off+chunk], x.Data[o*chunk:(o+1)*chunk])
		}
		off += chunk
	}
	return out, nil
}

// outputMask is Keras' Concatenate.compute_mask: each input's mask (all
// true when missing) is broadcast to the input's shape, the masks are
// concatenated on the axis, then reduced over the last axis (any from
// Keras 3.4, all before).
func (l *Concatenate) outputMask(xs []*runtime.Tensor, masks []*runtime.Tensor, axis int) (*runtime.Tensor, error) {
	some := false
	for _, m := range masks {
		if m != nil {
			some = true
		}
	}
	if !some {
		return nil, nil
	}
	full := make([]*runtime.Tensor, len(xs))
	for i, x := range xs {
		m := masks[i]
		switch {
		case m == nil:
			t := runtime.NewTensor(x.Shape...)
			for j := range t.Data {
				t.Data[j] = 1
			}
			full[i] = t
		case m.Rank() < x.Rank():
			if err := checkMask(m, x); err != nil {
				return nil, fmt.Errorf("input %d: %w", i, err)
			}
			e, err := expandMask(m, x)
			if err != nil {
				return nil, fmt.Errorf("input %d mask: %w", i, err)
			}
			full[i] = e
		default:
			full[i] = m
		}
	}
	cat, err := concatAxis(full, axis)
	if err != nil {
		return nil, fmt.Errorf("masks: %w", err)
	}
	last := cat.Shape[cat.Rank()-1]
	out := runtime.NewTensor(cat.Shape[:cat.Rank()-1]...)
	for r := range out.Data {
		row := cat.Data[r*last : (r+1)*last]
		v := float32(0)
		if l.orMasks {
			for _, b := range row {
				if b != 0 {
					v = 1
					break
				}
			}
		} else {
			v = 1
			for _, b := range row {
				if b == 0 {
					v = 0
					break
				}
			}
		}
		out.Data[r] = v
	}
	return out, nil
}

// Dot is Keras' batchwise dot product of two inputs over Axes (one axis
// per input, never the batch axis), optionally of L2-normalized inputs
// (cosine similarity). Its output carries no mask.
type Dot struct {
	layerIdent
	Axes      [2]int
	Normalize bool
}

func buildDot(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	axes := r.Ints("axes", []int{-1})
	norm := r.Bool("normalize", false)
	if err := r.Err(); err != nil {
		return nil, err
	}
	var a [2]int
	switch len(axes) {
	case 1:
		a = [2]int{axes[0], axes[0]}
	case 2:
		a = [2]int{axes[0], axes[1]}
	default:
		return nil, fmt.Errorf("layer %q: axes %v: want an integer or a pair: %w", spec.Name, axes, convert.ErrConfig)
	}
	return &Dot{layerIdent: idOf(spec), Axes: a, Normalize: norm}, nil
}

// Call computes the batch dot product. x: [batch, ...] and y: [batch, ...];
// the output holds x's remaining axes then y's (a [batch, 1] result when
// both inputs are 2-D).
func (l *Dot) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in := call.Inputs()
	if len(in) != 2 || in[0].T == nil || in[1].T == nil {
		return nil, fmt.Errorf("got %d inputs, want exactly 2 tensors", len(in))
	}
	x, y := in[0].T, in[1].T
	if x.Rank() < 2 || y.Rank() < 2 {
		return nil, fmt.Errorf("input shapes %v and %v: want rank ≥ 2", x.Shape, y.Shape)
	}
	if x.Shape[0] != y.Shape[0] {
		return nil, fmt.Errorf("input shapes %v and %v: batch sizes differ", x.Shape, y.Shape)
	}
	a0, a1 := l.Axes[0], l.Axes[1]
	if a0 < 0 {
		a0 += x.Rank()
	}
	if a1 < 0 {
		a1 += y.Rank()
	}
	if a0 < 1 || a0 >= x.Rank() || a1 < 1 || a1 >= y.Rank() {
		return nil, fmt.Errorf("axes %v out of range for shapes %v and %v (axis 0 is the batch)", l.Axes, x.Shape, y.Shape)
	}
	if x.Shape[a0] != y.Shape[a1] {
		return nil, fmt.Errorf("input shapes %v and %v: axis sizes %d and %d differ", x.Shape, y.Shape, x.Shape[a0], y.Shape[a1])
	}
	if l.Normalize {
		x, y = l2Normalize(x, a0), l2Normalize(y, a1)
	}
	// Move x's contracted axis last and y's to axis 1: X [b, mx, k], Y [b, k, my].
	px := []int{0}
	for i := 1; i < x.Rank(); i++ {
		if i != a0 {
			px = append(px, i)
		}
	}
	xt := transposeTensor(x, append(px, a0))
	py := []int{0, a1}
	for i := 1; i < y.Rank(); i++ {
		if i != a1 {
			py = append(py, i)
		}
	}
	yt := transposeTensor(y, py)
	b, k := x.Shape[0], x.Shape[a0]
	xRest, yRest := xt.Shape[1:xt.Rank()-1], yt.Shape[2:]
	mx, my := shapeSize(xRest), shapeSize(yRest)
	shape := append(append([]int{b}, xRest...), yRest...)
	if len(shape) == 1 {
		shape = append(shape, 1)
	}
	out := ctx.NewTensor(shape...)
	if mx > 0 && my > 0 {
		for i := 0; i < b; i++ {
			kernel.MatMul(mx, my, k, xt.Data[i*mx*k:], max(1, k), yt.Data[i*k*my:], my, out.Data[i*mx*my:], my, false)
		}
	}
	return []runtime.Value{{T: out}}, nil
}

// l2Normalize divides x by its L2 norm along axis, as Keras'
// ops.normalize: x / sqrt(max(Σx², 1e-7)), epsilon on the squared sum.
func l2Normalize(x *runtime.Tensor, axis int) *runtime.Tensor {
	out := x.Clone()
	outer := shapeSize(x.Shape[:axis])
	n := x.Shape[axis]
	inner := shapeSize(x.Shape[axis+1:])
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*n*inner + i
			var s float64
			for j := 0; j < n; j++ {
				v := float64(x.Data[base+j*inner])
				s += v * v
			}
			inv := 1 / math.Sqrt(math.Max(s, 1e-7))
			for j := 0; j < n; j++ {
				out.Data[base+j*inner] = float32(float64(x.Data[base+j*inner]) * inv)
			}
		}
	}
	return out
}
