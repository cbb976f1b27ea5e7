package keras

import (
	"errors"
	"fmt"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/layers"
	"github.com/rnnkit/rnnkit/runtime"
)

// nodeInfo describes one node of a bound graph, for summaries and errors.
type nodeInfo struct {
	layer *convert.Layer
	// index is which call of the layer this node is (Keras node index).
	index int
}

// bound is a convert.Graph turned into a runtime.Graph, with what the
// summary needs to name its nodes.
type bound struct {
	graph *runtime.Graph
	nodes []nodeInfo
}

// binder builds the runtime layers of a model and wires them into graphs.
// It collects every build error instead of stopping at the first, so that
// Load can report all unsupported layers at once.
type binder struct {
	file        string
	env         *layers.Env
	unsupported []*UnsupportedLayerError
	errs        []error
	// prebuilt holds layers already bound to their weights, by name, which
	// bind uses instead of building them again (Functional's sub-models
	// share the trained model's layers).
	prebuilt map[string]runtime.Layer
}

// fail records a build error, sorting unsupported-layer errors apart.
func (b *binder) fail(err error) {
	var u *UnsupportedLayerError
	if errors.As(err, &u) {
		b.unsupported = append(b.unsupported, u)
		return
	}
	b.errs = append(b.errs, err)
}

// err returns the collected errors: the unsupported layers summarized in
// one UnsupportedLayersError, joined with any other errors.
func (b *binder) err() error {
	var all []error
	if len(b.unsupported) > 0 {
		all = append(all, &UnsupportedLayersError{File: b.file, Layers: b.unsupported})
	}
	for _, e := range b.errs {
		all = append(all, fmt.Errorf("keras: %s: %w", b.file, e))
	}
	return errors.Join(all...)
}

type nodeKey struct {
	layer string
	node  int
}

// bind turns g into a runtime graph. Nodes are ordered topologically over
// the tensors they consume: Keras lists layers in a topological order, but
// a shared layer's later calls can depend on layers listed after it.
// It returns nil when any layer failed; the errors are in b.
func (b *binder) bind(g *convert.Graph) *bound {
	byName := make(map[string]*convert.Layer, len(g.Layers))
	for _, l := range g.Layers {
		if _, dup := byName[l.Name]; dup {
			b.errs = append(b.errs, fmt.Errorf("model %q: two layers named %q: %w", g.Name, l.Name, ErrFormat))
			return nil
		}
		byName[l.Name] = l
	}

	// Count the outputs each node must provide: the highest tensor index
	// any consumer (or the model's outputs) asks for.
	numOut := make(map[nodeKey]int)
	var refErr error
	use := func(r convert.TensorRef) {
		if r.Layer == "" {
			return // None inside a list argument
		}
		l, ok := byName[r.Layer]
		if !ok || r.Node < 0 || r.Index < 0 || (l.ClassName != "InputLayer" && r.Node >= len(l.Nodes)) ||
			(l.ClassName == "InputLayer" && (r.Node != 0 || r.Index != 0)) {
			if refErr == nil {
				refErr = fmt.Errorf("model %q: tensor %s[%d][%d] names no layer output: %w", g.Name, r.Layer, r.Node, r.Index, ErrFormat)
			}
			return
		}
		k := nodeKey{r.Layer, r.Node}
		if r.Index+1 > numOut[k] {
			numOut[k] = r.Index + 1
		}
	}
	forEachRef := func(n *convert.Node, f func(convert.TensorRef)) {
		for _, a := range n.Args {
			for _, r := range a.Tensors {
				f(r)
			}
		}
		for _, a := range n.Kwargs {
			for _, r := range a.Tensors {
				f(r)
			}
		}
	}
	for _, l := range g.Layers {
		for i := range l.Nodes {
			forEachRef(&l.Nodes[i], use)
		}
	}
	for _, refs := range [][]convert.TensorRef{g.Inputs, g.Outputs} {
		for _, r := range refs {
			if r.Layer == "" {
				b.errs = append(b.errs, fmt.Errorf("model %q: a model input or output names no layer: %w", g.Name, ErrFormat))
				return nil
			}
			use(r)
		}
	}
	if refErr != nil {
		b.errs = append(b.errs, refErr)
		return nil
	}
	for _, r := range g.Inputs {
		if byName[r.Layer].ClassName != "InputLayer" {
			b.errs = append(b.errs, fmt.Errorf("model %q: input %q is a %s, want an InputLayer: %w", g.Name, r.Layer, byName[r.Layer].ClassName, ErrFormat))
			return nil
		}
	}

	// Slots: one per produced tensor that somebody reads.
	slots := make(map[convert.TensorRef]int)
	slotOf := func(r convert.TensorRef) int {
		if s, ok := slots[r]; ok {
			return s
		}
		s := len(slots)
		slots[r] = s
		return s
	}
	inputs := make([]int, len(g.Inputs))
	for i, r := range g.Inputs {
		inputs[i] = slotOf(r)
	}

	// Build each layer once (shared layers serve several nodes).
	built := make(map[string]runtime.Layer)
	ok := true
	for _, l := range g.Layers {
		if l.ClassName == "InputLayer" {
			continue
		}
		if rl, ok := b.prebuilt[l.Name]; ok {
			built[l.Name] = rl
			continue
		}
		if l.Inner != nil {
			inner := b.bind(l.Inner)
			if inner == nil {
				ok = false
				continue
			}
			built[l.Name] = inner.graph
			continue
		}
		rl, err := b.env.Build(l)
		if err != nil {
			b.fail(err)
			ok = false
			continue
		}
		built[l.Name] = rl
	}
	if !ok {
		return nil
	}

	// Topological order over nodes (Kahn), stable in config order.
	type pending struct {
		layer *convert.Layer
		index int
	}
	var order []pending
	produced := make(map[nodeKey]bool)
	for _, r := range g.Inputs {
		produced[nodeKey{r.Layer, 0}] = true
	}
	var todo []pending
	for _, l := range g.Layers {
		if l.ClassName == "InputLayer" {
			continue
		}
		for i := range l.Nodes {
			todo = append(todo, pending{l, i})
		}
	}
	for len(todo) > 0 {
		progress := false
		rest := todo[:0]
		for _, p := range todo {
			ready := true
			forEachRef(&p.layer.Nodes[p.index], func(r convert.TensorRef) {
				if r.Layer != "" && !produced[nodeKey{r.Layer, r.Node}] {
					ready = false
				}
			})
			if ready {
				order = append(order, p)
				produced[nodeKey{p.layer.Name, p.index}] = true
				progress = true
			} else {
				rest = append(rest, p)
			}
		}
		todo = rest
		if !progress {
			p := todo[0]
			b.errs = append(b.errs, fmt.Errorf("model %q: layer %q call %d waits on a tensor no reachable layer produces (cycle or unconnected input): %w", g.Name, p.layer.Name, p.index, ErrFormat))
			return nil
		}
	}

	// argRef resolves an argument's tensors to slots. A None entry of a
	// list argument (Keras 3 mask=[None, m]) is slot -1, which the runtime
	// passes as a Value without a tensor; an argument of Nones only is a
	// None argument.
	argRef := func(a convert.Arg) runtime.ArgRef {
		ar := runtime.ArgRef{IsList: a.IsList, Const: a.Const}
		tensors := 0
		for _, r := range a.Tensors {
			if r.Layer == "" {
				ar.Slots = append(ar.Slots, -1)
				continue
			}
			tensors++
			ar.Slots = append(ar.Slots, slotOf(r))
		}
		if tensors == 0 && len(a.Tensors) > 0 && a.Const == nil {
			return runtime.ArgRef{IsList: a.IsList}
		}
		return ar
	}
	out := &bound{}
	nodes := make([]runtime.GraphNode, 0, len(order))
	for _, p := range order {
		n := &p.layer.Nodes[p.index]
		gn := runtime.GraphNode{Layer: built[p.layer.Name]}
		for _, a := range n.Args {
			gn.Args = append(gn.Args, argRef(a))
		}
		if len(n.Kwargs) > 0 {
			gn.Kwargs = make(map[string]runtime.ArgRef, len(n.Kwargs))
			// Sorted, so that slot numbers do not depend on map order.
			for _, k := range sortedKeys(n.Kwargs) {
				gn.Kwargs[k] = argRef(n.Kwargs[k])
			}
		}
		// Only the outputs somebody reads get slots; the runtime drops the
		// rest (an LSTM with return_state whose states nobody uses).
		for i := 0; i < numOut[nodeKey{p.layer.Name, p.index}]; i++ {
			gn.Outputs = append(gn.Outputs, slotOf(convert.TensorRef{Layer: p.layer.Name, Node: p.index, Index: i}))
		}
		nodes = append(nodes, gn)
		out.nodes = append(out.nodes, nodeInfo(p))
	}
	outputs := make([]int, len(g.Outputs))
	for i, r := range g.Outputs {
		outputs[i] = slotOf(r)
	}
	rg, err := runtime.NewGraph(g.Name, g.ClassName, len(slots), inputs, nodes, outputs)
	if err != nil {
		b.errs = append(b.errs, fmt.Errorf("model %q: %w", g.Name, err))
		return nil
	}
	out.graph = rg
	return out
}
