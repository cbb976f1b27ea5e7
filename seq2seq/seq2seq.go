// Package seq2seq decodes with trained Keras encoder-decoder models: the
// standard pattern of the Keras lstm_seq2seq example, where an encoder RNN
// with return_state hands its final states to a decoder RNN as
// initial_state and a Dense softmax reads the decoder's outputs.
//
// New finds the encoder and decoder in the training model's graph and
// builds the two inference models Keras users write by hand with
// Model(inputs, outputs): the encoder (source -> states) and the decoder
// step ([previous token, states] -> [next-token probabilities, new
// states]), both sharing the trained weights. Decoding runs the decoder
// one token at a time on the carried states, so each token costs one
// step, whatever the length of the prefix. Greedy and beam-search
// decoding work on token ids; CharVocab covers the one-hot character
// models of the Keras example, and Embedding models take token ids.
package seq2seq

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/keras"
)

// Errors for errors.Is.
var (
	// ErrNoEncoder means the model has no encoder-decoder pattern: no
	// recurrent layer takes its initial_state from another input's
	// recurrent states.
	ErrNoEncoder = errors.New("no encoder-decoder pattern found")
	// ErrAmbiguous means several inputs or layers fit the pattern; name
	// them with WithEncoderInput/WithDecoderInput.
	ErrAmbiguous = errors.New("ambiguous encoder-decoder pattern")
	// ErrUnsupported means the pattern was found but cannot be decoded
	// step by step (the decoder RNN returns no states, the decoder reads
	// the encoder's outputs as attention does).
	ErrUnsupported = errors.New("unsupported encoder-decoder model")
	// ErrVocab means a vocabulary does not fit the model or is malformed.
	ErrVocab = errors.New("vocabulary does not fit")
)

// InputKind says how a model input takes tokens.
type InputKind int

const (
	// OneHot inputs are [batch, time, vocab] with one 1 per step (the
	// character models of the Keras example).
	OneHot InputKind = iota
	// TokenIDs inputs are [batch, time] of ids (an Embedding reads them).
	TokenIDs
)

func (k InputKind) String() string {
	if k == TokenIDs {
		return "token ids"
	}
	return "one-hot"
}

// Model is a trained encoder-decoder split into its inference models.
// It is immutable and safe for concurrent use.
type Model struct {
	// Encoder maps the source [1, time, ...] to the decoder's initial
	// states, in the decoder's initial_state order.
	Encoder *keras.Model
	// Decoder is one step: inputs [token, state_1, ..., state_n], outputs
	// [probabilities, state_1', ..., state_n'].
	Decoder *keras.Model

	// EncoderInput and DecoderInput name the training model's inputs;
	// DecoderRNNs the recurrent layers that start from the encoder's
	// states, StateSources the layers producing those states (the
	// encoder RNN, or the Concatenate of a Bidirectional encoder's
	// states); OutputLayer gives the probabilities.
	EncoderInput, DecoderInput string
	StateSources, DecoderRNNs  []string
	OutputLayer                string

	// SourceKind and TargetKind say how the encoder and decoder inputs
	// take tokens; SourceDim and TargetDim are their one-hot widths (0
	// for token ids). VocabSize is the width of the probabilities.
	SourceKind, TargetKind InputKind
	SourceDim, TargetDim   int
	VocabSize              int
	// StateSizes are the sizes of the carried states (LSTM: h, c).
	StateSizes []int
	// Logits is set when the output layer has no softmax (a Dense with a
	// linear activation, as models trained with from_logits=True end):
	// decoding then applies a softmax to each step's output, so that
	// scores are log probabilities.
	Logits bool
}

// Option changes how New reads the model.
type Option func(*options)

type options struct {
	encoderInput, decoderInput string
}

// WithEncoderInput names the training model's encoder input.
func WithEncoderInput(name string) Option { return func(o *options) { o.encoderInput = name } }

// WithDecoderInput names the training model's decoder input.
func WithDecoderInput(name string) Option { return func(o *options) { o.decoderInput = name } }

var recurrentClasses = map[string]bool{"LSTM": true, "GRU": true, "SimpleRNN": true, "RNN": true}

type nodeKey struct {
	layer string
	node  int
}

// graphInfo answers which model inputs a tensor depends on.
type graphInfo struct {
	g      *convert.Graph
	byName map[string]*convert.Layer
	memo   map[nodeKey]map[string]bool
}

func newGraphInfo(g *convert.Graph) *graphInfo {
	gi := &graphInfo{g: g, byName: map[string]*convert.Layer{}, memo: map[nodeKey]map[string]bool{}}
	for _, l := range g.Layers {
		gi.byName[l.Name] = l
	}
	return gi
}

func forEachRef(n *convert.Node, f func(convert.TensorRef)) {
	for _, a := range n.Args {
		for _, r := range a.Tensors {
			if r.Layer != "" {
				f(r)
			}
		}
	}
	for _, a := range n.Kwargs {
		for _, r := range a.Tensors {
			if r.Layer != "" {
				f(r)
			}
		}
	}
}

// deps returns the names of the InputLayers r depends on.
func (gi *graphInfo) deps(r convert.TensorRef) map[string]bool {
	l := gi.byName[r.Layer]
	if l == nil {
		return nil
	}
	if l.ClassName == "InputLayer" {
		return map[string]bool{l.Name: true}
	}
	k := nodeKey{r.Layer, r.Node}
	if d, ok := gi.memo[k]; ok {
		return d
	}
	d := map[string]bool{}
	gi.memo[k] = d // a cycle, which bind rejects, ends here
	if r.Node < len(l.Nodes) {
		forEachRef(&l.Nodes[r.Node], func(u convert.TensorRef) {
			for n := range gi.deps(u) {
				d[n] = true
			}
		})
	}
	return d
}

func (gi *graphInfo) argDeps(a convert.Arg) map[string]bool {
	d := map[string]bool{}
	for _, r := range a.Tensors {
		if r.Layer == "" {
			continue
		}
		for n := range gi.deps(r) {
			d[n] = true
		}
	}
	return d
}

// decoderCall is a recurrent call whose initial states come from the
// encoder side.
type decoderCall struct {
	layer *convert.Layer
	node  int
	init  []convert.TensorRef
}

// findDecoders lists the recurrent calls whose input depends on dec and
// whose initial states depend on enc and not on dec, in graph order.
func (gi *graphInfo) findDecoders(enc, dec string) []decoderCall {
	var out []decoderCall
	for _, l := range gi.g.Layers {
		if !recurrentClasses[l.ClassName] {
			continue
		}
		for ni := range l.Nodes {
			n := &l.Nodes[ni]
			init, ok := n.Kwargs["initial_state"]
			if !ok || len(n.Args) == 0 {
				continue
			}
			var refs []convert.TensorRef
			for _, r := range init.Tensors {
				if r.Layer != "" {
					refs = append(refs, r)
				}
			}
			if len(refs) == 0 {
				continue
			}
			id := gi.argDeps(init)
			xd := gi.argDeps(n.Args[0])
			if id[enc] && !id[dec] && xd[dec] {
				out = append(out, decoderCall{layer: l, node: ni, init: refs})
			}
		}
	}
	return out
}

// New finds the encoder-decoder pattern in m's graph and builds the
// encoder and decoder-step models from its layers. Without options the
// model must have two inputs, one feeding an RNN whose states initialize
// an RNN on the other; WithEncoderInput and WithDecoderInput name them
// otherwise.
func New(m *keras.Model, opts ...Option) (*Model, error) {
	var o options
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	desc := m.Description()
	file := desc.File
	g := desc.Graph
	gi := newGraphInfo(g)
	var inputs []string
	for _, r := range g.Inputs {
		inputs = append(inputs, r.Layer)
	}
	for _, name := range []string{o.encoderInput, o.decoderInput} {
		if name != "" && !contains(inputs, name) {
			return nil, fmt.Errorf("seq2seq: %s: no model input named %q (inputs: %s): %w", file, name, strings.Join(inputs, ", "), ErrNoEncoder)
		}
	}
	if o.encoderInput != "" && o.encoderInput == o.decoderInput {
		return nil, fmt.Errorf("seq2seq: %s: encoder and decoder input are both %q: %w", file, o.encoderInput, ErrAmbiguous)
	}
	type match struct {
		enc, dec string
		calls    []decoderCall
	}
	var matches []match
	for _, enc := range inputs {
		for _, dec := range inputs {
			if enc == dec || (o.encoderInput != "" && enc != o.encoderInput) || (o.decoderInput != "" && dec != o.decoderInput) {
				continue
			}
			if calls := gi.findDecoders(enc, dec); len(calls) > 0 {
				matches = append(matches, match{enc, dec, calls})
			}
		}
	}
	switch {
	case len(matches) == 0:
		return nil, fmt.Errorf("seq2seq: %s: no recurrent layer takes its initial_state from recurrent states computed from another input (model inputs: %s): %w",
			file, strings.Join(inputs, ", "), ErrNoEncoder)
	case len(matches) > 1:
		var s []string
		for _, mt := range matches {
			s = append(s, fmt.Sprintf("encoder %q + decoder %q", mt.enc, mt.dec))
		}
		return nil, fmt.Errorf("seq2seq: %s: several input pairs fit (%s): name them with --encoder-input/--decoder-input: %w", file, strings.Join(s, "; "), ErrAmbiguous)
	}
	mt := matches[0]
	s := &Model{EncoderInput: mt.enc, DecoderInput: mt.dec}

	// The output: the model output that depends on the decoder input.
	var outRef *convert.TensorRef
	for i, r := range g.Outputs {
		if gi.deps(r)[mt.dec] {
			if outRef != nil {
				return nil, fmt.Errorf("seq2seq: %s: outputs %q and %q both depend on the decoder input %q: %w", file, outRef.Layer, r.Layer, mt.dec, ErrAmbiguous)
			}
			outRef = &g.Outputs[i]
		}
	}
	if outRef == nil {
		return nil, fmt.Errorf("seq2seq: %s: no model output depends on the decoder input %q: %w", file, mt.dec, ErrNoEncoder)
	}
	s.OutputLayer = outRef.Layer
	s.Logits = !givesProbabilities(gi.byName[outRef.Layer])

	f := keras.NewFunctional(m)
	var initRefs, stateRefs []convert.TensorRef
	seenEnc := map[string]bool{}
	for _, c := range mt.calls {
		s.DecoderRNNs = append(s.DecoderRNNs, c.layer.Name)
		rd := c.layer.Config.Reader(c.layer.Name)
		if !rd.Bool("return_state", false) {
			return nil, fmt.Errorf("seq2seq: %s: decoder layer %q has return_state=False: its states cannot be carried from step to step: %w", file, c.layer.Name, ErrUnsupported)
		}
		for i := range c.init {
			stateRefs = append(stateRefs, convert.TensorRef{Layer: c.layer.Name, Node: c.node, Index: 1 + i})
		}
		initRefs = append(initRefs, c.init...)
		for _, r := range c.init {
			if !seenEnc[r.Layer] {
				seenEnc[r.Layer] = true
				s.StateSources = append(s.StateSources, r.Layer)
			}
		}
	}
	encIn, err := f.Replay([]convert.TensorRef{{Layer: mt.enc}}, nil)
	if err != nil {
		return nil, fmt.Errorf("seq2seq: %w", err)
	}
	encOut, err := f.Replay(initRefs, nil)
	if err != nil {
		return nil, fmt.Errorf("seq2seq: %w", err)
	}
	if s.Encoder, err = f.Model("encoder", encIn, encOut); err != nil {
		return nil, fmt.Errorf("seq2seq: encoder (%s -> the initial states of %s): %w", mt.enc, strings.Join(s.DecoderRNNs, ", "), err)
	}
	// State sizes from a trial run of the encoder (Outputs() runs it), or
	// else from the decoder RNNs' units.
	specs := s.Encoder.Outputs()
	for i := range initRefs {
		size := -1
		if i < len(specs) && len(specs[i].Shape) == 2 {
			size = specs[i].Shape[1]
		}
		if size <= 0 {
			size = unitsOfState(mt.calls, i)
		}
		if size <= 0 {
			return nil, fmt.Errorf("seq2seq: %s: the size of initial state %d of %s is unknown: %w", file, i, strings.Join(s.DecoderRNNs, ", "), ErrUnsupported)
		}
		s.StateSizes = append(s.StateSizes, size)
	}
	taken := map[string]bool{}
	for _, l := range g.Layers {
		taken[l.Name] = true
	}
	replace := map[convert.TensorRef]*keras.KerasTensor{}
	stateIns := make([]*keras.KerasTensor, len(initRefs))
	for i, r := range initRefs {
		name := fmt.Sprintf("decoder_state_input_%d", i)
		for k := 1; taken[name]; k++ {
			name = fmt.Sprintf("decoder_state_input_%d_%d", i, k)
		}
		taken[name] = true
		if stateIns[i], err = f.Input(name, s.StateSizes[i]); err != nil {
			return nil, fmt.Errorf("seq2seq: %w", err)
		}
		if _, dup := replace[r]; dup {
			return nil, fmt.Errorf("seq2seq: %s: tensor %s[%d][%d] is used twice as an initial state: %w", file, r.Layer, r.Node, r.Index, ErrUnsupported)
		}
		replace[r] = stateIns[i]
	}
	// The decoder input gets an open time dimension: a training model
	// may fix it, and a step feeds one token.
	var decShape []int
	for _, in := range m.Inputs() {
		if in.Name == mt.dec && len(in.Shape) >= 2 {
			decShape = append([]int{-1}, in.Shape[2:]...)
		}
	}
	if decShape == nil {
		return nil, fmt.Errorf("seq2seq: %s: decoder input %q: shape unknown, want (batch, time) or (batch, time, vocab): %w", file, mt.dec, ErrUnsupported)
	}
	decName := mt.dec
	if taken[decName+"_step"] {
		decName += "_step_"
	}
	decStep, err := f.Input(decName+"_step", decShape...)
	if err != nil {
		return nil, fmt.Errorf("seq2seq: %w", err)
	}
	decIn := []*keras.KerasTensor{decStep}
	replace[convert.TensorRef{Layer: mt.dec}] = decStep
	decOut, err := f.Replay(append([]convert.TensorRef{*outRef}, stateRefs...), replace)
	if err != nil {
		return nil, fmt.Errorf("seq2seq: %w", err)
	}
	if s.Decoder, err = f.Model("decoder", append(decIn, stateIns...), decOut); err != nil {
		if errors.Is(err, keras.ErrDisconnected) {
			return nil, fmt.Errorf("seq2seq: the decoder step needs more than the previous token and the states (does it read the encoder's outputs, as attention does?): %w: %w", ErrUnsupported, err)
		}
		return nil, fmt.Errorf("seq2seq: decoder step: %w", err)
	}

	var err2 error
	if s.SourceKind, s.SourceDim, err2 = inputKind(s.Encoder.Inputs()[0]); err2 != nil {
		return nil, fmt.Errorf("seq2seq: %s: encoder input %q: %w", file, mt.enc, err2)
	}
	if s.TargetKind, s.TargetDim, err2 = inputKind(s.Decoder.Inputs()[0]); err2 != nil {
		return nil, fmt.Errorf("seq2seq: %s: decoder input %q: %w", file, mt.dec, err2)
	}
	outs := s.Decoder.Outputs()
	if len(outs) == 0 || len(outs[0].Shape) < 2 || outs[0].Shape[len(outs[0].Shape)-1] <= 0 {
		return nil, fmt.Errorf("seq2seq: %s: output %q: shape unknown, want (batch, time, vocab): %w", file, s.OutputLayer, ErrUnsupported)
	}
	s.VocabSize = outs[0].Shape[len(outs[0].Shape)-1]
	if s.TargetKind == OneHot && s.TargetDim != s.VocabSize {
		return nil, fmt.Errorf("seq2seq: %s: decoder input %q has %d one-hot features but output %q has %d classes: %w", file, mt.dec, s.TargetDim, s.OutputLayer, s.VocabSize, ErrUnsupported)
	}
	return s, nil
}

func inputKind(spec keras.TensorSpec) (InputKind, int, error) {
	switch len(spec.Shape) {
	case 2:
		return TokenIDs, 0, nil
	case 3:
		if spec.Shape[2] <= 0 {
			return 0, 0, fmt.Errorf("shape %v: the one-hot width is not fixed: %w", spec.Shape, ErrUnsupported)
		}
		return OneHot, spec.Shape[2], nil
	}
	return 0, 0, fmt.Errorf("shape %v: want (batch, time) token ids or (batch, time, vocab) one-hot: %w", spec.Shape, ErrUnsupported)
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// givesProbabilities reports whether the output layer ends in a softmax
// (or is a layer whose activation it cannot tell, which is taken at its
// word); a Dense with another activation gives logits.
func givesProbabilities(l *convert.Layer) bool {
	if l == nil {
		return true
	}
	switch l.ClassName {
	case "Softmax":
		return true
	case "Dense", "Activation":
		act, _ := l.Config["activation"].(string)
		return act == "softmax"
	case "TimeDistributed":
		if inner, ok := l.Config["layer"].(*convert.Layer); ok {
			return givesProbabilities(inner)
		}
	}
	return true
}

// unitsOfState is the units option of the decoder RNN whose i-th initial
// state (counting over all decoder calls) this is, or -1.
func unitsOfState(calls []decoderCall, i int) int {
	for _, c := range calls {
		if i < len(c.init) {
			return c.layer.Config.Reader(c.layer.Name).Int("units", -1)
		}
		i -= len(c.init)
	}
	return -1
}
