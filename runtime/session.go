package runtime

// Session is one caller's run state for a Graph: a Workspace holding the RNN
// states carried from call to call and the reusable scratch memory. A
// Session is used by one goroutine at a time; the Graph it runs may be
// shared by any number of Sessions.
type Session struct {
	g   *Graph
	ctx *Workspace
}

// NewSession returns a session for g starting from zero states. Stateful
// layers carry their states across Run calls; with streaming set every
// recurrent layer does, as one-step-at-a-time generation needs.
func NewSession(g *Graph, streaming bool) *Session {
	return &Session{g: g, ctx: NewWorkspace(streaming)}
}

// Graph returns the graph the session runs.
func (s *Session) Graph() *Graph { return s.g }

// Workspace returns the session's context, for callers that run layers or
// graphs directly with the session's states.
func (s *Session) Workspace() *Workspace { return s.ctx }

// Run runs the graph on inputs (one Value per graph input) and returns its
// outputs, continuing from the states the previous call left. The returned
// tensors are copies the caller owns.
func (s *Session) Run(inputs []Value) ([]Value, error) {
	outs, err := s.g.Run(s.ctx, inputs)
	if err != nil {
		return nil, err
	}
	res := make([]Value, len(outs))
	for i, v := range outs {
		res[i].T = v.T.Clone()
		if v.Mask != nil {
			res[i].Mask = v.Mask.Clone()
		}
	}
	return res, nil
}

// RunShared is Run without the copy, for streaming loops that must not
// allocate: the returned slice and tensors may live in the session's
// reusable memory and are valid only until the next call on the session.
func (s *Session) RunShared(inputs []Value) ([]Value, error) {
	return s.g.Run(s.ctx, inputs)
}

// Reset zeroes all states, so the next Run starts as a fresh session would.
func (s *Session) Reset() {
	s.g.ResetState(s.ctx)
	s.ctx.ResetStates()
}
