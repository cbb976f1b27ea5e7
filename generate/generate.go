// Package generate continues a text prompt with a Keras language model:
// a model that maps token ids to next-token probabilities (or logits),
// char- or word-level, with the Tokenizer it was trained with.
//
// Two modes reproduce the two loops Keras users write:
//
//   - window mode (Options.Window > 0, the default for a model whose input
//     length is fixed): every step re-predicts on the last Window ids,
//     pre-padded with 0, as most Keras tutorials do;
//   - stream mode (Window 0 and a model whose input length is open): the
//     prompt is fed once through (*keras.Model).NewStream and every step
//     then feeds only the newest id, the recurrent states carrying the rest.
//
// Tokens are chosen greedily (argmax, the default) or sampled with
// temperature, top-k and top-p from a caller-seeded *rand.Rand. A step
// allocates nothing: the input tensor, the model's outputs
// (Session.PredictShared) and the sampling scratch are reused.
package generate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/runtime"
	"github.com/rnnkit/rnnkit/text"
)

// ErrOptions wraps every invalid option.
var ErrOptions = errors.New("generate: invalid options")

// Options choose the decoding. The zero value is greedy decoding in the
// mode the model's input shape implies, without a length limit (Steps 0
// means 1 step per call of Next until a stop token; Generate requires
// Steps > 0).
type Options struct {
	// Steps is the maximum number of tokens to generate.
	Steps int
	// Window > 0 re-predicts on the last Window ids, pre-padded with 0.
	// 0 means the model's fixed input length when it has one, else stream
	// mode.
	Window int
	// Temperature > 0 samples from softmax(log p / Temperature) (logits
	// are divided directly); 0 is greedy argmax.
	Temperature float64
	// TopK > 0 samples only among the K most likely tokens.
	TopK int
	// TopP in (0, 1) samples only among the most likely tokens whose
	// probabilities add up to at least TopP (nucleus sampling).
	TopP float64
	// Rand is the random source for sampling (required with Temperature
	// > 0); seed it for reproducible output.
	Rand *rand.Rand
	// StopIDs end the generation when generated; the stop id is not
	// emitted.
	StopIDs []int
}

// A Generator holds a model, its tokenizer and options; it is immutable and
// safe for concurrent use. Each Start opens an independent stream.
type Generator struct {
	m      *keras.Model
	tok    *text.Tokenizer
	opts   Options
	window int
	vocab  int
}

// New checks the options against the model: one input of token ids, shaped
// (batch, time); one output whose last dimension is the vocabulary.
func New(m *keras.Model, tok *text.Tokenizer, opts Options) (*Generator, error) {
	ins, outs := m.Inputs(), m.Outputs()
	if len(ins) != 1 || len(outs) < 1 {
		return nil, fmt.Errorf("%w: the model has %d inputs and %d outputs, want 1 input of token ids", ErrOptions, len(ins), len(outs))
	}
	in := ins[0]
	if len(in.Shape) != 2 {
		return nil, fmt.Errorf("%w: input %q has shape %v, want (batch, time) token ids", ErrOptions, in.Name, in.Shape)
	}
	out := outs[0].Shape
	if len(out) < 2 || out[len(out)-1] <= 0 {
		return nil, fmt.Errorf("%w: output %q has shape %v, want (batch, vocabulary) or (batch, time, vocabulary)", ErrOptions, outs[0].Name, out)
	}
	g := &Generator{m: m, tok: tok, opts: opts, vocab: out[len(out)-1]}
	switch {
	case opts.Window < 0:
		return nil, fmt.Errorf("%w: window %d < 0", ErrOptions, opts.Window)
	case opts.Window > 0:
		if in.Shape[1] > 0 && in.Shape[1] != opts.Window {
			return nil, fmt.Errorf("%w: window %d, but input %q takes %d ids", ErrOptions, opts.Window, in.Name, in.Shape[1])
		}
		g.window = opts.Window
	case in.Shape[1] > 0:
		g.window = in.Shape[1]
	}
	if opts.Steps < 0 {
		return nil, fmt.Errorf("%w: steps %d < 0", ErrOptions, opts.Steps)
	}
	if opts.Temperature < 0 || math.IsNaN(opts.Temperature) || math.IsInf(opts.Temperature, 0) {
		return nil, fmt.Errorf("%w: temperature %v", ErrOptions, opts.Temperature)
	}
	if opts.TopK < 0 {
		return nil, fmt.Errorf("%w: top-k %d < 0", ErrOptions, opts.TopK)
	}
	if opts.TopP < 0 || opts.TopP > 1 || math.IsNaN(opts.TopP) {
		return nil, fmt.Errorf("%w: top-p %v not in [0, 1]", ErrOptions, opts.TopP)
	}
	if opts.Temperature > 0 && opts.Rand == nil {
		return nil, fmt.Errorf("%w: sampling (temperature %v) needs a *rand.Rand", ErrOptions, opts.Temperature)
	}
	if opts.Temperature == 0 && (opts.TopK > 0 || (opts.TopP > 0 && opts.TopP < 1)) {
		return nil, fmt.Errorf("%w: top-k and top-p apply to sampling: set a temperature", ErrOptions)
	}
	g.opts.StopIDs = slices.Clone(opts.StopIDs)
	return g, nil
}

// Window is the number of ids each step predicts on (0 in stream mode).
func (g *Generator) Window() int { return g.window }

// Stream is one generation in progress. It belongs to one goroutine.
type Stream struct {
	g       *Generator
	sess    *keras.Session
	x       *runtime.Tensor // window mode: (1, window); stream mode: (1, 1)
	prompt  *runtime.Tensor // stream mode: the prompt, fed on the first step
	n       int             // tokens generated
	done    bool
	logits  []float64
	order   []int
	scratch []float64
}

// Start tokenizes the prompt and opens a stream. In stream mode an empty
// prompt is fed as the single padding id 0.
func (g *Generator) Start(prompt string) (*Stream, error) {
	ids, err := g.tok.AppendSequence(nil, prompt, nil)
	if err != nil {
		return nil, fmt.Errorf("generate: prompt: %w", err)
	}
	return g.StartIDs(ids)
}

// StartIDs opens a stream on a prompt given as token ids.
func (g *Generator) StartIDs(ids []int) (*Stream, error) {
	s := &Stream{
		g:       g,
		logits:  make([]float64, g.vocab),
		order:   make([]int, g.vocab),
		scratch: make([]float64, g.vocab),
	}
	if g.window > 0 {
		s.sess = g.m.NewSession()
		s.x = runtime.NewTensor(1, g.window)
		tail := ids[max(0, len(ids)-g.window):]
		off := g.window - len(tail)
		for i, id := range tail {
			s.x.Data[off+i] = float32(id)
		}
		return s, nil
	}
	s.sess = g.m.NewStream()
	if len(ids) == 0 {
		ids = []int{0}
	}
	s.prompt = runtime.NewTensor(1, len(ids))
	for i, id := range ids {
		s.prompt.Data[i] = float32(id)
	}
	s.x = runtime.NewTensor(1, 1)
	return s, nil
}

// Next generates one token id. It returns io.EOF (and no id) after Steps
// tokens or when a stop id comes up.
func (s *Stream) Next() (int, error) {
	g := s.g
	if s.done || (g.opts.Steps > 0 && s.n >= g.opts.Steps) {
		s.done = true
		return 0, io.EOF
	}
	in := s.x
	if s.prompt != nil {
		in = s.prompt
	}
	outs, err := s.sess.PredictShared(in)
	if err != nil {
		s.done = true
		return 0, fmt.Errorf("generate: step %d: %w", s.n, err)
	}
	s.prompt = nil
	t := outs[0].T
	if t == nil || len(t.Data) < g.vocab {
		s.done = true
		return 0, fmt.Errorf("generate: step %d: model output of shape %v", s.n, t.Shape)
	}
	last := t.Data[len(t.Data)-g.vocab:] // the last timestep of batch row 0
	id, err := s.choose(last)
	if err != nil {
		s.done = true
		return 0, fmt.Errorf("generate: step %d: %w", s.n, err)
	}
	if slices.Contains(g.opts.StopIDs, id) {
		s.done = true
		return 0, io.EOF
	}
	s.n++
	if g.window > 0 {
		copy(s.x.Data, s.x.Data[1:])
		s.x.Data[g.window-1] = float32(id)
	} else {
		s.x.Data[0] = float32(id)
	}
	return id, nil
}

// choose picks the next id from the model's output row.
func (s *Stream) choose(p []float32) (int, error) {
	o := s.g.opts
	if o.Temperature == 0 {
		best := 0
		for i, v := range p {
			if v > p[best] { // np.argmax: the first maximum
				best = i
			}
		}
		return best, nil
	}
	// Probabilities (non-negative, summing to 1) become log-probabilities;
	// anything else is taken as logits.
	probs := true
	sum := 0.0
	for _, v := range p {
		if v < 0 || math.IsNaN(float64(v)) {
			probs = false
			break
		}
		sum += float64(v)
	}
	if probs && math.Abs(sum-1) > 1e-3 {
		probs = false
	}
	z := s.logits
	top := math.Inf(-1)
	for i, v := range p {
		x := float64(v)
		if probs {
			x = math.Log(x)
		}
		x /= o.Temperature
		z[i] = x
		top = max(top, x)
	}
	if math.IsInf(top, -1) || math.IsNaN(top) {
		return 0, fmt.Errorf("model output has no finite value")
	}
	w := s.scratch
	for i, x := range z {
		w[i] = math.Exp(x - top)
	}
	cand := s.order[:len(w)]
	for i := range cand {
		cand[i] = i
	}
	if o.TopK > 0 || (o.TopP > 0 && o.TopP < 1) {
		// The candidates by decreasing weight, ties by increasing id (the
		// order a stable sort gives): the K best by a bounded heap, all of
		// them by sorting when only top-p applies.
		if o.TopK > 0 && o.TopK < len(cand) {
			cand = topK(cand, w, o.TopK)
		} else {
			slices.SortFunc(cand, func(a, b int) int { return byWeight(w, a, b) })
		}
		if o.TopP > 0 && o.TopP < 1 {
			total := 0.0
			for _, i := range cand {
				total += w[i]
			}
			acc := 0.0
			for k, i := range cand {
				acc += w[i]
				if acc >= o.TopP*total {
					cand = cand[:k+1]
					break
				}
			}
		}
	}
	total := 0.0
	for _, i := range cand {
		total += w[i]
	}
	u := o.Rand.Float64() * total
	for _, i := range cand {
		u -= w[i]
		if u < 0 {
			return i, nil
		}
	}
	return cand[len(cand)-1], nil
}

// byWeight orders ids by decreasing weight, then increasing id.
func byWeight(w []float64, a, b int) int {
	switch {
	case w[a] > w[b]:
		return -1
	case w[a] < w[b]:
		return 1
	}
	return a - b
}

// topK moves the k best ids of cand (by byWeight) to cand[:k], sorted, and
// returns cand[:k]: a heap of the k best so far, worst at the root, so the
// cost is O(n log k) instead of sorting all n. cand holds 0..n-1 in order.
func topK(cand []int, w []float64, k int) []int {
	h := cand[:k] // ids 0..k-1, made a heap below
	worse := func(a, b int) bool { return byWeight(w, a, b) > 0 }
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= k {
				return
			}
			j := l
			if r := l + 1; r < k && worse(h[r], h[l]) {
				j = r
			}
			if !worse(h[j], h[i]) {
				return
			}
			h[i], h[j] = h[j], h[i]
			i = j
		}
	}
	for i := k/2 - 1; i >= 0; i-- {
		down(i)
	}
	for id := k; id < len(cand); id++ {
		if byWeight(w, id, h[0]) < 0 {
			h[0] = id
			down(0)
		}
	}
	slices.SortFunc(h, func(a, b int) int { return byWeight(w, a, b) })
	return h
}

// Result is a finished generation.
type Result struct {
	// IDs are the generated token ids (the prompt excluded).
	IDs []int
	// Text joins the ids' words: without a separator for a char-level
	// tokenizer, with one space for a word-level one. An id the tokenizer
	// has no word for (the padding id 0) adds nothing.
	Text string
}

// Generate runs a whole generation of up to Steps tokens (Steps must be
// > 0), honouring ctx between steps.
func (g *Generator) Generate(ctx context.Context, prompt string) (*Result, error) {
	if g.opts.Steps <= 0 {
		return nil, fmt.Errorf("%w: Generate needs Steps > 0", ErrOptions)
	}
	s, err := g.Start(prompt)
	if err != nil {
		return nil, err
	}
	r := &Result{}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		id, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		r.IDs = append(r.IDs, id)
	}
	r.Text = g.Join(r.IDs)
	return r, nil
}

// Join turns generated ids into text as Result.Text does.
func (g *Generator) Join(ids []int) string {
	sep := " "
	if g.tok.CharLevel() {
		sep = ""
	}
	var b strings.Builder
	first := true
	for _, id := range ids {
		w, ok := g.tok.Word(id)
		if !ok {
			continue
		}
		if !first {
			b.WriteString(sep)
		}
		b.WriteString(w)
		first = false
	}
	return b.String()
}
