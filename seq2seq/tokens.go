package seq2seq

import (
	"context"
	"fmt"

	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/text"
)

// TokenTranslator translates text with a token-id model (Embedding
// inputs): Source turns a text into source ids (a Keras Tokenizer's
// texts_to_sequences), Target turns decoded ids back into text
// (sequences_to_texts).
type TokenTranslator struct {
	Model    *Model
	Source   func(text string) ([]int, error)
	Target   func(ids []int) (string, error)
	Decoding Decoding
	// Beam is the beam width; 0 or 1 decodes greedily.
	Beam int
	// SourceLen, when positive, pads (with 0) or truncates every source
	// to that many ids, at the end when PadPre is false (Keras
	// pad_sequences with padding="post", truncating="post"), at the start
	// when it is true (pad_sequences' defaults). A model whose encoder
	// input fixes the length needs it; NewTokenTranslator sets it from the
	// input's shape.
	SourceLen int
	PadPre    bool
}

// NewTokenTranslator checks that s takes token ids on both sides and
// returns a translator; a fixed encoder length becomes SourceLen.
func NewTokenTranslator(s *Model, source func(string) ([]int, error), target func([]int) (string, error), d Decoding) (*TokenTranslator, error) {
	if s.SourceKind != TokenIDs || s.TargetKind != TokenIDs {
		return nil, fmt.Errorf("seq2seq: the model takes %s (encoder %q) and %s (decoder %q); tokenizers need token-id inputs (use a character vocabulary for one-hot models): %w",
			s.SourceKind, s.EncoderInput, s.TargetKind, s.DecoderInput, ErrVocab)
	}
	if err := s.checkDecoding(d); err != nil {
		return nil, err
	}
	tr := &TokenTranslator{Model: s, Source: source, Target: target, Decoding: d}
	if in := s.Encoder.Inputs()[0]; len(in.Shape) == 2 && in.Shape[1] > 0 {
		tr.SourceLen = in.Shape[1]
	}
	return tr, nil
}

// EncodeSource turns text into the encoder input [1, time].
func (tr *TokenTranslator) EncodeSource(text string) (*keras.Tensor, error) {
	ids, err := tr.Source(text)
	if err != nil {
		return nil, err
	}
	if n := tr.SourceLen; n > 0 {
		out := make([]int, n)
		switch {
		case len(ids) >= n && tr.PadPre:
			copy(out, ids[len(ids)-n:])
		case len(ids) >= n:
			copy(out, ids[:n])
		case tr.PadPre:
			copy(out[n-len(ids):], ids)
		default:
			copy(out, ids)
		}
		ids = out
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("seq2seq: text %q has no token the source tokenizer knows: the encoder needs at least one: %w", text, keras.ErrInput)
	}
	x := keras.NewTensor(1, len(ids))
	for i, id := range ids {
		x.Data[i] = float32(id)
	}
	return x, nil
}

// Translate translates one text and returns the text, and the decoded
// ids with their score.
func (tr *TokenTranslator) Translate(ctx context.Context, text string) (string, *Result, error) {
	x, err := tr.EncodeSource(text)
	if err != nil {
		return "", nil, err
	}
	var res *Result
	if tr.Beam > 1 {
		res, err = tr.Model.BeamSearch(ctx, x, tr.Decoding, tr.Beam)
	} else {
		res, err = tr.Model.Greedy(ctx, x, tr.Decoding)
	}
	if err != nil {
		return "", nil, err
	}
	out, err := tr.Target(res.IDs)
	if err != nil {
		return "", nil, err
	}
	return out, res, nil
}

// startStopPairs are the start and stop tokens tutorials use, tried in
// order when the caller names none.
var startStopPairs = [][2]string{
	{"<start>", "<end>"}, {"<sos>", "<eos>"}, {"sos", "eos"}, {"startseq", "endseq"},
	{"start", "end"}, {"<s>", "</s>"}, {"<bos>", "<eos>"}, {"bos", "eos"}, {"\t", "\n"},
}

// NewTextTranslator is NewTokenTranslator over Keras Tokenizers: source
// texts become ids as texts_to_sequences makes them, and decoded ids
// become text as sequences_to_texts does (ids the target tokenizer does
// not know, such as the padding id 0, are dropped, or become its OOV
// token; words are joined with one space, characters of a char_level
// tokenizer with none). start and stop are target tokens; when both are
// empty, the first pair of <start>/<end>, <sos>/<eos>, sos/eos,
// startseq/endseq, start/end, <s>/</s>, <bos>/<eos>, bos/eos, \t/\n that
// the target tokenizer knows is used.
func NewTextTranslator(s *Model, src, tgt *text.Tokenizer, start, stop string, maxLen int) (*TokenTranslator, error) {
	if start == "" && stop == "" {
		for _, p := range startStopPairs {
			_, ok1 := tgt.ID(p[0])
			_, ok2 := tgt.ID(p[1])
			if ok1 && ok2 {
				start, stop = p[0], p[1]
				break
			}
		}
		if start == "" {
			return nil, fmt.Errorf("seq2seq: the target tokenizer knows none of the usual start/stop token pairs (<start>/<end>, sos/eos, startseq/endseq, ...): name them (--start/--stop): %w", ErrVocab)
		}
	}
	d := Decoding{MaxLen: maxLen}
	var ok bool
	if d.Start, ok = tgt.ID(start); !ok {
		return nil, fmt.Errorf("seq2seq: start token %q is not in the target tokenizer's word index: %w", start, ErrVocab)
	}
	if d.Stop, ok = tgt.ID(stop); !ok {
		return nil, fmt.Errorf("seq2seq: stop token %q is not in the target tokenizer's word index: %w", stop, ErrVocab)
	}
	source := func(t string) ([]int, error) {
		seqs, err := src.TextsToSequences([]string{t})
		if err != nil {
			return nil, fmt.Errorf("seq2seq: source tokenizer: %w", err)
		}
		return seqs[0], nil
	}
	var oov *int
	if o := tgt.Config().OOVToken; o != nil {
		if id, ok := tgt.ID(*o); ok {
			oov = &id
		}
	}
	sep := " "
	if tgt.CharLevel() {
		sep = ""
	}
	target := func(ids []int) (string, error) {
		known := make([]int, 0, len(ids))
		for _, id := range ids {
			if _, ok := tgt.Word(id); ok {
				known = append(known, id)
			} else if oov != nil {
				known = append(known, *oov)
			}
		}
		out, err := tgt.SequenceToText(known, sep)
		if err != nil {
			return "", fmt.Errorf("seq2seq: target tokenizer: %w", err)
		}
		return out, nil
	}
	return NewTokenTranslator(s, source, target, d)
}
