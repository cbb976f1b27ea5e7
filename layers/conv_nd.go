package layers

import (
	"fmt"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
	"github.com/rnnkit/rnnkit/runtime/kernel"
)

// This file holds the N-d convolution core every convolution layer runs on
// (ranks 1 to 3, channels-last data, im2col and one kernel.MatMul per
// group) and the window geometry the pooling layers share with it.
//
// Keras' numpy backend convolves with jax.lax.conv_general_dilated
// semantics (cross-correlation, no kernel flip). Padding per spatial axis,
// span = (kernel-1)·dilation + 1:
//   - "valid": none; floor((n-span)/strides)+1 outputs.
//   - "same": ceil(n/strides) outputs over an input padded by
//     max((out-1)·strides + span - n, 0) in total, left = total/2.
//   - "causal" (1-D only): span-1 on the left; ceil(n/strides) outputs.
//
// Transposed convolutions are the same core on the input dilated by the
// strides (zeros between the steps, never materialized) and padded as
// keras/src/backend/common/backend_utils.py computes it for JAX, with the
// kernel flipped and its filter and channel axes swapped.

// maxConvRank is the largest convolution rank Keras has (Conv3D).
const maxConvRank = 3

// dims3 holds per-axis values of up to three spatial axes. A geometry of
// lower rank is padded in front with size-1 axes (kernel 1, stride 1,
// dilation 1, no padding), which leaves every index computation unchanged.
type dims3 [maxConvRank]int

func (d dims3) prod() int { return d[0] * d[1] * d[2] }

// ones3 is the geometry of an absent axis.
var ones3 = dims3{1, 1, 1}

// spread returns v (one value per axis of a rank-len(v) geometry) aligned to
// the last axes of a dims3, the others set to fill.
func spread(v []int, fill int) dims3 {
	d := dims3{fill, fill, fill}
	copy(d[maxConvRank-len(v):], v)
	return d
}

// convGeom is the window geometry of one convolution or pooling over
// channels-last data [n, in..., c]: output position o along an axis reads
// input positions q = o·stride + k·dil - padLo for k < kernel, where q
// indexes the input dilated by inDil (q a multiple of inDil) and padded.
type convGeom struct {
	rank                         int
	in, kernel, stride, dil      dims3
	inDil, padLo, out            dims3
	outPositions, inPositions, k int
}

func (g *convGeom) finish() {
	g.outPositions, g.inPositions, g.k = g.out.prod(), g.in.prod(), g.kernel.prod()
}

// outShape returns the output's spatial sizes (rank values).
func (g *convGeom) outShape() []int { return g.out[maxConvRank-g.rank:] }

// windowGeometry returns the geometry of a convolution or pooling of the
// given rank over spatial sizes in, with Keras' padding rules (package
// comment). It fails when the output would be empty, as Keras does.
func windowGeometry(in, kernel, strides, dil []int, padding string) (convGeom, error) {
	g := windowGeometryOrEmpty(in, kernel, strides, dil, padding)
	for a := maxConvRank - g.rank; a < maxConvRank; a++ {
		if g.out[a] <= 0 && g.in[a] > 0 {
			return g, fmt.Errorf("spatial input %v is smaller than the window %v (dilation %v, padding %s): the output would be empty",
				in, kernel, dil, padding)
		}
	}
	return g, nil
}

// windowGeometryOrEmpty is windowGeometry allowing an empty output.
func windowGeometryOrEmpty(in, kernel, strides, dil []int, padding string) convGeom {
	r := len(in)
	g := convGeom{rank: r, in: spread(in, 1), kernel: spread(kernel, 1), stride: spread(strides, 1),
		dil: spread(dil, 1), inDil: ones3, out: ones3}
	for a := maxConvRank - r; a < maxConvRank; a++ {
		n, span := g.in[a], (g.kernel[a]-1)*g.dil[a]+1
		switch padding {
		case "causal":
			g.padLo[a] = span - 1
			g.out[a] = 0
			if n > 0 {
				g.out[a] = (n-1)/g.stride[a] + 1
			}
		default:
			g.out[a], g.padLo[a] = windows(n, span, g.stride[a], padding == "same")
		}
	}
	g.finish()
	return g
}

// identityGeometry is the geometry of a 1×1 convolution over spatial
// sizes in.
func identityGeometry(in []int) convGeom {
	g := convGeom{rank: len(in), in: spread(in, 1), kernel: ones3, stride: ones3, dil: ones3, inDil: ones3}
	g.out = g.in
	g.finish()
	return g
}

// transposeGeometry returns the geometry of a transposed convolution over
// spatial sizes in: stride-1 windows over the input dilated by strides,
// padded as Keras pads for JAX (outPad nil is Keras' output_padding=None).
func transposeGeometry(in, kernel, strides, dil, outPad []int, padding string) convGeom {
	r := len(in)
	g := convGeom{rank: r, in: spread(in, 1), kernel: spread(kernel, 1), stride: ones3,
		dil: spread(dil, 1), inDil: spread(strides, 1), out: ones3}
	for i := 0; i < r; i++ {
		a := maxConvRank - r + i
		n, s := g.in[a], g.inDil[a]
		span := (g.kernel[a]-1)*g.dil[a] + 1
		op := -1
		if outPad != nil {
			op = outPad[i]
		}
		lo, hi := transposePads(span, s, op, padding == "same")
		// The dilated input has (n-1)·s+1 steps.
		g.out[a] = max((n-1)*s+1+lo+hi-span+1, 0)
		if n == 0 {
			g.out[a] = 0
		}
		g.padLo[a] = lo
	}
	g.finish()
	return g
}

// transposePads is Keras' _convert_conv_transpose_padding_args_from_keras_to_jax
// for one axis: span is the dilated kernel size, op the output padding or
// -1 for None.
func transposePads(span, stride, op int, same bool) (lo, hi int) {
	if !same {
		if op < 0 {
			op = max(span, stride) - span
		}
		return span - 1, span - 1 + op
	}
	var padLen int
	if op < 0 {
		padLen = stride + span - 2
	} else {
		padLen = span + span%2 - 2 + op
	}
	lo = min(padLen/2+padLen%2, span-1)
	return lo, padLen - lo
}

// src maps output position o and kernel offset k along axis a to an input
// index, reporting false when the window reads padding or a dilation hole.
func (g *convGeom) src(a, o, k int) (int, bool) {
	q := o*g.stride[a] + k*g.dil[a] - g.padLo[a]
	if q < 0 {
		return 0, false
	}
	if d := g.inDil[a]; d > 1 {
		if q%d != 0 {
			return 0, false
		}
		q /= d
	}
	return q, q < g.in[a]
}

// identity reports whether the geometry maps every input position to the
// same output position (a 1×1 convolution without strides or padding).
func (g *convGeom) identity() bool {
	return g.kernel == ones3 && g.stride == ones3 && g.inDil == ones3 && g.padLo == dims3{} && g.out == g.in
}

// convCore is one convolution bound to its kernel: channels-last input
// [n, in..., inCh] → output [n, out..., filters], input channel group j
// feeding only filters of group j.
type convCore struct {
	inCh, filters, groups int
	// w is [kernel positions · inCh/groups, filters] row-major: Keras'
	// kernel [k..., inCh/groups, filters] read as a matrix.
	w []float32
}

// convChunkValues bounds the im2col buffer of one chunk of output rows.
const convChunkValues = 1 << 18

// colsLen is the scratch size run needs for n inputs (0 when the
// convolution reads its input directly).
func (cc *convCore) colsLen(g *convGeom, n int) int {
	if cc.groups == 1 && g.identity() {
		return 0
	}
	width := g.k * cc.inCh
	rows := n * g.outPositions
	return min(rows, max(1, convChunkValues/max(width, 1))) * width
}

// run sets out [n·outPositions, filters] to the convolution of x
// [n, in..., inCh] (channels last), using cols (colsLen values) for the
// patches. Each output is summed from zero.
func (cc *convCore) run(g *convGeom, x []float32, n int, cols, out []float32) {
	rows := n * g.outPositions
	f := cc.filters
	if rows == 0 || f == 0 {
		return
	}
	if cc.groups == 1 && g.identity() {
		kernel.MatMul(rows, f, cc.inCh, x, cc.inCh, cc.w, f, out, f, false)
		return
	}
	width := g.k * cc.inCh
	kg, fg := g.k*(cc.inCh/cc.groups), f/cc.groups
	chunk := len(cols) / width
	for r0 := 0; r0 < rows; r0 += chunk {
		r1 := min(r0+chunk, rows)
		g.im2col(cols, x, cc.inCh, cc.groups, r0, r1)
		for j := 0; j < cc.groups; j++ {
			kernel.MatMul(r1-r0, fg, kg, cols[j*kg:], width, cc.w[j*fg:], f, out[r0*f+j*fg:], f, false)
		}
	}
}

// im2col writes rows r0..r1-1 of the patch matrix of x [n, in..., c] to
// cols: row r is output position r (batch-major); it holds, group by
// group, each kernel position's c/groups channels, zeros where the window
// reads padding or a dilation hole.
func (g *convGeom) im2col(cols, x []float32, c, groups, r0, r1 int) {
	width := g.k * c
	cg := c / groups
	kg := g.k * cg
	for r := r0; r < r1; r++ {
		row := cols[(r-r0)*width : (r-r0+1)*width]
		b, p := r/g.outPositions, r%g.outPositions
		o0, o1, o2 := p/(g.out[1]*g.out[2]), p/g.out[2]%g.out[1], p%g.out[2]
		xb := x[b*g.inPositions*c : (b+1)*g.inPositions*c]
		kp := 0
		for k0 := 0; k0 < g.kernel[0]; k0++ {
			s0, ok0 := g.src(0, o0, k0)
			for k1 := 0; k1 < g.kernel[1]; k1++ {
				s1, ok1 := g.src(1, o1, k1)
				for k2 := 0; k2 < g.kernel[2]; k2++ {
					s2, ok2 := g.src(2, o2, k2)
					if ok0 && ok1 && ok2 {
						at := ((s0*g.in[1]+s1)*g.in[2] + s2) * c
						if groups == 1 {
							copy(row[kp*c:(kp+1)*c], xb[at:at+c])
						} else {
							for j := 0; j < groups; j++ {
								copy(row[j*kg+kp*cg:j*kg+(kp+1)*cg], xb[at+j*cg:at+(j+1)*cg])
							}
						}
					} else if groups == 1 {
						clear(row[kp*c : (kp+1)*c])
					} else {
						for j := 0; j < groups; j++ {
							clear(row[j*kg+kp*cg : j*kg+(kp+1)*cg])
						}
					}
					kp++
				}
			}
		}
	}
}

// channelsLastInto sets dst [n, p, c] to src [n, c, p] (channels-first
// data with p spatial positions).
func channelsLastInto(dst, src []float32, n, c, p int) {
	for b := 0; b < n; b++ {
		s, d := src[b*c*p:(b+1)*c*p], dst[b*c*p:(b+1)*c*p]
		for ch := 0; ch < c; ch++ {
			for i, v := range s[ch*p : (ch+1)*p] {
				d[i*c+ch] = v
			}
		}
	}
}

// channelsFirstInto sets dst [n, c, p] to src [n, p, c].
func channelsFirstInto(dst, src []float32, n, p, c int) {
	for b := 0; b < n; b++ {
		s, d := src[b*c*p:(b+1)*c*p], dst[b*c*p:(b+1)*c*p]
		for i := 0; i < p; i++ {
			for ch, v := range s[i*c : (i+1)*c] {
				d[ch*p+i] = v
			}
		}
	}
}

// spatialInput is a convolution or pooling input seen channels last.
type spatialInput struct {
	in      runtime.Value
	n, c    int
	spatial []int // rank sizes, aliasing the input's shape
	// data is [n, spatial..., c]: the input's own data, or a transposed
	// copy in scratch when the input is channels first.
	data []float32
}

// readSpatialInput checks the call's single input has rank+2 axes and
// returns it channels last; a channels-first input is transposed into the
// scratch buffer (owner, slot).
func readSpatialInput(ctx *runtime.Workspace, owner any, slot int, call *runtime.Call, rank int, channelsFirst bool) (spatialInput, error) {
	in, err := singleInput(call)
	if err != nil {
		return spatialInput{}, err
	}
	return spatialView(ctx, owner, slot, in, rank, channelsFirst)
}

// spatialView is readSpatialInput for a given value.
func spatialView(ctx *runtime.Workspace, owner any, slot int, in runtime.Value, rank int, channelsFirst bool) (spatialInput, error) {
	x := in.T
	if x.Rank() != rank+2 || x.Len() != shapeSize(x.Shape) {
		layout := "[batch, spatial..., channels]"
		if channelsFirst {
			layout = "[batch, channels, spatial...]"
		}
		return spatialInput{}, fmt.Errorf("input shape %v: want rank %d, %s", x.Shape, rank+2, layout)
	}
	s := spatialInput{in: in, n: x.Shape[0]}
	if channelsFirst {
		s.c, s.spatial = x.Shape[1], x.Shape[2:]
		p := shapeSize(s.spatial)
		s.data = ctx.Scratch(owner, slot, len(x.Data))
		channelsLastInto(s.data, x.Data, s.n, s.c, p)
	} else {
		s.c, s.spatial = x.Shape[rank+1], x.Shape[1:rank+1]
		s.data = x.Data
	}
	return s, nil
}

// spatialShape returns [n, spatial..., c], or [n, c, spatial...] when
// channelsFirst, in buf.
func spatialShape(buf []int, n int, spatial []int, c int, channelsFirst bool) []int {
	s := append(buf[:0], n)
	if channelsFirst {
		s = append(s, c)
		return append(s, spatial...)
	}
	s = append(s, spatial...)
	return append(s, c)
}

// Scratch slots of a convolution layer, under the layer's pointer.
const (
	slotConvIn   = iota // a channels-first input moved channels last
	slotConvCols        // im2col patches
	slotConvPre         // the convolution before bias and activation
	slotConvAct         // the activation's output before a move to channels first
	slotConvMid         // a separable convolution's depthwise output
)

// convEpilogue adds bias to pre [n·p, f] (channels last), applies the
// activation and returns owner's output tensor, channels first when asked.
func convEpilogue(ctx *runtime.Workspace, owner any, pre []float32, n int, outSpatial []int, f int,
	bias []float32, actName string, act ActivationFunc, channelsFirst bool) (*runtime.Tensor, error) {
	fo, err := ActivationOutputDim(actName, f)
	if err != nil {
		return nil, err
	}
	if bias != nil && len(pre) > 0 {
		kernel.AddBias(pre, bias)
	}
	var buf [maxLayerResultRank]int
	out := ctx.Output(owner, 0, spatialShape(buf[:], n, outSpatial, fo, channelsFirst)...)
	if len(pre) == 0 {
		return out, nil
	}
	if !channelsFirst {
		act(out.Data, pre, f)
		return out, nil
	}
	y := pre
	if fo != f {
		y = ctx.Scratch(owner, slotConvAct, len(out.Data))
		act(y, pre, f)
	} else {
		act(pre, pre, f)
	}
	channelsFirstInto(out.Data, y, n, shapeSize(outSpatial), fo)
	return out, nil
}

// convOptions are the options every convolution layer reads.
type convOptions struct {
	rank                          int
	filters                       int // 0 for depthwise layers
	kernelSize, strides, dilation []int
	padding                       string
	channelsFirst                 bool
	activation                    string
	act                           ActivationFunc
	useBias                       bool
	groups, depthMultiplier       int
	outputPadding                 []int // nil: None
}

// readConvOptions reads the convolution options of a rank-rank layer:
// Keras 3 and 2 names, and Keras 1's nb_filter, nb_row/nb_col,
// kernel_dim1..3, subsample, border_mode and dim_ordering ("tf" only).
func readConvOptions(spec *convert.Layer, rank int, withFilters bool) (convOptions, error) {
	r := spec.Config.Reader(spec.Name)
	o := convOptions{rank: rank}
	o.filters = r.Int("filters", r.Int("nb_filter", 0))
	ks := r.Ints("kernel_size", nil)
	if ks == nil {
		// Keras 1: Convolution2D nb_row, nb_col; Convolution3D kernel_dim1..3.
		keys := []string{"nb_row", "nb_col"}
		if rank == 3 {
			keys = []string{"kernel_dim1", "kernel_dim2", "kernel_dim3"}
		}
		for _, k := range keys {
			if spec.Config.Has(k) {
				ks = append(ks, r.Int(k, 0))
			}
		}
	}
	o.strides = r.Ints("strides", r.Ints("subsample", []int{1}))
	o.dilation = r.Ints("dilation_rate", []int{1})
	o.padding = r.String("padding", r.String("border_mode", "valid"))
	o.activation = r.String("activation", "linear")
	o.useBias = r.Bool("use_bias", r.Bool("bias", true))
	o.groups = r.Int("groups", 1)
	o.depthMultiplier = r.Int("depth_multiplier", 1)
	if spec.Config.Has("output_padding") {
		o.outputPadding = r.Ints("output_padding", nil)
	}
	dimOrdering := r.String("dim_ordering", "tf")
	if err := r.Err(); err != nil {
		return o, err
	}
	if dimOrdering != "tf" && dimOrdering != "default" {
		return o, fmt.Errorf("layer %q: Keras 1 dim_ordering %q (Theano kernel layout): %w", spec.Name, dimOrdering, convert.ErrUnsupported)
	}
	var err error
	if o.channelsFirst, err = dataFormat(spec); err != nil {
		return o, err
	}
	tuple := func(key string, v []int, min int) ([]int, error) {
		if len(v) == 1 && rank > 1 {
			w := make([]int, rank)
			for i := range w {
				w[i] = v[0]
			}
			v = w
		}
		if len(v) != rank {
			return nil, fmt.Errorf("layer %q: %s %v: want %d integers: %w", spec.Name, key, v, rank, convert.ErrConfig)
		}
		for _, d := range v {
			if d < min || d > 1<<16 {
				return nil, fmt.Errorf("layer %q: %s %v: want integers in [%d, 65536]: %w", spec.Name, key, v, min, convert.ErrConfig)
			}
		}
		return v, nil
	}
	if o.kernelSize, err = tuple("kernel_size", ks, 1); err != nil {
		return o, err
	}
	if o.strides, err = tuple("strides", o.strides, 1); err != nil {
		return o, err
	}
	if o.dilation, err = tuple("dilation_rate", o.dilation, 1); err != nil {
		return o, err
	}
	if o.outputPadding != nil {
		if o.outputPadding, err = tuple("output_padding", o.outputPadding, 0); err != nil {
			return o, err
		}
	}
	switch o.padding {
	case "valid", "same":
	case "causal":
		if rank != 1 {
			return o, fmt.Errorf("layer %q: padding \"causal\" is for 1-D convolutions only: %w", spec.Name, convert.ErrConfig)
		}
	default:
		return o, fmt.Errorf("layer %q: padding %q: want valid or same: %w", spec.Name, o.padding, convert.ErrConfig)
	}
	if withFilters && (o.filters < 1 || o.filters > 1<<20) {
		return o, fmt.Errorf("layer %q: filters %d: want a positive integer: %w", spec.Name, o.filters, convert.ErrConfig)
	}
	if o.groups < 1 || (withFilters && o.filters%o.groups != 0) {
		return o, fmt.Errorf("layer %q: filters %d, groups %d: want positive filters divisible by groups: %w", spec.Name, o.filters, o.groups, convert.ErrConfig)
	}
	if o.depthMultiplier < 1 || o.depthMultiplier > 1<<16 {
		return o, fmt.Errorf("layer %q: depth_multiplier %d: want a positive integer: %w", spec.Name, o.depthMultiplier, convert.ErrConfig)
	}
	if o.act, err = Activation(o.activation); err != nil {
		return o, fmt.Errorf("layer %q: %w", spec.Name, err)
	}
	return o, nil
}

// convWeights checks that spec has the named weights (then a bias of
// biasLen when useBias) and that weight i has rank+2 axes, the first rank
// of them the kernel size; it returns them.
func convWeights(spec *convert.Layer, o *convOptions, names []string, biasLen int) ([]convert.Weight, []float32, error) {
	want := len(names)
	if o.useBias {
		want++
	}
	if len(spec.Weights) != want {
		all := append([]string(nil), names...)
		if o.useBias {
			all = append(all, "bias")
		}
		return nil, nil, fmt.Errorf("layer %q (%s): got %d weights, want %d %v: %w", spec.Name, spec.ClassName, len(spec.Weights), want, all, convert.ErrWeights)
	}
	ws := spec.Weights[:len(names)]
	for i, w := range ws {
		ok := len(w.Shape) == o.rank+2
		for a := 0; ok && a < o.rank; a++ {
			ok = w.Shape[a] == o.kernelSize[a] || (names[i] == "pointwise_kernel" && w.Shape[a] == 1)
		}
		for a := o.rank; ok && a < o.rank+2; a++ {
			ok = w.Shape[a] >= 1 && w.Shape[a] <= 1<<20
		}
		if !ok {
			return nil, nil, errWeightShape(spec, w, fmt.Sprintf("%s of rank %d with kernel size %v", names[i], o.rank+2, o.kernelSize))
		}
		if err := checkWeightLen(spec, w); err != nil {
			return nil, nil, err
		}
	}
	var bias []float32
	if o.useBias {
		var err error
		if bias, err = weightVector(spec, spec.Weights[len(names)], biasLen); err != nil {
			return nil, nil, err
		}
	}
	return ws, bias, nil
}
