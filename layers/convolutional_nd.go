package layers

import (
	"fmt"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// This file holds Keras' convolution layers beyond Conv1D
// (keras/src/layers/convolutional): Conv2D and Conv3D, DepthwiseConv1D/2D,
// SeparableConv1D/2D and Conv1D/2D/3DTranspose, all on the N-d core of
// conv_nd.go. None of them supports masking: the output carries no mask.

func init() { builtins = append(builtins, registerConvolutionalND) }

func registerConvolutionalND(r *Registry) {
	conv := func(rank int) Builder {
		return func(s *convert.Layer, _ *Env) (runtime.Layer, error) { return buildConv(s, rank) }
	}
	depthwise := func(rank int) Builder {
		return func(s *convert.Layer, _ *Env) (runtime.Layer, error) { return buildDepthwiseConv(s, rank) }
	}
	separable := func(rank int) Builder {
		return func(s *convert.Layer, _ *Env) (runtime.Layer, error) { return buildSeparableConv(s, rank) }
	}
	transpose := func(rank int) Builder {
		return func(s *convert.Layer, _ *Env) (runtime.Layer, error) { return buildConvTranspose(s, rank) }
	}
	// Keras registers the long names as aliases of the same classes.
	for _, c := range []struct {
		names []string
		b     Builder
	}{
		{[]string{"Conv2D", "Convolution2D"}, conv(2)},
		{[]string{"Conv3D", "Convolution3D"}, conv(3)},
		{[]string{"DepthwiseConv1D"}, depthwise(1)},
		{[]string{"DepthwiseConv2D"}, depthwise(2)},
		{[]string{"SeparableConv1D", "SeparableConvolution1D"}, separable(1)},
		{[]string{"SeparableConv2D", "SeparableConvolution2D"}, separable(2)},
		{[]string{"Conv1DTranspose", "Convolution1DTranspose"}, transpose(1)},
		{[]string{"Conv2DTranspose", "Convolution2DTranspose"}, transpose(2)},
		{[]string{"Conv3DTranspose", "Convolution3DTranspose"}, transpose(3)},
	} {
		for _, n := range c.names {
			r.Register(n, c.b)
		}
	}
}

// Conv is Conv2D or Conv3D (and Conv1D's computation): a cross-correlation
// of rank Rank, y = act(conv(x, kernel) + bias), with Keras' padding,
// strides, dilation and groups (conv_nd.go).
type Conv struct {
	layerIdent
	Rank, Filters, Groups             int
	KernelSize, Strides, DilationRate []int
	Padding                           string
	ChannelsFirst                     bool
	Activation                        string
	// Bias is [filters] or nil.
	Bias []float32
	core convCore
	act  ActivationFunc
}

func buildConv(spec *convert.Layer, rank int) (runtime.Layer, error) {
	o, err := readConvOptions(spec, rank, true)
	if err != nil {
		return nil, err
	}
	ws, bias, err := convWeights(spec, &o, []string{"kernel"}, o.filters)
	if err != nil {
		return nil, err
	}
	k := ws[0]
	if k.Shape[rank+1] != o.filters {
		return nil, errWeightShape(spec, k, fmt.Sprintf("%v + [in/groups %d]", o.kernelSize, o.filters))
	}
	l := &Conv{layerIdent: idOf(spec), Rank: rank, Filters: o.filters, Groups: o.groups,
		KernelSize: o.kernelSize, Strides: o.strides, DilationRate: o.dilation, Padding: o.padding,
		ChannelsFirst: o.channelsFirst, Activation: o.activation, Bias: bias, act: o.act,
		core: convCore{inCh: k.Shape[rank] * o.groups, filters: o.filters, groups: o.groups, w: k.Data}}
	return l, nil
}

// Call convolves x: [batch, spatial..., channels] (channels_last) or
// [batch, channels, spatial...].
func (l *Conv) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	s, err := readSpatialInput(ctx, l, slotConvIn, call, l.Rank, l.ChannelsFirst)
	if err != nil {
		return nil, err
	}
	if s.c != l.core.inCh {
		return nil, fmt.Errorf("input shape %v: got %d channels, want %d", s.in.T.Shape, s.c, l.core.inCh)
	}
	g, err := windowGeometry(s.spatial, l.KernelSize, l.Strides, l.DilationRate, l.Padding)
	if err != nil {
		return nil, fmt.Errorf("input shape %v: %w", s.in.T.Shape, err)
	}
	return convForward(ctx, l, &l.core, &g, s, l.Bias, l.Activation, l.act, l.ChannelsFirst)
}

// convForward runs core over s with geometry g, then the epilogue; the
// result is owner's single output.
func convForward(ctx *runtime.Workspace, owner any, core *convCore, g *convGeom, s spatialInput,
	bias []float32, actName string, act ActivationFunc, channelsFirst bool) ([]runtime.Value, error) {
	if err := checkExpanded(s.n, g.outPositions, core.filters); err != nil {
		return nil, err
	}
	pre := ctx.Scratch(owner, slotConvPre, s.n*g.outPositions*core.filters)
	cols := ctx.Scratch(owner, slotConvCols, core.colsLen(g, s.n))
	core.run(g, s.data, s.n, cols, pre)
	out, err := convEpilogue(ctx, owner, pre, s.n, g.outShape(), core.filters, bias, actName, act, channelsFirst)
	if err != nil {
		return nil, err
	}
	res := ctx.Values(owner, 0, 1)
	res[0].T = out
	return res, nil
}

// DepthwiseConv is DepthwiseConv1D or DepthwiseConv2D: each input channel
// c is convolved with its own DepthMultiplier filters, output channel
// c·DepthMultiplier + m (Keras' kernel [k..., channels, multiplier]
// reshaped to [k..., 1, channels·multiplier], feature_group_count =
// channels).
type DepthwiseConv struct {
	layerIdent
	Rank, DepthMultiplier             int
	KernelSize, Strides, DilationRate []int
	Padding                           string
	ChannelsFirst                     bool
	Activation                        string
	Bias                              []float32
	core                              convCore
	act                               ActivationFunc
}

func buildDepthwiseConv(spec *convert.Layer, rank int) (runtime.Layer, error) {
	o, err := readConvOptions(spec, rank, false)
	if err != nil {
		return nil, err
	}
	if len(spec.Weights) < 1 || len(spec.Weights[0].Shape) != rank+2 {
		_, _, err := convWeights(spec, &o, []string{"depthwise_kernel"}, 0)
		return nil, err
	}
	c := spec.Weights[0].Shape[rank]
	ws, bias, err := convWeights(spec, &o, []string{"depthwise_kernel"}, c*o.depthMultiplier)
	if err != nil {
		return nil, err
	}
	k := ws[0]
	if k.Shape[rank+1] != o.depthMultiplier {
		return nil, errWeightShape(spec, k, fmt.Sprintf("%v + [channels %d] (depth_multiplier)", o.kernelSize, o.depthMultiplier))
	}
	return &DepthwiseConv{layerIdent: idOf(spec), Rank: rank, DepthMultiplier: o.depthMultiplier,
		KernelSize: o.kernelSize, Strides: o.strides, DilationRate: o.dilation, Padding: o.padding,
		ChannelsFirst: o.channelsFirst, Activation: o.activation, Bias: bias, act: o.act,
		core: depthwiseCore(k.Data, c, o.depthMultiplier)}, nil
}

// depthwiseCore is the grouped convolution a depthwise kernel
// [k..., c, m] computes.
func depthwiseCore(w []float32, c, m int) convCore {
	return convCore{inCh: c, filters: c * m, groups: c, w: w}
}

// Call convolves each channel of x with its filters.
func (l *DepthwiseConv) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	s, err := readSpatialInput(ctx, l, slotConvIn, call, l.Rank, l.ChannelsFirst)
	if err != nil {
		return nil, err
	}
	if s.c != l.core.inCh {
		return nil, fmt.Errorf("input shape %v: got %d channels, want %d", s.in.T.Shape, s.c, l.core.inCh)
	}
	g, err := windowGeometry(s.spatial, l.KernelSize, l.Strides, l.DilationRate, l.Padding)
	if err != nil {
		return nil, fmt.Errorf("input shape %v: %w", s.in.T.Shape, err)
	}
	return convForward(ctx, l, &l.core, &g, s, l.Bias, l.Activation, l.act, l.ChannelsFirst)
}

// SeparableConv is SeparableConv1D or SeparableConv2D: a depthwise
// convolution (strides, padding, dilation) followed by a pointwise (1×1)
// convolution to Filters channels, then bias and activation, as Keras'
// ops.separable_conv computes it.
type SeparableConv struct {
	layerIdent
	Rank, Filters, DepthMultiplier    int
	KernelSize, Strides, DilationRate []int
	Padding                           string
	ChannelsFirst                     bool
	Activation                        string
	Bias                              []float32
	depthwise, pointwise              convCore
	act                               ActivationFunc
}

func buildSeparableConv(spec *convert.Layer, rank int) (runtime.Layer, error) {
	o, err := readConvOptions(spec, rank, true)
	if err != nil {
		return nil, err
	}
	ws, bias, err := convWeights(spec, &o, []string{"depthwise_kernel", "pointwise_kernel"}, o.filters)
	if err != nil {
		return nil, err
	}
	dk, pk := ws[0], ws[1]
	c, m := dk.Shape[rank], dk.Shape[rank+1]
	if m != o.depthMultiplier {
		return nil, errWeightShape(spec, dk, fmt.Sprintf("%v + [channels %d] (depth_multiplier)", o.kernelSize, o.depthMultiplier))
	}
	for a := 0; a < rank; a++ {
		if pk.Shape[a] != 1 {
			return nil, errWeightShape(spec, pk, "a 1×1 pointwise kernel")
		}
	}
	if pk.Shape[rank] != c*m || pk.Shape[rank+1] != o.filters {
		return nil, errWeightShape(spec, pk, fmt.Sprintf("[1... %d %d]", c*m, o.filters))
	}
	return &SeparableConv{layerIdent: idOf(spec), Rank: rank, Filters: o.filters, DepthMultiplier: m,
		KernelSize: o.kernelSize, Strides: o.strides, DilationRate: o.dilation, Padding: o.padding,
		ChannelsFirst: o.channelsFirst, Activation: o.activation, Bias: bias, act: o.act,
		depthwise: depthwiseCore(dk.Data, c, m),
		pointwise: convCore{inCh: c * m, filters: o.filters, groups: 1, w: pk.Data}}, nil
}

// Call runs the depthwise then the pointwise convolution.
func (l *SeparableConv) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	s, err := readSpatialInput(ctx, l, slotConvIn, call, l.Rank, l.ChannelsFirst)
	if err != nil {
		return nil, err
	}
	if s.c != l.depthwise.inCh {
		return nil, fmt.Errorf("input shape %v: got %d channels, want %d", s.in.T.Shape, s.c, l.depthwise.inCh)
	}
	g, err := windowGeometry(s.spatial, l.KernelSize, l.Strides, l.DilationRate, l.Padding)
	if err != nil {
		return nil, fmt.Errorf("input shape %v: %w", s.in.T.Shape, err)
	}
	if err := checkExpanded(s.n, g.outPositions, l.depthwise.filters); err != nil {
		return nil, err
	}
	mid := ctx.Scratch(l, slotConvMid, s.n*g.outPositions*l.depthwise.filters)
	l.depthwise.run(&g, s.data, s.n, ctx.Scratch(l, slotConvCols, l.depthwise.colsLen(&g, s.n)), mid)
	// The pointwise step is a 1×1 convolution over the depthwise output.
	pg := identityGeometry(g.outShape())
	sm := spatialInput{in: s.in, n: s.n, c: l.depthwise.filters, spatial: g.outShape(), data: mid}
	return convForward(ctx, l, &l.pointwise, &pg, sm, l.Bias, l.Activation, l.act, l.ChannelsFirst)
}

// ConvTranspose is Conv1DTranspose, Conv2DTranspose or Conv3DTranspose:
// the transpose (gradient) of a convolution, with Keras' output size
// rules: "valid" gives (n-1)·strides + max(span, strides) + output_padding
// steps, "same" n·strides without output_padding and
// (n-1)·strides + span%2 + output_padding with it (span the dilated
// kernel size). It runs as a convolution of the stride-dilated input.
type ConvTranspose struct {
	layerIdent
	Rank, Filters                     int
	KernelSize, Strides, DilationRate []int
	// OutputPadding is nil for Keras' None.
	OutputPadding []int
	Padding       string
	ChannelsFirst bool
	Activation    string
	Bias          []float32
	core          convCore
	act           ActivationFunc
}

func buildConvTranspose(spec *convert.Layer, rank int) (runtime.Layer, error) {
	o, err := readConvOptions(spec, rank, true)
	if err != nil {
		return nil, err
	}
	if o.padding == "causal" {
		return nil, fmt.Errorf("layer %q: padding \"causal\": want valid or same: %w", spec.Name, convert.ErrConfig)
	}
	for i, p := range o.outputPadding {
		if p >= o.strides[i] {
			return nil, fmt.Errorf("layer %q: output_padding %v: want each value below strides %v: %w", spec.Name, o.outputPadding, o.strides, convert.ErrConfig)
		}
	}
	ws, bias, err := convWeights(spec, &o, []string{"kernel"}, o.filters)
	if err != nil {
		return nil, err
	}
	k := ws[0]
	if k.Shape[rank] != o.filters {
		return nil, errWeightShape(spec, k, fmt.Sprintf("%v + [%d in]", o.kernelSize, o.filters))
	}
	c := k.Shape[rank+1]
	return &ConvTranspose{layerIdent: idOf(spec), Rank: rank, Filters: o.filters,
		KernelSize: o.kernelSize, Strides: o.strides, DilationRate: o.dilation, OutputPadding: o.outputPadding,
		Padding: o.padding, ChannelsFirst: o.channelsFirst, Activation: o.activation, Bias: bias, act: o.act,
		core: convCore{inCh: c, filters: o.filters, groups: 1, w: flipTransposeKernel(k.Data, o.kernelSize, o.filters, c)}}, nil
}

// flipTransposeKernel turns a transposed convolution's kernel
// [k..., filters, c] into the forward kernel [k..., c, filters] of the
// equivalent convolution: spatially flipped, the last two axes swapped.
func flipTransposeKernel(w []float32, ks []int, f, c int) []float32 {
	k := spread(ks, 1)
	out := make([]float32, len(w))
	for k0 := 0; k0 < k[0]; k0++ {
		for k1 := 0; k1 < k[1]; k1++ {
			for k2 := 0; k2 < k[2]; k2++ {
				src := ((k0*k[1]+k1)*k[2] + k2) * f * c
				dst := (((k[0]-1-k0)*k[1]+(k[1]-1-k1))*k[2] + (k[2] - 1 - k2)) * c * f
				for fi := 0; fi < f; fi++ {
					for ci := 0; ci < c; ci++ {
						out[dst+ci*f+fi] = w[src+fi*c+ci]
					}
				}
			}
		}
	}
	return out
}

// Call computes the transposed convolution of x.
func (l *ConvTranspose) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	s, err := readSpatialInput(ctx, l, slotConvIn, call, l.Rank, l.ChannelsFirst)
	if err != nil {
		return nil, err
	}
	if s.c != l.core.inCh {
		return nil, fmt.Errorf("input shape %v: got %d channels, want %d", s.in.T.Shape, s.c, l.core.inCh)
	}
	for _, d := range s.spatial {
		if d > 1<<20 {
			return nil, fmt.Errorf("input shape %v: spatial size too large", s.in.T.Shape)
		}
	}
	g := transposeGeometry(s.spatial, l.KernelSize, l.Strides, l.DilationRate, l.OutputPadding, l.Padding)
	return convForward(ctx, l, &l.core, &g, s, l.Bias, l.Activation, l.act, l.ChannelsFirst)
}
