package runtime

// Reusable layer outputs.
//
// A streaming step must not allocate, yet a layer's output cannot live in a
// per-layer buffer: a shared layer (one Layer at several graph nodes) would
// overwrite its first node's output with its second. So outputs are keyed
// by the node being run as well. Graph.Run gives every execution of a node
// a nodeScope of its own, stored in the frame of the graph for that run;
// a nested graph's frame is keyed by the outer node that runs it, so a
// nested model called at two nodes keeps two sets of scopes.

// nodeScope holds the reusable outputs of one node's execution, per owner
// (the layer, or an inner layer a wrapper calls at the same node).
type nodeScope struct {
	owners []*scopeOwner
	last   *scopeOwner
	// childG and child cache the frame of the nested graph this node ran
	// last (Workspace.frames holds them all), sparing a map lookup per step.
	childG *Graph
	child  *graphFrame
}

type scopeOwner struct {
	owner any
	bufs  []*outputBuf
	vals  [][]Value
	tens  [][]*Tensor
}

// outputBuf is one reusable output tensor with its shape inline. alt is a
// second buffer, used on a run whose graph inputs alias the first (a caller
// feeding a RunShared output back in as the next input).
type outputBuf struct {
	t     Tensor
	shape [maxOutputRank]int
	alt   *outputBuf
}

// maxOutputRank is the largest rank an outputBuf keeps inline.
const maxOutputRank = 6

func (s *nodeScope) get(owner any) *scopeOwner {
	if o := s.last; o != nil && o.owner == owner {
		return o
	}
	for _, o := range s.owners {
		if o.owner == owner {
			s.last = o
			return o
		}
	}
	o := &scopeOwner{owner: owner}
	s.owners = append(s.owners, o)
	s.last = o
	return o
}

// Output returns a zero tensor of the given shape for output slot slot of
// owner (usually the layer; any comparable value) at the graph node being
// run. Within a graph run the tensor is reused by the next run of the same
// node on this Workspace, so steady-state calls allocate nothing; it stays
// valid until then, as Graph.Run documents for its results. Outside a
// graph run (a layer called directly) it returns a new tensor.
//
// A layer must ask for each of its output tensors once per call under a
// distinct (owner, slot): a second request with the same key returns the
// same memory.
func (c *Workspace) Output(owner any, slot int, shape ...int) *Tensor {
	if c == nil || c.node == nil || slot < 0 {
		return c.NewTensor(shape...)
	}
	n := MustSize(shape...)
	o := c.node.get(owner)
	if slot >= len(o.bufs) {
		o.bufs = append(o.bufs, make([]*outputBuf, slot+1-len(o.bufs))...)
	}
	b := o.bufs[slot]
	if b == nil {
		b = &outputBuf{}
		o.bufs[slot] = b
	}
	if c.aliasesInput(b) {
		if b.alt == nil {
			b.alt = &outputBuf{}
		}
		b = b.alt
		if c.aliasesInput(b) {
			b = &outputBuf{} // inputs alias both buffers: give up reuse
		}
	}
	if cap(b.t.Data) >= n {
		b.t.Data = b.t.Data[:n]
		clear(b.t.Data)
	} else {
		c.charge(n)
		b.t.Data = make([]float32, n)
	}
	if len(shape) <= maxOutputRank {
		r := copy(b.shape[:], shape)
		b.t.Shape = b.shape[:r:r] // capped: an append must not write past it
	} else {
		b.t.Shape = append([]int(nil), shape...)
	}
	return &b.t
}

// Values returns a slice of n empty Values for a layer's result, reused
// like Output's tensors under (owner, slot) at the node being run, and new
// outside a graph run.
func (c *Workspace) Values(owner any, slot, n int) []Value {
	if c == nil || c.node == nil || slot < 0 {
		return make([]Value, n)
	}
	o := c.node.get(owner)
	if slot >= len(o.vals) {
		o.vals = append(o.vals, make([][]Value, slot+1-len(o.vals))...)
	}
	v := o.vals[slot]
	if cap(v) < n {
		v = make([]Value, n)
		o.vals[slot] = v
	}
	v = v[:n]
	clear(v)
	return v
}

// Tensors returns a slice of n nil tensor pointers (a layer's list of
// output tensors it fills with Output), reused like Values.
func (c *Workspace) Tensors(owner any, slot, n int) []*Tensor {
	if c == nil || c.node == nil || slot < 0 {
		return make([]*Tensor, n)
	}
	o := c.node.get(owner)
	if slot >= len(o.tens) {
		o.tens = append(o.tens, make([][]*Tensor, slot+1-len(o.tens))...)
	}
	v := o.tens[slot]
	if cap(v) < n {
		v = make([]*Tensor, n)
		o.tens[slot] = v
	}
	v = v[:n]
	clear(v)
	return v
}

// aliasesInput reports whether b's memory backs any tensor or mask among
// the inputs of the outermost graph run: reusing it would overwrite an
// input that later nodes still read.
func (c *Workspace) aliasesInput(b *outputBuf) bool {
	if cap(b.t.Data) == 0 {
		return false
	}
	for _, v := range c.runInputs {
		if v.T != nil && sameBacking(v.T.Data, b.t.Data) {
			return true
		}
		if v.Mask != nil && sameBacking(v.Mask.Data, b.t.Data) {
			return true
		}
	}
	return false
}

// sameBacking reports whether a and b were sliced from the same array: a
// reslice keeps the end of its capacity, so compare the last element in
// capacity. (A three-index slice that lowered the capacity escapes this.)
func sameBacking(a, b []float32) bool {
	if cap(a) == 0 || cap(b) == 0 {
		return false
	}
	return &a[:cap(a)][cap(a)-1] == &b[:cap(b)][cap(b)-1]
}
