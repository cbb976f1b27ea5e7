package layers

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
	"github.com/rnnkit/rnnkit/text"
)

// This file holds Keras' preprocessing layers that work on strings and
// vocabularies: TextVectorization, StringLookup, IntegerLookup and
// Hashing, computed as Keras 3 computes them (the layers call TensorFlow
// string ops; text.TFLower and its siblings are those ops).

func init() { builtins = append(builtins, registerPreprocessing) }

func registerPreprocessing(r *Registry) {
	RegisterVocabularies(r, nil)
	r.Register("Hashing", buildHashing)
}

// ErrNoVocabulary is wrapped by the error of a lookup layer whose file
// keeps no vocabulary (Keras 3's legacy .h5 writer drops it) and that was
// given none: errors.Is(err, ErrNoVocabulary), and errors.Is(err,
// convert.ErrWeights).
var ErrNoVocabulary = fmt.Errorf("no vocabulary: %w", convert.ErrWeights)

// RegisterVocabularies registers TextVectorization, StringLookup and
// IntegerLookup builders in r that use vocabs[layerName], when present,
// as the vocabulary of the layer of that name (in id order, with or
// without the leading special tokens, as Keras' set_vocabulary takes it),
// in place of what the file holds. IntegerLookup tokens are decimal
// integers.
func RegisterVocabularies(r *Registry, vocabs map[string][]string) {
	for _, c := range []string{"TextVectorization", "StringLookup", "IntegerLookup"} {
		class := c
		r.Register(class, func(spec *convert.Layer, env *Env) (runtime.Layer, error) {
			return buildLookupLayer(spec, vocabs[spec.Name], vocabs != nil && vocabs[spec.Name] != nil)
		})
	}
}

// lookup is Keras' IndexLookup: a vocabulary with its special tokens,
// the out-of-vocabulary rule and the output encoding.
type lookup struct {
	layer string
	// isInt: IntegerLookup (int64 keys); else string keys.
	isInt   bool
	strIDs  map[string]int
	intIDs  map[int64]int
	tokens  []string // every id's token, special tokens included (for invert)
	hasMask bool
	maskStr string
	maskInt int64
	oovStr  string
	oovInt  int64
	numOOV  int
	// oovStart is 1 when a mask token holds id 0 (output_mode int), else 0.
	oovStart int
	salt     *[2]uint64
	farmhash bool // IntegerLookup oov_method farmhash
	mode     string
	// depth is the width of non-int outputs (vocabulary_size, or
	// max_tokens with pad_to_max_tokens).
	depth  int
	idf    []float64
	invert bool
}

// vocabSize is the number of ids: special tokens and the vocabulary.
func (l *lookup) vocabSize() int { return len(l.tokens) }

func lookupErr(layer string, kind error, format string, args ...any) error {
	return fmt.Errorf("layer %q: %s: %w", layer, fmt.Sprintf(format, args...), kind)
}

// buildLookupLayer builds a TextVectorization, StringLookup or
// IntegerLookup layer; supplied, when given, replaces the file's
// vocabulary.
func buildLookupLayer(spec *convert.Layer, supplied []string, given bool) (runtime.Layer, error) {
	r := spec.Config.Reader(spec.Name)
	class := spec.ClassName
	l := &lookup{layer: spec.Name, isInt: class == "IntegerLookup"}
	maxTokens := r.Int("max_tokens", 0)
	padToMax := r.Bool("pad_to_max_tokens", false)
	l.mode = r.String("output_mode", "int")
	switch l.mode {
	case "binary":
		l.mode = "multi_hot"
	case "tf-idf":
		l.mode = "tf_idf"
	}
	l.invert = r.Bool("invert", false)
	l.numOOV = 1
	switch class {
	case "TextVectorization":
		l.hasMask, l.maskStr, l.oovStr = true, "", "[UNK]"
	case "StringLookup":
		l.numOOV = r.Int("num_oov_indices", 1)
		l.oovStr = r.String("oov_token", "[UNK]")
		if spec.Config.Has("mask_token") {
			l.hasMask, l.maskStr = true, r.String("mask_token", "")
		}
		if enc := r.String("encoding", "utf-8"); !strings.EqualFold(enc, "utf-8") && !strings.EqualFold(enc, "utf8") {
			return nil, lookupErr(spec.Name, convert.ErrUnsupported, "encoding %q (only utf-8)", enc)
		}
	case "IntegerLookup":
		l.numOOV = r.Int("num_oov_indices", 1)
		l.oovInt = int64(r.Int("oov_token", -1))
		if spec.Config.Has("mask_token") {
			l.hasMask, l.maskInt = true, int64(r.Int("mask_token", 0))
		}
		l.farmhash = r.String("oov_method", "floormod") == "farmhash"
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if class != "TextVectorization" {
		if s, ok := spec.Config["salt"]; ok && s != nil {
			salt, err := readSalt(spec.Name, s)
			if err != nil {
				return nil, err
			}
			l.salt = salt
		}
	}
	switch l.mode {
	case "int", "one_hot", "multi_hot", "count", "tf_idf":
	default:
		return nil, lookupErr(spec.Name, convert.ErrConfig, "output_mode %q: want int, one_hot, multi_hot, count or tf_idf", l.mode)
	}
	if l.invert && l.mode != "int" {
		return nil, lookupErr(spec.Name, convert.ErrConfig, "invert needs output_mode int, not %q", l.mode)
	}
	if l.numOOV < 0 {
		return nil, lookupErr(spec.Name, convert.ErrConfig, "num_oov_indices %d is negative", l.numOOV)
	}
	if l.hasMask && l.mode == "int" {
		l.oovStart = 1
	}
	vocab, from, err := l.vocabulary(spec, supplied, given)
	if err != nil {
		return nil, err
	}
	if err := l.setVocabulary(vocab, from, maxTokens); err != nil {
		return nil, err
	}
	l.depth = l.vocabSize()
	if padToMax {
		if maxTokens <= 0 {
			return nil, lookupErr(spec.Name, convert.ErrConfig, "pad_to_max_tokens without max_tokens")
		}
		l.depth = maxTokens
	}
	if l.mode == "tf_idf" {
		if err := l.readIDF(spec, len(vocab), padToMax, maxTokens); err != nil {
			return nil, err
		}
	}
	if class == "TextVectorization" {
		return buildTextVectorization(spec, l)
	}
	return &Lookup{layerID: layerID{spec.Name, class}, l: l}, nil
}

func readSalt(layer string, v any) (*[2]uint64, error) {
	num := func(x any) (uint64, bool) {
		f, ok := x.(float64)
		if !ok || f != math.Trunc(f) || f < 0 || f >= 1<<64 {
			return 0, false
		}
		return uint64(f), true
	}
	if s, ok := num(v); ok {
		return &[2]uint64{s, s}, nil
	}
	if xs, ok := v.([]any); ok && len(xs) == 2 {
		a, ok1 := num(xs[0])
		b, ok2 := num(xs[1])
		if ok1 && ok2 {
			return &[2]uint64{a, b}, nil
		}
	}
	return nil, lookupErr(layer, convert.ErrConfig, "salt %v: want an integer or two", v)
}

// vocabulary picks the layer's vocabulary: the caller's, else the
// config's vocabulary list, else what the file stored apart (spec.Vocabulary).
func (l *lookup) vocabulary(spec *convert.Layer, supplied []string, given bool) ([]string, string, error) {
	if given {
		return supplied, "the supplied vocabulary", nil
	}
	switch v := spec.Config["vocabulary"].(type) {
	case []any:
		out := make([]string, len(v))
		for i, x := range v {
			switch t := x.(type) {
			case string:
				if l.isInt {
					return nil, "", lookupErr(spec.Name, convert.ErrConfig, "vocabulary entry %d is %q, want an integer", i, t)
				}
				out[i] = t
			case float64:
				if !l.isInt || t != math.Trunc(t) {
					return nil, "", lookupErr(spec.Name, convert.ErrConfig, "vocabulary entry %d is %v, want a %s", i, t, map[bool]string{true: "integer", false: "string"}[l.isInt])
				}
				out[i] = strconv.FormatInt(int64(t), 10)
			default:
				return nil, "", lookupErr(spec.Name, convert.ErrConfig, "vocabulary entry %d is %T", i, x)
			}
		}
		return out, "the config's vocabulary", nil
	case string:
		if spec.Vocabulary == nil {
			return nil, "", fmt.Errorf("layer %q (%s): the config names the vocabulary file %q, which is not part of the model: supply its tokens with keras.WithVocabulary(%q, tokens) (keras.LoadVocabulary reads a text file, JSON list or pickle), or rnnconvert --vocabulary %s=FILE: %w",
				spec.Name, spec.ClassName, v, spec.Name, spec.Name, ErrNoVocabulary)
		}
	}
	if spec.Vocabulary != nil {
		return spec.Vocabulary, "the file's vocabulary", nil
	}
	return nil, "", fmt.Errorf("layer %q (%s): the model file keeps no vocabulary for it (Keras 3's legacy .h5 writer drops it; .keras and SavedModel files keep it): "+
		"supply the tokens in id order with keras.WithVocabulary(%q, tokens) (keras.LoadVocabulary reads a text file of one token a line, a JSON list or a pickle, such as the project's get_vocabulary() dump), or rnnconvert --vocabulary %s=FILE: %w",
		spec.Name, spec.ClassName, spec.Name, spec.Name, ErrNoVocabulary)
}

func (l *lookup) specialString(i int) string {
	if i < l.oovStart {
		if l.isInt {
			return strconv.FormatInt(l.maskInt, 10)
		}
		return l.maskStr
	}
	if l.isInt {
		return strconv.FormatInt(l.oovInt, 10)
	}
	return l.oovStr
}

// setVocabulary is IndexLookup.set_vocabulary: leading special tokens
// (mask, then num_oov_indices OOV tokens) are recognized and dropped; the
// rest must be unique, hold no mask token (nor the OOV token when
// inverting) and fit max_tokens.
func (l *lookup) setVocabulary(vocab []string, from string, maxTokens int) error {
	if len(vocab) == 0 {
		return lookupErr(l.layer, convert.ErrConfig, "%s is empty", from)
	}
	tokenStart := l.oovStart + l.numOOV
	tokens := vocab
	if len(vocab) >= tokenStart {
		found := true
		for i := 0; i < tokenStart; i++ {
			if !l.sameToken(vocab[i], l.specialString(i)) {
				found = false
				break
			}
		}
		if found {
			tokens = vocab[tokenStart:]
		}
	}
	l.tokens = make([]string, 0, tokenStart+len(tokens))
	for i := 0; i < tokenStart; i++ {
		l.tokens = append(l.tokens, l.specialString(i))
	}
	if l.isInt {
		l.intIDs = make(map[int64]int, len(tokens))
	} else {
		l.strIDs = make(map[string]int, len(tokens))
	}
	var dups []string
	for i, t := range tokens {
		id := tokenStart + i
		if l.isInt {
			v, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
			if err != nil {
				return lookupErr(l.layer, convert.ErrConfig, "%s: entry %d %q is not an integer", from, i, t)
			}
			if _, dup := l.intIDs[v]; dup {
				dups = append(dups, t)
				continue
			}
			if l.hasMask && v == l.maskInt {
				return lookupErr(l.layer, convert.ErrConfig, "%s holds the mask token %d at entry %d: include special tokens only at the start, in order", from, v, i)
			}
			if l.invert && v == l.oovInt {
				return lookupErr(l.layer, convert.ErrConfig, "%s holds the OOV token %d at entry %d", from, v, i)
			}
			l.intIDs[v] = id
		} else {
			if _, dup := l.strIDs[t]; dup {
				dups = append(dups, strconv.Quote(t))
				continue
			}
			if l.hasMask && t == l.maskStr {
				return lookupErr(l.layer, convert.ErrConfig, "%s holds the mask token %q at entry %d: include special tokens only at the start, in order", from, t, i)
			}
			if l.invert && t == l.oovStr {
				return lookupErr(l.layer, convert.ErrConfig, "%s holds the OOV token %q at entry %d", from, t, i)
			}
			l.strIDs[t] = id
		}
		l.tokens = append(l.tokens, t)
	}
	if len(dups) > 0 {
		if len(dups) > 10 {
			dups = append(dups[:10], "…")
		}
		return lookupErr(l.layer, convert.ErrConfig, "%s has repeated tokens (Keras refuses them too): %s", from, strings.Join(dups, ", "))
	}
	if maxTokens > 0 && len(l.tokens) > maxTokens {
		return lookupErr(l.layer, convert.ErrConfig, "%s has %d ids with the special tokens, more than max_tokens %d", from, len(l.tokens), maxTokens)
	}
	return nil
}

func (l *lookup) sameToken(a, b string) bool {
	if !l.isInt {
		return a == b
	}
	x, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	y, err2 := strconv.ParseInt(b, 10, 64)
	return err1 == nil && err2 == nil && x == y
}

// readIDF reads tf_idf weights: the config's idf_weights (padded as
// set_vocabulary pads them), else the weights file's idf_weights variable.
func (l *lookup) readIDF(spec *convert.Layer, vocabLen int, padToMax bool, maxTokens int) error {
	var w []float64
	if xs, ok := spec.Config["idf_weights"].([]any); ok {
		for i, x := range xs {
			f, ok := x.(float64)
			if !ok {
				return lookupErr(l.layer, convert.ErrConfig, "idf_weights entry %d is %T, want a number", i, x)
			}
			w = append(w, f)
		}
		if len(w) != vocabLen {
			return lookupErr(l.layer, convert.ErrConfig, "%d idf_weights for a vocabulary of %d", len(w), vocabLen)
		}
		tokenStart := l.oovStart + l.numOOV
		if len(l.tokens)-tokenStart == vocabLen {
			// The vocabulary came without its special tokens: Keras
			// pads the front with the weights' mean.
			var mean float64
			for _, v := range w {
				mean += v
			}
			mean /= float64(len(w))
			front := make([]float64, tokenStart, tokenStart+len(w))
			for i := range front {
				front[i] = mean
			}
			w = append(front, w...)
		}
	} else if len(spec.Weights) == 1 {
		for _, v := range spec.Weights[0].Data {
			w = append(w, float64(float32(v)))
		}
	} else {
		return lookupErr(l.layer, convert.ErrWeights, "output_mode tf_idf without idf_weights")
	}
	for len(w) < l.depth && padToMax && maxTokens > 0 {
		w = append(w, 0)
	}
	if len(w) != l.depth {
		return lookupErr(l.layer, convert.ErrWeights, "%d idf_weights for an output of %d", len(w), l.depth)
	}
	// Keras keeps the weights as floatx (float32).
	for i := range w {
		w[i] = float64(float32(w[i]))
	}
	l.idf = w
	return nil
}

// errOOV reports a token outside a vocabulary without OOV indices.
var errOOV = errors.New("out-of-vocabulary input")

// idString returns the id of string token s. masked reports the mask
// token in a non-int output mode, which Keras maps to an id past every
// encoding (dropped).
func (l *lookup) idString(s string) (id int, masked bool, err error) {
	if l.hasMask && s == l.maskStr {
		if l.mode == "int" {
			return 0, false, nil
		}
		return 0, true, nil
	}
	if id, ok := l.strIDs[s]; ok {
		return id, false, nil
	}
	switch {
	case l.numOOV == 0:
		return 0, false, fmt.Errorf("layer %q: token %q is not in the vocabulary and num_oov_indices is 0: %w (%w)", l.layer, s, errOOV, runtime.ErrInput)
	case l.numOOV == 1:
		return l.oovStart, false, nil
	case l.salt != nil:
		return l.oovStart + text.TFHashBucketStrong(s, l.numOOV, *l.salt), false, nil
	default:
		return l.oovStart + text.TFHashBucketFast(s, l.numOOV), false, nil
	}
}

// idInt is idString for IntegerLookup.
func (l *lookup) idInt(v int64) (id int, masked bool, err error) {
	if l.hasMask && v == l.maskInt {
		if l.mode == "int" {
			return 0, false, nil
		}
		return 0, true, nil
	}
	if id, ok := l.intIDs[v]; ok {
		return id, false, nil
	}
	switch {
	case l.numOOV == 0:
		return 0, false, fmt.Errorf("layer %q: value %d is not in the vocabulary and num_oov_indices is 0: %w (%w)", l.layer, v, errOOV, runtime.ErrInput)
	case l.numOOV == 1:
		return l.oovStart, false, nil
	case l.farmhash || l.salt != nil:
		s := strconv.FormatInt(v, 10)
		if l.salt != nil {
			return l.oovStart + text.TFHashBucketStrong(s, l.numOOV, *l.salt), false, nil
		}
		return l.oovStart + text.TFHashBucketFast(s, l.numOOV), false, nil
	default:
		// tf.math.floormod: the result has the divisor's sign.
		m := v % int64(l.numOOV)
		if m < 0 {
			m += int64(l.numOOV)
		}
		return l.oovStart + int(m), false, nil
	}
}

// Lookup is keras.layers.StringLookup or IntegerLookup: tokens to ids
// (or, with invert, ids to tokens), encoded as output_mode says.
type Lookup struct {
	layerID
	l *lookup
}

// VocabularySize is the number of ids, special tokens included (Keras'
// vocabulary_size()).
func (l *Lookup) VocabularySize() int { return l.l.vocabSize() }

// Call maps x: a string tensor (StringLookup) or integers (IntegerLookup;
// float32 holding integers), or ids with invert.
func (l *Lookup) Call(_ *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	x, err := oneInput(l.name, call)
	if err != nil {
		return nil, err
	}
	t := x.T
	lk := l.l
	if lk.invert {
		return lk.invertIDs(t)
	}
	n := t.Len()
	ids := make([]int, n)
	masked := make([]bool, n)
	for i := range n {
		var err error
		if lk.isInt {
			if t.IsString() {
				return nil, fmt.Errorf("layer %q (IntegerLookup): got strings, want integers: %w", l.name, runtime.ErrInput)
			}
			v := float64(t.Data[i])
			if v != math.Trunc(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("layer %q (IntegerLookup): value %v at flat index %d is not an integer: %w", l.name, t.Data[i], i, runtime.ErrInput)
			}
			ids[i], masked[i], err = lk.idInt(int64(v))
		} else {
			if !t.IsString() {
				return nil, fmt.Errorf("layer %q (StringLookup): got numbers, want a string tensor: %w", l.name, runtime.ErrInput)
			}
			ids[i], masked[i], err = lk.idString(t.Strings[i])
		}
		if err != nil {
			return nil, err
		}
	}
	out, err := lk.encode(ids, masked, t.Shape)
	if err != nil {
		return nil, err
	}
	return []runtime.Value{{T: out}}, nil
}

// invertIDs maps ids back to tokens: id 0 to the mask token when there is
// one, unknown ids to the OOV token, as Keras' inverted table does.
func (l *lookup) invertIDs(t *runtime.Tensor) ([]runtime.Value, error) {
	if t.IsString() {
		return nil, fmt.Errorf("layer %q: invert takes ids, got strings: %w", l.layer, runtime.ErrInput)
	}
	if l.isInt {
		out := runtime.NewTensor(t.Shape...)
		for i, v := range t.Data {
			id := int(math.Trunc(float64(v)))
			tok := l.oovInt
			if id >= l.oovStart+l.numOOV && id < len(l.tokens) {
				tok, _ = strconv.ParseInt(l.tokens[id], 10, 64)
			} else if id == 0 && l.hasMask {
				tok = l.maskInt
			}
			out.Data[i] = float32(tok)
		}
		return []runtime.Value{{T: out}}, nil
	}
	out := &runtime.Tensor{Shape: append([]int(nil), t.Shape...), Strings: make([]string, len(t.Data))}
	for i, v := range t.Data {
		id := int(math.Trunc(float64(v)))
		tok := l.oovStr
		if id >= l.oovStart+l.numOOV && id < len(l.tokens) {
			tok = l.tokens[id]
		} else if id == 0 && l.hasMask {
			tok = l.maskStr
		}
		out.Strings[i] = tok
	}
	return []runtime.Value{{T: out}}, nil
}

// encode turns ids of an input of the given shape into the layer's
// output (Keras' encode_categorical_inputs with depth l.depth).
func (l *lookup) encode(ids []int, masked []bool, shape []int) (*runtime.Tensor, error) {
	return encodeCategorical(l.layer, l.mode, l.depth, l.idf, ids, masked, shape)
}

// encodeCategorical is Keras' encode_categorical_inputs on the TensorFlow
// backend: int keeps the shape; one_hot drops a last dimension of 1 and
// adds depth; multi_hot, count and tf_idf count the ids of each row of a
// rank-2 input ([batch, depth]) or of a whole rank-1 input ([depth]), ids
// outside [0, depth) (and masked ones) dropped as tf.math.bincount's
// maxlength drops them.
func encodeCategorical(layer, mode string, depth int, idf []float64, ids []int, masked []bool, shape []int) (*runtime.Tensor, error) {
	switch mode {
	case "int":
		out := runtime.NewTensor(shape...)
		for i, id := range ids {
			out.Data[i] = float32(id)
		}
		return out, nil
	case "one_hot":
		s := append([]int(nil), shape...)
		if len(s) > 1 && s[len(s)-1] == 1 {
			s = s[:len(s)-1]
		}
		out := runtime.NewTensor(append(s, depth)...)
		for i, id := range ids {
			if !masked[i] && id >= 0 && id < depth {
				out.Data[i*depth+id] = 1
			}
		}
		return out, nil
	}
	var rows [][]int
	var outShape []int
	switch len(shape) {
	case 0, 1:
		rows = [][]int{maskedOut(ids, masked)}
		outShape = []int{depth}
	case 2:
		w := shape[1]
		for r := range shape[0] {
			rows = append(rows, maskedOut(ids[r*w:(r+1)*w], masked[r*w:(r+1)*w]))
		}
		outShape = []int{shape[0], depth}
	default:
		return nil, fmt.Errorf("layer %q: output_mode %s takes inputs of rank 1 or 2, got shape %v: %w", layer, mode, shape, runtime.ErrInput)
	}
	out := runtime.NewTensor(outShape...)
	bincountRows(out.Data, mode, depth, idf, rows)
	return out, nil
}

// maskedOut returns ids with the masked ones set to -1 (dropped).
func maskedOut(ids []int, masked []bool) []int {
	out := make([]int, len(ids))
	for i, id := range ids {
		if masked[i] {
			id = -1
		}
		out[i] = id
	}
	return out
}

// bincountRows writes, for each row of ids, its multi_hot, count or
// tf_idf encoding into dst (len(rows)*depth, zeroed); ids outside [0,
// depth) are dropped.
func bincountRows(dst []float32, mode string, depth int, idf []float64, rows [][]int) {
	for r, ids := range rows {
		row := dst[r*depth : (r+1)*depth]
		for _, id := range ids {
			if id < 0 || id >= depth {
				continue
			}
			if mode == "multi_hot" {
				row[id] = 1
			} else {
				row[id]++
			}
		}
		if mode == "tf_idf" {
			for j := range row {
				row[j] = float32(float64(row[j]) * idf[j])
			}
		}
	}
}
