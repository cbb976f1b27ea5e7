package seq2seq

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/rnnkit/rnnkit/keras"
)

// CharVocab holds the token dictionaries of the Keras lstm_seq2seq
// example: the sorted source and target characters (a character's index
// is its one-hot position), the start and stop characters of the targets,
// and the most characters a translation has.
type CharVocab struct {
	SourceChars   []string `json:"source_chars"`
	TargetChars   []string `json:"target_chars"`
	Start         string   `json:"start"`
	Stop          string   `json:"stop"`
	MaxDecoderLen int      `json:"max_decoder_len"`
	// MaxEncoderLen and SourcePad are optional: when MaxEncoderLen is
	// set, sources are padded to that many rows, with the one-hot row of
	// SourcePad (a character of SourceChars) or, when SourcePad is "",
	// with all-zero rows. The current Keras example pads its encoder data
	// with spaces ("max_encoder_len": max_encoder_seq_length,
	// "source_pad": " ") and translates those padded rows.
	MaxEncoderLen int    `json:"max_encoder_len,omitempty"`
	SourcePad     string `json:"source_pad,omitempty"`

	src, tgt map[rune]int
	tgtRunes []rune
}

// maxVocabFile bounds the size of a vocabulary file.
const maxVocabFile = 64 << 20

// LoadCharVocab reads a CharVocab from a JSON file with source_chars,
// target_chars, start, stop and max_decoder_len.
func LoadCharVocab(path string) (*CharVocab, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("seq2seq: %w", err)
	}
	if fi.Size() > maxVocabFile {
		return nil, fmt.Errorf("seq2seq: %s: %d bytes, more than the %d a vocabulary may have: %w", path, fi.Size(), maxVocabFile, ErrVocab)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seq2seq: %w", err)
	}
	v, err := ParseCharVocab(data)
	if err != nil {
		return nil, fmt.Errorf("seq2seq: %s: %w", path, err)
	}
	return v, nil
}

// ParseCharVocab reads a CharVocab from JSON and checks it: single
// characters, no duplicates, start and stop among the target characters,
// max_decoder_len at least 1.
func ParseCharVocab(data []byte) (*CharVocab, error) {
	var v CharVocab
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("vocabulary JSON: %v: %w", err, ErrVocab)
	}
	if err := v.init(); err != nil {
		return nil, err
	}
	return &v, nil
}

func (v *CharVocab) init() error {
	index := func(what string, chars []string) (map[rune]int, []rune, error) {
		if len(chars) == 0 {
			return nil, nil, fmt.Errorf("%s: empty or missing: %w", what, ErrVocab)
		}
		m := make(map[rune]int, len(chars))
		runes := make([]rune, len(chars))
		for i, c := range chars {
			r, n := utf8.DecodeRuneInString(c)
			if n == 0 || n != len(c) || r == utf8.RuneError {
				return nil, nil, fmt.Errorf("%s[%d] = %q: want one character: %w", what, i, c, ErrVocab)
			}
			if j, dup := m[r]; dup {
				return nil, nil, fmt.Errorf("%s: %q at %d and %d: %w", what, c, j, i, ErrVocab)
			}
			m[r] = i
			runes[i] = r
		}
		return m, runes, nil
	}
	var err error
	if v.src, _, err = index("source_chars", v.SourceChars); err != nil {
		return err
	}
	if v.tgt, v.tgtRunes, err = index("target_chars", v.TargetChars); err != nil {
		return err
	}
	for _, t := range []struct{ what, c string }{{"start", v.Start}, {"stop", v.Stop}} {
		r, n := utf8.DecodeRuneInString(t.c)
		if n == 0 || n != len(t.c) {
			return fmt.Errorf("%s %q: want one character: %w", t.what, t.c, ErrVocab)
		}
		if _, ok := v.tgt[r]; !ok {
			return fmt.Errorf("%s %q is not among target_chars: %w", t.what, t.c, ErrVocab)
		}
	}
	if v.MaxEncoderLen < 0 {
		return fmt.Errorf("max_encoder_len %d: want at least 0: %w", v.MaxEncoderLen, ErrVocab)
	}
	if v.SourcePad != "" {
		r, n := utf8.DecodeRuneInString(v.SourcePad)
		if n != len(v.SourcePad) {
			return fmt.Errorf("source_pad %q: want one character: %w", v.SourcePad, ErrVocab)
		}
		if _, ok := v.src[r]; !ok {
			return fmt.Errorf("source_pad %q is not among source_chars: %w", v.SourcePad, ErrVocab)
		}
		if v.MaxEncoderLen == 0 {
			return fmt.Errorf("source_pad %q without max_encoder_len: %w", v.SourcePad, ErrVocab)
		}
	}
	if v.MaxDecoderLen <= 0 {
		return fmt.Errorf("max_decoder_len %d: want at least 1: %w", v.MaxDecoderLen, ErrVocab)
	}
	return nil
}

// Decoding returns the start, stop and length of the vocabulary's
// translations.
func (v *CharVocab) Decoding() Decoding {
	s, _ := utf8.DecodeRuneInString(v.Start)
	e, _ := utf8.DecodeRuneInString(v.Stop)
	return Decoding{Start: v.tgt[s], Stop: v.tgt[e], MaxLen: v.MaxDecoderLen}
}

// EncodeSource one-hot encodes text as the example does: [1, characters,
// len(SourceChars)], one row per character (Unicode code point) with a 1
// at the character's index. Characters not in SourceChars are all-zero
// rows, as the example's zero-initialized array leaves them; unknown
// lists them (each once, in order of appearance).
func (v *CharVocab) EncodeSource(text string) (x *keras.Tensor, unknown []string, err error) {
	if !utf8.ValidString(text) {
		return nil, nil, fmt.Errorf("seq2seq: text %q is not valid UTF-8: %w", text, keras.ErrInput)
	}
	n := utf8.RuneCountInString(text)
	if n == 0 {
		return nil, nil, fmt.Errorf("seq2seq: empty text: the encoder needs at least one character: %w", keras.ErrInput)
	}
	V := len(v.SourceChars)
	x = keras.NewTensor(1, n, V)
	seen := map[rune]bool{}
	t := 0
	for _, r := range text {
		if i, ok := v.src[r]; ok {
			x.Data[t*V+i] = 1
		} else if !seen[r] {
			seen[r] = true
			unknown = append(unknown, string(r))
		}
		t++
	}
	return x, unknown, nil
}

// TargetText maps decoded ids to target characters.
func (v *CharVocab) TargetText(ids []int) (string, error) {
	var b strings.Builder
	for _, id := range ids {
		if id < 0 || id >= len(v.tgtRunes) {
			return "", fmt.Errorf("seq2seq: decoded id %d outside target_chars [0, %d): %w", id, len(v.tgtRunes), ErrVocab)
		}
		b.WriteRune(v.tgtRunes[id])
	}
	return b.String(), nil
}

// CharTranslator translates text with a one-hot character model and its
// CharVocab.
type CharTranslator struct {
	Model *Model
	Vocab *CharVocab
	// Beam is the beam width; 0 or 1 decodes greedily.
	Beam int
	// Strict makes characters outside the source vocabulary an error
	// instead of all-zero rows.
	Strict bool
}

// NewCharTranslator checks that v fits s: both inputs one-hot, as wide as
// the source and target characters.
func NewCharTranslator(s *Model, v *CharVocab) (*CharTranslator, error) {
	if s.SourceKind != OneHot || s.TargetKind != OneHot {
		return nil, fmt.Errorf("seq2seq: the model takes %s (encoder %q) and %s (decoder %q), a character vocabulary needs one-hot inputs: use token-level translation: %w",
			s.SourceKind, s.EncoderInput, s.TargetKind, s.DecoderInput, ErrVocab)
	}
	if s.SourceDim != len(v.SourceChars) {
		return nil, fmt.Errorf("seq2seq: encoder input %q has %d features, the vocabulary %d source_chars: %w", s.EncoderInput, s.SourceDim, len(v.SourceChars), ErrVocab)
	}
	if s.TargetDim != len(v.TargetChars) {
		return nil, fmt.Errorf("seq2seq: decoder input %q has %d features, the vocabulary %d target_chars: %w", s.DecoderInput, s.TargetDim, len(v.TargetChars), ErrVocab)
	}
	return &CharTranslator{Model: s, Vocab: v}, nil
}

// sourceLen is the encoder input's fixed length, or 0.
func (c *CharTranslator) sourceLen() int {
	if in := c.Model.Encoder.Inputs()[0]; len(in.Shape) == 3 && in.Shape[1] > 0 {
		return in.Shape[1]
	}
	return 0
}

// Translate translates one text. When the encoder input has a fixed
// length (or the vocabulary sets max_encoder_len), the one-hot rows are
// followed by all-zero rows (or source_pad rows) up to it.
func (c *CharTranslator) Translate(ctx context.Context, text string) (string, *Result, error) {
	x, unknown, err := c.Vocab.EncodeSource(text)
	if err != nil {
		return "", nil, err
	}
	if c.Strict && len(unknown) > 0 {
		return "", nil, fmt.Errorf("seq2seq: text %q: characters %q are not among source_chars: %w", text, unknown, ErrVocab)
	}
	n := c.sourceLen()
	if n == 0 {
		n = c.Vocab.MaxEncoderLen
	}
	if n > 0 && x.Shape[1] != n {
		// A fixed length: the example's array of max_encoder_seq_length
		// rows, text at the start, then zero rows (or source_pad rows).
		if x.Shape[1] > n {
			return "", nil, fmt.Errorf("seq2seq: text %q has %d characters, the encoder takes %d: %w", text, x.Shape[1], n, keras.ErrInput)
		}
		V := x.Shape[2]
		padded := keras.NewTensor(1, n, V)
		copy(padded.Data, x.Data)
		if c.Vocab.SourcePad != "" {
			r, _ := utf8.DecodeRuneInString(c.Vocab.SourcePad)
			for t := x.Shape[1]; t < n; t++ {
				padded.Data[t*V+c.Vocab.src[r]] = 1
			}
		}
		x = padded
	}
	var res *Result
	if c.Beam > 1 {
		res, err = c.Model.BeamSearch(ctx, x, c.Vocab.Decoding(), c.Beam)
	} else {
		res, err = c.Model.Greedy(ctx, x, c.Vocab.Decoding())
	}
	if err != nil {
		return "", nil, err
	}
	out, err := c.Vocab.TargetText(res.IDs)
	if err != nil {
		return "", nil, err
	}
	return out, res, nil
}
