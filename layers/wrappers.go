package layers

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// This file holds Keras' layer wrappers: Bidirectional
// (keras/src/layers/rnn/bidirectional.py) and TimeDistributed
// (keras/src/layers/rnn/time_distributed.py).

func init() { builtins = append(builtins, registerWrappers) }

func registerWrappers(r *Registry) {
	r.Register("Bidirectional", buildBidirectional)
	r.Register("TimeDistributed", buildTimeDistributed)
}

// withOption returns a shallow copy of spec whose Config has key set to v;
// spec itself is not changed.
func withOption(spec *convert.Layer, key string, v any) *convert.Layer {
	c := *spec
	c.Config = make(convert.Config, len(spec.Config)+1)
	maps.Copy(c.Config, spec.Config)
	c.Config[key] = v
	return &c
}

// Bidirectional runs a forward RNN and a backward RNN (go_backwards) over
// the same sequence and merges their outputs.
//
// Keras: the backward output sequence is flipped back to input time order
// before merging; merge_mode is concat (last axis), sum, ave, mul or None
// (two outputs). Both RNNs get zero_output_for_mask = return_sequences
// (from tf.keras 2.2.4-tf / Keras 2.3 on), so masked steps output zeros in
// returned sequences. With return_state the
// outputs are [merged..., forward states..., backward states...]. An
// initial_state list is split in halves: forward first.
type Bidirectional struct {
	layerIdent
	Forward, Backward runtime.Layer
	// MergeMode is "concat", "sum", "ave", "mul" or "" for None.
	MergeMode       string
	ReturnSequences bool
	ReturnState     bool
	// keras3 records a Keras 3 writer: no output mask (see Call).
	keras3 bool
}

func buildBidirectional(spec *convert.Layer, env *Env) (runtime.Layer, error) {
	if len(spec.Weights) != 0 {
		return nil, fmt.Errorf("layer %q: got %d weights on the wrapper, want them on its forward and backward layers: %w",
			spec.Name, len(spec.Weights), convert.ErrWeights)
	}
	r := spec.Config.Reader(spec.Name)
	mode := "concat"
	if v, ok := spec.Config["merge_mode"]; ok {
		if v == nil {
			mode = ""
		} else {
			mode = r.String("merge_mode", "concat")
		}
	}
	fwd := r.Layer("layer")
	bwd := r.Layer("backward_layer")
	if err := r.Err(); err != nil {
		return nil, err
	}
	switch mode {
	case "concat", "sum", "ave", "mul", "":
	default:
		return nil, fmt.Errorf("layer %q: merge_mode %q: want concat, sum, ave, mul or None: %w", spec.Name, mode, convert.ErrConfig)
	}
	if fwd == nil {
		return nil, fmt.Errorf("layer %q: missing the wrapped layer: %w", spec.Name, convert.ErrConfig)
	}
	if bwd == nil {
		// convert always fills backward_layer; without it the backward
		// weights would be missing.
		return nil, fmt.Errorf("layer %q: missing backward_layer: %w", spec.Name, convert.ErrConfig)
	}
	type flags struct{ seq, state, stateful, back bool }
	read := func(l *convert.Layer) (flags, error) {
		lr := l.Config.Reader(l.Name)
		f := flags{
			seq:      lr.Bool("return_sequences", false),
			state:    lr.Bool("return_state", false),
			stateful: lr.Bool("stateful", false),
			back:     lr.Bool("go_backwards", false),
		}
		return f, lr.Err()
	}
	ff, err := read(fwd)
	if err != nil {
		return nil, err
	}
	bf, err := read(bwd)
	if err != nil {
		return nil, err
	}
	if ff.back == bf.back {
		return nil, fmt.Errorf("layer %q: forward and backward layers both have go_backwards=%v: %w", spec.Name, ff.back, convert.ErrConfig)
	}
	if ff.seq != bf.seq || ff.state != bf.state || ff.stateful != bf.stateful {
		return nil, fmt.Errorf("layer %q: forward and backward layers differ in return_sequences, return_state or stateful: %w", spec.Name, convert.ErrConfig)
	}
	version := ""
	if env != nil {
		version = env.KerasVersion
	}
	l := &Bidirectional{layerIdent: idOf(spec), MergeMode: mode, ReturnSequences: ff.seq, ReturnState: ff.state,
		keras3: kerasAtLeast(version, 3, 0)}
	// Keras forces zero_output_for_mask to return_sequences in both RNNs;
	// older writers kept each RNN's own setting.
	if forcesZeroOutput(version) {
		fwd = withOption(fwd, "zero_output_for_mask", ff.seq)
		bwd = withOption(bwd, "zero_output_for_mask", bf.seq)
	}
	if l.Forward, err = env.Build(fwd); err != nil {
		return nil, fmt.Errorf("layer %q: forward layer: %w", spec.Name, err)
	}
	if l.Backward, err = env.Build(bwd); err != nil {
		return nil, fmt.Errorf("layer %q: backward layer: %w", spec.Name, err)
	}
	return l, nil
}

// directions runs the forward and the backward layer. Two RNNs whose
// passes each stay on one goroutine (a small batch) run at the same time
// when the thread budget allows and each has enough work (minChunkFlops):
// the directions are independent, so the results are the same bits as one
// after the other.
func (l *Bidirectional) directions(ctx *runtime.Workspace, call *runtime.Call, in runtime.Value, fwdStates, bwdStates []runtime.Value) (fo, bo []runtime.Value, err error) {
	fr, fok := l.Forward.(*RNN)
	br, bok := l.Backward.(*RNN)
	m, hasMask := call.Kwarg("mask")
	direct := fok && bok && in.T != nil && (!hasMask || m.IsTensor() && len(m.Values) > 0)
	if !direct || in.T.Rank() != 3 || in.T.Shape[0] >= 2*minChunkBatch || ctx.Threads() < 2 {
		if fo, err = direction(ctx, l.Forward, call, in, fwdStates); err != nil {
			return nil, nil, fmt.Errorf("forward layer %q: %w", l.Forward.Name(), err)
		}
		if bo, err = direction(ctx, l.Backward, call, in, bwdStates); err != nil {
			return nil, nil, fmt.Errorf("backward layer %q: %w", l.Backward.Name(), err)
		}
		return fo, bo, nil
	}
	var mask *runtime.Tensor
	if hasMask {
		mask = m.Values[0].T
	}
	var fc, bc rnnCall
	if err := fr.planCall(ctx, in, stateTensors(fwdStates), mask, hasMask, &fc); err != nil {
		return nil, nil, fmt.Errorf("forward layer %q: %w", l.Forward.Name(), err)
	}
	if err := br.planCall(ctx, in, stateTensors(bwdStates), mask, hasMask, &bc); err != nil {
		return nil, nil, fmt.Errorf("backward layer %q: %w", l.Backward.Name(), err)
	}
	ff, fs := fc.job.flops()
	bf, bs := bc.job.flops()
	var ferr, berr error
	if fs && bs && min(ff, bf) >= minChunkFlops {
		bj := new(rnnJob)
		*bj = bc.job
		done := make(chan error, 1)
		go func() { done <- bj.exec() }()
		ferr = fc.job.exec()
		berr = <-done
	} else {
		ferr = fc.job.exec()
		if ferr == nil {
			berr = bc.job.exec()
		}
	}
	if ferr != nil {
		return nil, nil, fmt.Errorf("forward layer %q: %w", l.Forward.Name(), ferr)
	}
	if berr != nil {
		return nil, nil, fmt.Errorf("backward layer %q: %w", l.Backward.Name(), berr)
	}
	return fc.results(ctx), bc.results(ctx), nil
}

// stateTensors returns the tensors of states, nil for none.
func stateTensors(states []runtime.Value) []*runtime.Tensor {
	var init []*runtime.Tensor
	for _, v := range states {
		init = append(init, v.T)
	}
	return init
}

// direction runs one wrapped layer of a Bidirectional on the call Keras'
// Bidirectional makes: the same sequence (with its mask), the explicit mask
// if any, its half of the initial states. An RNN gets those arguments
// directly, without a Call built for it (which allocated on every call).
func direction(ctx *runtime.Workspace, r runtime.Layer, call *runtime.Call, in runtime.Value, states []runtime.Value) ([]runtime.Value, error) {
	m, hasMask := call.Kwarg("mask")
	if rnn, ok := r.(*RNN); ok && in.T != nil && (!hasMask || m.IsTensor() && len(m.Values) > 0) {
		var mask *runtime.Tensor
		if hasMask {
			mask = m.Values[0].T
		}
		return rnn.callTensors(ctx, in, stateTensors(states), mask, hasMask)
	}
	c := &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{in}}}, Kwargs: map[string]runtime.Arg{}}
	if hasMask {
		c.Kwargs["mask"] = m
	}
	if states != nil {
		c.Kwargs["initial_state"] = runtime.Arg{Values: states, IsList: true}
	}
	return r.Call(ctx, c)
}

// forcesZeroOutput reports whether the writer's Bidirectional forced
// zero_output_for_mask on its RNNs. tf.keras did from its 2.2.4-tf
// version (TF 1.13), multi-backend Keras from 2.3, and so does Keras 3.
// Keras 1 and multi-backend Keras 2.0-2.2 RNNs repeated the previous output
// at masked steps inside Bidirectional too (keras-team/keras#7695).
func forcesZeroOutput(version string) bool {
	if kerasAtLeast(version, 2, 3) {
		return true
	}
	return kerasAtLeast(version, 2, 2) && strings.HasSuffix(version, "-tf")
}

// Call runs both directions on x: [batch, time, features].
func (l *Bidirectional) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, err := singleInput(call)
	if err != nil {
		return nil, err
	}
	var fwdStates, bwdStates []runtime.Value
	if init, ok := call.Kwarg("initial_state"); ok && len(init.Values) > 0 {
		if len(init.Values)%2 != 0 {
			return nil, fmt.Errorf("initial_state has %d tensors, want an even number (forward half, backward half)", len(init.Values))
		}
		half := len(init.Values) / 2
		fwdStates, bwdStates = init.Values[:half], init.Values[half:]
	}
	fo, bo, err := l.directions(ctx, call, in, fwdStates, bwdStates)
	if err != nil {
		return nil, err
	}
	if len(fo) < 1 || len(bo) != len(fo) || fo[0].T == nil || bo[0].T == nil {
		return nil, fmt.Errorf("forward and backward layers returned %d and %d outputs", len(fo), len(bo))
	}
	y, yr := fo[0].T, bo[0].T
	if l.ReturnSequences {
		yr = flipTime(ctx, l, yr)
	}
	// Keras' compute_mask: the sequence mask passes on only with
	// return_sequences. It is the mask Keras gave the wrapper: explicit,
	// else the input's. Keras 3 (whose numpy backend made the reference
	// outputs) sets no output mask here: its Layer._set_mask_metadata
	// ignores computed masks on that backend, so a layer after a
	// Bidirectional sees none (golden stacked_bidirectional_masked).
	var mask *runtime.Tensor
	if l.ReturnSequences && !l.keras3 {
		if m := explicitMasks(call); len(m) > 0 {
			mask = m[0]
		} else {
			mask = in.Mask
		}
	}
	n := 1
	if l.MergeMode == "" {
		n = 2
	}
	if l.ReturnState {
		n += len(fo) - 1 + len(bo) - 1
	}
	outs := ctx.Values(l, 0, n)
	if l.MergeMode == "" {
		outs[0], outs[1] = runtime.Value{T: y, Mask: mask}, runtime.Value{T: yr, Mask: mask}
	} else {
		merged, err := mergeDirections(ctx, l, l.MergeMode, y, yr)
		if err != nil {
			return nil, err
		}
		outs[0] = runtime.Value{T: merged, Mask: mask}
	}
	if l.ReturnState {
		i := 1
		if l.MergeMode == "" {
			i = 2
		}
		// The inner layers' state outputs are their own at this node.
		for _, s := range fo[1:] {
			outs[i] = runtime.Value{T: s.T}
			i++
		}
		for _, s := range bo[1:] {
			outs[i] = runtime.Value{T: s.T}
			i++
		}
	}
	return outs, nil
}

// ResetState clears both directions' states.
func (l *Bidirectional) ResetState(ctx *runtime.Workspace) {
	for _, s := range []runtime.Layer{l.Forward, l.Backward} {
		if r, ok := s.(runtime.Resetter); ok {
			r.ResetState(ctx)
		}
	}
}

// Output slots of Bidirectional under its own key: the merged output, and
// the backward output flipped back to input order.
const (
	slotBidiMerged = iota
	slotBidiFlipped
)

// flipTime returns x [batch, time, ...] with the time axis reversed, in
// owner's reusable output at the node being run.
func flipTime(ctx *runtime.Workspace, owner any, x *runtime.Tensor) *runtime.Tensor {
	if x.Rank() < 2 {
		return x
	}
	b, t := x.Shape[0], x.Shape[1]
	inner := shapeSize(x.Shape[2:])
	out := ctx.Output(owner, slotBidiFlipped, x.Shape...)
	for i := 0; i < b; i++ {
		for s := 0; s < t; s++ {
			copy(out.Data[(i*t+s)*inner:(i*t+s+1)*inner], x.Data[(i*t+t-1-s)*inner:(i*t+t-s)*inner])
		}
	}
	return out
}

// mergeDirections combines forward and backward outputs of equal shape,
// in owner's reusable output at the node being run.
func mergeDirections(ctx *runtime.Workspace, owner any, mode string, y, yr *runtime.Tensor) (*runtime.Tensor, error) {
	if !slices.Equal(y.Shape, yr.Shape) || len(y.Data) != len(yr.Data) {
		return nil, fmt.Errorf("forward output %v and backward output %v differ in shape", y.Shape, yr.Shape)
	}
	if mode == "concat" {
		// Concatenate the last axis: each row is y's row, then yr's.
		if y.Rank() == 0 {
			return nil, fmt.Errorf("forward and backward outputs are scalars: nothing to concatenate")
		}
		var buf [maxLayerResultRank]int
		shape := append(buf[:0], y.Shape...)
		last := shape[len(shape)-1]
		shape[len(shape)-1] = 2 * last
		out := ctx.Output(owner, slotBidiMerged, shape...)
		if last > 0 {
			for r := range len(y.Data) / last {
				copy(out.Data[2*r*last:(2*r+1)*last], y.Data[r*last:(r+1)*last])
				copy(out.Data[(2*r+1)*last:(2*r+2)*last], yr.Data[r*last:(r+1)*last])
			}
		}
		return out, nil
	}
	out := ctx.Output(owner, slotBidiMerged, y.Shape...)
	for i := range out.Data {
		a, b := y.Data[i], yr.Data[i]
		switch mode {
		case "sum":
			out.Data[i] = a + b
		case "ave":
			out.Data[i] = (a + b) / 2
		case "mul":
			out.Data[i] = a * b
		}
	}
	return out, nil
}

// TimeDistributed applies its inner layer to every step of axis 1:
// [batch, time, ...] is folded to [batch·time, ...], the inner layer runs
// once on it, and its output is unfolded to [batch, time, ...]. The
// output carries the input's mask (Keras' default compute_mask).
type TimeDistributed struct {
	layerIdent
	Layer runtime.Layer
}

func buildTimeDistributed(spec *convert.Layer, env *Env) (runtime.Layer, error) {
	if len(spec.Weights) != 0 {
		return nil, fmt.Errorf("layer %q: got %d weights on the wrapper, want them on the inner layer: %w",
			spec.Name, len(spec.Weights), convert.ErrWeights)
	}
	r := spec.Config.Reader(spec.Name)
	inner := r.Layer("layer")
	if err := r.Err(); err != nil {
		return nil, err
	}
	if inner == nil {
		return nil, fmt.Errorf("layer %q: missing the wrapped layer: %w", spec.Name, convert.ErrConfig)
	}
	il, err := env.Build(inner)
	if err != nil {
		return nil, fmt.Errorf("layer %q: inner layer: %w", spec.Name, err)
	}
	return &TimeDistributed{layerIdent: idOf(spec), Layer: il}, nil
}

// Call runs the inner layer on all steps at once.
func (l *TimeDistributed) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, err := singleInput(call)
	if err != nil {
		return nil, err
	}
	x := in.T
	if x.Rank() < 3 {
		return nil, fmt.Errorf("input shape %v: want at least [batch, time, features]", x.Shape)
	}
	b, t := x.Shape[0], x.Shape[1]
	folded := &runtime.Tensor{Shape: append([]int{b * t}, x.Shape[2:]...), Data: x.Data}
	outs, err := l.Layer.Call(ctx, &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: folded}}}}})
	if err != nil {
		return nil, fmt.Errorf("inner layer %q: %w", l.Layer.Name(), err)
	}
	if len(outs) != 1 || outs[0].T == nil || outs[0].T.Rank() < 1 || outs[0].T.Shape[0] != b*t {
		return nil, fmt.Errorf("inner layer %q: want one output with %d rows", l.Layer.Name(), b*t)
	}
	y := outs[0].T
	unfolded := &runtime.Tensor{Shape: append([]int{b, t}, y.Shape[1:]...), Data: y.Data}
	return []runtime.Value{{T: unfolded, Mask: inputMask(call, in)}}, nil
}

// ResetState clears the inner layer's state.
func (l *TimeDistributed) ResetState(ctx *runtime.Workspace) {
	if r, ok := l.Layer.(runtime.Resetter); ok {
		r.ResetState(ctx)
	}
}
