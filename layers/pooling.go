package layers

import (
	"fmt"
	"math"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// This file holds Keras' 1-D pooling layers (keras/src/layers/pooling):
// MaxPooling1D, AveragePooling1D, GlobalMaxPooling1D and
// GlobalAveragePooling1D. Only GlobalAveragePooling1D uses a mask (a
// masked mean); none of them passes a mask on.

func init() { builtins = append(builtins, registerPooling) }

func registerPooling(r *Registry) {
	local := func(isMax bool) Builder {
		return func(s *convert.Layer, _ *Env) (runtime.Layer, error) { return buildPooling1D(s, isMax) }
	}
	global := func(isMax bool) Builder {
		return func(s *convert.Layer, _ *Env) (runtime.Layer, error) { return buildGlobalPooling1D(s, isMax) }
	}
	// Keras registers the short aliases as the same classes.
	r.Register("MaxPooling1D", local(true))
	r.Register("MaxPool1D", local(true))
	r.Register("AveragePooling1D", local(false))
	r.Register("AvgPool1D", local(false))
	r.Register("GlobalMaxPooling1D", global(true))
	r.Register("GlobalMaxPool1D", global(true))
	r.Register("GlobalAveragePooling1D", global(false))
	r.Register("GlobalAvgPool1D", global(false))
}

// Pooling1D is MaxPooling1D or AveragePooling1D over the steps axis.
//
// Keras: "valid" gives floor((L-pool)/strides)+1 windows; "same" gives
// ceil(L/strides) windows over an input padded by
// max((out-1)·strides+pool-L, 0), left = total/2. Padding never wins a max,
// and a "same" average divides by the number of real elements in the window.
type Pooling1D struct {
	layerIdent
	Max           bool
	PoolSize      int
	Strides       int
	Same          bool
	ChannelsFirst bool
}

func buildPooling1D(spec *convert.Layer, isMax bool) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	pool := r.Ints("pool_size", []int{2})
	// Keras 1 names them pool_length and stride.
	if spec.Config.Has("pool_length") {
		pool = r.Ints("pool_length", pool)
	}
	strides := r.Ints("strides", nil)
	if strides == nil && spec.Config.Has("stride") {
		strides = r.Ints("stride", nil)
	}
	padding := r.String("padding", r.String("border_mode", "valid"))
	if err := r.Err(); err != nil {
		return nil, err
	}
	cf, err := dataFormat(spec)
	if err != nil {
		return nil, err
	}
	if len(pool) != 1 || pool[0] < 1 || pool[0] > 1<<20 {
		return nil, fmt.Errorf("layer %q: pool_size %v: want one positive integer: %w", spec.Name, pool, convert.ErrConfig)
	}
	if strides == nil {
		strides = pool
	}
	if len(strides) != 1 || strides[0] < 1 || strides[0] > 1<<20 {
		return nil, fmt.Errorf("layer %q: strides %v: want one positive integer: %w", spec.Name, strides, convert.ErrConfig)
	}
	l := &Pooling1D{layerIdent: idOf(spec), Max: isMax, PoolSize: pool[0], Strides: strides[0], ChannelsFirst: cf}
	switch padding {
	case "valid":
	case "same":
		l.Same = true
	default:
		return nil, fmt.Errorf("layer %q: padding %q: want valid or same: %w", spec.Name, padding, convert.ErrConfig)
	}
	return l, nil
}

// Call pools x: [batch, steps, features] (channels_last) or
// [batch, features, steps] (channels_first).
func (l *Pooling1D) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	_, x, err := stepsInput(call, l.ChannelsFirst)
	if err != nil {
		return nil, err
	}
	b, n, f := x.Shape[0], x.Shape[1], x.Shape[2]
	outLen, padLeft := windows(n, l.PoolSize, l.Strides, l.Same)
	out := ctx.NewTensor(b, outLen, f)
	for i := 0; i < b; i++ {
		for o := 0; o < outLen; o++ {
			start := o*l.Strides - padLeft
			lo, hi := max(start, 0), min(start+l.PoolSize, n)
			dst := out.Data[(i*outLen+o)*f : (i*outLen+o+1)*f]
			if l.Max {
				maxSteps(dst, x.Data, i*n+lo, i*n+hi, f)
				continue
			}
			for s := lo; s < hi; s++ {
				for c, v := range x.Data[(i*n+s)*f : (i*n+s+1)*f] {
					dst[c] += v
				}
			}
			inv := 1 / float32(hi-lo)
			for c := range dst {
				dst[c] *= inv
			}
		}
	}
	if l.ChannelsFirst {
		out = transposeTensor(out, []int{0, 2, 1})
	}
	return []runtime.Value{{T: out}}, nil
}

// maxSteps sets dst to the elementwise max of rows lo..hi-1 of x (rows of
// f values); NaN wins, as in numpy.
func maxSteps(dst, x []float32, lo, hi, f int) {
	for c := range dst {
		dst[c] = float32(math.Inf(-1))
	}
	for s := lo; s < hi; s++ {
		for c, v := range x[s*f : (s+1)*f] {
			if v > dst[c] || v != v {
				dst[c] = v
			}
		}
	}
}

// GlobalPooling1D is GlobalMaxPooling1D or GlobalAveragePooling1D over the
// steps axis. Keras: the average is masked (sum of unmasked steps divided
// by their count); the max ignores the mask and takes all steps.
type GlobalPooling1D struct {
	layerIdent
	Max           bool
	KeepDims      bool
	ChannelsFirst bool
}

func buildGlobalPooling1D(spec *convert.Layer, isMax bool) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	keep := r.Bool("keepdims", false)
	if err := r.Err(); err != nil {
		return nil, err
	}
	cf, err := dataFormat(spec)
	if err != nil {
		return nil, err
	}
	return &GlobalPooling1D{layerIdent: idOf(spec), Max: isMax, KeepDims: keep, ChannelsFirst: cf}, nil
}

// Call reduces the steps axis: [batch, steps, features] → [batch, features]
// ([batch, 1, features] with keepdims).
func (l *GlobalPooling1D) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, x, err := stepsInput(call, l.ChannelsFirst)
	if err != nil {
		return nil, err
	}
	var mask *runtime.Tensor
	if !l.Max {
		mask = inputMask(call, in)
	}
	b, n, f := x.Shape[0], x.Shape[1], x.Shape[2]
	if mask != nil && (mask.Len() != b*n || mask.Rank() != 2 || mask.Shape[0] != b) {
		return nil, fmt.Errorf("mask shape %v: want [%d %d]", mask.Shape, b, n)
	}
	out := ctx.NewTensor(b, f)
	for i := 0; i < b; i++ {
		dst := out.Data[i*f : (i+1)*f]
		if l.Max {
			maxSteps(dst, x.Data, i*n, (i+1)*n, f)
			continue
		}
		var count float32
		for s := 0; s < n; s++ {
			w := float32(1)
			if mask != nil {
				w = mask.Data[i*n+s]
			}
			count += w
			if w == 0 {
				continue
			}
			for c, v := range x.Data[(i*n+s)*f : (i*n+s+1)*f] {
				dst[c] += v * w
			}
		}
		// A fully masked row divides 0 by 0 and gives NaN, as in Keras.
		for c := range dst {
			dst[c] /= count
		}
	}
	if l.KeepDims {
		if l.ChannelsFirst {
			out.Shape = []int{b, f, 1}
		} else {
			out.Shape = []int{b, 1, f}
		}
	}
	return []runtime.Value{{T: out}}, nil
}
