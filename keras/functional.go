package keras

import (
	"errors"
	"fmt"
	"sort"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/layers"
	"github.com/rnnkit/rnnkit/runtime"
)

// TensorRef names a tensor of a loaded model's graph: output Index of call
// Node of layer Layer, as Keras' layer.get_output_at(Node)[Index].
type TensorRef = convert.TensorRef

// Errors of the functional API, for errors.Is.
var (
	// ErrNoLayer means a layer name names no layer of the model's graph.
	ErrNoLayer = errors.New("no such layer")
	// ErrDisconnected means a model's outputs need a tensor that its
	// inputs do not lead to (Keras' "Graph disconnected").
	ErrDisconnected = errors.New("graph disconnected")
)

// Functional builds new models from the layers of a loaded model, as
// Keras users do with Model(inputs, outputs): new inputs, calls of the
// trained layers on symbolic tensors (initial_state included), and models
// from any inputs to any outputs. The models it builds share the trained
// layers and their weights (nothing is copied) and are as immutable as
// the loaded model: Predict, NewSession and NewStream work on them.
//
// A Functional is a builder for one goroutine; the models it returns are
// safe for concurrent use.
type Functional struct {
	m      *Model
	byName map[string]*convert.Layer
	// rt holds the bound runtime layers of the model's graph by name.
	rt map[string]runtime.Layer
	// numOut is the number of outputs a call of each layer gives, as far
	// as the graph shows (return_state RNNs give all their states).
	numOut map[string]int
	nodes  []*symNode
	// inputs are the builder's inputs by name, so that replaying two
	// tensors of the trained graph reaches one input, not two.
	inputs map[string]*symNode
	// replayed holds the calls Replay made without replacements, by
	// trained layer and call, so that later Replays reuse them.
	replayed map[replayKey]*symNode
}

type replayKey struct {
	layer string
	node  int
}

// KerasTensor is a symbolic tensor of a Functional: an input, or an
// output of a layer call. It holds no values.
type KerasTensor struct {
	node  *symNode
	index int
}

// Name is the tensor's Keras-style name: "decoder_lstm[0][1]" for the
// second output of that call in the builder (node numbers count the calls
// made in this builder), the input's name for an input.
func (t *KerasTensor) Name() string {
	if t.node.input {
		return t.node.layer.Name
	}
	return fmt.Sprintf("%s[%d][%d]", t.node.layer.Name, t.node.call, t.index)
}

// symNode is one layer call (or an input) of a Functional.
type symNode struct {
	f      *Functional
	seq    int // creation order, which is a topological order
	input  bool
	layer  *convert.Layer
	call   int // index of this call among the builder's calls of layer
	args   []symArg
	kwargs map[string]symArg
}

type symArg struct {
	tensors []*KerasTensor
	isList  bool
	cnst    any
}

// NewFunctional returns a builder over m's layers. Layers are found by
// their Keras names among the top-level layers of m's graph.
func NewFunctional(m *Model) *Functional {
	f := &Functional{
		m:        m,
		byName:   make(map[string]*convert.Layer),
		rt:       make(map[string]runtime.Layer),
		numOut:   make(map[string]int),
		inputs:   make(map[string]*symNode),
		replayed: make(map[replayKey]*symNode),
	}
	g := m.desc.Graph
	for _, l := range g.Layers {
		f.byName[l.Name] = l
	}
	gn := m.graph.Nodes()
	for i, n := range m.nodes {
		f.rt[n.layer.Name] = gn[i].Layer
	}
	use := func(r convert.TensorRef) {
		if r.Index+1 > f.numOut[r.Layer] {
			f.numOut[r.Layer] = r.Index + 1
		}
	}
	for _, l := range g.Layers {
		for _, n := range l.Nodes {
			for _, a := range n.Args {
				for _, r := range a.Tensors {
					use(r)
				}
			}
			for _, a := range n.Kwargs {
				for _, r := range a.Tensors {
					use(r)
				}
			}
		}
	}
	for _, r := range g.Outputs {
		use(r)
	}
	for name, l := range f.rt {
		f.numOut[name] = max(f.numOut[name], numOutputs(l))
	}
	return f
}

// numOutputs is how many outputs a call of l gives when the layer says:
// a recurrent layer with return_state its output(s) and every state, else
// 1 (or what the trained graph shows).
func numOutputs(l runtime.Layer) int {
	switch l := l.(type) {
	case *layers.RNN:
		if l.ReturnState {
			return 1 + len(l.StateSizes())
		}
	case *layers.Bidirectional:
		f, ok := l.Forward.(*layers.RNN)
		if !ok || !l.ReturnState {
			break
		}
		merged := 1
		if l.MergeMode == "" {
			merged = 2
		}
		return merged + 2*len(f.StateSizes())
	}
	return 1
}

func (f *Functional) errorf(format string, a ...any) error {
	return fmt.Errorf("keras: %s: "+format, append([]any{f.m.desc.File}, a...)...)
}

// Input returns a new input named name of the given shape without the
// batch dimension, -1 for a dimension left open (Keras' None): Input("h",
// 256) is keras.Input(shape=(256,), name="h"). The dtype is float32.
func (f *Functional) Input(name string, shape ...int) (*KerasTensor, error) {
	if name == "" {
		return nil, f.errorf("Input: empty name: %w", ErrInput)
	}
	if _, dup := f.inputs[name]; dup {
		return nil, f.errorf("Input %q: the builder already has an input of that name: %w", name, ErrInput)
	}
	batch := []any{nil}
	for _, d := range shape {
		if d < 0 {
			batch = append(batch, nil)
		} else {
			batch = append(batch, float64(d))
		}
	}
	l := &convert.Layer{Name: name, ClassName: "InputLayer", Config: convert.Config{
		"name": name, "batch_shape": batch, "batch_input_shape": batch, "dtype": "float32",
	}}
	return f.newInput(l), nil
}

func (f *Functional) newInput(l *convert.Layer) *KerasTensor {
	n := &symNode{f: f, seq: len(f.nodes), input: true, layer: l}
	f.nodes = append(f.nodes, n)
	f.inputs[l.Name] = n
	return &KerasTensor{node: n}
}

// CallOption adds a keyword argument to a layer call.
type CallOption func(*symNode)

// InitialState passes states as the call's initial_state (an RNN's
// starting states: LSTM h then c, GRU h).
func InitialState(states ...*KerasTensor) CallOption {
	return func(n *symNode) {
		n.kwargs["initial_state"] = symArg{tensors: states, isList: true}
	}
}

// Call calls the model's layer named layer on inputs (one tensor, or a
// list for layers such as Concatenate) and returns the call's outputs:
// one, or for a recurrent layer with return_state the output followed by
// its states (LSTM: output, h, c). The layer keeps its trained weights.
func (f *Functional) Call(layer string, inputs []*KerasTensor, opts ...CallOption) ([]*KerasTensor, error) {
	l, rt, err := f.layer(layer)
	if err != nil {
		return nil, err
	}
	if len(inputs) == 0 {
		return nil, f.errorf("call of layer %q: no inputs: %w", layer, ErrInput)
	}
	n := &symNode{f: f, layer: l, kwargs: map[string]symArg{}}
	n.args = []symArg{{tensors: append([]*KerasTensor(nil), inputs...), isList: len(inputs) > 1}}
	for _, o := range opts {
		if o != nil {
			o(n)
		}
	}
	if err := f.checkTensors(n); err != nil {
		return nil, err
	}
	if rnn, ok := rt.(*layers.RNN); ok {
		if a, ok := n.kwargs["initial_state"]; ok && len(a.tensors) != len(rnn.StateSizes()) {
			return nil, f.errorf("call of layer %q: initial_state has %d tensors, want %d (state sizes %v): %w",
				layer, len(a.tensors), len(rnn.StateSizes()), rnn.StateSizes(), ErrInput)
		}
	}
	f.add(n)
	out := make([]*KerasTensor, max(1, f.numOut[layer]))
	for i := range out {
		out[i] = &KerasTensor{node: n, index: i}
	}
	return out, nil
}

// Output picks output index of a call: Output(t, 2) is the c state of the
// LSTM call that gave t. It is for outputs that Call did not return
// because the trained graph never used them.
func (f *Functional) Output(t *KerasTensor, index int) (*KerasTensor, error) {
	if t == nil || t.node.f != f {
		return nil, f.errorf("Output: tensor of another builder or nil: %w", ErrInput)
	}
	if t.node.input || index < 0 {
		return nil, f.errorf("Output: %s has no output %d: %w", t.Name(), index, ErrInput)
	}
	return &KerasTensor{node: t.node, index: index}, nil
}

// Replay returns the tensors refs of the trained model recomputed in this
// builder: the calls that produce them are made again on the builder's
// tensors, back to the trained model's inputs, which become inputs of the
// builder with the same names and shapes (one input per name, however
// often it is reached). A tensor listed in replace is not recomputed: the
// given tensor stands for it. Calls replayed without replacements are
// made once per builder, however many Replays reach them; with
// replacements, once per Replay. This is Keras' Model(model.input[0],
// model.get_layer("encoder_lstm").output[1:]) recipe, and with replace the
// decoder-step recipe: the decoder's initial states replaced by new inputs.
func (f *Functional) Replay(refs []TensorRef, replace map[TensorRef]*KerasTensor) ([]*KerasTensor, error) {
	for r, t := range replace {
		if t == nil || t.node.f != f {
			return nil, f.errorf("Replay: replacement for %s[%d][%d] is nil or of another builder: %w", r.Layer, r.Node, r.Index, ErrInput)
		}
	}
	type key = replayKey
	// Without replacements a replayed call is the same in every Replay:
	// share them, so that Replay(h) then Replay(c) run the encoder once.
	memo := f.replayed
	if len(replace) > 0 {
		memo = make(map[key]*symNode)
	}
	busy := make(map[key]bool)
	var resolve func(r TensorRef) (*KerasTensor, error)
	resolve = func(r TensorRef) (*KerasTensor, error) {
		if t, ok := replace[r]; ok {
			return t, nil
		}
		l, ok := f.byName[r.Layer]
		if !ok {
			return nil, f.errorf("tensor %s[%d][%d]: %w %q", r.Layer, r.Node, r.Index, ErrNoLayer, r.Layer)
		}
		if l.ClassName == "InputLayer" {
			if n, ok := f.inputs[l.Name]; ok {
				return &KerasTensor{node: n}, nil
			}
			return f.newInput(l), nil
		}
		if r.Node < 0 || r.Node >= len(l.Nodes) || r.Index < 0 {
			return nil, f.errorf("tensor %s[%d][%d]: layer %q has %d calls: %w", r.Layer, r.Node, r.Index, r.Layer, len(l.Nodes), ErrInput)
		}
		k := key{r.Layer, r.Node}
		if n, ok := memo[k]; ok {
			return &KerasTensor{node: n, index: r.Index}, nil
		}
		if busy[k] {
			return nil, f.errorf("tensor %s[%d][%d] depends on itself: %w", r.Layer, r.Node, r.Index, ErrFormat)
		}
		busy[k] = true
		if _, ok := f.rt[r.Layer]; !ok {
			return nil, f.errorf("layer %q is not part of the model's graph: %w", r.Layer, ErrNoLayer)
		}
		src := &l.Nodes[r.Node]
		n := &symNode{f: f, layer: l}
		conv := func(a convert.Arg) (symArg, error) {
			sa := symArg{isList: a.IsList, cnst: a.Const}
			for _, tr := range a.Tensors {
				if tr.Layer == "" {
					sa.tensors = append(sa.tensors, nil)
					continue
				}
				t, err := resolve(tr)
				if err != nil {
					return sa, err
				}
				sa.tensors = append(sa.tensors, t)
			}
			return sa, nil
		}
		for _, a := range src.Args {
			sa, err := conv(a)
			if err != nil {
				return nil, err
			}
			n.args = append(n.args, sa)
		}
		if len(src.Kwargs) > 0 {
			n.kwargs = make(map[string]symArg, len(src.Kwargs))
			for _, name := range sortedKeys(src.Kwargs) {
				sa, err := conv(src.Kwargs[name])
				if err != nil {
					return nil, err
				}
				n.kwargs[name] = sa
			}
		}
		f.add(n)
		memo[k] = n
		return &KerasTensor{node: n, index: r.Index}, nil
	}
	out := make([]*KerasTensor, len(refs))
	for i, r := range refs {
		t, err := resolve(r)
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// Layer looks up the model's layer named name and returns it as bound to
// its trained weights (a *layers.RNN for LSTM/GRU/SimpleRNN, ...), for
// reading its options such as an RNN's state sizes. The layer is shared
// with the model: it is immutable, and calling it with Call is how it
// joins a new model.
func (f *Functional) Layer(name string) (runtime.Layer, error) {
	_, rt, err := f.layer(name)
	return rt, err
}

func (f *Functional) layer(name string) (*convert.Layer, runtime.Layer, error) {
	l, ok := f.byName[name]
	if !ok {
		return nil, nil, f.errorf("%w %q", ErrNoLayer, name)
	}
	if l.ClassName == "InputLayer" {
		return nil, nil, f.errorf("layer %q is an InputLayer, which cannot be called: %w", name, ErrInput)
	}
	rt, ok := f.rt[name]
	if !ok {
		return nil, nil, f.errorf("layer %q is not part of the model's graph (no call reaches it): %w", name, ErrNoLayer)
	}
	return l, rt, nil
}

func (f *Functional) checkTensors(n *symNode) error {
	check := func(what string, a symArg) error {
		for i, t := range a.tensors {
			if t == nil || t.node.f != f {
				return f.errorf("call of layer %q: %s tensor %d is nil or of another builder: %w", n.layer.Name, what, i, ErrInput)
			}
		}
		return nil
	}
	for _, a := range n.args {
		if err := check("input", a); err != nil {
			return err
		}
	}
	for _, k := range symKeys(n.kwargs) {
		if err := check(k, n.kwargs[k]); err != nil {
			return err
		}
	}
	return nil
}

func (f *Functional) add(n *symNode) {
	n.seq = len(f.nodes)
	calls := 0
	for _, o := range f.nodes {
		if !o.input && o.layer.Name == n.layer.Name {
			calls++
		}
	}
	n.call = calls
	f.nodes = append(f.nodes, n)
}

// Model builds a model named name from inputs to outputs. Only the calls
// that outputs need are kept; every input they reach must be among
// inputs (else ErrDisconnected). The model shares the trained layers.
func (f *Functional) Model(name string, inputs, outputs []*KerasTensor) (*Model, error) {
	if len(outputs) == 0 {
		return nil, f.errorf("model %q: no outputs: %w", name, ErrInput)
	}
	isInput := make(map[*symNode]int)
	for i, t := range inputs {
		if t == nil || t.node.f != f || !t.node.input {
			return nil, f.errorf("model %q: input %d is not an input of this builder: %w", name, i, ErrInput)
		}
		if _, dup := isInput[t.node]; dup {
			return nil, f.errorf("model %q: input %q given twice: %w", name, t.node.layer.Name, ErrInput)
		}
		isInput[t.node] = i
	}
	// Walk back from the outputs to find the calls they need.
	need := make(map[*symNode]bool)
	var walk func(t *KerasTensor, from string) error
	walk = func(t *KerasTensor, from string) error {
		if t == nil {
			return nil
		}
		n := t.node
		if need[n] {
			return nil
		}
		if n.input {
			if _, ok := isInput[n]; !ok {
				return f.errorf("model %q: %s needs input %q, which is not among the model's inputs: %w", name, from, n.layer.Name, ErrDisconnected)
			}
			need[n] = true
			return nil
		}
		need[n] = true
		for _, a := range n.args {
			for _, u := range a.tensors {
				if err := walk(u, from); err != nil {
					return err
				}
			}
		}
		for _, k := range symKeys(n.kwargs) {
			for _, u := range n.kwargs[k].tensors {
				if err := walk(u, from); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for i, t := range outputs {
		if t == nil || t.node.f != f {
			return nil, f.errorf("model %q: output %d is nil or of another builder: %w", name, i, ErrInput)
		}
		if err := walk(t, fmt.Sprintf("output %d (%s)", i, t.Name())); err != nil {
			return nil, err
		}
	}
	var order []*symNode
	for n := range need {
		order = append(order, n)
	}
	sort.Slice(order, func(i, j int) bool { return order[i].seq < order[j].seq })

	// The sub-model's description: its inputs, then one copy of each
	// layer it calls (sharing config and weights) with the kept calls.
	g := &convert.Graph{Name: name, ClassName: "Functional"}
	copies := make(map[string]*convert.Layer)
	callIndex := make(map[*symNode]int)
	for _, t := range inputs {
		l := *t.node.layer
		l.Nodes = nil
		g.Layers = append(g.Layers, &l)
		g.Inputs = append(g.Inputs, TensorRef{Layer: l.Name})
		copies[l.Name] = &l
	}
	ref := func(t *KerasTensor) TensorRef {
		if t.node.input {
			return TensorRef{Layer: t.node.layer.Name}
		}
		return TensorRef{Layer: t.node.layer.Name, Node: callIndex[t.node], Index: t.index}
	}
	arg := func(a symArg) convert.Arg {
		ca := convert.Arg{IsList: a.isList, Const: a.cnst}
		for _, t := range a.tensors {
			if t == nil {
				ca.Tensors = append(ca.Tensors, TensorRef{})
				continue
			}
			ca.Tensors = append(ca.Tensors, ref(t))
		}
		return ca
	}
	for _, n := range order {
		if n.input {
			continue
		}
		l, ok := copies[n.layer.Name]
		if !ok {
			c := *n.layer
			c.Nodes = nil
			l = &c
			copies[l.Name] = l
			g.Layers = append(g.Layers, l)
		} else if l.ClassName == "InputLayer" {
			return nil, f.errorf("model %q: input %q has the name of layer %q: %w", name, l.Name, n.layer.Name, ErrInput)
		}
		cn := convert.Node{}
		for _, a := range n.args {
			cn.Args = append(cn.Args, arg(a))
		}
		if len(n.kwargs) > 0 {
			cn.Kwargs = make(map[string]convert.Arg, len(n.kwargs))
			for k, a := range n.kwargs {
				cn.Kwargs[k] = arg(a)
			}
		}
		callIndex[n] = len(l.Nodes)
		l.Nodes = append(l.Nodes, cn)
	}
	for _, t := range outputs {
		g.Outputs = append(g.Outputs, ref(t))
	}
	desc := *f.m.desc
	desc.Graph = g
	b := &binder{
		file:     desc.File,
		env:      &layers.Env{Registry: layers.Standard(), KerasVersion: desc.KerasVersion},
		prebuilt: f.rt,
	}
	bd := b.bind(g)
	if err := b.err(); err != nil {
		return nil, fmt.Errorf("model %q: %w", name, err)
	}
	if bd == nil {
		return nil, f.errorf("model %q could not be built", name)
	}
	return newModel(&desc, bd, f.m.call), nil
}

func symKeys(m map[string]symArg) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
