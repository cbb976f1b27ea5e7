package serve

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/text"
)

// model is one served model version.
type model struct {
	srv           *Server
	name, version string
	m             *keras.Model
	inputs        []inputInfo
	outputs       []outputInfo
	stateful      bool
	// pad, when set, lets sequences of different lengths share a batch.
	pad *padInfo
	b   *batcher  // nil for stateful models
	st  *sessions // stateful models only
}

type inputInfo struct {
	spec keras.TensorSpec
	// datatype is the v2 datatype metadata reports.
	datatype string
	// tok turns BYTES into ids for this input.
	tok  *text.Tokenizer
	opts text.PadOptions
}

type outputInfo struct {
	spec keras.TensorSpec
	// name is the output's name, unique among the model's outputs.
	name string
}

func newModel(s *Server, name, version string, m *keras.Model, opts ModelOptions) (*model, error) {
	co := m.CallOptions()
	if s.cfg.MaxSequenceLength > 0 {
		co.MaxSequenceLength = s.cfg.MaxSequenceLength
	}
	// Joined batches exceed a per-request batch bound: the server checks
	// that bound itself, per request.
	co.MaxBatch = 0
	m = m.WithCallOptions(co)
	md := &model{srv: s, name: name, version: version, m: m}
	graph := m.Description().Graph
	md.stateful = convert.AnyLayer(graph, func(l *convert.Layer) bool {
		st, _ := l.Config["stateful"].(bool)
		return st
	})
	tokUsed := false
	for _, sp := range m.Inputs() {
		in := inputInfo{spec: sp, datatype: datatypeOf(sp)}
		if opts.Tokenizer != nil && sp.TokenIDs && !tokUsed {
			tokUsed = true
			in.tok = opts.Tokenizer
			maxLen := opts.MaxLen
			if maxLen <= 0 && len(sp.Shape) == 2 && sp.Shape[1] > 0 {
				maxLen = sp.Shape[1]
			}
			if maxLen > 0 {
				in.opts.MaxLen = text.MaxLen(maxLen)
			}
			in.opts.Padding, in.opts.Truncating = opts.Padding, opts.Truncating
			in.datatype = "BYTES"
		}
		md.inputs = append(md.inputs, in)
	}
	if opts.Tokenizer != nil && !tokUsed {
		return nil, fmt.Errorf("serve: model %q: a tokenizer is configured but no input takes token ids", name)
	}
	used := map[string]bool{}
	for i, sp := range m.Outputs() {
		base := sp.Name
		if base == "" {
			base = fmt.Sprintf("output_%d", i)
		}
		n := base
		for k := 1; used[n]; k++ {
			n = fmt.Sprintf("%s_%d", base, k)
		}
		used[n] = true
		md.outputs = append(md.outputs, outputInfo{spec: sp, name: n})
	}
	if md.stateful {
		md.st = newSessions(m, s.cfg.MaxStreams)
		return md, nil
	}
	md.pad = probePadding(m, graph, md.inputs)
	md.b = newBatcher(md, s.cfg)
	return md, nil
}

func (md *model) close() {
	if md.b != nil {
		md.b.close()
	}
}

// datatypeOf is the v2 datatype of a Keras tensor spec.
func datatypeOf(sp keras.TensorSpec) string {
	switch sp.DType {
	case "float64":
		return "FP64"
	case "int32", "int16", "int8", "uint8":
		return "INT32"
	case "int64":
		return "INT64"
	case "string":
		return "BYTES"
	case "bool":
		return "BOOL"
	}
	return "FP32"
}

// reqTensor is one input tensor of a request as a protocol decoded it.
type reqTensor struct {
	name     string
	datatype string
	shape    []int
	// nums holds numeric values; ints says they were integers (INT*).
	nums []float32
	strs []string
	// big says an integer beyond 2^24 was read (datatype JSON).
	big bool
}

// inferRequest is a request in protocol-independent form.
type inferRequest struct {
	model, version, id string
	inputs             []reqTensor
	// outputs names the outputs wanted; none means all.
	outputs []string
	// streamID, start and end address a stateful model's stream.
	streamID   string
	start, end bool
	// timeout is the client's deadline for this request, 0 for none.
	timeout time.Duration
}

// namedOutput is one output of an answered request.
type namedOutput struct {
	name string
	t    *keras.Tensor
}

// inferResult is an answered request.
type inferResult struct {
	model, version, id string
	outputs            []namedOutput
}

// infer runs a request: it finds the model, builds and checks the input
// tensors, queues them for a batch (or runs them on the request's stream)
// and picks the outputs asked for.
func (s *Server) infer(ctx context.Context, req *inferRequest) (*inferResult, error) {
	for try := 0; ; try++ {
		res, err := s.inferOnce(ctx, req)
		// A version replaced between lookup and queueing refuses the
		// request; the new version takes it.
		if errors.Is(err, ErrClosed) && try < 3 && !s.isClosed() {
			continue
		}
		return res, err
	}
}

func (s *Server) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

func (s *Server) inferOnce(ctx context.Context, req *inferRequest) (*inferResult, error) {
	md, err := s.lookup(req.model, req.version)
	if err != nil {
		return nil, err
	}
	sel, err := md.selectOutputs(req.outputs)
	if err != nil {
		return nil, err
	}
	xs, rows, err := md.prepare(req.inputs)
	if err != nil {
		return nil, err
	}
	if s.cfg.MaxRequestBatch > 0 && rows > s.cfg.MaxRequestBatch {
		return nil, badRequest("%w: batch of %d rows exceeds the server's limit of %d per request", keras.ErrLimit, rows, s.cfg.MaxRequestBatch)
	}
	timeout := s.cfg.RequestTimeout
	if req.timeout > 0 && req.timeout < timeout {
		timeout = req.timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var ys []*keras.Tensor
	if md.stateful {
		ys, err = md.st.run(ctx, req, xs)
	} else {
		if req.streamID != "" {
			return nil, badRequest("model %q is not stateful: it takes no sequence_id", md.name)
		}
		ys, err = md.b.run(ctx, xs, rows)
	}
	if err != nil {
		return nil, err
	}
	res := &inferResult{model: md.name, version: md.version, id: req.id}
	for _, i := range sel {
		if i >= len(ys) {
			return nil, fmt.Errorf("serve: model %q returned %d outputs, metadata lists %d", md.name, len(ys), len(md.outputs))
		}
		res.outputs = append(res.outputs, namedOutput{name: md.outputs[i].name, t: ys[i]})
	}
	return res, nil
}

// selectOutputs maps requested output names to output indexes.
func (md *model) selectOutputs(names []string) ([]int, error) {
	if len(names) == 0 {
		sel := make([]int, len(md.outputs))
		for i := range sel {
			sel[i] = i
		}
		return sel, nil
	}
	var sel []int
	for _, n := range names {
		found := -1
		for i, o := range md.outputs {
			if o.name == n {
				found = i
			}
		}
		if found < 0 {
			return nil, badRequest("model %q has no output %q (outputs: %s)", md.name, n, strings.Join(md.outputNames(), ", "))
		}
		sel = append(sel, found)
	}
	return sel, nil
}

func (md *model) outputNames() []string {
	ns := make([]string, len(md.outputs))
	for i, o := range md.outputs {
		ns[i] = o.name
	}
	return ns
}

func (md *model) inputNames() []string {
	ns := make([]string, len(md.inputs))
	for i, in := range md.inputs {
		ns[i] = in.spec.Name
	}
	return ns
}

// prepare matches request tensors to the model's inputs (by name, or by
// position when unnamed) and checks datatypes, shapes and token ids, so
// that a bad request fails alone before it joins a batch.
func (md *model) prepare(ts []reqTensor) ([]*keras.Tensor, int, error) {
	if len(ts) != len(md.inputs) {
		return nil, 0, badRequest("model %q takes %d inputs (%s), got %d", md.name, len(md.inputs), strings.Join(md.inputNames(), ", "), len(ts))
	}
	order := make([]int, len(ts))
	named := false
	for i := range ts {
		if ts[i].name != "" {
			named = true
		}
	}
	if named {
		seen := make([]bool, len(md.inputs))
		for i, t := range ts {
			found := -1
			for j, in := range md.inputs {
				if in.spec.Name == t.name {
					found = j
				}
			}
			if found < 0 {
				return nil, 0, badRequest("model %q has no input %q (inputs: %s)", md.name, t.name, strings.Join(md.inputNames(), ", "))
			}
			if seen[found] {
				return nil, 0, badRequest("input %q given twice", t.name)
			}
			seen[found] = true
			order[found] = i
		}
	} else {
		for i := range order {
			order[i] = i
		}
	}
	xs := make([]*keras.Tensor, len(md.inputs))
	rows := -1
	for j, in := range md.inputs {
		t := &ts[order[j]]
		x, err := md.inputTensor(in, t)
		if err != nil {
			return nil, 0, fmt.Errorf("input %q: %w", in.spec.Name, err)
		}
		if len(x.Shape) == 0 {
			return nil, 0, badRequest("input %q: a scalar has no batch dimension", in.spec.Name)
		}
		if rows >= 0 && x.Shape[0] != rows {
			return nil, 0, badRequest("input %q has %d rows, input %q has %d: every input needs the same batch size", in.spec.Name, x.Shape[0], md.inputs[0].spec.Name, rows)
		}
		rows = x.Shape[0]
		xs[j] = x
	}
	if rows == 0 {
		return nil, 0, badRequest("the batch is empty")
	}
	return xs, rows, nil
}

// inputTensor builds one model input from a request tensor.
func (md *model) inputTensor(in inputInfo, t *reqTensor) (*keras.Tensor, error) {
	sp := in.spec
	dt := t.datatype
	if sp.DType == "string" {
		// A string input (TextVectorization, StringLookup, Hashing)
		// takes the texts themselves.
		if dt != "BYTES" {
			return nil, badRequest("datatype %s does not fit input %q: it takes BYTES (strings)", dt, sp.Name)
		}
		if err := checkShape(sp, t.shape); err != nil {
			return nil, err
		}
		x, err := keras.FromStrings(t.strs, t.shape...)
		if err != nil {
			return nil, badRequest("%w", err)
		}
		return x, nil
	}
	if dt == "BYTES" {
		if in.tok == nil {
			return nil, badRequest("datatype BYTES (text) needs a tokenizer configured for the model; input %q takes %s", sp.Name, in.datatype)
		}
		return md.tokenize(in, t)
	}
	switch dt {
	case "FP32", "FP64", "FP16", "JSON":
	case "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64":
		if !sp.TokenIDs && in.datatype != "INT32" && in.datatype != "INT64" {
			return nil, badRequest("datatype %s does not fit input %q: it takes %s values", dt, sp.Name, in.datatype)
		}
	default:
		return nil, badRequest("datatype %q is not one of FP32, FP64, INT32, INT64, BYTES", dt)
	}
	n := 1
	for _, d := range t.shape {
		if d < 0 {
			return nil, badRequest("shape %v has a negative dimension", t.shape)
		}
		n *= d
		if n > len(t.nums) && n > 1<<31 {
			break
		}
	}
	if n != len(t.nums) {
		return nil, badRequest("shape %v holds %d values, got %d", t.shape, n, len(t.nums))
	}
	if err := checkShape(sp, t.shape); err != nil {
		return nil, err
	}
	if sp.TokenIDs {
		for i, v := range t.nums {
			if (v != float32(math.Trunc(float64(v))) && dt == "JSON") || t.big {
				return nil, badRequest("%w: value %v at index %d is not a token id (an integer below 2^24)", keras.ErrInput, v, i)
			}
			id := int(v)
			if v < 0 || (sp.VocabularySize > 0 && id >= sp.VocabularySize) || math.IsNaN(float64(v)) {
				return nil, badRequest("%w: token id %v at index %d is outside the vocabulary [0, %d)", keras.ErrInput, v, i, sp.VocabularySize)
			}
		}
	}
	if ml := md.srv.cfg.MaxSequenceLength; ml > 0 && isSequence(sp) && len(t.shape) >= 2 && t.shape[1] > ml {
		return nil, badRequest("%w: sequence length %d exceeds the server's limit of %d", keras.ErrLimit, t.shape[1], ml)
	}
	return keras.FromFloat32(t.nums, t.shape...)
}

// isSequence reports an input whose dimension 1 is time.
func isSequence(sp keras.TensorSpec) bool {
	return sp.TokenIDs || len(sp.Shape) >= 3
}

// checkShape checks a request shape against an input spec: the rank and
// every fixed dimension after the batch.
func checkShape(sp keras.TensorSpec, shape []int) error {
	if sp.Shape == nil {
		return nil
	}
	if len(shape) != len(sp.Shape) {
		return badRequest("%w: shape %v has rank %d, the input is %s (rank %d, -1 for open dimensions)", keras.ErrInput, shape, len(shape), shapeString(sp.Shape), len(sp.Shape))
	}
	for i := 1; i < len(shape); i++ {
		if sp.Shape[i] >= 0 && shape[i] != sp.Shape[i] {
			return badRequest("%w: shape %v: dimension %d is %d, the input is %s", keras.ErrInput, shape, i, shape[i], shapeString(sp.Shape))
		}
	}
	return nil
}

func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// tokenize turns texts into a padded id tensor [rows, maxlen].
func (md *model) tokenize(in inputInfo, t *reqTensor) (*keras.Tensor, error) {
	if len(t.strs) == 0 {
		return nil, badRequest("BYTES input %q holds no texts", in.spec.Name)
	}
	seqs, err := in.tok.TextsToSequences(t.strs)
	if err != nil {
		return nil, badRequest("tokenizing: %v", err)
	}
	p, err := text.PadSequences(seqs, in.opts)
	if err != nil {
		return nil, badRequest("padding: %v", err)
	}
	if p.Rows == 0 || p.Cols == 0 {
		return nil, badRequest("the texts give no token ids (empty texts and no maxlen)")
	}
	x, err := keras.FromTokenIDs(p.Ints(), p.Rows, p.Cols)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	for i, v := range x.Data {
		if in.spec.VocabularySize > 0 && int(v) >= in.spec.VocabularySize {
			return nil, badRequest("%w: the tokenizer gave id %v at %d, outside the model's vocabulary [0, %d)", keras.ErrInput, v, i, in.spec.VocabularySize)
		}
	}
	return x, nil
}

// sessions holds a stateful model's streams, the one idle longest
// dropped when there are too many.
type sessions struct {
	m   *keras.Model
	max int

	mu    sync.Mutex
	byID  map[string]*list.Element
	order *list.List // front: most recently used
}

type stream struct {
	id string
	mu sync.Mutex
	s  *keras.Session
}

func newSessions(m *keras.Model, max int) *sessions {
	return &sessions{m: m, max: max, byID: map[string]*list.Element{}, order: list.New()}
}

func (ss *sessions) get(id string, start bool) *stream {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if e, ok := ss.byID[id]; ok && !start {
		ss.order.MoveToFront(e)
		return e.Value.(*stream)
	} else if ok {
		ss.order.Remove(e)
	}
	st := &stream{id: id, s: ss.m.NewSession()}
	ss.byID[id] = ss.order.PushFront(st)
	for ss.order.Len() > ss.max {
		last := ss.order.Back()
		ss.order.Remove(last)
		delete(ss.byID, last.Value.(*stream).id)
	}
	return st
}

func (ss *sessions) drop(st *stream) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if e, ok := ss.byID[st.id]; ok && e.Value.(*stream) == st {
		ss.order.Remove(e)
		delete(ss.byID, st.id)
	}
}

// run runs a request on its stream's session, one call at a time per
// stream.
func (ss *sessions) run(ctx context.Context, req *inferRequest, xs []*keras.Tensor) ([]*keras.Tensor, error) {
	if req.streamID == "" {
		return nil, badRequest("the model is stateful (its layers carry states from call to call): give parameters.sequence_id to name the stream, with sequence_start to reset it and sequence_end to close it")
	}
	st := ss.get(req.streamID, req.start)
	st.mu.Lock()
	defer st.mu.Unlock()
	ys, err := st.s.PredictContext(ctx, xs...)
	if err != nil {
		// A failed call may leave the states partly advanced.
		st.s.Reset()
	}
	if req.end || err != nil {
		ss.drop(st)
	}
	return ys, err
}

// padInfo says how sequences of different lengths share a batch: padded
// after their end with value, and the time dimension of the outputs
// listed in trim cut back to each request's length.
type padInfo struct {
	value float32
	trim  []bool
}

// probePadding decides whether a single-input model may batch sequences
// of different lengths: the input is a sequence with an open time
// dimension, the model masks (Embedding mask_zero, Masking), and running
// a short sequence padded in one batch with a longer one gives the same
// outputs as running each alone.
func probePadding(m *keras.Model, g *convert.Graph, inputs []inputInfo) *padInfo {
	if len(inputs) != 1 {
		return nil
	}
	sp := inputs[0].spec
	if !isSequence(sp) || len(sp.Shape) < 2 || sp.Shape[1] >= 0 {
		return nil
	}
	var value float32
	masks := convert.AnyLayer(g, func(l *convert.Layer) bool {
		switch l.ClassName {
		case "Embedding":
			mz, _ := l.Config["mask_zero"].(bool)
			return mz && sp.TokenIDs
		case "Masking":
			if v, ok := l.Config["mask_value"].(float64); ok && !sp.TokenIDs {
				value = float32(v)
				return true
			}
		}
		return false
	})
	if !masks {
		return nil
	}
	rng := rand.New(rand.NewSource(1))
	makeX := func(steps int) *keras.Tensor {
		shape := append([]int{1, steps}, sp.Shape[2:]...)
		for i := 2; i < len(shape); i++ {
			if shape[i] < 0 {
				return nil
			}
		}
		x := keras.NewTensor(shape...)
		for i := range x.Data {
			if sp.TokenIDs {
				v := max(sp.VocabularySize, 2)
				x.Data[i] = float32(1 + rng.Intn(v-1))
			} else {
				x.Data[i] = value + 0.25 + rng.Float32()
			}
		}
		return x
	}
	short, long := makeX(3), makeX(6)
	if short == nil || long == nil {
		return nil
	}
	ys, err1 := m.Predict(short)
	yl, err2 := m.Predict(long)
	if err1 != nil || err2 != nil {
		return nil
	}
	pi := &padInfo{value: value, trim: make([]bool, len(ys))}
	jobs := []*job{{xs: []*keras.Tensor{short}, rows: 1}, {xs: []*keras.Tensor{long}, rows: 1}}
	joined, err := joinInputs(jobs, pi)
	if err != nil {
		return nil
	}
	yb, err := m.Predict(joined...)
	if err != nil || len(yb) != len(ys) {
		return nil
	}
	for k := range ys {
		// An output whose dimension 1 follows the input's length is cut
		// back; any other output must keep its shape.
		if len(ys[k].Shape) >= 2 && len(yl[k].Shape) >= 2 && ys[k].Shape[1] == 3 && yl[k].Shape[1] == 6 {
			pi.trim[k] = true
		}
	}
	parts, err := splitOutputs(yb, jobs, pi)
	if err != nil {
		return nil
	}
	if !sameTensors(parts[0], ys) || !sameTensors(parts[1], yl) {
		return nil
	}
	return pi
}

// sameTensors reports bit-identical tensors.
func sameTensors(a, b []*keras.Tensor) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !slices.Equal(a[i].Shape, b[i].Shape) || len(a[i].Data) != len(b[i].Data) {
			return false
		}
		for j := range a[i].Data {
			if math.Float32bits(a[i].Data[j]) != math.Float32bits(b[i].Data[j]) {
				return false
			}
		}
	}
	return true
}

var errShape = errors.New("serve: outputs do not split by rows")
