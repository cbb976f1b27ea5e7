package layers

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
	"github.com/rnnkit/rnnkit/runtime/kernel"
)

func init() { builtins = append(builtins, registerRecurrent) }

func registerRecurrent(r *Registry) {
	r.Register(simpleRNNClass, buildRecurrent)
	r.Register(lstmClass, buildRecurrent)
	r.Register(gruClass, buildRecurrent)
	r.Register(rnnClass, buildRecurrent)
}

const (
	simpleRNNClass     = "SimpleRNN"
	lstmClass          = "LSTM"
	gruClass           = "GRU"
	rnnClass           = "RNN"
	simpleRNNCellClass = "SimpleRNNCell"
	lstmCellClass      = "LSTMCell"
	gruCellClass       = "GRUCell"
	stackedCellsClass  = "StackedRNNCells"
)

// cellKind selects the cell equations.
type cellKind int

const (
	simpleRNNCell cellKind = iota
	lstmCell
	gruCell
)

// rnnCell is one recurrent cell bound to its weights, laid out so that the
// time loop reads them with kernel.MatMul and kernel.VecMat directly.
//
// Keras (keras-formats.md §6.1): kernels are (in, gates*units) with gate
// blocks as column slices: LSTM i, f, c, o; GRU z, r, h.
//
// A step performs the float32 operations of Keras 3's numpy backend in
// the same order (its cells' implementation 2): each matrix product is
// computed on its own, from zero, then added, and every product and sum of
// the gate math is rounded separately (no fused multiply-add). A recurrent
// model feeds every rounding difference back into itself, and chaotic ones
// amplify a last-bit difference to 1e-4 within 40 steps.
type rnnCell struct {
	kind     cellKind
	units    int
	inputDim int
	gates    int // 1 (SimpleRNN), 4 (LSTM), 3 (GRU)
	act      ActivationFunc
	ract     ActivationFunc // unused by SimpleRNN

	// kernel is [inputDim, gates*units], Keras' layout except that LSTM
	// gate blocks are reordered i, f, o, c.
	kernel []float32
	// inBias is added to the input projection before the recurrent term
	// (SimpleRNN, GRU): [gates*units], or nil.
	inBias []float32
	// stepBias is LSTM's bias, which Keras adds after x·K + h·R:
	// [4*units] (gate order as kernel), or nil.
	stepBias []float32
	// recBias is a reset_after GRU's recurrent bias, added to h·R:
	// [3*units], or nil.
	recBias []float32
	// recurrent is [units, gates*units] (LSTM blocks reordered as kernel);
	// for GRU only the z and r blocks,
	// [units, 2*units], so the candidate's matmul can come after r.
	recurrent []float32
	// recurrentH is GRU's candidate block [units, units].
	recurrentH []float32
	// recPacked and recPackedH are recurrent and recurrentH packed once
	// for the batched step (kernel.MatMulPacked, same sums as MatMul), and
	// kernPacked is kernel packed for the input projection of all steps.
	recPacked, recPackedH, kernPacked *kernel.PackedMatrix
	resetAfter                        bool
	// fusedLSTM says an LSTM step's gate math can run as kernel.LSTMGates:
	// tanh and sigmoid activations (numpy's, which LSTMGates computes) and
	// a bias.
	fusedLSTM bool
	// fusedGRU says a reset_after GRU step with a bias and tanh/sigmoid
	// runs as one recurrent product over the whole [units, 3*units] kernel
	// (recPackedFull; each column summed as in the split products) and
	// kernel.GRUGates.
	fusedGRU      bool
	recurrentFull []float32
	recPackedFull *kernel.PackedMatrix
}

// numStates is how many state tensors the cell carries: LSTM h and c,
// others h.
func (c *rnnCell) numStates() int {
	if c.kind == lstmCell {
		return 2
	}
	return 1
}

// buildCell reads a cell's options from cfg (a SimpleRNN/LSTM/GRU layer or
// a SimpleRNNCell/LSTMCell/GRUCell config) and binds its weights.
func buildCell(spec *convert.Layer, kind cellKind) (*rnnCell, error) {
	r := spec.Config.Reader(spec.Name)
	units := r.Int("units", 0)
	actName := r.String("activation", "tanh")
	ractName := r.String("recurrent_activation", "sigmoid")
	useBias := r.Bool("use_bias", true)
	resetAfter := r.Bool("reset_after", true)
	timeMajor := r.Bool("time_major", false)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if units <= 0 {
		return nil, fmt.Errorf("layer %q: units %d: want a positive integer: %w", spec.Name, units, convert.ErrConfig)
	}
	if timeMajor {
		return nil, fmt.Errorf("layer %q: time_major=True: %w", spec.Name, convert.ErrUnsupported)
	}
	c := &rnnCell{kind: kind, units: units}
	switch kind {
	case simpleRNNCell:
		c.gates = 1
	case lstmCell:
		c.gates = 4
	case gruCell:
		c.gates = 3
		c.resetAfter = resetAfter
	}
	var err error
	if c.act, err = rnnActivation(spec.Name, actName); err != nil {
		return nil, err
	}
	if kind != simpleRNNCell {
		if c.ract, err = rnnActivation(spec.Name, ractName); err != nil {
			return nil, err
		}
	}
	n := 2
	if useBias {
		n = 3
	}
	if err := checkNWeights(spec, n); err != nil {
		return nil, err
	}
	u, g := units, c.gates*units
	k := spec.Weights[0]
	if len(k.Shape) != 2 || k.Shape[1] != g || k.Shape[0] <= 0 {
		return nil, errWeightShape(spec, k, fmt.Sprintf("(input_dim, %d) for %d gates of %d units", g, c.gates, u))
	}
	if err := checkWeightLen(spec, k); err != nil {
		return nil, err
	}
	c.inputDim = k.Shape[0]
	c.kernel = k.Data
	rk := spec.Weights[1]
	if err := checkWeightShape(spec, rk, u, g); err != nil {
		return nil, err
	}
	c.recurrent = rk.Data
	if kind == lstmCell {
		c.kernel = lstmGateOrder(k.Data, c.inputDim, u)
		c.recurrent = lstmGateOrder(rk.Data, u, u)
	}
	if kind == gruCell {
		// Split the recurrent kernel's columns into [z r] and [h].
		c.recurrent = make([]float32, u*2*u)
		c.recurrentH = make([]float32, u*u)
		for i := range u {
			copy(c.recurrent[i*2*u:(i+1)*2*u], rk.Data[i*g:i*g+2*u])
			copy(c.recurrentH[i*u:(i+1)*u], rk.Data[i*g+2*u:(i+1)*g])
		}
	}
	recCols := g
	if kind == gruCell {
		recCols = 2 * u
		c.recPackedH = kernel.PackMatrix(u, u, c.recurrentH, u)
	}
	c.recPacked = kernel.PackMatrix(u, recCols, c.recurrent, recCols)
	c.kernPacked = kernel.PackMatrix(c.inputDim, g, c.kernel, g)
	if !useBias {
		return c, nil
	}
	b := spec.Weights[2]
	if kind == gruCell && c.resetAfter {
		// Keras: reset_after=True has bias (2, 3u): input bias, then
		// recurrent bias.
		if err := checkWeightShape(spec, b, 2, g); err != nil {
			return nil, err
		}
		c.inBias = b.Data[:g]
		c.recBias = b.Data[g:]
		if actName == "tanh" && ractName == "sigmoid" {
			c.fusedGRU = true
			c.recurrentFull = rk.Data
			c.recPackedFull = kernel.PackMatrix(u, g, rk.Data, g)
		}
		return c, nil
	}
	if err := checkWeightShape(spec, b, g); err != nil {
		return nil, err
	}
	if kind == lstmCell {
		c.stepBias = lstmGateOrder(b.Data, 1, u)
		c.fusedLSTM = actName == "tanh" && ractName == "sigmoid"
	} else {
		c.inBias = b.Data
	}
	return c, nil
}

// lstmGateOrder returns a copy of an LSTM weight of rows×4u with its gate
// column blocks moved from Keras' i, f, c, o to i, f, o, c, so that one
// recurrent-activation call covers the three sigmoid gates of a step.
func lstmGateOrder(w []float32, rows, u int) []float32 {
	out := make([]float32, len(w))
	g := 4 * u
	for r := range rows {
		src, dst := w[r*g:(r+1)*g], out[r*g:(r+1)*g]
		copy(dst[:2*u], src[:2*u])    // i, f
		copy(dst[2*u:3*u], src[3*u:]) // o
		copy(dst[3*u:], src[2*u:3*u]) // c
	}
	return out
}

// rnnActivation resolves an activation for a recurrent cell, which applies
// it to (batch, units) blocks: glu would change the state size.
func rnnActivation(layer, name string) (ActivationFunc, error) {
	if dim, err := ActivationOutputDim(name, 2); err == nil && dim != 2 {
		return nil, fmt.Errorf("layer %q: activation %q in a recurrent cell: %w", layer, name, convert.ErrUnsupported)
	}
	f, err := Activation(name)
	if err != nil {
		return nil, fmt.Errorf("layer %q: %w", layer, err)
	}
	return f, nil
}

// RNN is a Keras recurrent layer: SimpleRNN, LSTM, GRU, or keras.layers.RNN
// over a SimpleRNNCell, LSTMCell, GRUCell or StackedRNNCells. It is
// immutable; states that persist between calls (stateful layers, or any RNN
// in a streaming Workspace) live in the Workspace under the layer's pointer.
//
// Call takes x: [batch, time, features] and returns, in Keras order, the
// output ([batch, time, units] with ReturnSequences, else [batch, units])
// and with ReturnState the final states (LSTM h then c; for stacked cells
// every cell's states in order).
type RNN struct {
	layerID
	cells []*rnnCell

	ReturnSequences bool
	ReturnState     bool
	GoBackwards     bool
	Stateful        bool
	Unroll          bool
	// ZeroOutputForMask makes masked steps output zeros instead of the
	// previous output (honoured only without Unroll, as Keras does).
	ZeroOutputForMask bool
	// kerasMajor is the writer's Keras major version: Keras 3 does not
	// pass an input's mask to an RNN called with initial_state.
	kerasMajor int
	stateSizes []int
	// scratchStates is the address under which a Workspace keeps scratch
	// for final states nobody asked for.
	scratchStates byte
}

func buildRecurrent(spec *convert.Layer, env *Env) (runtime.Layer, error) {
	r := spec.Config.Reader(spec.Name)
	l := &RNN{
		layerID:           layerID{spec.Name, spec.ClassName},
		ReturnSequences:   r.Bool("return_sequences", false),
		ReturnState:       r.Bool("return_state", false),
		GoBackwards:       r.Bool("go_backwards", false),
		Stateful:          r.Bool("stateful", false),
		Unroll:            r.Bool("unroll", false),
		ZeroOutputForMask: r.Bool("zero_output_for_mask", false),
		kerasMajor:        kerasMajor(env),
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	switch spec.ClassName {
	case simpleRNNClass, lstmClass, gruClass:
		c, err := buildCell(spec, cellKindOf(spec.ClassName))
		if err != nil {
			return nil, err
		}
		l.cells = []*rnnCell{c}
	case rnnClass:
		cellSpec := r.Layer("cell")
		if err := r.Err(); err != nil {
			return nil, err
		}
		if cellSpec == nil {
			return nil, fmt.Errorf("layer %q: RNN without a cell: %w", spec.Name, convert.ErrConfig)
		}
		if len(spec.Weights) != 0 {
			return nil, fmt.Errorf("layer %q: %d weights on the RNN itself, want them on its cell: %w",
				spec.Name, len(spec.Weights), convert.ErrWeights)
		}
		cells, err := buildCells(cellSpec)
		if err != nil {
			return nil, fmt.Errorf("layer %q: %w", spec.Name, err)
		}
		l.cells = cells
	default:
		return nil, fmt.Errorf("layer %q: class %s is not recurrent: %w", spec.Name, spec.ClassName, convert.ErrUnsupported)
	}
	for _, c := range l.cells {
		for range c.numStates() {
			l.stateSizes = append(l.stateSizes, c.units)
		}
	}
	for i := 1; i < len(l.cells); i++ {
		if l.cells[i].inputDim != l.cells[i-1].units {
			return nil, fmt.Errorf("layer %q: stacked cell %d has input_dim %d, want the previous cell's units %d: %w",
				spec.Name, i, l.cells[i].inputDim, l.cells[i-1].units, convert.ErrWeights)
		}
	}
	return l, nil
}

func cellKindOf(class string) cellKind {
	switch class {
	case lstmClass, lstmCellClass:
		return lstmCell
	case gruClass, gruCellClass:
		return gruCell
	}
	return simpleRNNCell
}

// buildCells builds the cell of a keras.layers.RNN: one cell, or the cells
// of a StackedRNNCells in order.
func buildCells(spec *convert.Layer) ([]*rnnCell, error) {
	switch spec.ClassName {
	case simpleRNNCellClass, lstmCellClass, gruCellClass:
		c, err := buildCell(spec, cellKindOf(spec.ClassName))
		if err != nil {
			return nil, err
		}
		return []*rnnCell{c}, nil
	case stackedCellsClass:
		list, ok := spec.Config["cells"].([]any)
		if !ok || len(list) == 0 {
			return nil, fmt.Errorf("cell %q: StackedRNNCells option \"cells\": got %T, want a non-empty list of cells: %w",
				spec.Name, spec.Config["cells"], convert.ErrConfig)
		}
		var cells []*rnnCell
		for i, e := range list {
			sub, ok := e.(*convert.Layer)
			if !ok {
				return nil, fmt.Errorf("cell %q: cells[%d]: got %T, want a cell: %w", spec.Name, i, e, convert.ErrConfig)
			}
			cs, err := buildCells(sub)
			if err != nil {
				return nil, err
			}
			cells = append(cells, cs...)
		}
		return cells, nil
	}
	return nil, fmt.Errorf("cell %q of class %s: %w", spec.Name, spec.ClassName, convert.ErrUnsupported)
}

// kerasMajor returns the writer's Keras major version, 3 when unknown.
func kerasMajor(env *Env) int {
	if env == nil || env.KerasVersion == "" {
		return 3
	}
	v := env.KerasVersion
	if i := strings.IndexByte(v, '.'); i >= 0 {
		v = v[:i]
	}
	m, err := strconv.Atoi(v)
	if err != nil {
		return 3
	}
	return m
}

// Units is the size of the output and of each state of the last cell.
func (l *RNN) Units() int { return l.cells[len(l.cells)-1].units }

// InputDim is the feature size the layer expects.
func (l *RNN) InputDim() int { return l.cells[0].inputDim }

// StateSizes returns the size of each state tensor in Keras order (LSTM:
// h, c; stacked cells: every cell's states in order).
func (l *RNN) StateSizes() []int { return append([]int(nil), l.stateSizes...) }

// ResetState drops the state the layer keeps in ctx.
func (l *RNN) ResetState(ctx *runtime.Workspace) { ctx.SetState(l, nil) }

// RNNOptions are the per-call inputs of RNN.Run besides the sequence.
type RNNOptions struct {
	// Mask is [batch, time] with 0 at masked steps, or nil.
	Mask *runtime.Tensor
	// InitialState holds one [batch, size] tensor per state (StateSizes),
	// or nil for zeros, or for the stored state of a stateful layer or a
	// streaming Workspace.
	InitialState []*runtime.Tensor
	// ZeroOutputForMask forces zero outputs at masked steps, as
	// Bidirectional does for its RNNs when returning sequences.
	ZeroOutputForMask bool
}

// Run runs the layer on x: [batch, time, features] (time ≥ 1). It returns
// the output, [batch, time, units] in processing order (reversed when
// GoBackwards) if ReturnSequences, else [batch, units], and the final
// states (one per StateSizes entry), whatever ReturnState says. It stores
// the final states in ctx when the layer is stateful or ctx is streaming.
// The returned tensors are new and owned by the caller.
//
// Used by Bidirectional, which runs two RNNs with the same mask.
func (l *RNN) Run(ctx *runtime.Workspace, x *runtime.Tensor, opt RNNOptions) (*runtime.Tensor, []*runtime.Tensor, error) {
	if x == nil || x.Rank() != 3 {
		return nil, nil, fmt.Errorf("layer %q: input %v: want [batch, time, features]", l.name, x)
	}
	out := l.NewOutput(x.Shape[0], x.Shape[1])
	final := make([]*runtime.Tensor, len(l.stateSizes))
	for i, s := range l.stateSizes {
		final[i] = runtime.NewTensor(x.Shape[0], s)
	}
	if err := l.RunInto(ctx, x, opt, out, final); err != nil {
		return nil, nil, err
	}
	return out, final, nil
}

// NewOutput returns a zero output tensor for a batch of sequences of the
// given length: [batch, time, units] with ReturnSequences, else
// [batch, units].
func (l *RNN) NewOutput(batch, time int) *runtime.Tensor {
	if l.ReturnSequences {
		return runtime.NewTensor(batch, time, l.Units())
	}
	return runtime.NewTensor(batch, l.Units())
}

// RunInto is Run writing into tensors the caller owns: out shaped as
// NewOutput says, and final holding one [batch, size] tensor per state, or
// nil when the caller does not need the final states. Once a stateful
// layer (or any layer in a streaming ctx) has stored its state and its
// scratch buffers exist, RunInto allocates nothing: the steady state of a
// streaming loop.
func (l *RNN) RunInto(ctx *runtime.Workspace, x *runtime.Tensor, opt RNNOptions, out *runtime.Tensor, final []*runtime.Tensor) error {
	var j rnnJob
	if err := l.planInto(ctx, x, opt, out, final, &j); err != nil {
		return err
	}
	return j.exec()
}

// rnnJob is a RunInto planned on the Workspace's goroutine (states and
// scratch resolved); exec then touches the Workspace only to poll for
// cancellation, so that two jobs can run at once: a Bidirectional's two
// directions.
type rnnJob struct {
	// passes are the cells' passes in order (n of them; more when there
	// are over two cells).
	arr  [2]cellPass
	more []cellPass
	n    int
	// keep and stored: a kept state to update from final after the run.
	keep   bool
	stored []*runtime.Tensor
	final  []*runtime.Tensor
}

func (j *rnnJob) pass(i int) *cellPass {
	if j.more != nil {
		return &j.more[i]
	}
	return &j.arr[i]
}

// exec runs the planned passes.
func (j *rnnJob) exec() error {
	for i := range j.n {
		if err := j.pass(i).run(); err != nil {
			return err
		}
	}
	if j.keep && j.final != nil {
		for i := range j.final {
			copy(j.stored[i].Data, j.final[i].Data)
		}
	}
	return nil
}

// flops is the work of the job's first pass, and whether that pass runs
// on one goroutine.
func (j *rnnJob) flops() (flops int, single bool) {
	if j.n == 0 {
		return 0, true
	}
	p := j.pass(0)
	G := p.c.gates * p.c.units
	return 2 * p.b * p.t * G * (p.c.inputDim + p.c.units), p.nchunks <= 1
}

// planInto checks RunInto's arguments, resolves the states and plans the
// passes into j.
func (l *RNN) planInto(ctx *runtime.Workspace, x *runtime.Tensor, opt RNNOptions, out *runtime.Tensor, final []*runtime.Tensor, j *rnnJob) error {
	if x == nil || x.Rank() != 3 {
		return fmt.Errorf("layer %q: input %v: want [batch, time, features]", l.name, x)
	}
	B, T, D := x.Shape[0], x.Shape[1], x.Shape[2]
	if D != l.InputDim() {
		return fmt.Errorf("layer %q: input shape %v: want %d features", l.name, x.Shape, l.InputDim())
	}
	if T == 0 {
		return fmt.Errorf("layer %q: input shape %v: want at least one time step", l.name, x.Shape)
	}
	if want := B * T * l.Units(); out == nil || (l.ReturnSequences && out.Len() != want) || (!l.ReturnSequences && out.Len() != B*l.Units()) {
		return fmt.Errorf("layer %q: output tensor %v does not fit batch %d, time %d", l.name, out, B, T)
	}
	var mask []float32
	if opt.Mask != nil {
		if opt.Mask.Len() != B*T || opt.Mask.Rank() < 2 || opt.Mask.Shape[0] != B || opt.Mask.Shape[1] != T {
			return fmt.Errorf("layer %q: mask shape %v: want [%d, %d]", l.name, opt.Mask.Shape, B, T)
		}
		mask = opt.Mask.Data
	}
	sizes := l.stateSizes
	keep := l.Stateful || ctx.Streaming()
	init := opt.InitialState
	var stored []*runtime.Tensor
	if keep {
		stored = ctx.State(l)
		if !statesFit(stored, B, sizes) {
			if stored != nil && init == nil {
				return fmt.Errorf("layer %q: stored state is for batch %d, input has batch %d: reset the states first: %w",
					l.name, stored[0].Shape[0], B, runtime.ErrInput)
			}
			stored = nil
		}
		if init == nil {
			init = stored
		}
	}
	if init != nil && !statesFit(init, B, sizes) {
		return fmt.Errorf("layer %q: initial_state: got %s, want %d tensors of [%d, size] with sizes %v",
			l.name, describeStates(init), len(sizes), B, sizes)
	}
	if final != nil && !statesFit(final, B, sizes) {
		return fmt.Errorf("layer %q: final state tensors %s do not fit batch %d, sizes %v", l.name, describeStates(final), B, sizes)
	}
	if keep && stored == nil {
		stored = make([]*runtime.Tensor, len(sizes))
		for i, s := range sizes {
			stored[i] = runtime.NewTensor(B, s)
		}
		ctx.SetState(l, stored)
	}
	if B == 0 {
		return nil // an empty batch: nothing to compute, no state to change
	}
	// run writes the final states into dst: the caller's tensors, the
	// stored ones (run reads the initial state before it writes the final
	// one), or scratch nobody keeps. Scratch, not a stored state: Predict
	// drops the stored states before every call.
	var small [8][]float32
	dst := small[:0]
	if len(sizes) > len(small) {
		dst = make([][]float32, 0, len(sizes))
	}
	for i, s := range sizes {
		switch {
		case final != nil:
			dst = append(dst, final[i].Data)
		case keep:
			dst = append(dst, stored[i].Data)
		default:
			dst = append(dst, ctx.Scratch(&l.scratchStates, i, B*s))
		}
	}
	l.plan(ctx, x.Data, B, T, mask, init, opt.ZeroOutputForMask, out.Data, dst, j)
	j.keep, j.stored, j.final = keep, stored, final
	return nil
}

// statesFit reports whether s holds one [b, size] tensor per size.
func statesFit(s []*runtime.Tensor, b int, sizes []int) bool {
	if len(s) != len(sizes) {
		return false
	}
	for i, t := range s {
		if t == nil || t.Rank() != 2 || t.Shape[0] != b || t.Shape[1] != sizes[i] || t.Len() != b*sizes[i] {
			return false
		}
	}
	return true
}

func describeStates(s []*runtime.Tensor) string {
	parts := make([]string, len(s))
	for i, t := range s {
		if t == nil {
			parts[i] = "nil"
		} else {
			parts[i] = fmt.Sprint(t.Shape)
		}
	}
	return fmt.Sprintf("%d tensors %v", len(s), parts)
}

// Call runs the layer for one graph node. The mask is the explicit "mask"
// argument if given, else the input's own mask, except that a Keras 3 RNN
// called with initial_state does not pick up the input's mask (its
// Layer.__call__ only fills the mask in for single-tensor calls).
func (l *RNN) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in := call.Inputs()
	if len(in) == 0 || in[0].T == nil {
		return nil, fmt.Errorf("layer %q: no input tensor", l.name)
	}
	x := in[0]
	var init []*runtime.Tensor
	for _, v := range in[1:] { // Keras 2 style [x, h0, c0] input list
		init = append(init, v.T)
	}
	if len(call.Args) > 1 && call.Args[1].IsTensor() { // rnn(x, initial_state)
		for _, v := range call.Args[1].Values {
			init = append(init, v.T)
		}
	}
	if a, ok := call.Kwarg("initial_state"); ok {
		if !a.IsTensor() {
			return nil, fmt.Errorf("layer %q: initial_state: got %v, want tensors", l.name, a.Const)
		}
		for _, v := range a.Values {
			init = append(init, v.T)
		}
	}
	var mask *runtime.Tensor
	explicit := false
	if a, ok := call.Kwarg("mask"); ok {
		if !a.IsTensor() {
			return nil, fmt.Errorf("layer %q: mask: got %v, want a tensor", l.name, a.Const)
		}
		mask, explicit = a.Values[0].T, true
	}
	return l.callTensors(ctx, x, init, mask, explicit)
}

// callTensors is Call with its arguments resolved: the input x, the
// initial states (nil for none) and the explicit mask argument if
// explicit, else the input's own mask applies (see Call).
func (l *RNN) callTensors(ctx *runtime.Workspace, x runtime.Value, init []*runtime.Tensor, explicitMask *runtime.Tensor, explicit bool) ([]runtime.Value, error) {
	var c rnnCall
	if err := l.planCall(ctx, x, init, explicitMask, explicit, &c); err != nil {
		return nil, err
	}
	if err := c.job.exec(); err != nil {
		return nil, err
	}
	return c.results(ctx), nil
}

// rnnCall is a planned Call: the job and where its results go.
type rnnCall struct {
	l      *RNN
	job    rnnJob
	out    *runtime.Tensor
	states []*runtime.Tensor
	mask   *runtime.Tensor
}

// planCall resolves callTensors' outputs and plans its job into c.
func (l *RNN) planCall(ctx *runtime.Workspace, x runtime.Value, init []*runtime.Tensor, explicitMask *runtime.Tensor, explicit bool, c *rnnCall) error {
	mask := x.Mask
	if init != nil && l.kerasMajor >= 3 {
		mask = nil
	}
	if explicit {
		mask = explicitMask
	}
	if x.T.Rank() != 3 {
		return fmt.Errorf("layer %q: input %v: want [batch, time, features]", l.name, x.T)
	}
	opt := RNNOptions{Mask: mask, InitialState: init, ZeroOutputForMask: l.ZeroOutputForMask}
	// The output and the returned states live in ctx's reusable outputs
	// for this node (slot 0, then 1+i for state i), so a streaming step
	// allocates nothing.
	B, T := x.T.Shape[0], x.T.Shape[1]
	var out *runtime.Tensor
	if l.ReturnSequences {
		out = ctx.Output(l, 0, B, T, l.Units())
	} else {
		out = ctx.Output(l, 0, B, l.Units())
	}
	var states []*runtime.Tensor // nil: RunInto keeps the final states in ctx
	if l.ReturnState {
		states = ctx.Tensors(l, 0, len(l.stateSizes))
		for i, s := range l.stateSizes {
			states[i] = ctx.Output(l, 1+i, B, s)
		}
	}
	c.l, c.out, c.states, c.mask = l, out, states, mask
	return l.planInto(ctx, x.T, opt, out, states, &c.job)
}

// results returns the outputs of an executed call, in ctx's reusable
// values.
func (c *rnnCall) results(ctx *runtime.Workspace) []runtime.Value {
	l := c.l
	res := ctx.Values(l, 0, 1+len(c.states))
	res[0].T = c.out
	for i, s := range c.states {
		res[1+i].T = s
	}
	if l.ReturnSequences && c.mask != nil && l.kerasMajor < 3 {
		// Keras 1/2: the output mask is the input mask when returning
		// sequences (not reversed by go_backwards: compute_mask returns
		// it as is). Models written by Keras 3 carry every mask they use
		// as an explicit "mask" argument, and its outputs do not pass an
		// RNN's mask on implicitly: the goldens global_avg_pool1d_after_
		// lstm_mask and stacked_masked_lstm_gru (Sequential models) match
		// Keras 3.16 only when the layer after the RNN sees no mask.
		res[0].Mask = c.mask
	}
	return res
}

// Scratch slots of a cell's run, under the cell's pointer.
const (
	slotProj = iota // input projection [B*T, gates*units] and the states
	slotSeq         // this cell's output sequence when it feeds a stacked cell
)

// plan plans into j the passes of every cell over the sequence, which
// write the last cell's output to out ([B, T, U] in processing order, or
// [B, U]) and each cell's final states to final. init is nil for zero
// initial states. The passes stop with the context's error (ctx.Err) once
// the call's context is done.
func (l *RNN) plan(ctx *runtime.Workspace, x []float32, B, T int, mask []float32, init []*runtime.Tensor, zeroOut bool, out []float32, final [][]float32, j *rnnJob) {
	j.n = len(l.cells)
	if j.n > len(j.arr) {
		j.more = make([]cellPass, j.n)
	}
	si := 0
	for ci, c := range l.cells {
		last := ci == len(l.cells)-1
		var h0, c0 []float32
		if init != nil {
			h0 = init[si].Data
			if c.kind == lstmCell {
				c0 = init[si+1].Data
			}
		}
		hF := final[si]
		var cF []float32
		if c.kind == lstmCell {
			cF = final[si+1]
		}
		si += c.numStates()
		p := cellPass{
			c: c, ctx: ctx, x: x, b: B, t: T, mask: mask, h0: h0, c0: c0, hFinal: hF, cFinal: cF,
			reverse: l.GoBackwards, unroll: l.Unroll,
			zeroOut: (zeroOut || l.ZeroOutputForMask) && !l.Unroll,
		}
		if last {
			p.procOrder = true
			if l.ReturnSequences {
				p.outSeq = out
			} else {
				p.outLast = out
			}
		} else {
			// An inner cell's outputs feed the next cell, which walks time
			// in the same direction, so keep them in input order.
			p.outSeq = ctx.Scratch(c, slotSeq, B*T*c.units)
		}
		p.prepare()
		*j.pass(ci) = p
		x = p.outSeq
	}
}

// cellPass is one run of a cell over a sequence.
type cellPass struct {
	c    *rnnCell
	ctx  *runtime.Workspace
	x    []float32 // [b, t, inputDim]
	b, t int
	mask []float32 // [b, t] or nil
	// h0, c0 are the initial states [b, units], nil for zeros.
	h0, c0 []float32
	// hFinal, cFinal receive the final states.
	hFinal, cFinal []float32
	reverse        bool
	procOrder      bool // write outSeq in processing order, else input order
	unroll         bool
	zeroOut        bool
	outSeq         []float32 // [b, t, units] or nil
	outLast        []float32 // [b, units] or nil
	// nchunks and buf, set by prepare: how many goroutines the batch
	// splits over, and the scratch of all of them.
	nchunks int
	buf     []float32
}

// prepare takes the pass's scratch from the Workspace for the split that
// chunks chooses.
func (p *cellPass) prepare() {
	p.nchunks = p.chunks()
	total := 0
	for i := range p.nchunks {
		total += p.scratchLen((i+1)*p.b/p.nchunks - i*p.b/p.nchunks)
	}
	p.buf = p.ctx.Scratch(p.c, slotProj, total)
}

// cancelEvery is how many time steps a cell runs between two polls of the
// call's context: a poll is a non-blocking channel receive, a few
// nanoseconds against the 0.5 µs or more of the smallest step.
const cancelEvery = 8

// Intra-op parallelism: a batch is split into chunks of whole sequences,
// each run over all time steps (input projection included) on its own
// goroutine, up to the Workspace's thread budget. A chunk has at least
// minChunkBatch sequences, so that with more than ten rows every chunk takes
// the matrix kernels' blocked path as the whole batch does (a 256-deep
// product sums in blocks there, in one chain below ten rows) and the results
// are the same bits whatever the split, and about minChunkFlops of work
// (below that a goroutine costs more than it saves). Batch 1 never splits.
const (
	minChunkBatch = 16
	minChunkFlops = 1 << 22
)

// chunks returns how many goroutines the pass splits its batch over.
func (p *cellPass) chunks() int {
	if p.b < 2*minChunkBatch {
		return 1 // before Threads, whose GOMAXPROCS call takes a lock
	}
	threads := p.ctx.Threads()
	if threads < 2 {
		return 1
	}
	c := p.c
	G := c.gates * c.units
	flops := 2 * p.b * p.t * G * (c.inputDim + c.units)
	return max(1, min(threads, p.b/minChunkBatch, flops/minChunkFlops))
}

// scratchLen is the scratch a pass over b sequences needs (see runOn).
func (p *cellPass) scratchLen(b int) int {
	c := p.c
	U, G, D := c.units, c.gates*c.units, c.inputDim
	const small = 7 // h, h', c, c', tmp, tmp2, prev: [B, U] each
	xtLen := 0
	if b > 1 {
		xtLen = b * p.t * D
	}
	return b*p.t*G + b*G + small*b*U + xtLen
}

// slice returns the pass over sequences [b0, b1) of p's batch: every
// batch-major operand cut to those rows.
func (p *cellPass) slice(b0, b1 int) cellPass {
	q := *p
	c := p.c
	U, D, T := c.units, c.inputDim, p.t
	q.b = b1 - b0
	q.x = p.x[b0*T*D : b1*T*D]
	cut := func(s []float32, n int) []float32 {
		if s == nil {
			return nil
		}
		return s[b0*n : b1*n]
	}
	q.mask = cut(p.mask, T)
	q.h0, q.c0 = cut(p.h0, U), cut(p.c0, U)
	q.hFinal, q.cFinal = cut(p.hFinal, U), cut(p.cFinal, U)
	q.outSeq, q.outLast = cut(p.outSeq, T*U), cut(p.outLast, U)
	return q
}

// run runs the cell over the sequence, split over goroutines as prepare
// planned (on the Workspace's goroutine; run prepares when it was not). It returns the context's error when the call's context is done,
// polled every cancelEvery steps; the final states are then not written.
func (p *cellPass) run() error {
	if p.buf == nil {
		p.prepare()
	}
	n, buf := p.nchunks, p.buf
	if n == 1 {
		return p.runOn(buf)
	}
	B := p.b
	errs := make([]error, n)
	var wg sync.WaitGroup
	off := 0
	for i := range n {
		b0, b1 := i*B/n, (i+1)*B/n
		sub := p.slice(b0, b1)
		size := sub.scratchLen(b1 - b0)
		part := buf[off : off+size : off+size]
		off += size
		if i == n-1 {
			errs[i] = sub.runOn(part)
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = sub.runOn(part)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// runOn runs the pass on one goroutine with buf (scratchLen(p.b) floats)
// as its scratch; it touches the Workspace only to poll for cancellation.
func (p *cellPass) runOn(buf []float32) error {
	c, ctx, B, T := p.c, p.ctx, p.b, p.t
	U, G, D := c.units, c.gates*c.units, c.inputDim

	// The input projection for all time steps as one matrix multiply,
	// time-major: row t*B+b holds step t of sequence b, so the B rows of
	// one step are contiguous and the gate math reads them in order.
	// Batch 1 needs no reordering of x.
	// One scratch buffer holds everything, carved below: one Workspace
	// lookup per call keeps a streaming step cheap.
	xtLen := 0
	if B > 1 {
		xtLen = B * T * D
	}
	xp, rest := buf[:B*T*G], buf[B*T*G:]
	carve := func(n int) []float32 {
		v := rest[:n:n]
		rest = rest[n:]
		return v
	}
	// rec receives each step's recurrent product h·R, which Keras computes
	// apart and then adds.
	rec := carve(B * G)
	x := p.x
	if B > 1 {
		xt := carve(xtLen)
		for b := range B {
			for t := range T {
				copy(xt[(t*B+b)*D:(t*B+b+1)*D], x[(b*T+t)*D:(b*T+t+1)*D])
			}
		}
		x = xt
	}
	kernel.MatMulPacked(B*T, x, D, c.kernPacked, xp, G, false)
	if c.inBias != nil {
		kernel.AddBias(xp, c.inBias)
	}
	h, hn := carve(B*U), carve(B*U)
	initState(h, p.h0)
	var cs, cn []float32
	if c.kind == lstmCell {
		cs, cn = carve(B*U), carve(B*U)
		initState(cs, p.c0)
	}
	tmp, tmp2 := carve(B*U), carve(B*U)
	var prev []float32
	if p.mask != nil && p.unroll {
		// Keras' unrolled loop repeats the previous output, starting from
		// zeros, where the scan loop repeats the state.
		prev = carve(B * U)
		clear(prev)
	}
	for s := range T {
		if s%cancelEvery == cancelEvery-1 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		t := s
		if p.reverse {
			t = T - 1 - s
		}
		step := xp[t*B*G:]
		switch c.kind {
		case simpleRNNCell:
			// Keras: act((x·K + b) + h·R).
			recurrentInto(rec, h, c.recurrent, c.recPacked, B, U, U)
			for b := range B {
				row := step[b*G : b*G+U]
				kernel.Add(row, row, rec[b*U:(b+1)*U])
				c.act(hn[b*U:(b+1)*U], row, U)
			}
		case lstmCell:
			// Keras: z = (x·K + h·R) + b.
			recurrentStep(rec, h, c.recurrent, c.recPacked, B, U, G, s)
			for b := range B {
				row := step[b*G : b*G+G]
				if c.fusedLSTM {
					// The same operations in one pass over the gates.
					kernel.LSTMGates(U, row, rec[b*G:(b+1)*G], c.stepBias, cs[b*U:(b+1)*U], cn[b*U:(b+1)*U], hn[b*U:(b+1)*U])
					continue
				}
				kernel.Add(row, row, rec[b*G:(b+1)*G])
				if c.stepBias != nil {
					kernel.Add(row, row, c.stepBias)
				}
				// Keras: c' = f*c + i*act(g); h' = o*act(c'). The
				// gates are laid out i, f, o, g (see lstmGateOrder).
				c.ract(row[:3*U], row[:3*U], U)
				c.act(row[3*U:], row[3*U:], U)
				ig, fg, og, gg := row[:U], row[U:2*U], row[2*U:3*U], row[3*U:G]
				cOld, cNew, hNew := cs[b*U:(b+1)*U], cn[b*U:(b+1)*U], hn[b*U:(b+1)*U]
				ic := tmp[b*U : (b+1)*U]
				kernel.Mul(cNew, fg, cOld)
				kernel.Mul(ic, ig, gg)
				kernel.Add(cNew, cNew, ic)
				c.act(hNew, cNew, U)
				kernel.Mul(hNew, og, hNew)
			}
		case gruCell:
			if c.fusedGRU {
				// The same operations: h·R for all three gates at once,
				// then the gate math in one pass.
				recurrentStep(rec, h, c.recurrentFull, c.recPackedFull, B, U, G, s)
				for b := range B {
					kernel.GRUGates(U, step[b*G:(b+1)*G], rec[b*G:(b+1)*G], c.recBias, h[b*U:(b+1)*U], hn[b*U:(b+1)*U])
				}
				break
			}
			// z and r: (x·K + b) + (h·R + rb); rb only with reset_after.
			recurrentInto(rec, h, c.recurrent, c.recPacked, B, U, 2*U)
			if c.resetAfter {
				recurrentInto(tmp, h, c.recurrentH, c.recPackedH, B, U, U)
			}
			for b := range B {
				recZR := rec[b*2*U : (b+1)*2*U]
				if c.recBias != nil {
					kernel.Add(recZR, recZR, c.recBias[:2*U])
				}
				row := step[b*G : b*G+2*U]
				kernel.Add(row, row, recZR)
				c.ract(row, row, U)
			}
			if c.resetAfter {
				// Keras: hh = act((x·Kh + bh) + r*(h·Rh + rbh)).
				for b := range B {
					recH := tmp[b*U : (b+1)*U]
					if c.recBias != nil {
						kernel.Add(recH, recH, c.recBias[2*U:])
					}
					row := step[b*G : b*G+G]
					kernel.Mul(recH, row[U:2*U], recH)
					kernel.Add(row[2*U:], row[2*U:], recH)
				}
			} else {
				// Keras: hh = act((x·Kh + bh) + (r*h)·Rh).
				for b := range B {
					row := step[b*G : b*G+G]
					kernel.Mul(tmp2[b*U:(b+1)*U], row[U:2*U], h[b*U:(b+1)*U])
				}
				recurrentInto(tmp, tmp2, c.recurrentH, c.recPackedH, B, U, U)
				for b := range B {
					row := step[b*G : b*G+G]
					kernel.Add(row[2*U:], row[2*U:], tmp[b*U:(b+1)*U])
				}
			}
			for b := range B {
				row := step[b*G : b*G+G]
				hh := row[2*U : 3*U]
				c.act(hh, hh, U)
				z := row[:U]
				hOld, hNew := h[b*U:(b+1)*U], hn[b*U:(b+1)*U]
				// Keras: h' = z*h + (1-z)*hh, each product rounded.
				zc := tmp2[b*U : (b+1)*U]
				for j, v := range z {
					zc[j] = 1 - v
				}
				kernel.Mul(zc, zc, hh)
				kernel.Mul(hNew, z, hOld)
				kernel.Add(hNew, hNew, zc)
			}
		}
		pos := t
		if p.procOrder {
			pos = s
		}
		for b := range B {
			hNew := hn[b*U : (b+1)*U]
			val := hNew
			if p.mask != nil && p.mask[b*T+t] == 0 {
				// Keras: a masked step keeps the states and repeats the
				// previous output (or outputs zeros).
				copy(hNew, h[b*U:(b+1)*U])
				if cn != nil {
					copy(cn[b*U:(b+1)*U], cs[b*U:(b+1)*U])
				}
				switch {
				case p.zeroOut:
					val = nil
				case prev != nil:
					val = prev[b*U : (b+1)*U]
				}
			}
			if prev != nil {
				copy(prev[b*U:(b+1)*U], val)
			}
			var dst []float32
			if p.outSeq != nil {
				dst = p.outSeq[(b*T+pos)*U : (b*T+pos+1)*U]
			} else if s == T-1 {
				dst = p.outLast[b*U : (b+1)*U]
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
	if p.outLast != nil && p.outSeq != nil {
		panic("layers: cellPass with two outputs")
	}
	copy(p.hFinal, h)
	if p.cFinal != nil {
		copy(p.cFinal, cs)
	}
	return nil
}

// recurrentInto sets dst[B, n] (rows n apart) to h[B, U]·w[U, n], each
// output summed from zero over U in order with fused multiply-adds, as
// OpenBLAS' sgemm kernels under numpy do. One sequence uses the streaming
// matrix-vector kernel, a batch the copy of w packed at build time.
func recurrentInto(dst, h, w []float32, packed *kernel.PackedMatrix, B, U, n int) {
	recurrentStep(dst, h, w, packed, B, U, n, 0)
}

// recurrentStep is recurrentInto for time step s of a loop: one sequence
// streams w in halves whose order alternates with s, so that each step
// starts on the half the previous one read last, still in cache (the
// same sums, see kernel.VecMatAlternating).
func recurrentStep(dst, h, w []float32, packed *kernel.PackedMatrix, B, U, n, s int) {
	if B == 1 {
		kernel.VecMatAlternating(dst[:n], h[:U], w, U, n, s%2 == 1)
		return
	}
	kernel.MatMulPacked(B, h, U, packed, dst, n, false)
}

// initState copies src into dst, or zeroes dst when src is nil.
func initState(dst, src []float32) {
	if src == nil {
		clear(dst)
		return
	}
	copy(dst, src)
}
