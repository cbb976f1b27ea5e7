package layers

import (
	"fmt"
	"math"
	"strconv"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
	"github.com/rnnkit/rnnkit/text"
)

// TextVectorization is keras.layers.TextVectorization: strings to token
// ids (output_mode int) or to one row of counts per string (multi_hot,
// count, tf_idf), as Keras computes them with TensorFlow's string ops:
// standardize with text.TFLower and text.TFStripPunctuation, split with
// text.TFSplitWhitespace or text.TFSplitCharacters, text.TFNgrams, then
// the vocabulary lookup ("" is id 0, "[UNK]" id 1 in int mode).
//
// In int mode each row is truncated and zero-padded at the end to
// output_sequence_length; without it the batch is padded to its longest
// row, as Keras pads the ragged result (ragged=True, which only
// TensorFlow can return, is padded the same way). sparse=True outputs
// are dense.
type TextVectorization struct {
	layerID
	l           *lookup
	standardize string // "", "lower", "strip_punctuation", "lower_and_strip_punctuation"
	split       string // "", "whitespace", "character"
	ngrams      []int
	seqLen      int // output_sequence_length; 0 when None
}

// VocabularySize is the number of ids, special tokens included (Keras'
// vocabulary_size()).
func (t *TextVectorization) VocabularySize() int { return t.l.vocabSize() }

// Vocabulary returns the tokens in id order, special tokens included
// (Keras' get_vocabulary()).
func (t *TextVectorization) Vocabulary() []string { return append([]string(nil), t.l.tokens...) }

func buildTextVectorization(spec *convert.Layer, l *lookup) (runtime.Layer, error) {
	tv := &TextVectorization{layerID: layerID{spec.Name, spec.ClassName}, l: l}
	var err error
	if tv.standardize, err = callableOption(spec, "standardize", "lower_and_strip_punctuation", "lower", "strip_punctuation"); err != nil {
		return nil, err
	}
	if tv.split, err = callableOption(spec, "split", "whitespace", "character"); err != nil {
		return nil, err
	}
	switch v := spec.Config["ngrams"].(type) {
	case nil:
	case float64:
		if v != math.Trunc(v) || v < 1 || v > 64 {
			return nil, lookupErr(spec.Name, convert.ErrConfig, "ngrams %v: want a positive integer", v)
		}
		for i := 1; i <= int(v); i++ {
			tv.ngrams = append(tv.ngrams, i)
		}
	case []any:
		for _, x := range v {
			f, ok := x.(float64)
			if !ok || f != math.Trunc(f) || f < 1 || f > 64 {
				return nil, lookupErr(spec.Name, convert.ErrConfig, "ngrams %v: want positive integers", v)
			}
			tv.ngrams = append(tv.ngrams, int(f))
		}
	default:
		return nil, lookupErr(spec.Name, convert.ErrConfig, "ngrams %v: want None, an integer or a tuple of integers", v)
	}
	r := spec.Config.Reader(spec.Name)
	tv.seqLen = r.Int("output_sequence_length", 0)
	enc := r.String("encoding", "utf-8")
	if err := r.Err(); err != nil {
		return nil, err
	}
	if enc != "utf-8" && enc != "utf8" && enc != "UTF-8" {
		return nil, lookupErr(spec.Name, convert.ErrUnsupported, "encoding %q (only utf-8)", enc)
	}
	if tv.seqLen < 0 {
		return nil, lookupErr(spec.Name, convert.ErrConfig, "output_sequence_length %d is negative", tv.seqLen)
	}
	if tv.seqLen > 0 && l.mode != "int" {
		return nil, lookupErr(spec.Name, convert.ErrConfig, "output_sequence_length with output_mode %q (Keras allows it with int only)", l.mode)
	}
	if l.mode == "one_hot" && tv.split != "" {
		return nil, lookupErr(spec.Name, convert.ErrUnsupported, "output_mode one_hot after a split (Keras refuses rank-3 outputs)")
	}
	return tv, nil
}

// callableOption reads a string option that Keras also accepts as a
// Python callable, which cannot run here.
func callableOption(spec *convert.Layer, key string, allowed ...string) (string, error) {
	v, ok := spec.Config[key]
	if !ok || v == nil {
		if key == "standardize" && !ok {
			return "lower_and_strip_punctuation", nil
		}
		if key == "split" && !ok {
			return "whitespace", nil
		}
		return "", nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", lookupErr(spec.Name, convert.ErrUnsupported, "%s is a Python callable (%v), which only Python can run: save the model with a built-in %s or none", key, clip(fmt.Sprint(v), 200), key)
	}
	for _, a := range allowed {
		if s == a {
			return s, nil
		}
	}
	return "", lookupErr(spec.Name, convert.ErrConfig, "%s %q: want one of %v or None", key, s, allowed)
}

// Tokens is the layer's preprocessing of one string: standardize, split
// and ngrams, before the vocabulary lookup.
func (t *TextVectorization) Tokens(s string) []string {
	switch t.standardize {
	case "lower":
		s = text.TFLower(s)
	case "strip_punctuation":
		s = text.TFStripPunctuation(s)
	case "lower_and_strip_punctuation":
		s = text.TFStripPunctuation(text.TFLower(s))
	}
	var toks []string
	switch t.split {
	case "whitespace":
		toks = text.TFSplitWhitespace(s)
	case "character":
		toks = text.TFSplitCharacters(s)
	default:
		toks = []string{s}
	}
	if t.ngrams != nil {
		toks = text.TFNgrams(toks, t.ngrams)
	}
	return toks
}

// Call vectorizes a string tensor of shape [batch] or [batch, 1] (any
// shape whose last dimension is 1 without a split).
func (t *TextVectorization) Call(_ *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	x, err := oneInput(t.name, call)
	if err != nil {
		return nil, err
	}
	in := x.T
	if !in.IsString() {
		return nil, fmt.Errorf("layer %q (TextVectorization): got numbers (%v), want a string tensor (keras.FromStrings): %w", t.name, in, runtime.ErrInput)
	}
	if t.split == "" {
		return t.callUnsplit(in)
	}
	batch := len(in.Strings)
	switch {
	case len(in.Shape) == 1:
	case len(in.Shape) >= 2 && in.Shape[len(in.Shape)-1] == 1:
		batch = in.Len()
	default:
		return nil, fmt.Errorf("layer %q (TextVectorization): input shape %v: want rank 1, or a last dimension of 1, to split strings: %w", t.name, in.Shape, runtime.ErrInput)
	}
	rows := make([][]int, batch)
	longest := 0
	for i := range batch {
		toks := t.Tokens(in.Strings[i])
		ids := make([]int, len(toks))
		for j, tok := range toks {
			id, masked, err := t.l.idString(tok)
			if err != nil {
				return nil, err
			}
			if masked {
				id = -1
			}
			ids[j] = id
		}
		rows[i] = ids
		longest = max(longest, len(ids))
	}
	lead := in.Shape[:1]
	if len(in.Shape) >= 2 {
		lead = in.Shape[:len(in.Shape)-1]
	}
	if t.l.mode != "int" {
		out := runtime.NewTensor(append(append([]int(nil), lead...), t.l.depth)...)
		bincountRows(out.Data, t.l.mode, t.l.depth, t.l.idf, rows)
		return []runtime.Value{{T: out}}, nil
	}
	width := longest
	if t.seqLen > 0 {
		width = t.seqLen
	}
	out := runtime.NewTensor(append(append([]int(nil), lead...), width)...)
	for i, ids := range rows {
		for j, id := range ids {
			if j >= width {
				break
			}
			out.Data[i*width+j] = float32(id)
		}
	}
	return []runtime.Value{{T: out}}, nil
}

// callUnsplit looks each whole (standardized) string up: split=None.
func (t *TextVectorization) callUnsplit(in *runtime.Tensor) ([]runtime.Value, error) {
	n := in.Len()
	ids := make([]int, n)
	masked := make([]bool, n)
	for i, s := range in.Strings {
		toks := t.Tokens(s)
		if len(toks) != 1 {
			return nil, fmt.Errorf("layer %q (TextVectorization): ngrams without a split give %d tokens for one string; Keras keeps a ragged result here, which rnnkit does not: %w", t.name, len(toks), convert.ErrUnsupported)
		}
		var err error
		if ids[i], masked[i], err = t.l.idString(toks[0]); err != nil {
			return nil, err
		}
	}
	shape := in.Shape
	if t.l.mode == "int" && t.seqLen > 0 && len(shape) >= 1 {
		// lookup_data[..., :L] padded at the end to L.
		last := shape[len(shape)-1]
		outShape := append(append([]int(nil), shape[:len(shape)-1]...), t.seqLen)
		out := runtime.NewTensor(outShape...)
		rows := n / max(last, 1)
		for r := range rows {
			for j := 0; j < last && j < t.seqLen; j++ {
				out.Data[r*t.seqLen+j] = float32(ids[r*last+j])
			}
		}
		return []runtime.Value{{T: out}}, nil
	}
	out, err := t.l.encode(ids, masked, shape)
	if err != nil {
		return nil, err
	}
	return []runtime.Value{{T: out}}, nil
}

// Hashing is keras.layers.Hashing: each value to a bin, by FarmHash
// Fingerprint64 (tf.strings.to_hash_bucket_fast) or, with a salt, keyed
// SipHash-2-4 (to_hash_bucket_strong); numbers are hashed as their
// decimal form (floats truncated to int64 first, as Keras casts them),
// and with mask_value bin 0 is the mask's and the rest shift by one.
type Hashing struct {
	layerID
	bins      int
	salt      *[2]uint64
	hasMask   bool
	maskStr   string
	maskNum   float64
	maskIsNum bool
	mode      string
}

func buildHashing(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	r := spec.Config.Reader(spec.Name)
	h := &Hashing{layerID: layerID{spec.Name, spec.ClassName}}
	h.bins = r.Int("num_bins", 0)
	h.mode = r.String("output_mode", "int")
	if err := r.Err(); err != nil {
		return nil, err
	}
	if h.bins <= 0 {
		return nil, lookupErr(spec.Name, convert.ErrConfig, "num_bins %d: want a positive integer", h.bins)
	}
	switch h.mode {
	case "int", "one_hot", "multi_hot", "count":
	default:
		return nil, lookupErr(spec.Name, convert.ErrConfig, "output_mode %q: want int, one_hot, multi_hot or count", h.mode)
	}
	if s, ok := spec.Config["salt"]; ok && s != nil {
		salt, err := readSalt(spec.Name, s)
		if err != nil {
			return nil, err
		}
		h.salt = salt
	}
	switch m := spec.Config["mask_value"].(type) {
	case nil:
	case string:
		h.hasMask, h.maskStr = true, m
	case float64:
		h.hasMask, h.maskIsNum, h.maskNum = true, true, m
	default:
		return nil, lookupErr(spec.Name, convert.ErrConfig, "mask_value %v: want a string or a number", m)
	}
	return h, nil
}

// Call hashes a string tensor or a numeric one.
func (h *Hashing) Call(_ *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	x, err := oneInput(h.name, call)
	if err != nil {
		return nil, err
	}
	in := x.T
	bins := h.bins
	useMask := h.hasMask && bins > 1
	if useMask {
		bins--
	}
	n := in.Len()
	ids := make([]int, n)
	for i := range n {
		var s string
		isMask := false
		if in.IsString() {
			s = in.Strings[i]
			isMask = useMask && !h.maskIsNum && s == h.maskStr
		} else {
			v := float64(in.Data[i])
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("layer %q (Hashing): value %v at flat index %d: %w", h.name, v, i, runtime.ErrInput)
			}
			isMask = useMask && h.maskIsNum && v == h.maskNum
			s = strconv.FormatInt(int64(v), 10)
		}
		var b int
		if h.salt != nil {
			b = text.TFHashBucketStrong(s, bins, *h.salt)
		} else {
			b = text.TFHashBucketFast(s, bins)
		}
		if useMask {
			b++
			if isMask {
				b = 0
			}
		}
		ids[i] = b
	}
	shape := in.Shape
	if h.mode == "one_hot" && len(shape) > 0 && shape[len(shape)-1] == 1 {
		shape = shape[:len(shape)-1]
	}
	out, err := encodeCategorical(h.name, h.mode, h.bins, nil, ids, make([]bool, n), shape)
	if err != nil {
		return nil, err
	}
	return []runtime.Value{{T: out}}, nil
}
