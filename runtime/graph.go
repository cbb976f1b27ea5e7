package runtime

import "fmt"

// Graph is a model as a runtime program: nodes in topological order over
// numbered value slots. Graph inputs fill their slots, each node reads its
// arguments from slots written before it and writes its outputs to its own
// slots, and the graph returns the values in its output slots.
//
// A Graph is immutable after NewGraph and safe for concurrent use as long as
// each goroutine runs it with its own Workspace. A Graph is itself a Layer,
// so a nested Keras model runs as one node of the outer graph.
type Graph struct {
	name, className string
	numSlots        int
	inputs          []int
	nodes           []GraphNode
	outputs         []int
}

// GraphNode is one layer call in a Graph.
type GraphNode struct {
	// Layer is the bound layer; the same Layer may appear at several
	// nodes (a shared layer).
	Layer Layer
	// Args are the call's positional arguments, Kwargs its keyword
	// arguments ("mask", "initial_state", "training"...).
	Args   []ArgRef
	Kwargs map[string]ArgRef
	// Outputs are the slots the layer's outputs go to, in the layer's
	// output order. A slot of -1 drops an output nothing reads, and so
	// does a shorter list: outputs past its end are dropped (an LSTM with
	// return_state whose states nobody reads).
	Outputs []int
}

// ArgRef is an argument as the graph stores it: the slots of its tensors,
// or a constant when Slots is empty. A slot of -1 is a None entry of a list
// argument (Keras 3's mask=[None, m]); the layer gets a Value without a
// tensor at that position.
type ArgRef struct {
	Slots  []int
	IsList bool
	Const  any
}

// graphFrame is what one Workspace holds for running one Graph: the slot
// values and one reusable Call per node, so steady-state runs do not
// allocate per node.
type graphFrame struct {
	slots []Value
	calls []Call
	// binds lists, node after node, where each tensor argument's values
	// come from: bindAt[i]:bindAt[i+1] are node i's. Iterating these beats
	// ranging over each node's kwargs map on every run.
	binds  []binding
	bindAt []int
	outs   []Value
	// scopes holds each node's reusable outputs (outputs.go).
	scopes []nodeScope
}

// binding fills an argument's Values (dst, shared with the frame's Call)
// from slots.
type binding struct {
	slots []int
	dst   []Value
}

// NewGraph checks and returns a graph with numSlots value slots. inputs are
// the slots the graph's inputs fill, in order; outputs the slots it returns.
// Every slot a node or the graph's outputs read must have been written
// before, by a graph input or an earlier node, and every slot is written at
// most once. name and className are what the graph reports as a Layer
// ("encoder", "Functional").
func NewGraph(name, className string, numSlots int, inputs []int, nodes []GraphNode, outputs []int) (*Graph, error) {
	fail := func(format string, args ...any) (*Graph, error) {
		return nil, fmt.Errorf("runtime: graph %q: %s", name, fmt.Sprintf(format, args...))
	}
	if numSlots < 0 {
		return fail("negative slot count %d", numSlots)
	}
	written := make([]bool, numSlots)
	for i, s := range inputs {
		if s < 0 || s >= numSlots {
			return fail("input %d: slot %d out of range [0,%d)", i, s, numSlots)
		}
		if written[s] {
			return fail("input %d: slot %d is already an input", i, s)
		}
		written[s] = true
	}
	g := &Graph{
		name:      name,
		className: className,
		numSlots:  numSlots,
		inputs:    append([]int(nil), inputs...),
		nodes:     make([]GraphNode, len(nodes)),
		outputs:   append([]int(nil), outputs...),
	}
	checkArg := func(ni int, what string, a ArgRef) error {
		for _, s := range a.Slots {
			if s == -1 {
				continue
			}
			if s < 0 || s >= numSlots {
				return fmt.Errorf("node %d (layer %q): %s: slot %d out of range [0,%d)", ni, nodes[ni].Layer.Name(), what, s, numSlots)
			}
			if !written[s] {
				return fmt.Errorf("node %d (layer %q): %s: slot %d is read before any node writes it (nodes not in topological order?)", ni, nodes[ni].Layer.Name(), what, s)
			}
		}
		return nil
	}
	for ni, n := range nodes {
		if n.Layer == nil {
			return fail("node %d has no layer", ni)
		}
		for ai, a := range n.Args {
			if err := checkArg(ni, fmt.Sprintf("argument %d", ai), a); err != nil {
				return fail("%v", err)
			}
		}
		for k, a := range n.Kwargs {
			if err := checkArg(ni, fmt.Sprintf("keyword argument %q", k), a); err != nil {
				return fail("%v", err)
			}
		}
		for oi, s := range n.Outputs {
			if s == -1 {
				continue
			}
			if s < 0 || s >= numSlots {
				return fail("node %d (layer %q): output %d: slot %d out of range [0,%d)", ni, n.Layer.Name(), oi, s, numSlots)
			}
			if written[s] {
				return fail("node %d (layer %q): output %d: slot %d is written twice", ni, n.Layer.Name(), oi, s)
			}
			written[s] = true
		}
		g.nodes[ni] = cloneNode(n)
	}
	for i, s := range outputs {
		if s < 0 || s >= numSlots {
			return fail("output %d: slot %d out of range [0,%d)", i, s, numSlots)
		}
		if !written[s] {
			return fail("output %d: slot %d is never written", i, s)
		}
	}
	return g, nil
}

// cloneNode copies a node's slices so later changes by the caller cannot
// reach an immutable Graph.
func cloneNode(n GraphNode) GraphNode {
	c := GraphNode{Layer: n.Layer, Outputs: append([]int(nil), n.Outputs...)}
	if n.Args != nil {
		c.Args = make([]ArgRef, len(n.Args))
		for i, a := range n.Args {
			c.Args[i] = ArgRef{Slots: append([]int(nil), a.Slots...), IsList: a.IsList, Const: a.Const}
		}
	}
	if n.Kwargs != nil {
		c.Kwargs = make(map[string]ArgRef, len(n.Kwargs))
		for k, a := range n.Kwargs {
			c.Kwargs[k] = ArgRef{Slots: append([]int(nil), a.Slots...), IsList: a.IsList, Const: a.Const}
		}
	}
	return c
}

// Name is the model's name.
func (g *Graph) Name() string { return g.name }

// ClassName is the model's Keras class ("Functional", "Sequential").
func (g *Graph) ClassName() string { return g.className }

// NumInputs is the number of values Run expects.
func (g *Graph) NumInputs() int { return len(g.inputs) }

// NumOutputs is the number of values Run returns.
func (g *Graph) NumOutputs() int { return len(g.outputs) }

// Nodes returns a copy of the graph's nodes in execution order; node
// indices are the ones RunObserved reports.
func (g *Graph) Nodes() []GraphNode {
	out := make([]GraphNode, len(g.nodes))
	for i, n := range g.nodes {
		out[i] = cloneNode(n)
	}
	return out
}

// Run executes the graph on inputs, one Value per graph input (each keeps
// the mask it carries), and returns the output Values. It stops with the
// context's error (ctx.Err) between nodes, and the recurrent layers
// between time steps, once the context set by ctx.SetContext is done.
//
// The returned slice is reused by the next run of g on ctx, and the tensors
// in it (masks included) live in ctx's reusable memory, which the next run
// overwrites: both stay valid until ctx is used again. Session.Run copies
// them. A nil ctx runs with a fresh Workspace.
//
// Layers get their outputs from ctx.Output, keyed by the node being run,
// so a shared layer's outputs at two nodes never share memory. The inputs
// may be tensors a previous run returned: outputs that would alias them
// move to other memory.
//
// Layers must treat the Call they get as read-only and not keep it: the
// executor reuses it, and the slices in it, on the next run.
func (g *Graph) Run(ctx *Workspace, inputs []Value) ([]Value, error) {
	return g.RunObserved(ctx, inputs, nil)
}

// RunObserved is Run that also calls observe, when not nil, after each node
// with the node's index (as in Nodes) and its outputs, for tools that learn
// every layer's output shape from a dummy run. observe must not keep outs.
//
// A size that overflows or an allocation over the Workspace's memory
// budget (SetMemoryBudget) stops the run with a *SizeError or
// *MemoryError (errors.Is(err, ErrLimit)); the Workspace must then be
// dropped.
func (g *Graph) RunObserved(ctx *Workspace, inputs []Value, observe func(node int, outs []Value)) (outs []Value, err error) {
	if len(inputs) != len(g.inputs) {
		return nil, fmt.Errorf("model %q: got %d inputs, want %d", g.name, len(inputs), len(g.inputs))
	}
	if ctx == nil {
		ctx = NewWorkspace(false)
	}
	for i, v := range inputs {
		if v.T == nil {
			return nil, fmt.Errorf("model %q: input %d has no tensor", g.name, i)
		}
	}
	// The limit panics of allocations that cannot return an error
	// (Output, Scratch, NewTensor) become the run's error, naming the
	// layer being run. Registered first, this runs after the cleanup
	// below.
	var cur *GraphNode
	defer func() {
		if r := recover(); r != nil {
			lp, ok := r.(limitPanic)
			if !ok {
				panic(r)
			}
			outs, err = nil, lp.err
			if cur != nil {
				err = fmt.Errorf("layer %q (%s): %w", cur.Layer.Name(), cur.Layer.ClassName(), err)
			}
		}
	}()
	parent := ctx.node
	if parent == nil {
		// The outermost run: outputs reused from the last run must not
		// overwrite these inputs. A copy, so that inputs does not escape.
		ctx.runInputs = append(ctx.runInputs[:0], inputs...)
	}
	f := ctx.frame(g, parent)
	defer func() {
		f.release()
		ctx.node = parent
		if parent == nil {
			clear(ctx.runInputs)
			ctx.runInputs = ctx.runInputs[:0]
		}
	}()
	for i, s := range g.inputs {
		f.slots[s] = inputs[i]
	}
	for ni := range g.nodes {
		// Stop between layers once the call's context is done.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := &g.nodes[ni]
		cur = n
		call := &f.calls[ni]
		for _, b := range f.binds[f.bindAt[ni]:f.bindAt[ni+1]] {
			for vi, s := range b.slots {
				if s < 0 {
					b.dst[vi] = Value{} // None
					continue
				}
				b.dst[vi] = f.slots[s]
			}
		}
		ctx.node = &f.scopes[ni]
		outs, err := n.Layer.Call(ctx, call)
		if err != nil {
			return nil, fmt.Errorf("layer %q (%s): %w", n.Layer.Name(), n.Layer.ClassName(), err)
		}
		if len(outs) < len(n.Outputs) {
			return nil, fmt.Errorf("layer %q (%s): returned %d outputs, want %d", n.Layer.Name(), n.Layer.ClassName(), len(outs), len(n.Outputs))
		}
		for oi, s := range n.Outputs {
			if outs[oi].T == nil {
				return nil, fmt.Errorf("layer %q (%s): output %d has no tensor", n.Layer.Name(), n.Layer.ClassName(), oi)
			}
			if s >= 0 {
				f.slots[s] = outs[oi]
			}
		}
		if observe != nil {
			observe(ni, outs)
		}
	}
	for i, s := range g.outputs {
		f.outs[i] = f.slots[s]
	}
	return f.outs, nil
}

// Call runs the graph as a nested model: the first positional argument
// holds its inputs. As in Keras' Functional.call, an explicit mask keyword
// argument replaces the inputs' own masks where it gives one. Unlike Run,
// it returns a slice of the calling node's own (reused when that node runs
// again), so a caller may hold it across a call of the same graph at
// another node. Called outside a graph run, its outputs live in ctx as
// Run's do, until ctx is used again.
func (g *Graph) Call(ctx *Workspace, call *Call) ([]Value, error) {
	inputs := call.Inputs()
	if m, ok := call.Kwarg("mask"); ok && len(m.Values) > 0 {
		if len(m.Values) != len(inputs) {
			return nil, fmt.Errorf("model %q: got %d masks for %d inputs", g.name, len(m.Values), len(inputs))
		}
		masked := ctx.Values(g, 1, len(inputs))
		for i, v := range inputs {
			masked[i] = v
			if m.Values[i].T != nil {
				masked[i].Mask = m.Values[i].T
			}
		}
		inputs = masked
	}
	outs, err := g.Run(ctx, inputs)
	if err != nil {
		return nil, err
	}
	// Run has restored ctx's node to the one calling g, so this slice is
	// the calling node's own.
	res := ctx.Values(g, 0, len(outs))
	copy(res, outs)
	return res, nil
}

// ResetState resets every layer in the graph, nested graphs included, that
// keeps state in ctx.
func (g *Graph) ResetState(ctx *Workspace) {
	for _, n := range g.nodes {
		if r, ok := n.Layer.(Resetter); ok {
			r.ResetState(ctx)
		}
	}
}

// frame returns the Workspace's reusable frame for g run at the outer node
// parent (nil at the top level), building it on first use.
func (c *Workspace) frame(g *Graph, parent *nodeScope) *graphFrame {
	if parent == nil {
		if c.topG == g {
			return c.top
		}
	} else if parent.childG == g {
		return parent.child
	}
	key := frameKey{parent, g}
	f, ok := c.frames[key]
	if !ok {
		f = newFrame(g)
		if c.frames == nil {
			c.frames = make(map[frameKey]*graphFrame)
		}
		c.frames[key] = f
	}
	if parent == nil {
		c.topG, c.top = g, f
	} else {
		parent.childG, parent.child = g, f
	}
	return f
}

// newFrame builds g's reusable slots, calls and scopes for one Workspace.
func newFrame(g *Graph) *graphFrame {
	f := &graphFrame{
		slots:  make([]Value, g.numSlots),
		calls:  make([]Call, len(g.nodes)),
		bindAt: make([]int, len(g.nodes)+1),
		outs:   make([]Value, len(g.outputs)),
		scopes: make([]nodeScope, len(g.nodes)),
	}
	for ni, n := range g.nodes {
		call := &f.calls[ni]
		if n.Args != nil {
			call.Args = make([]Arg, len(n.Args))
			for ai, a := range n.Args {
				call.Args[ai] = resolvedArg(a)
				if len(a.Slots) > 0 {
					f.binds = append(f.binds, binding{a.Slots, call.Args[ai].Values})
				}
			}
		}
		if n.Kwargs != nil {
			call.Kwargs = make(map[string]Arg, len(n.Kwargs))
			for k, a := range n.Kwargs {
				r := resolvedArg(a)
				call.Kwargs[k] = r
				if len(a.Slots) > 0 {
					f.binds = append(f.binds, binding{a.Slots, r.Values})
				}
			}
		}
		f.bindAt[ni+1] = len(f.binds)
	}
	return f
}

// release drops the frame's references to this run's tensors, so that a
// long-lived Workspace does not keep them from being collected.
func (f *graphFrame) release() {
	clear(f.slots)
	for _, b := range f.binds {
		clear(b.dst)
	}
}

func resolvedArg(a ArgRef) Arg {
	r := Arg{IsList: a.IsList, Const: a.Const}
	if len(a.Slots) > 0 {
		r.Values = make([]Value, len(a.Slots))
	}
	return r
}
