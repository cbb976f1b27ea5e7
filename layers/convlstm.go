package layers

import (
	"fmt"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
	"github.com/rnnkit/rnnkit/runtime/kernel"
)

// This file holds Keras' convolutional LSTMs (keras/src/layers/rnn/
// conv_lstm.py): ConvLSTM1D, ConvLSTM2D and ConvLSTM3D.

func init() { builtins = append(builtins, registerConvLSTM) }

func registerConvLSTM(r *Registry) {
	for rank := 1; rank <= 3; rank++ {
		rank := rank
		r.Register(fmt.Sprintf("ConvLSTM%dD", rank), func(s *convert.Layer, env *Env) (runtime.Layer, error) {
			return buildConvLSTM(s, env, rank)
		})
	}
}

// ConvLSTM is ConvLSTM1D, ConvLSTM2D or ConvLSTM3D: an LSTM whose input and
// recurrent transformations are convolutions. Per step, with gates
// i, f, c, o in Keras' order (kernel [k..., channels, 4·filters] and
// recurrent kernel [k..., filters, 4·filters], gate blocks as column
// slices, bias [4·filters]):
//
//	x_g = conv(x_t, kernel_g, strides, padding, dilation) + bias_g
//	h_g = conv(h, recurrent_kernel_g, strides 1, "same", no dilation)
//	i, f, o = ract(x_i + h_i), ract(x_f + h_f), ract(x_o + h_o)
//	c' = f·c + i·act(x_c + h_c);  h' = o·act(c')
//
// each sum and product rounded to float32 apart, as Keras' numpy backend
// computes it. The states have the spatial shape of the input
// convolution's output. Call takes x: [batch, time, spatial...,
// channels] (channels_last) or [batch, time, channels, spatial...] and
// returns, like RNN, the last output or the sequence (in processing
// order with GoBackwards), then h and c with ReturnState.
//
// A mask ([batch, time]) keeps the states at masked steps, which output
// the previous output (zeros with ZeroOutputForMask; with Unroll the
// previous output starts as zeros rather than the initial h). Keras 3's
// numpy backend broadcasts its step mask wrongly for ConvLSTM inputs of
// batch > 1 unless Unroll is set; this layer applies the mask per sample,
// as its unrolled loop and the other backends do.
type ConvLSTM struct {
	layerIdent
	Rank, Filters                     int
	KernelSize, Strides, DilationRate []int
	Padding                           string
	ChannelsFirst                     bool
	ReturnSequences, ReturnState      bool
	GoBackwards, Stateful, Unroll     bool
	ZeroOutputForMask                 bool
	// kerasMajor is the writer's Keras major version: Keras 3 passes no
	// implicit mask to a layer called with initial_state, and sets no
	// output mask.
	kerasMajor int
	act, ract  ActivationFunc
	// input and recurrent are the two convolutions with their gate column
	// blocks reordered i, f, o, c (see lstmGateOrder); bias likewise.
	input, recurrent convCore
	bias             []float32
}

func buildConvLSTM(spec *convert.Layer, env *Env, rank int) (runtime.Layer, error) {
	o, err := readConvOptions(spec, rank, true)
	if err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	l := &ConvLSTM{layerIdent: idOf(spec), Rank: rank, Filters: o.filters,
		KernelSize: o.kernelSize, Strides: o.strides, DilationRate: o.dilation, Padding: o.padding,
		ChannelsFirst:     o.channelsFirst,
		ReturnSequences:   r.Bool("return_sequences", false),
		ReturnState:       r.Bool("return_state", false),
		GoBackwards:       r.Bool("go_backwards", false),
		Stateful:          r.Bool("stateful", false),
		Unroll:            r.Bool("unroll", false),
		ZeroOutputForMask: r.Bool("zero_output_for_mask", false),
		kerasMajor:        kerasMajor(env),
	}
	actName := r.String("activation", "tanh")
	ractName := r.String("recurrent_activation", "sigmoid")
	timeMajor := r.Bool("time_major", false)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if timeMajor {
		return nil, fmt.Errorf("layer %q: time_major=True: %w", spec.Name, convert.ErrUnsupported)
	}
	if o.padding == "causal" {
		return nil, fmt.Errorf("layer %q: padding \"causal\": want valid or same: %w", spec.Name, convert.ErrConfig)
	}
	if o.groups != 1 {
		return nil, fmt.Errorf("layer %q: groups %d: ConvLSTM has none: %w", spec.Name, o.groups, convert.ErrConfig)
	}
	if l.act, err = rnnActivation(spec.Name, actName); err != nil {
		return nil, err
	}
	if l.ract, err = rnnActivation(spec.Name, ractName); err != nil {
		return nil, err
	}
	f, g := o.filters, 4*o.filters
	ws, bias, err := convWeights(spec, &o, []string{"kernel", "recurrent_kernel"}, g)
	if err != nil {
		return nil, err
	}
	k, rk := ws[0], ws[1]
	if k.Shape[rank+1] != g {
		return nil, errWeightShape(spec, k, fmt.Sprintf("%v + [channels %d] (4 gates of %d filters)", o.kernelSize, g, f))
	}
	if rk.Shape[rank] != f || rk.Shape[rank+1] != g {
		return nil, errWeightShape(spec, rk, fmt.Sprintf("%v + [%d %d]", o.kernelSize, f, g))
	}
	c := k.Shape[rank]
	kp := spread(o.kernelSize, 1).prod()
	l.input = convCore{inCh: c, filters: g, groups: 1, w: lstmGateOrder(k.Data, kp*c, f)}
	l.recurrent = convCore{inCh: f, filters: g, groups: 1, w: lstmGateOrder(rk.Data, kp*f, f)}
	if bias != nil {
		l.bias = lstmGateOrder(bias, 1, f)
	}
	return l, nil
}

// ResetState drops the state the layer keeps in ctx.
func (l *ConvLSTM) ResetState(ctx *runtime.Workspace) { ctx.SetState(l, nil) }

// recurrentCall resolves an RNN call as RNN.Call does: the sequence, the
// initial states ([x, h0, c0] inputs, a second positional argument or the
// initial_state keyword) and the mask (explicit, else the input's, except
// that a Keras 3 layer called with initial states sees no implicit mask).
func recurrentCall(call *runtime.Call, keras3 bool) (x runtime.Value, init []*runtime.Tensor, mask *runtime.Tensor, err error) {
	in := call.Inputs()
	if len(in) == 0 || in[0].T == nil {
		return x, nil, nil, fmt.Errorf("no input tensor")
	}
	x = in[0]
	for _, v := range in[1:] {
		init = append(init, v.T)
	}
	if len(call.Args) > 1 && call.Args[1].IsTensor() {
		for _, v := range call.Args[1].Values {
			init = append(init, v.T)
		}
	}
	if a, ok := call.Kwarg("initial_state"); ok {
		if !a.IsTensor() {
			return x, nil, nil, fmt.Errorf("initial_state: got %v, want tensors", a.Const)
		}
		for _, v := range a.Values {
			init = append(init, v.T)
		}
	}
	mask = x.Mask
	if init != nil && keras3 {
		mask = nil
	}
	if a, ok := call.Kwarg("mask"); ok {
		if !a.IsTensor() {
			return x, nil, nil, fmt.Errorf("mask: got %v, want a tensor", a.Const)
		}
		mask = a.Values[0].T
	}
	return x, init, mask, nil
}

// Scratch slots of a ConvLSTM call, under the layer's pointer.
const (
	slotCLIn   = iota // a channels-first input moved channels last
	slotCLWork        // projections, patches, states and staging, carved
)

// Call runs the layer for one graph node.
func (l *ConvLSTM) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	xv, init, mask, err := recurrentCall(call, l.kerasMajor >= 3)
	if err != nil {
		return nil, err
	}
	x := xv.T
	if x.Rank() != l.Rank+3 || x.Len() != shapeSize(x.Shape) {
		return nil, fmt.Errorf("input shape %v: want rank %d, [batch, time, %s]", x.Shape, l.Rank+3, l.frameLayout())
	}
	B, T := x.Shape[0], x.Shape[1]
	if T == 0 {
		return nil, fmt.Errorf("input shape %v: want at least one time step", x.Shape)
	}
	// The frames [B·T, spatial..., channels], channels last.
	frames := &runtime.Tensor{Shape: append([]int{B * T}, x.Shape[2:]...), Data: x.Data}
	s, err := spatialView(ctx, l, slotCLIn, runtime.Value{T: frames}, l.Rank, l.ChannelsFirst)
	if err != nil {
		return nil, err
	}
	if s.c != l.input.inCh {
		return nil, fmt.Errorf("input shape %v: got %d channels, want %d", x.Shape, s.c, l.input.inCh)
	}
	ig, err := windowGeometry(s.spatial, l.KernelSize, l.Strides, l.DilationRate, l.Padding)
	if err != nil {
		return nil, fmt.Errorf("input shape %v: %w", x.Shape, err)
	}
	outSp := ig.outShape()
	rg, err := windowGeometry(outSp, l.KernelSize, nil, nil, "same")
	if err != nil {
		return nil, err
	}
	P, F := ig.outPositions, l.Filters
	G := 4 * F
	if err := checkExpanded(B, T, P, G); err != nil {
		return nil, err
	}
	if mask != nil && (mask.Len() != B*T || mask.Rank() < 2 || mask.Shape[0] != B || mask.Shape[1] != T) {
		return nil, fmt.Errorf("mask shape %v: want [%d %d]", mask.Shape, B, T)
	}
	state := B * P * F

	// Outputs, in the layer's data format.
	var buf [maxLayerResultRank]int
	var out *runtime.Tensor
	if l.ReturnSequences {
		shape := append(buf[:0], B, T)
		if l.ChannelsFirst {
			shape = append(append(shape, F), outSp...)
		} else {
			shape = append(append(shape, outSp...), F)
		}
		out = ctx.Output(l, 0, shape...)
	} else {
		out = ctx.Output(l, 0, spatialShape(buf[:], B, outSp, F, l.ChannelsFirst)...)
	}
	var hOut, cOut *runtime.Tensor
	if l.ReturnState {
		hOut = ctx.Output(l, 1, spatialShape(buf[:], B, outSp, F, l.ChannelsFirst)...)
		cOut = ctx.Output(l, 2, spatialShape(buf[:], B, outSp, F, l.ChannelsFirst)...)
	}

	// Initial states: given, stored (stateful or streaming), or zeros.
	keep := l.Stateful || ctx.Streaming()
	var stored []*runtime.Tensor
	fromStored := false
	if keep {
		stored = ctx.State(l)
		if !statesFit(stored, B, []int{P * F, P * F}) {
			if stored != nil && init == nil {
				return nil, fmt.Errorf("stored state is for batch %d, input has batch %d: reset the states first", stored[0].Shape[0], B)
			}
			stored = []*runtime.Tensor{ctx.NewTensor(B, P*F), ctx.NewTensor(B, P*F)}
			ctx.SetState(l, stored)
		} else if init == nil {
			// The stored states are channels last, as the loop keeps them.
			init, fromStored = stored, true
		}
	}
	if init != nil && len(init) != 2 {
		return nil, fmt.Errorf("initial_state: got %d tensors, want 2 (h and c)", len(init))
	}
	for i, t := range init {
		if t == nil || t.Len() != state || t.Rank() < 1 || t.Shape[0] != B {
			return nil, fmt.Errorf("initial_state[%d]: got %v, want [%d] + spatial %v + %d filters", i, t, B, outSp, F)
		}
	}

	// One scratch buffer holds the input projection, both im2col buffers,
	// the recurrent projection, the states and the channels-last staging
	// of the outputs: the time loop allocates nothing.
	colsIn, colsRec := l.input.colsLen(&ig, B*T), l.recurrent.colsLen(&rg, B)
	stage := 0
	if l.ChannelsFirst {
		stage = out.Len()
	}
	prevLen := 0
	if mask != nil && l.Unroll {
		prevLen = state
	}
	work := ctx.Scratch(l, slotCLWork, B*T*P*G+colsIn+colsRec+B*P*G+4*state+F+prevLen+stage)
	carve := func(n int) []float32 {
		v := work[:n:n]
		work = work[n:]
		return v
	}
	xp, ci, cr, rec := carve(B*T*P*G), carve(colsIn), carve(colsRec), carve(B*P*G)
	h, hn, cs, cn, tmp, prev := carve(state), carve(state), carve(state), carve(state), carve(F), carve(prevLen)
	seq := out.Data
	if l.ChannelsFirst {
		seq = carve(stage)
	}

	// The input convolution of every frame at once, plus the bias.
	l.input.run(&ig, s.data, B*T, ci, xp)
	if l.bias != nil {
		kernel.AddBias(xp, l.bias)
	}
	if init != nil {
		for i, dst := range [2][]float32{h, cs} {
			if l.ChannelsFirst && !fromStored {
				channelsLastInto(dst, init[i].Data, B, F, P)
			} else {
				copy(dst, init[i].Data)
			}
		}
	} else {
		clear(h)
		clear(cs)
	}
	clear(prev)
	for step := 0; step < T; step++ {
		// A step is a whole convolution: honour cancellation at each.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t := step
		if l.GoBackwards {
			t = T - 1 - step
		}
		l.recurrent.run(&rg, h, B, cr, rec)
		for b := 0; b < B; b++ {
			masked := mask != nil && mask.Data[b*T+t] == 0
			for p := 0; p < P; p++ {
				j := b*P + p
				row := xp[((b*T+t)*P+p)*G : ((b*T+t)*P+p+1)*G]
				kernel.Add(row, row, rec[j*G:(j+1)*G])
				l.ract(row[:3*F], row[:3*F], F)
				l.act(row[3*F:], row[3*F:], F)
				iG, fG, oG, gG := row[:F], row[F:2*F], row[2*F:3*F], row[3*F:]
				cOld, cNew, hNew := cs[j*F:(j+1)*F], cn[j*F:(j+1)*F], hn[j*F:(j+1)*F]
				kernel.Mul(cNew, fG, cOld)
				kernel.Mul(tmp, iG, gG)
				kernel.Add(cNew, cNew, tmp)
				l.act(hNew, cNew, F)
				kernel.Mul(hNew, oG, hNew)
			}
			hb := hn[b*P*F : (b+1)*P*F]
			val := hb
			if masked {
				// Keras: a masked step keeps the states and repeats the
				// previous output (or outputs zeros).
				copy(hb, h[b*P*F:(b+1)*P*F])
				copy(cn[b*P*F:(b+1)*P*F], cs[b*P*F:(b+1)*P*F])
				switch {
				case l.ZeroOutputForMask && !l.Unroll:
					val = nil
				case prevLen > 0:
					val = prev[b*P*F : (b+1)*P*F]
				}
			}
			if prevLen > 0 {
				copy(prev[b*P*F:(b+1)*P*F], val)
			}
			var dst []float32
			switch {
			case l.ReturnSequences:
				dst = seq[(b*T+step)*P*F : (b*T+step+1)*P*F]
			case step == T-1:
				dst = seq[b*P*F : (b+1)*P*F]
			}
			if dst != nil {
				if val == nil {
					clear(dst)
				} else {
					copy(dst, val)
				}
			}
		}
		h, hn = hn, h
		cs, cn = cn, cs
	}
	if l.ChannelsFirst {
		frames := B
		if l.ReturnSequences {
			frames = B * T
		}
		channelsFirstInto(out.Data, seq, frames, P, F)
	}
	if keep {
		copy(stored[0].Data, h)
		copy(stored[1].Data, cs)
	}
	n := 1
	if l.ReturnState {
		n = 3
		if l.ChannelsFirst {
			channelsFirstInto(hOut.Data, h, B, P, F)
			channelsFirstInto(cOut.Data, cs, B, P, F)
		} else {
			copy(hOut.Data, h)
			copy(cOut.Data, cs)
		}
	}
	res := ctx.Values(l, 0, n)
	res[0].T = out
	if l.ReturnState {
		res[1].T, res[2].T = hOut, cOut
	}
	if l.ReturnSequences && mask != nil && l.kerasMajor < 3 {
		res[0].Mask = mask // Keras 1/2 pass the sequence mask on
	}
	return res, nil
}

func (l *ConvLSTM) frameLayout() string {
	if l.ChannelsFirst {
		return "channels, spatial..."
	}
	return "spatial..., channels"
}
