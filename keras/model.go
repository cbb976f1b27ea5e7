package keras

import (
	"fmt"
	"sync"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// TensorSpec describes one model input or output.
type TensorSpec struct {
	// Name is the Keras name: the InputLayer's name for an input, the
	// producing layer's name for an output.
	Name string `json:"name"`
	// Shape has -1 for a dimension Keras leaves open (None), such as the
	// batch size or the sequence length. It is nil when unknown.
	Shape []int `json:"shape"`
	// DType is the Keras dtype ("float32", "int32"). rnnkit computes in
	// float32 whatever it says; token ids travel as float32 values.
	DType string `json:"dtype"`
}

// Model is a loaded Keras model. It is immutable: any number of
// goroutines may call Predict at once.
type Model struct {
	desc    *convert.Model
	graph   *runtime.Graph
	nodes   []nodeInfo
	inputs  []TensorSpec
	outputs []TensorSpec

	// pool holds non-streaming Workspaces so that Predict reuses scratch
	// buffers across calls without sharing them between goroutines.
	pool sync.Pool

	shapesOnce sync.Once
	shapes     *shapeInfo
	shapesErr  error
}

func newModel(desc *convert.Model, b *bound) *Model {
	m := &Model{desc: desc, graph: b.graph, nodes: b.nodes}
	m.pool.New = func() any { return runtime.NewWorkspace(false) }
	m.inputs, m.outputs = specs(desc.Graph)
	return m
}

// specs describes a graph's inputs (from their InputLayers) and outputs
// (names only: output shapes need a run).
func specs(g *convert.Graph) (inputs, outputs []TensorSpec) {
	byName := make(map[string]*convert.Layer, len(g.Layers))
	for _, l := range g.Layers {
		byName[l.Name] = l
	}
	for _, r := range g.Inputs {
		spec := TensorSpec{Name: r.Layer, DType: "float32"}
		if l := byName[r.Layer]; l != nil {
			rd := l.Config.Reader(l.Name)
			shape := rd.Ints("batch_shape", nil)
			if shape == nil {
				shape = rd.Ints("batch_input_shape", nil)
			}
			if rd.Err() == nil {
				spec.Shape = shape
			}
			if dt, ok := l.Config["dtype"].(string); ok && dt != "" {
				spec.DType = dt
			}
		}
		inputs = append(inputs, spec)
	}
	for _, r := range g.Outputs {
		outputs = append(outputs, TensorSpec{Name: r.Layer, DType: "float32"})
	}
	return inputs, outputs
}

// Inputs describes the model's inputs in Keras order.
func (m *Model) Inputs() []TensorSpec { return cloneSpecs(m.inputs) }

// Outputs describes the model's outputs in Keras order. Output shapes come
// from two small trial runs (see Summary); they are nil when those fail.
func (m *Model) Outputs() []TensorSpec {
	out := cloneSpecs(m.outputs)
	if si, err := m.shapeInfo(); err == nil {
		for i := range out {
			out[i].Shape = append([]int(nil), si.outputs[i]...)
		}
	}
	return out
}

func cloneSpecs(s []TensorSpec) []TensorSpec {
	out := make([]TensorSpec, len(s))
	for i, t := range s {
		out[i] = t
		if t.Shape != nil {
			out[i].Shape = append([]int(nil), t.Shape...)
		}
	}
	return out
}

// Format names the container the model came from: "keras-h5" (legacy
// HDF5 full model), "keras-zip" (.keras), "json+weights", "savedmodel",
// "tfjs".
func (m *Model) Format() string { return m.desc.Format }

// KerasVersion is the writer's Keras version as the file records it (or as
// WithKerasVersion set it), "" when unknown.
func (m *Model) KerasVersion() string { return m.desc.KerasVersion }

// Description returns the format-independent model description the model
// was built from. It is shared, not copied: do not modify it.
func (m *Model) Description() *convert.Model { return m.desc }

// Predict runs the model once on a batch, starting every recurrent layer
// from zero states, and returns the outputs in Keras order. Each input is
// [batch, ...] as the model's input shape says: [batch, time, features] for
// a sequence of vectors, [batch, time] of token ids for an Embedding input.
// It is safe to call from many goroutines at once.
func (m *Model) Predict(inputs ...*runtime.Tensor) ([]*runtime.Tensor, error) {
	vals, err := m.values(inputs)
	if err != nil {
		return nil, err
	}
	outs, err := m.PredictValues(vals...)
	if err != nil {
		return nil, err
	}
	return tensors(outs), nil
}

// PredictValues is Predict with masks: each input Value may carry a
// [batch, time] mask of 0/1, and each output comes with the mask Keras
// would attach to it (nil when none).
func (m *Model) PredictValues(inputs ...runtime.Value) ([]runtime.Value, error) {
	if err := m.checkInputs(inputs); err != nil {
		return nil, err
	}
	ctx := m.pool.Get().(*runtime.Workspace)
	// Stateful layers leave their final states in ctx; Predict always
	// starts from zeros, as a fresh Session does.
	m.graph.ResetState(ctx)
	ctx.ResetStates()
	outs, err := m.graph.Run(ctx, inputs)
	if err != nil {
		// A failed run may leave anything in ctx; do not reuse it.
		return nil, fmt.Errorf("keras: %s: %w", m.desc.File, err)
	}
	// Outputs may live in ctx's scratch, which the next user of ctx
	// overwrites: copy them before ctx goes back to the pool.
	outs = cloneValues(outs)
	m.pool.Put(ctx)
	return outs, nil
}

func (m *Model) values(inputs []*runtime.Tensor) ([]runtime.Value, error) {
	vals := make([]runtime.Value, len(inputs))
	for i, t := range inputs {
		if t == nil {
			return nil, fmt.Errorf("keras: %s: input %d is nil: %w", m.desc.File, i, ErrInput)
		}
		vals[i] = runtime.Value{T: t}
	}
	return vals, nil
}

// checkInputs compares inputs with the model's input specs: count, rank,
// and every dimension the model fixes.
func (m *Model) checkInputs(inputs []runtime.Value) error {
	if len(inputs) != len(m.inputs) {
		return fmt.Errorf("keras: %s: got %d inputs, want %d (%s): %w", m.desc.File, len(inputs), len(m.inputs), specNames(m.inputs), ErrInput)
	}
	for i, v := range inputs {
		spec := &m.inputs[i] // a pointer: copying the spec showed in the W1 profile
		if v.T == nil {
			return fmt.Errorf("keras: %s: input %d (%q) is nil: %w", m.desc.File, i, spec.Name, ErrInput)
		}
		n := 1
		for _, d := range v.T.Shape {
			if d < 0 {
				n = -1
				break
			}
			n *= d
		}
		if n != len(v.T.Data) {
			return fmt.Errorf("keras: %s: input %d (%q): shape %v holds %d values, data has %d: %w", m.desc.File, i, spec.Name, v.T.Shape, n, len(v.T.Data), ErrInput)
		}
		if spec.Shape == nil {
			continue
		}
		if len(v.T.Shape) != len(spec.Shape) {
			return fmt.Errorf("keras: %s: input %d (%q): got shape %v (rank %d), want %s (rank %d): %w", m.desc.File, i, spec.Name, v.T.Shape, len(v.T.Shape), shapeString(spec.Shape), len(spec.Shape), ErrInput)
		}
		for j, d := range spec.Shape {
			if d >= 0 && v.T.Shape[j] != d {
				return fmt.Errorf("keras: %s: input %d (%q): got shape %v, want %s (dimension %d must be %d): %w", m.desc.File, i, spec.Name, v.T.Shape, shapeString(spec.Shape), j, d, ErrInput)
			}
		}
		if v.Mask != nil {
			if len(v.Mask.Shape) > len(v.T.Shape) {
				return fmt.Errorf("keras: %s: input %d (%q): mask shape %v does not fit input shape %v: %w", m.desc.File, i, spec.Name, v.Mask.Shape, v.T.Shape, ErrInput)
			}
			for j, d := range v.Mask.Shape {
				if v.T.Shape[j] != d {
					return fmt.Errorf("keras: %s: input %d (%q): mask shape %v does not fit input shape %v: %w", m.desc.File, i, spec.Name, v.Mask.Shape, v.T.Shape, ErrInput)
				}
			}
		}
	}
	return nil
}

func specNames(specs []TensorSpec) string {
	s := ""
	for i, sp := range specs {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%q %s", sp.Name, shapeString(sp.Shape))
	}
	return s
}

// shapeString prints a shape Keras style: (None, 7, 5).
func shapeString(shape []int) string {
	if shape == nil {
		return "?"
	}
	s := "("
	for i, d := range shape {
		if i > 0 {
			s += ", "
		}
		if d < 0 {
			s += "None"
		} else {
			s += fmt.Sprint(d)
		}
	}
	if len(shape) == 1 {
		s += ","
	}
	return s + ")"
}

func cloneValues(vs []runtime.Value) []runtime.Value {
	out := make([]runtime.Value, len(vs))
	for i, v := range vs {
		if v.T != nil {
			out[i].T = v.T.Clone()
		}
		if v.Mask != nil {
			out[i].Mask = v.Mask.Clone()
		}
	}
	return out
}

func tensors(vs []runtime.Value) []*runtime.Tensor {
	out := make([]*runtime.Tensor, len(vs))
	for i, v := range vs {
		out[i] = v.T
	}
	return out
}

// Session runs a model call after call, carrying the recurrent layers'
// states from one call to the next: stateful layers always, every
// recurrent layer when the session streams. A Session belongs to one
// goroutine at a time; open one per caller.
type Session struct {
	m *Model
	s *runtime.Session
	// in is reused by PredictShared so that steady-state steps do not
	// allocate.
	in []runtime.Value
}

// NewSession returns a session that carries the states of stateful layers
// (Keras stateful=True) across calls, as Keras' predict does until
// reset_states.
func (m *Model) NewSession() *Session {
	return &Session{m: m, s: runtime.NewSession(m.graph, false)}
}

// NewStream returns a session in which every recurrent layer carries its
// state across calls, stateful or not: feeding a sequence in pieces (say
// one token at a time for text generation) gives the same outputs as
// feeding it whole.
func (m *Model) NewStream() *Session {
	return &Session{m: m, s: runtime.NewSession(m.graph, true)}
}

// Predict runs one call; see Model.Predict for the input layout.
func (s *Session) Predict(inputs ...*runtime.Tensor) ([]*runtime.Tensor, error) {
	vals, err := s.m.values(inputs)
	if err != nil {
		return nil, err
	}
	outs, err := s.PredictValues(vals...)
	if err != nil {
		return nil, err
	}
	return tensors(outs), nil
}

// PredictValues runs one call with input masks; see Model.PredictValues.
func (s *Session) PredictValues(inputs ...runtime.Value) ([]runtime.Value, error) {
	if err := s.m.checkInputs(inputs); err != nil {
		return nil, err
	}
	// runtime.Session.Run returns copies the caller owns.
	outs, err := s.s.Run(inputs)
	if err != nil {
		return nil, fmt.Errorf("keras: %s: %w", s.m.desc.File, err)
	}
	return outs, nil
}

// PredictShared is Predict without copying the outputs, for streaming
// loops that must not allocate: the returned slice and tensors live in the
// session's reusable memory and stay valid only until the next call on
// the session.
func (s *Session) PredictShared(inputs ...*runtime.Tensor) ([]runtime.Value, error) {
	s.in = s.in[:0]
	for i, t := range inputs {
		if t == nil {
			return nil, fmt.Errorf("keras: %s: input %d is nil: %w", s.m.desc.File, i, ErrInput)
		}
		s.in = append(s.in, runtime.Value{T: t})
	}
	if err := s.m.checkInputs(s.in); err != nil {
		return nil, err
	}
	outs, err := s.s.RunShared(s.in)
	if err != nil {
		return nil, fmt.Errorf("keras: %s: %w", s.m.desc.File, err)
	}
	return outs, nil
}

// Reset zeroes every carried state, as Keras' reset_states does.
func (s *Session) Reset() { s.s.Reset() }
