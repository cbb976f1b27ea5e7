package seq2seq

import (
	"context"
	"fmt"
	"math"
	"sort"

	"github.com/rnnkit/rnnkit/keras"
)

// Decoding says where a decoding starts and ends.
type Decoding struct {
	// Start is the token fed first (the Keras example's "\t"), Stop the
	// token that ends a translation (its "\n"); Stop is not part of the
	// result. Stop may be NoStop: every decoding then has MaxLen tokens.
	Start, Stop int
	// MaxLen is the most tokens a translation has (Stop excluded).
	MaxLen int
}

// NoStop as Decoding.Stop decodes MaxLen tokens whatever comes.
const NoStop = -1

// Result is one decoded sequence.
type Result struct {
	// IDs are the decoded tokens, without Start and Stop.
	IDs []int
	// Score is the sum of the natural logs of the chosen tokens'
	// probabilities (Stop included when it ended the sequence).
	Score float64
	// MinMargin is, for greedy decoding, the smallest gap between the
	// best and second-best probabilities over the steps: how close a
	// float rounding came to changing a token.
	MinMargin float64
}

func (s *Model) checkDecoding(d Decoding) error {
	if d.MaxLen <= 0 {
		return fmt.Errorf("seq2seq: maximum decoder length %d: want at least 1: %w", d.MaxLen, keras.ErrInput)
	}
	for _, t := range []struct {
		what string
		id   int
	}{{"start", d.Start}, {"stop", d.Stop}} {
		if t.what == "stop" && t.id == NoStop {
			continue
		}
		if t.id < 0 || t.id >= s.VocabSize {
			return fmt.Errorf("seq2seq: %s token %d outside the decoder's vocabulary [0, %d): %w", t.what, t.id, s.VocabSize, ErrVocab)
		}
	}
	return nil
}

// Encode runs the encoder on one source, [1, time, features] one-hot or
// [1, time] of ids, and returns the decoder's initial states.
func (s *Model) Encode(ctx context.Context, src *keras.Tensor) ([]*keras.Tensor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if src == nil || len(src.Shape) == 0 || src.Shape[0] != 1 {
		return nil, fmt.Errorf("seq2seq: source %v: want one sequence (batch 1): %w", src, keras.ErrInput)
	}
	states, err := s.Encoder.PredictContext(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("seq2seq: encoder: %w", err)
	}
	return states, nil
}

// stepper runs the decoder step on a batch of hypotheses. It reuses its
// input, probability and state buffers from step to step, so that a
// steady greedy decoding allocates little.
type stepper struct {
	s    *Model
	sess *keras.Session
	in   []*keras.Tensor
	// x is the token input, probs the last probabilities and states the
	// last new states, for the batch size they were made for.
	x      *keras.Tensor
	probs  []float32
	states []*keras.Tensor
}

func (s *Model) newStepper() *stepper {
	return &stepper{s: s, sess: s.Decoder.NewSession(), in: make([]*keras.Tensor, 1+len(s.StateSizes))}
}

// step feeds tokens (one per hypothesis) with their states [B, size] and
// returns the probabilities [B, vocab] and the new states. Both live in
// the stepper and stay valid until the step after next (the states may be
// passed straight back as the next step's states).
func (st *stepper) step(ctx context.Context, tokens []int, states []*keras.Tensor) (probs []float32, next []*keras.Tensor, err error) {
	s := st.s
	B := len(tokens)
	if st.x == nil || st.x.Shape[0] != B {
		if s.TargetKind == OneHot {
			st.x = keras.NewTensor(B, 1, s.TargetDim)
		} else {
			st.x = keras.NewTensor(B, 1)
		}
	}
	x := st.x
	if s.TargetKind == OneHot {
		clear(x.Data)
		for b, t := range tokens {
			x.Data[b*s.TargetDim+t] = 1
		}
	} else {
		for b, t := range tokens {
			x.Data[b] = float32(t)
		}
	}
	st.in[0] = x
	copy(st.in[1:], states)
	outs, err := st.sess.PredictSharedContext(ctx, st.in...)
	if err != nil {
		return nil, nil, fmt.Errorf("seq2seq: decoder step: %w", err)
	}
	if len(outs) != 1+len(s.StateSizes) {
		return nil, nil, fmt.Errorf("seq2seq: decoder step gave %d outputs, want %d", len(outs), 1+len(s.StateSizes))
	}
	p := outs[0].T
	if s.Logits {
		p = keras.Softmax(p)
	}
	V := s.VocabSize
	if p.Len() < B*V || p.Len()%(B*V) != 0 {
		return nil, nil, fmt.Errorf("seq2seq: decoder output %v: want %d rows of %d probabilities", p, B, V)
	}
	// [B, time, V] or [B, V]: the last step of each row.
	per := p.Len() / B
	if cap(st.probs) < B*V {
		st.probs = make([]float32, B*V)
	}
	st.probs = st.probs[:B*V]
	for b := range B {
		copy(st.probs[b*V:(b+1)*V], p.Data[b*per+per-V:(b+1)*per])
	}
	// The session's outputs are overwritten by its next run: copy the
	// states into the stepper's own tensors (the run has read its inputs,
	// which may be these very tensors, by now).
	if len(st.states) == 0 || st.states[0].Shape[0] != B {
		st.states = make([]*keras.Tensor, len(s.StateSizes))
		for i, size := range s.StateSizes {
			st.states[i] = keras.NewTensor(B, size)
		}
	}
	for i, o := range outs[1:] {
		if o.T.Len() != st.states[i].Len() {
			return nil, nil, fmt.Errorf("seq2seq: decoder state %d: %v, want [%d, %d]", i, o.T, B, s.StateSizes[i])
		}
		copy(st.states[i].Data, o.T.Data)
	}
	return st.probs, st.states, nil
}

// Greedy decodes src by taking the most probable token at every step (the
// first one on ties, as numpy's argmax) until Stop or MaxLen tokens. Each
// step runs the decoder once on the carried states.
func (s *Model) Greedy(ctx context.Context, src *keras.Tensor, d Decoding) (*Result, error) {
	if err := s.checkDecoding(d); err != nil {
		return nil, err
	}
	states, err := s.Encode(ctx, src)
	if err != nil {
		return nil, err
	}
	st := s.newStepper()
	res := &Result{MinMargin: math.Inf(1)}
	tok := d.Start
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		probs, next, err := st.step(ctx, []int{tok}, states)
		if err != nil {
			return nil, err
		}
		best, second := 0, -1
		for k := 1; k < len(probs); k++ {
			if probs[k] > probs[best] {
				best, second = k, best
			} else if second < 0 || probs[k] > probs[second] {
				second = k
			}
		}
		if second >= 0 {
			res.MinMargin = math.Min(res.MinMargin, float64(probs[best])-float64(probs[second]))
		}
		res.Score += math.Log(float64(probs[best]))
		if best == d.Stop {
			break
		}
		res.IDs = append(res.IDs, best)
		if len(res.IDs) >= d.MaxLen {
			break
		}
		tok, states = best, next
	}
	return res, nil
}

// hypothesis is one beam.
type hypothesis struct {
	ids    []int
	score  float64
	states []*keras.Tensor // [1, size] each
}

// BeamSearch decodes src keeping the width best hypotheses by total log
// probability (no length normalization). Every step runs the decoder once
// on all live hypotheses as one batch, expands each by every token, and
// keeps the width best candidates, ordered by score, then by the rank of
// the hypothesis they extend, then by token id (so ties break the same
// way every time). A candidate ending in Stop, or reaching MaxLen tokens,
// is finished. The search ends when no hypothesis lives or the best
// finished score is at least the best live one (scores only fall); the
// result is the best finished hypothesis, the earliest finished on ties.
// Width 1 is greedy decoding.
func (s *Model) BeamSearch(ctx context.Context, src *keras.Tensor, d Decoding, width int) (*Result, error) {
	if width < 1 {
		return nil, fmt.Errorf("seq2seq: beam width %d: want at least 1: %w", width, keras.ErrInput)
	}
	if err := s.checkDecoding(d); err != nil {
		return nil, err
	}
	states, err := s.Encode(ctx, src)
	if err != nil {
		return nil, err
	}
	st := s.newStepper()
	live := []hypothesis{{states: states}}
	var finished []hypothesis
	V := s.VocabSize
	type cand struct {
		score float64
		beam  int
		tok   int
	}
	cands := make([]cand, 0, width*V)
	for len(live) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(finished) > 0 && bestScore(finished) >= live[0].score {
			break
		}
		tokens := make([]int, len(live))
		batch := make([]*keras.Tensor, len(s.StateSizes))
		for i, size := range s.StateSizes {
			batch[i] = keras.NewTensor(len(live), size)
		}
		for b, h := range live {
			tokens[b] = d.Start
			if len(h.ids) > 0 {
				tokens[b] = h.ids[len(h.ids)-1]
			}
			for i, size := range s.StateSizes {
				copy(batch[i].Data[b*size:(b+1)*size], h.states[i].Data)
			}
		}
		probs, next, err := st.step(ctx, tokens, batch)
		if err != nil {
			return nil, err
		}
		cands = cands[:0]
		for b, h := range live {
			for k := range V {
				cands = append(cands, cand{h.score + math.Log(float64(probs[b*V+k])), b, k})
			}
		}
		sort.SliceStable(cands, func(i, j int) bool {
			ci, cj := cands[i], cands[j]
			if ci.score != cj.score {
				return ci.score > cj.score
			}
			if ci.beam != cj.beam {
				return ci.beam < cj.beam
			}
			return ci.tok < cj.tok
		})
		var nextLive []hypothesis
		for _, c := range cands[:min(width, len(cands))] {
			h := live[c.beam]
			if c.tok == d.Stop {
				finished = append(finished, hypothesis{ids: h.ids, score: c.score})
				continue
			}
			ids := append(append(make([]int, 0, len(h.ids)+1), h.ids...), c.tok)
			nh := hypothesis{ids: ids, score: c.score}
			if len(ids) >= d.MaxLen {
				finished = append(finished, nh)
				continue
			}
			nh.states = make([]*keras.Tensor, len(next))
			for i, size := range s.StateSizes {
				t := keras.NewTensor(1, size)
				copy(t.Data, next[i].Data[c.beam*size:(c.beam+1)*size])
				nh.states[i] = t
			}
			nextLive = append(nextLive, nh)
		}
		live = nextLive
	}
	best := 0
	for i, h := range finished {
		if h.score > finished[best].score {
			best = i
		}
	}
	h := finished[best]
	return &Result{IDs: append([]int{}, h.ids...), Score: h.score}, nil
}

func bestScore(hs []hypothesis) float64 {
	b := math.Inf(-1)
	for _, h := range hs {
		b = math.Max(b, h.score)
	}
	return b
}
