package layers

import (
	"fmt"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
	"github.com/rnnkit/rnnkit/runtime/kernel"
)

// This file holds Conv1D (keras/src/layers/convolutional/conv1d.py), on
// the N-d convolution core of conv_nd.go.

func init() { builtins = append(builtins, registerConvolutional) }

func registerConvolutional(r *Registry) {
	r.Register("Conv1D", buildConv1D)
	r.Register("Convolution1D", buildConv1D)
}

// Conv1D is a 1-D cross-correlation (no kernel flip):
// y[b, o, f] = act(Σ_{j,c} x[b, o·strides + j·dilation - padLeft, c] · kernel[j, c, f] + bias[f]).
//
// Keras padding: "valid" none; "same" pads total
// max((ceil(L/s)-1)·s + (k-1)·d + 1 - L, 0), left = total/2, the rest
// right; "causal" pads (k-1)·d on the left. With groups, input channel
// group g feeds only filters of group g. It computes by im2col and one
// matrix multiply per group (conv_nd.go). An input shorter than a "valid"
// window gives zero output steps. Conv1D does not support masking.
type Conv1D struct {
	layerIdent
	Filters, KernelSize, Strides, DilationRate, Groups int
	Padding                                            string
	ChannelsFirst                                      bool
	Activation                                         string
	// Kernel is [kernel_size·in/groups, filters] row-major (Keras' layout
	// read as a matrix); Bias is [filters] or nil.
	Kernel []float32
	Bias   []float32
	inCh   int
	act    ActivationFunc
	core   convCore
}

func buildConv1D(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	r := spec.Config.Reader(spec.Name)
	// Keras 1 names: nb_filter, filter_length, subsample_length,
	// border_mode; Keras 2 and 3 use the names read last.
	filters := r.Int("nb_filter", 0)
	filters = r.Int("filters", filters)
	ks := r.Ints("filter_length", nil)
	ks = r.Ints("kernel_size", ks)
	strides := r.Ints("subsample_length", []int{1})
	strides = r.Ints("strides", strides)
	dil := r.Ints("dilation_rate", []int{1})
	groups := r.Int("groups", 1)
	padding := r.String("border_mode", "valid")
	padding = r.String("padding", padding)
	actName := r.String("activation", "linear")
	useBias := r.Bool("use_bias", true)
	if err := r.Err(); err != nil {
		return nil, err
	}
	cf, err := dataFormat(spec)
	if err != nil {
		return nil, err
	}
	one := func(key string, v []int) (int, error) {
		if len(v) != 1 || v[0] < 1 || v[0] > 1<<20 {
			return 0, fmt.Errorf("layer %q: %s %v: want one positive integer: %w", spec.Name, key, v, convert.ErrConfig)
		}
		return v[0], nil
	}
	l := &Conv1D{layerIdent: idOf(spec), Filters: filters, Groups: groups, Padding: padding, ChannelsFirst: cf, Activation: actName}
	if l.KernelSize, err = one("kernel_size", ks); err != nil {
		return nil, err
	}
	if l.Strides, err = one("strides", strides); err != nil {
		return nil, err
	}
	if l.DilationRate, err = one("dilation_rate", dil); err != nil {
		return nil, err
	}
	if filters < 1 || groups < 1 || filters%groups != 0 {
		return nil, fmt.Errorf("layer %q: filters %d, groups %d: want positive filters divisible by groups: %w", spec.Name, filters, groups, convert.ErrConfig)
	}
	switch padding {
	case "valid", "same", "causal":
	default:
		return nil, fmt.Errorf("layer %q: padding %q: want valid, same or causal: %w", spec.Name, padding, convert.ErrConfig)
	}
	if l.act, err = Activation(actName); err != nil {
		return nil, fmt.Errorf("layer %q: %w", spec.Name, err)
	}
	want, names := 1, "kernel"
	if useBias {
		want, names = 2, "kernel, bias"
	}
	if len(spec.Weights) != want {
		return nil, fmt.Errorf("layer %q: got %d weights, want %d (%s): %w", spec.Name, len(spec.Weights), want, names, convert.ErrWeights)
	}
	k := spec.Weights[0]
	if len(k.Shape) != 3 || k.Shape[0] != l.KernelSize || k.Shape[2] != filters || k.Shape[1] < 1 || len(k.Data) != shapeSize(k.Shape) {
		return nil, fmt.Errorf("layer %q: weight %q: got shape %v, want [%d in/groups %d]: %w", spec.Name, k.Name, k.Shape, l.KernelSize, filters, convert.ErrWeights)
	}
	l.inCh = k.Shape[1] * groups
	l.Kernel = k.Data
	l.core = convCore{inCh: l.inCh, filters: filters, groups: groups, w: k.Data}
	if useBias {
		if l.Bias, err = weightVector(spec, spec.Weights[1], filters); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Call convolves x: [batch, steps, in] (channels_last) → [batch, out steps, filters].
func (l *Conv1D) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, x, err := stepsInput(call, l.ChannelsFirst)
	if err != nil {
		return nil, err
	}
	b, n, c := x.Shape[0], x.Shape[1], x.Shape[2]
	if c != l.inCh {
		return nil, fmt.Errorf("input shape %v: got %d channels, want %d", in.T.Shape, c, l.inCh)
	}
	g := windowGeometryOrEmpty([]int{n}, []int{l.KernelSize}, []int{l.Strides}, []int{l.DilationRate}, l.Padding)
	outLen, f := g.outPositions, l.Filters
	out := ctx.NewTensor(b, outLen, f)
	rows := b * outLen
	if rows > 0 {
		l.core.run(&g, x.Data, b, ctx.Scratch(l, 0, l.core.colsLen(&g, b)), out.Data)
		if l.Bias != nil {
			kernel.AddBias(out.Data, l.Bias)
		}
	}
	fo, err := ActivationOutputDim(l.Activation, f)
	if err != nil {
		return nil, err
	}
	if fo != f {
		// glu halves the filters axis, so it cannot work in place.
		y := ctx.NewTensor(b, outLen, fo)
		if rows > 0 {
			l.act(y.Data, out.Data, f)
		}
		out = y
	} else if rows > 0 {
		l.act(out.Data, out.Data, f)
	}
	if l.ChannelsFirst {
		out = transposeTensor(out, []int{0, 2, 1})
	}
	return []runtime.Value{{T: out}}, nil
}

// stepsInput returns the call's single rank-3 input and, for the
// computation, x: [batch, steps, channels], transposed from [batch,
// channels, steps] when channelsFirst.
func stepsInput(call *runtime.Call, channelsFirst bool) (in runtime.Value, x *runtime.Tensor, err error) {
	if in, err = singleInput(call); err != nil {
		return in, nil, err
	}
	x = in.T
	if x.Rank() != 3 {
		return in, nil, fmt.Errorf("input shape %v: want rank 3", x.Shape)
	}
	if channelsFirst {
		x = transposeTensor(x, []int{0, 2, 1})
	}
	return in, x, nil
}

// windows returns how many windows of span steps, strides apart, Keras
// slides over n steps, and the padding before the first one. "valid"
// (same false): floor((n-span)/strides)+1 windows, none when n < span.
// "same": ceil(n/strides) windows over an input padded by
// max((out-1)·strides+span-n, 0) in total, left = total/2.
func windows(n, span, strides int, same bool) (outLen, padLeft int) {
	if same {
		outLen = (n + strides - 1) / strides
		return outLen, max((outLen-1)*strides+span-n, 0) / 2
	}
	if n >= span {
		outLen = (n-span)/strides + 1
	}
	return outLen, 0
}
