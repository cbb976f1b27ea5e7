package runtime

import (
	"context"
	goruntime "runtime"
)

// Workspace is what one caller owns while running a model: the RNN states
// that persist between calls and reusable scratch buffers. A Workspace is
// used by one goroutine at a time; Sessions own one each.
type Workspace struct {
	// streaming makes every recurrent layer carry its state across calls,
	// as text generation one step at a time needs, whether or not the
	// layer was saved with stateful=True.
	streaming bool
	states    map[any][]*Tensor
	// stateKey and stateVal cache the last State lookup: a streaming step
	// asks for the same layer's state every call, and hashing an interface
	// key showed up in the W1 profile. stateHit says the cache is filled.
	stateKey any
	stateVal []*Tensor
	stateHit bool
	scratch  map[scratchKey][]float32
	// owners indexes scratch buffers by owner and small slot number, and
	// last caches the most recent owner: a layer asks for several buffers
	// in a row every step, and hashing an interface key each time showed
	// up in the streaming-step profile.
	owners    map[any]*ownerScratch
	lastOwner any
	last      *ownerScratch
	// frames holds each Graph's reusable slot values and calls (graph.go),
	// per graph and outer node, so that a nested model called at two nodes
	// keeps two frames.
	frames map[frameKey]*graphFrame
	// topG and top cache the frame of the last top-level run (nested
	// frames are cached in their outer node's scope): a Session runs one
	// graph over and over.
	topG *Graph
	top  *graphFrame
	// node is the scope of the graph node being run, whose reusable
	// outputs Output and Values hand out (outputs.go); nil outside a run.
	node *nodeScope
	// runInputs are the inputs of the outermost graph run in progress,
	// which reused outputs must not alias.
	runInputs []Value
	// ctx is the context of the call in progress (nil: none) and done its
	// Done channel, which Err polls; threads is the call's thread budget
	// (0: GOMAXPROCS).
	ctx     context.Context
	done    <-chan struct{}
	threads int
	// budget bounds the bytes a call may newly allocate through c
	// (Output, Scratch, NewTensor); 0 means no bound. used counts them
	// since the last SetMemoryBudget.
	budget, used int64
}

// frameKey names a graph's frame: the graph and the outer node running it
// (nil for a top-level run).
type frameKey struct {
	parent *nodeScope
	g      *Graph
}

type scratchKey struct {
	owner any
	slot  int
}

// maxFastSlot bounds the slot numbers kept in ownerScratch's slice; others
// go through the scratch map.
const maxFastSlot = 64

type ownerScratch struct {
	bufs [][]float32
}

// NewWorkspace returns an empty context. With streaming set, every recurrent
// layer keeps its state between calls, not only the stateful ones.
func NewWorkspace(streaming bool) *Workspace {
	return &Workspace{streaming: streaming}
}

// SetContext makes ctx the context of the calls run on c until the next
// SetContext: Err reports its cancellation, and the graph executor and
// the recurrent layers stop at the next node or time step once it is done.
// A nil ctx means none. Callers that keep a Workspace across calls (a
// Session) should ClearContext after each call so that c does not keep ctx
// alive.
func (c *Workspace) SetContext(ctx context.Context) {
	c.ctx = ctx
	c.done = nil
	if ctx != nil {
		c.done = ctx.Done()
	}
}

// ClearContext drops the context SetContext gave.
func (c *Workspace) ClearContext() { c.ctx, c.done = nil, nil }

// Context returns the context SetContext gave, or context.Background().
func (c *Workspace) Context() context.Context {
	if c == nil || c.ctx == nil {
		return context.Background()
	}
	return c.ctx
}

// Err returns the context's error once it is cancelled or past its
// deadline, and nil before (or without a context). It costs a
// non-blocking channel poll, cheap enough for a recurrent layer to call
// between time steps; it allocates nothing.
func (c *Workspace) Err() error {
	if c == nil || c.done == nil {
		return nil
	}
	select {
	case <-c.done:
		return c.ctx.Err()
	default:
		return nil
	}
}

// SetThreads sets the number of goroutines a call on c may use (the
// kernels that split work read Threads). n <= 0 means GOMAXPROCS.
func (c *Workspace) SetThreads(n int) {
	if n < 0 {
		n = 0
	}
	c.threads = n
}

// Threads is the thread budget of calls on c: what SetThreads set, else
// GOMAXPROCS. It is at least 1.
func (c *Workspace) Threads() int {
	if c != nil && c.threads > 0 {
		return c.threads
	}
	return max(1, goruntime.GOMAXPROCS(0))
}

// SetMemoryBudget bounds the bytes that the calls run on c from now on
// may newly allocate through it (Output, Scratch and NewTensor; buffers
// reused from earlier calls cost nothing) and restarts the count. An
// allocation that would go over the budget panics with a value that
// Graph.Run recovers and returns as a *MemoryError (errors.Is(err,
// ErrLimit)); the Workspace must then be dropped, as after any failed
// run. bytes <= 0 means no bound. Callers set it before each call: the
// count runs across calls until the next SetMemoryBudget.
func (c *Workspace) SetMemoryBudget(bytes int64) {
	c.budget = max(bytes, 0)
	c.used = 0
}

// MemoryUsed is the number of bytes allocated through c since the last
// SetMemoryBudget (or since c was made).
func (c *Workspace) MemoryUsed() int64 {
	if c == nil {
		return 0
	}
	return c.used
}

// charge counts n float32 about to be allocated, and refuses them when
// they would take the count over the budget.
func (c *Workspace) charge(n int) {
	if c == nil {
		return
	}
	b := int64(n) * 4 // n <= MaxElements: no overflow
	if c.budget > 0 && b > c.budget-c.used {
		panic(limitPanic{&MemoryError{Need: c.used + b, Budget: c.budget}})
	}
	c.used += b
}

// NewTensor is runtime.NewTensor counted against c's memory budget (see
// SetMemoryBudget): layers make the per-call tensors they do not take
// from Output with it. A nil c makes a plain tensor.
func (c *Workspace) NewTensor(shape ...int) *Tensor {
	c.charge(MustSize(shape...))
	return NewTensor(shape...)
}

// Streaming reports whether all recurrent layers carry state across calls.
func (c *Workspace) Streaming() bool { return c.streaming }

// State returns the state stored under key (usually the layer), or nil.
func (c *Workspace) State(key any) []*Tensor {
	if c.stateHit && c.stateKey == key {
		return c.stateVal
	}
	s := c.states[key]
	c.stateKey, c.stateVal, c.stateHit = key, s, true
	return s
}

// SetState stores state under key for the next call.
func (c *Workspace) SetState(key any, s []*Tensor) {
	if c.states == nil {
		c.states = make(map[any][]*Tensor)
	}
	c.states[key] = s
	c.stateKey, c.stateVal, c.stateHit = key, s, true
}

// ResetStates drops every stored state, so the next call starts from zeros.
func (c *Workspace) ResetStates() {
	for k := range c.states {
		delete(c.states, k)
	}
	c.stateKey, c.stateVal, c.stateHit = nil, nil, false
}

// Scratch returns a buffer of n float32 owned by (owner, slot), reused
// across calls so that steady-state calls allocate nothing. Its contents
// are unspecified; a later call with the same key may return the same
// memory, so results that outlive the call must not live in it.
//
// A negative or too large n, or one that takes the call over its memory
// budget, panics with a value that Graph.Run returns as its error (see
// SetMemoryBudget).
func (c *Workspace) Scratch(owner any, slot, n int) []float32 {
	if n < 0 || n > MaxElements {
		panic(limitPanic{sizeError("scratch buffer", []int{n})})
	}
	if slot < 0 || slot >= maxFastSlot {
		k := scratchKey{owner, slot}
		if buf, ok := c.scratch[k]; ok && cap(buf) >= n {
			return buf[:n]
		}
		if c.scratch == nil {
			c.scratch = make(map[scratchKey][]float32)
		}
		c.charge(n)
		buf := make([]float32, n)
		c.scratch[k] = buf
		return buf
	}
	o := c.last
	if o == nil || c.lastOwner != owner {
		o = c.owners[owner]
		if o == nil {
			if c.owners == nil {
				c.owners = make(map[any]*ownerScratch)
			}
			o = &ownerScratch{}
			c.owners[owner] = o
		}
		c.lastOwner, c.last = owner, o
	}
	if slot >= len(o.bufs) {
		o.bufs = append(o.bufs, make([][]float32, slot+1-len(o.bufs))...)
	}
	if buf := o.bufs[slot]; cap(buf) >= n {
		return buf[:n]
	}
	c.charge(n)
	buf := make([]float32, n)
	o.bufs[slot] = buf
	return buf
}
