package keras

import (
	"cmp"
	"context"
	"fmt"
	"math"
	goruntime "runtime"
	"strconv"
	"strings"
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
	// batch size or the sequence length. It is nil when unknown. A fixed
	// batch dimension (dimension 0) binds only stateful models, as in
	// Keras 3: a stateless model runs any batch.
	Shape []int `json:"shape"`
	// DType is the Keras dtype ("float32", "int32"). rnnkit computes in
	// float32 whatever it says.
	DType string `json:"dtype"`
	// TokenIDs reports an input that takes integer token ids: it feeds an
	// Embedding, directly or through a nested model or TimeDistributed.
	// Build such an input with FromTokenIDs.
	TokenIDs bool `json:"token_ids,omitempty"`
	// VocabularySize is, for a token-id input, the number of ids it takes:
	// valid ids are 0 to VocabularySize-1 (the Embedding's input_dim; the
	// smallest one when the input feeds several). 0 when unknown.
	VocabularySize int `json:"vocabulary_size,omitempty"`
	// vocabLayer names the Embedding VocabularySize comes from.
	vocabLayer string
}

// Model is a loaded Keras model. It is immutable: any number of
// goroutines may call Predict at once. WithCallOptions returns a view of
// the same model (weights, pools and caches shared) with other bounds on
// its calls.
type Model struct {
	*model
	// call bounds each call of this view of the model.
	call CallOptions
}

// model is what every view of a Model shares.
type model struct {
	desc    *convert.Model
	graph   *runtime.Graph
	nodes   []nodeInfo
	inputs  []TensorSpec
	outputs []TensorSpec
	// stateful says some layer keeps states across calls, which makes a
	// fixed batch dimension binding.
	stateful bool

	// pool holds idle non-streaming Workspaces so that Predict reuses
	// scratch buffers across calls without sharing them between
	// goroutines. It is a free list rather than a sync.Pool, which the
	// garbage collector empties: a Workspace holds megabytes of scratch,
	// and re-making it after every collection made Predict allocate.
	pool wsPool

	// mem holds the memory trials (memory.go).
	mem memState

	shapesOnce sync.Once
	shapes     *shapeInfo
	shapesErr  error
}

func newModel(desc *convert.Model, b *bound, call CallOptions) *Model {
	m := &model{desc: desc, graph: b.graph, nodes: b.nodes}
	m.inputs, m.outputs = specs(desc.Graph)
	m.stateful = isStateful(desc.Graph)
	return &Model{model: m, call: call}
}

// CallOptions returns the bounds this model applies to each call: those
// the load options set, or the ones WithCallOptions gave this view.
func (m *Model) CallOptions() CallOptions { return m.call }

// WithCallOptions returns a view of m whose calls (Predict, sessions it
// opens) use o instead of m's CallOptions. The view shares everything else
// with m (weights, workspace pool, output-shape cache), so making one per
// request is cheap. To change one bound, start from m.CallOptions().
func (m *Model) WithCallOptions(o CallOptions) *Model {
	o.Threads = max(o.Threads, 0)
	o.MaxBatch = max(o.MaxBatch, 0)
	return &Model{model: m.model, call: o}
}

// specs describes a graph's inputs (from their InputLayers and the
// Embeddings they feed) and outputs (names only: output shapes need a
// run).
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
		if stringInput(g, r.Layer) {
			spec.DType = "string"
		}
		spec.TokenIDs, spec.VocabularySize, spec.vocabLayer = tokenVocabulary(g, r.Layer, 0)
		inputs = append(inputs, spec)
	}
	for _, r := range g.Outputs {
		outputs = append(outputs, TensorSpec{Name: r.Layer, DType: "float32"})
	}
	return inputs, outputs
}

// tokenVocabulary reports whether the tensor of layer name (an InputLayer)
// feeds an Embedding in g, directly, through TimeDistributed, or as an
// input of a nested model, and the smallest input_dim of those Embeddings
// (0 if unknown) with the name of the Embedding it comes from. depth
// bounds the nesting.
func tokenVocabulary(g *convert.Graph, name string, depth int) (tok bool, vocab int, from string) {
	if depth > 16 {
		return false, 0, ""
	}
	note := func(v int, layer string) {
		tok = true
		if v > 0 && (vocab == 0 || v < vocab) {
			vocab, from = v, layer
		}
	}
	for _, l := range g.Layers {
		for _, n := range l.Nodes {
			if len(n.Args) == 0 {
				continue
			}
			for pos, r := range n.Args[0].Tensors {
				if r.Layer != name {
					continue
				}
				switch {
				case l.Inner != nil:
					if pos < len(l.Inner.Inputs) {
						if t, v, f := tokenVocabulary(l.Inner, l.Inner.Inputs[pos].Layer, depth+1); t {
							note(v, f)
						}
					}
				case l.ClassName == "Embedding" && pos == 0:
					note(embeddingInputDim(l), l.Name)
				case l.ClassName == "TimeDistributed" && pos == 0:
					if inner, ok := l.Config["layer"].(*convert.Layer); ok && inner.ClassName == "Embedding" {
						note(embeddingInputDim(inner), inner.Name)
					}
				}
			}
		}
	}
	return tok, vocab, from
}

func embeddingInputDim(l *convert.Layer) int {
	rd := l.Config.Reader(l.Name)
	v := rd.Int("input_dim", 0)
	if rd.Err() != nil || v < 0 {
		return 0
	}
	return v
}

// isStateful reports whether any layer of g (nested models and wrapped
// layers included) was saved with stateful=True.
func isStateful(g *convert.Graph) bool {
	return convert.AnyLayer(g, func(l *convert.Layer) bool {
		st, ok := l.Config["stateful"].(bool)
		return ok && st
	})
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
// a sequence of vectors, [batch, time] of token ids for an Embedding input
// (FromTokenIDs). It is safe to call from many goroutines at once.
//
// Predict is PredictContext without a context.
func (m *Model) Predict(inputs ...*Tensor) ([]*Tensor, error) {
	return m.PredictContext(context.Background(), inputs...)
}

// PredictContext is Predict under ctx: once ctx is done the call stops at
// the next layer or at most a few time steps later inside a recurrent
// layer, and returns an error wrapping ctx.Err() (errors.Is(err,
// context.Canceled) or context.DeadlineExceeded).
func (m *Model) PredictContext(ctx context.Context, inputs ...*Tensor) ([]*Tensor, error) {
	vals, err := m.values(inputs)
	if err != nil {
		return nil, err
	}
	outs, err := m.PredictValuesContext(ctx, vals...)
	if err != nil {
		return nil, err
	}
	return tensors(outs), nil
}

// PredictValues is Predict with masks: each input Value may carry a
// [batch, time] mask of 0/1, and each output comes with the mask Keras
// would attach to it (nil when none).
func (m *Model) PredictValues(inputs ...runtime.Value) ([]runtime.Value, error) {
	return m.PredictValuesContext(context.Background(), inputs...)
}

// PredictValuesContext is PredictValues under ctx, as PredictContext.
func (m *Model) PredictValuesContext(ctx context.Context, inputs ...runtime.Value) ([]runtime.Value, error) {
	if err := m.checkInputs(inputs); err != nil {
		return nil, err
	}
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return nil, modelError(m.desc.File, err)
		}
	}
	pw := m.pool.get()
	outs, err := m.run(ctx, pw.ws, inputs)
	if err != nil {
		// A failed run may leave anything in ws; do not reuse it.
		return nil, err
	}
	// Outputs may live in ws's scratch, which the next user of ws
	// overwrites: copy them before ws goes back to the pool.
	outs = cloneValues(outs)
	m.pool.put(pw)
	return outs, nil
}

// run runs the graph on ws from zero states, under ctx and the view's
// thread budget. The outputs live in ws.
func (m *Model) run(ctx context.Context, ws *runtime.Workspace, inputs []runtime.Value) ([]runtime.Value, error) {
	ws.SetContext(ctx)
	ws.SetThreads(m.call.Threads)
	ws.SetMemoryBudget(m.call.memoryBudget())
	// Stateful layers leave their final states in ws; Predict always
	// starts from zeros, as a fresh Session does.
	m.graph.ResetState(ws)
	ws.ResetStates()
	outs, err := m.graph.Run(ws, inputs)
	ws.ClearContext()
	if err != nil {
		return nil, modelError(m.desc.File, err)
	}
	return outs, nil
}

// PredictInto is PredictContext writing the outputs into outs, which must
// have one entry per model output: output i goes into outs[i]'s memory
// when its capacity holds it (its Shape and Data are resliced), else
// outs[i] is replaced by a new tensor (nil entries too). A caller that
// passes the same outs call after call, with inputs of the same shapes,
// makes Predict allocation-free once the model's scratch buffers exist
// (on one thread; a call that splits work over goroutines allocates a
// few bytes per goroutine). Output masks are not returned (see
// PredictValues). The model stays safe for concurrent use; outs must not
// be shared between concurrent calls.
func (m *Model) PredictInto(ctx context.Context, outs []*Tensor, inputs ...*Tensor) error {
	if len(outs) != len(m.outputs) {
		return &InputError{File: m.desc.File, Index: -1, Err: ErrInput,
			Reason: fmt.Sprintf("PredictInto: got %d output tensors, the model has %d outputs", len(outs), len(m.outputs))}
	}
	pw := m.pool.get()
	pw.vals = pw.vals[:0]
	for i, t := range inputs {
		if t == nil {
			m.pool.put(pw)
			return m.nilInput(i)
		}
		pw.vals = append(pw.vals, runtime.Value{T: t})
	}
	if err := m.checkInputs(pw.vals); err != nil {
		m.pool.put(pw)
		return err
	}
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			m.pool.put(pw)
			return modelError(m.desc.File, err)
		}
	}
	res, err := m.run(ctx, pw.ws, pw.vals)
	clear(pw.vals) // do not keep the caller's inputs alive
	if err != nil {
		return err
	}
	for i, v := range res {
		outs[i] = copyInto(outs[i], v.T)
	}
	m.pool.put(pw)
	return nil
}

// copyInto copies src into dst's memory when it fits, else into a new
// tensor, and returns the tensor holding the copy.
func copyInto(dst, src *Tensor) *Tensor {
	if src == nil {
		return nil
	}
	if dst == nil || cap(dst.Data) < len(src.Data) {
		return src.Clone()
	}
	dst.Shape = append(dst.Shape[:0], src.Shape...)
	dst.Data = dst.Data[:len(src.Data)]
	copy(dst.Data, src.Data)
	dst.Strings = nil
	if src.Strings != nil {
		dst.Strings = append([]string{}, src.Strings...)
	}
	return dst
}

// pooledWS is an idle Workspace of a Model's pool, with a reusable slice
// for PredictInto's input values.
type pooledWS struct {
	ws   *runtime.Workspace
	vals []runtime.Value
}

// wsPool is a free list of Workspaces. It keeps at most maxIdle (at least
// GOMAXPROCS) idle ones; more concurrent callers than that get fresh
// Workspaces that are dropped afterwards.
type wsPool struct {
	mu   sync.Mutex
	idle []*pooledWS
}

func (p *wsPool) get() *pooledWS {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		return w
	}
	return &pooledWS{ws: runtime.NewWorkspace(false)}
}

func (p *wsPool) put(w *pooledWS) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) < max(4, goruntime.GOMAXPROCS(0)) {
		p.idle = append(p.idle, w)
	}
}

func (m *Model) nilInput(i int) error {
	e := &InputError{File: m.desc.File, Index: i, Err: ErrInput, Reason: "no tensor (nil)"}
	if i < len(m.inputs) {
		e.Input = m.inputs[i].Name
	}
	return e
}

func (m *Model) values(inputs []*Tensor) ([]runtime.Value, error) {
	vals := make([]runtime.Value, len(inputs))
	for i, t := range inputs {
		if t == nil {
			return nil, m.nilInput(i)
		}
		vals[i] = runtime.Value{T: t}
	}
	return vals, nil
}

// checkInputs compares inputs with the model's input specs (count, rank,
// every dimension the model fixes, token ids within the vocabulary) and
// with the call's limits.
func (m *Model) checkInputs(inputs []runtime.Value) error {
	if len(inputs) != len(m.inputs) {
		return &InputError{File: m.desc.File, Index: -1, Err: ErrInput,
			Reason: fmt.Sprintf("got %d inputs, want %d: %s", len(inputs), len(m.inputs), specNames(m.inputs))}
	}
	for i, v := range inputs {
		spec := &m.inputs[i] // a pointer: copying the spec showed in the W1 profile
		fail := func(kind error, format string, args ...any) error {
			return &InputError{File: m.desc.File, Input: spec.Name, Index: i, Err: kind, Reason: fmt.Sprintf(format, args...)}
		}
		if v.T == nil {
			return fail(ErrInput, "no tensor (nil)")
		}
		if err := m.checkDType(i, spec, v.T); err != nil {
			return err
		}
		n, err := runtime.ShapeSize(v.T.Shape)
		if err != nil {
			return fail(err, "%v", err)
		}
		if n != len(v.T.Data) && !v.T.IsString() {
			return fail(ErrInput, "shape %v holds %d values, the data has %d", v.T.Shape, n, len(v.T.Data))
		}
		if spec.Shape != nil && !stringBatch(spec, v.T) {
			if len(v.T.Shape) != len(spec.Shape) {
				return fail(ErrInput, "got shape %v (rank %d), want %s (rank %d)", v.T.Shape, len(v.T.Shape), shapeString(spec.Shape), len(spec.Shape))
			}
			for j, d := range spec.Shape {
				if d < 0 || v.T.Shape[j] == d {
					continue
				}
				if j == 0 {
					// Keras 3: a fixed batch size binds stateful models
					// only (their states have one row per sequence).
					if !m.stateful {
						continue
					}
					return fail(ErrInput, "got batch %d, want %d: the model is stateful and its InputLayer fixes batch_shape %s", v.T.Shape[0], d, shapeString(spec.Shape))
				}
				return fail(ErrInput, "got shape %v, want %s (dimension %d must be %d)", v.T.Shape, shapeString(spec.Shape), j, d)
			}
		}
		if v.Mask != nil {
			ok := len(v.Mask.Shape) <= len(v.T.Shape)
			for j := 0; ok && j < len(v.Mask.Shape); j++ {
				ok = v.T.Shape[j] == v.Mask.Shape[j]
			}
			if !ok {
				return fail(ErrInput, "mask shape %v does not fit input shape %v", v.Mask.Shape, v.T.Shape)
			}
		}
		if lim := m.call.MaxBatch; lim > 0 && len(v.T.Shape) > 0 && v.T.Shape[0] > lim {
			return fail(ErrLimit, "batch of %d exceeds the limit of %d (MaxBatch)", v.T.Shape[0], lim)
		}
		if lim := cmp.Or(m.call.MaxSequenceLength, DefaultMaxSequenceLength); lim > 0 && (len(v.T.Shape) >= 3 || spec.TokenIDs && len(v.T.Shape) == 2) && v.T.Shape[1] > lim {
			return fail(ErrLimit, "sequence of %d steps exceeds the limit of %d (MaxSequenceLength)", v.T.Shape[1], lim)
		}
	}
	// The estimate needs inputs that fit the model, and comes before the
	// scan of every token id, which takes seconds on a hostile input.
	if err := m.checkMemory(inputs); err != nil {
		return err
	}
	for i, v := range inputs {
		if spec := &m.inputs[i]; spec.TokenIDs && spec.VocabularySize > 0 {
			if err := m.checkTokenIDs(i, spec, v.T); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkTokenIDs checks that every id of t (input i) is a number that
// Keras' int32 cast, which truncates toward zero, turns into an id in
// [0, VocabularySize).
func (m *Model) checkTokenIDs(i int, spec *TensorSpec, t *Tensor) error {
	vocab := float64(spec.VocabularySize)
	for k, v := range t.Data {
		f := math.Trunc(float64(v))
		if f >= 0 && f < vocab {
			continue
		}
		var reason string
		switch {
		case math.IsNaN(float64(v)) || math.IsInf(float64(v), 0):
			reason = fmt.Sprintf("token id %v: want an integer in [0, %d)", v, spec.VocabularySize)
		default:
			reason = fmt.Sprintf("token id %v is outside [0, %d)", v, spec.VocabularySize)
		}
		if spec.vocabLayer != "" {
			reason += fmt.Sprintf(", the vocabulary of Embedding %q (input_dim %d)", spec.vocabLayer, spec.VocabularySize)
		}
		return &InputError{File: m.desc.File, Input: spec.Name, Index: i, Err: ErrInput,
			Position: unflatten(k, t.Shape), Value: v, Reason: reason}
	}
	return nil
}

// unflatten turns a flat row-major index into one index per dimension.
func unflatten(k int, shape []int) []int {
	pos := make([]int, len(shape))
	for j := len(shape) - 1; j >= 0; j-- {
		if shape[j] > 0 {
			pos[j] = k % shape[j]
			k /= shape[j]
		}
	}
	return pos
}

func specNames(specs []TensorSpec) string {
	var b strings.Builder
	for i, sp := range specs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q %s", sp.Name, shapeString(sp.Shape))
	}
	return b.String()
}

// shapeString prints a shape Keras style: (None, 7, 5).
func shapeString(shape []int) string {
	if shape == nil {
		return "?"
	}
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		if d < 0 {
			b.WriteString("None")
		} else {
			b.WriteString(strconv.Itoa(d))
		}
	}
	if len(shape) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
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
// goroutine at a time; open one per caller. It applies the CallOptions of
// the Model (view) that opened it.
//
// A call that fails after it started running (a cancelled context, an
// error inside a layer) may leave the states partly advanced: Reset
// before the next call.
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
func (s *Session) Predict(inputs ...*Tensor) ([]*Tensor, error) {
	return s.PredictContext(context.Background(), inputs...)
}

// PredictContext is Predict under ctx; see Model.PredictContext.
func (s *Session) PredictContext(ctx context.Context, inputs ...*Tensor) ([]*Tensor, error) {
	vals, err := s.m.values(inputs)
	if err != nil {
		return nil, err
	}
	outs, err := s.PredictValuesContext(ctx, vals...)
	if err != nil {
		return nil, err
	}
	return tensors(outs), nil
}

// PredictValues runs one call with input masks; see Model.PredictValues.
func (s *Session) PredictValues(inputs ...runtime.Value) ([]runtime.Value, error) {
	return s.PredictValuesContext(context.Background(), inputs...)
}

// PredictValuesContext is PredictValues under ctx.
func (s *Session) PredictValuesContext(ctx context.Context, inputs ...runtime.Value) ([]runtime.Value, error) {
	if err := s.m.checkInputs(inputs); err != nil {
		return nil, err
	}
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	// runtime.Session.Run returns copies the caller owns.
	outs, err := s.s.Run(inputs)
	s.s.Workspace().ClearContext()
	if err != nil {
		return nil, modelError(s.m.desc.File, err)
	}
	return outs, nil
}

// begin readies the session's workspace for a call under ctx.
func (s *Session) begin(ctx context.Context) error {
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return modelError(s.m.desc.File, err)
		}
	}
	ws := s.s.Workspace()
	ws.SetContext(ctx)
	ws.SetThreads(s.m.call.Threads)
	ws.SetMemoryBudget(s.m.call.memoryBudget())
	return nil
}

// PredictShared is Predict without copying the outputs, for streaming
// loops that must not allocate: the returned slice and tensors live in the
// session's reusable memory and stay valid only until the next call on
// the session.
func (s *Session) PredictShared(inputs ...*Tensor) ([]runtime.Value, error) {
	return s.PredictSharedContext(context.Background(), inputs...)
}

// PredictSharedContext is PredictShared under ctx. With a context that
// can be cancelled, each call polls it; it still allocates nothing.
func (s *Session) PredictSharedContext(ctx context.Context, inputs ...*Tensor) ([]runtime.Value, error) {
	s.in = s.in[:0]
	for i, t := range inputs {
		if t == nil {
			return nil, s.m.nilInput(i)
		}
		s.in = append(s.in, runtime.Value{T: t})
	}
	if err := s.m.checkInputs(s.in); err != nil {
		return nil, err
	}
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	outs, err := s.s.RunShared(s.in)
	s.s.Workspace().ClearContext()
	if err != nil {
		return nil, modelError(s.m.desc.File, err)
	}
	return outs, nil
}

// Reset zeroes every carried state, as Keras' reset_states does.
func (s *Session) Reset() { s.s.Reset() }
