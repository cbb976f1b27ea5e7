package text

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// DefaultFilters is the Keras Tokenizer's default filters argument: ASCII
// punctuation (without the apostrophe) plus tab and newline.
const DefaultFilters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n"

// Config holds a Tokenizer's constructor arguments, with Keras' names.
type Config struct {
	// NumWords keeps only ids below NumWords (Keras' num_words); 0 means
	// no limit (Keras' None: num_words=0 behaves the same in Keras).
	NumWords int
	// Filters are the characters replaced by Split before splitting
	// (ignored at character level, as in Keras).
	Filters string
	// Lower lowers texts first, with Python's str.lower (see PythonLower).
	Lower bool
	// Split is the word separator (a string, not a regular expression).
	Split string
	// CharLevel makes every code point a token.
	CharLevel bool
	// OOVToken, when not nil, is the token unknown words map to.
	OOVToken *string
}

// DefaultConfig returns the arguments of Keras' Tokenizer().
func DefaultConfig() Config {
	return Config{Filters: DefaultFilters, Lower: true, Split: " "}
}

// WordCount is one entry of a Tokenizer's word_counts, in fitting order.
type WordCount struct {
	Word  string
	Count int
}

// A Tokenizer is Keras' keras.preprocessing.text.Tokenizer (tf.keras 2.x,
// keras_preprocessing and Keras 3's keras.src.legacy.preprocessing.text are
// the same code): a word index fitted on texts, and the conversions between
// texts, id sequences and bag-of-words matrices.
//
// A loaded Tokenizer is read-only and safe for concurrent use. FitOnTexts
// changes it and must not run concurrently with anything else.
type Tokenizer struct {
	cfg Config

	documentCount int
	wordCounts    []WordCount
	wordCountPos  map[string]int
	wordDocs      map[string]int
	indexDocs     map[int]int
	wordIndex     map[string]int
	indexWord     map[int]string

	// derived from cfg
	asciiFilter [utf8.RuneSelf]bool
	filter      map[rune]bool
	splitRune   rune // the separator when Split is one code point, else -1

	// derived from cfg and the word index by buildFast (fast.go): the
	// ASCII scanner (nil without one), and index_word as a slice (byID[id]
	// for ids < len(byID), hasID[id] telling an entry from a missing id;
	// nil when the ids are sparse)
	fast  *fastPath
	byID  []string
	hasID []bool
}

// NewTokenizer returns an unfitted Tokenizer with the given arguments.
func NewTokenizer(cfg Config) (*Tokenizer, error) {
	t := &Tokenizer{
		cfg:          cfg,
		wordCountPos: map[string]int{},
		wordDocs:     map[string]int{},
		indexDocs:    map[int]int{},
		wordIndex:    map[string]int{},
		indexWord:    map[int]string{},
	}
	if err := t.prepare(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Tokenizer) prepare() error {
	if t.cfg.NumWords < 0 {
		return fmt.Errorf("%w: num_words %d < 0", ErrArgument, t.cfg.NumWords)
	}
	t.filter = nil
	t.asciiFilter = [utf8.RuneSelf]bool{}
	for _, r := range t.cfg.Filters {
		if r < utf8.RuneSelf {
			t.asciiFilter[r] = true
			continue
		}
		if t.filter == nil {
			t.filter = map[rune]bool{}
		}
		t.filter[r] = true
	}
	t.splitRune = -1
	if r, n := utf8.DecodeRuneInString(t.cfg.Split); n > 0 && n == len(t.cfg.Split) && r != utf8.RuneError {
		t.splitRune = r
	}
	t.buildFast()
	return nil
}

// Config returns the Tokenizer's arguments.
func (t *Tokenizer) Config() Config { return t.cfg }

// DocumentCount is the number of texts fitted (Keras' document_count).
func (t *Tokenizer) DocumentCount() int { return t.documentCount }

// Len is the number of entries of the word index (Keras' len(word_index)).
func (t *Tokenizer) Len() int { return len(t.wordIndex) }

// ID returns a word's id in the word index (Keras' word_index[word]).
func (t *Tokenizer) ID(word string) (int, bool) {
	i, ok := t.wordIndex[word]
	return i, ok
}

// Word returns the word of an id (Keras' index_word[id]).
func (t *Tokenizer) Word(id int) (string, bool) { return t.word(id) }

// WordIndex returns a copy of the word index.
func (t *Tokenizer) WordIndex() map[string]int {
	m := make(map[string]int, len(t.wordIndex))
	for k, v := range t.wordIndex {
		m[k] = v
	}
	return m
}

// WordCounts returns a copy of word_counts in Keras' order.
func (t *Tokenizer) WordCounts() []WordCount {
	return append([]WordCount(nil), t.wordCounts...)
}

// VocabularySize is the width of TextsToMatrix rows: NumWords when set,
// else Len()+1 (id 0 is reserved).
func (t *Tokenizer) VocabularySize() int {
	if t.cfg.NumWords > 0 {
		return t.cfg.NumWords
	}
	return len(t.wordIndex) + 1
}

// CharLevel reports whether every code point is a token; generated text
// is then joined without a separator.
func (t *Tokenizer) CharLevel() bool { return t.cfg.CharLevel }

// splitWords calls fn for each token of text, as Keras'
// text_to_word_sequence (word level) or list(text) (character level) gives
// them, after lowering. The strings passed to fn are only valid during the
// call when they come from buf.
func (t *Tokenizer) splitWords(text string, buf *[]byte, fn func(w string) error) error {
	if t.cfg.Lower {
		text = t.lower(text, buf)
	}
	if t.cfg.CharLevel {
		for i := 0; i < len(text); {
			_, n := utf8.DecodeRuneInString(text[i:])
			if err := fn(text[i : i+n]); err != nil {
				return err
			}
			i += n
		}
		return nil
	}
	if t.splitRune >= 0 {
		start := 0
		for i := 0; i < len(text); {
			c := text[i]
			var r rune
			n := 1
			if c < utf8.RuneSelf {
				r = rune(c)
			} else {
				r, n = utf8.DecodeRuneInString(text[i:])
			}
			if r == t.splitRune || (r < utf8.RuneSelf && t.asciiFilter[r]) || (r >= utf8.RuneSelf && t.filter[r]) {
				if i > start {
					if err := fn(text[start:i]); err != nil {
						return err
					}
				}
				start = i + n
			}
			i += n
		}
		if start < len(text) {
			return fn(text[start:])
		}
		return nil
	}
	if t.cfg.Split == "" {
		return fmt.Errorf("%w: empty split (Python: ValueError: empty separator)", ErrArgument)
	}
	// A separator of several code points: translate, then split, as Python.
	var b strings.Builder
	for _, r := range text {
		if (r < utf8.RuneSelf && t.asciiFilter[r]) || (r >= utf8.RuneSelf && t.filter[r]) {
			b.WriteString(t.cfg.Split)
		} else {
			b.WriteRune(r)
		}
	}
	for _, w := range strings.Split(b.String(), t.cfg.Split) {
		if w != "" {
			if err := fn(w); err != nil {
				return err
			}
		}
	}
	return nil
}

// lower is PythonLower with an ASCII fast path into a reused buffer.
func (t *Tokenizer) lower(text string, buf *[]byte) string {
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			return PythonLower(text)
		}
	}
	b := (*buf)[:0]
	for i := 0; i < len(text); i++ {
		c := text[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	*buf = b
	return unsafeString(b)
}

// Words returns the tokens Keras sees in text (text_to_word_sequence at
// word level, the code points at character level), after lowering and
// filtering.
func (t *Tokenizer) Words(text string) ([]string, error) {
	var out []string
	var buf []byte
	err := t.splitWords(text, &buf, func(w string) error {
		out = append(out, strings.Clone(w))
		return nil
	})
	return out, err
}

// oovIndex returns word_index[oov_token] and whether it exists.
func (t *Tokenizer) oovIndex() (int, bool) {
	if t.cfg.OOVToken == nil {
		return 0, false
	}
	i, ok := t.wordIndex[*t.cfg.OOVToken]
	return i, ok
}

// AppendSequence appends the ids of one text to dst, exactly as Keras'
// texts_to_sequences: words not in the index are dropped (or become the
// OOV id), and with NumWords set, ids >= NumWords are dropped (or become
// the OOV id). buf is scratch space the caller may reuse between calls
// (nil is fine).
func (t *Tokenizer) AppendSequence(dst []int, text string, buf *[]byte) ([]int, error) {
	if buf == nil {
		buf = new([]byte)
	}
	numWords := t.cfg.NumWords
	oov, hasOOV := t.oovIndex()
	if t.fast != nil && (hasOOV || t.cfg.OOVToken == nil) {
		if out, ok := t.appendSequenceFast(dst, text, buf, oov, hasOOV); ok {
			return out, nil
		}
	}
	err := t.splitWords(text, buf, func(w string) error {
		i, ok := t.wordIndex[w]
		switch {
		case ok && (numWords == 0 || i < numWords):
			dst = append(dst, i)
		case ok || t.cfg.OOVToken != nil:
			if hasOOV {
				dst = append(dst, oov)
			} else if !ok {
				// Keras appends None here and fails later.
				return fmt.Errorf("%w: oov_token %q is not in the word index", ErrFormat, *t.cfg.OOVToken)
			}
		}
		return nil
	})
	return dst, err
}

// TextsToSequences converts each text to its token ids, exactly as Keras'
// Tokenizer.texts_to_sequences.
func (t *Tokenizer) TextsToSequences(texts []string) ([][]int, error) {
	// The ids go to chunks of 64K ints, each sequence a slice of one with
	// its capacity capped (appending to one never touches another): a few
	// allocations for the whole batch instead of one or more per text.
	const chunk = 1 << 16
	out := make([][]int, len(texts))
	var ids []int
	var buf []byte
	for i, s := range texts {
		if cap(ids)-len(ids) < chunk/16 {
			ids = make([]int, 0, chunk)
		}
		n := len(ids)
		var err error
		if ids, err = t.AppendSequence(ids, s, &buf); err != nil {
			return nil, fmt.Errorf("text %d: %w", i, err)
		}
		out[i] = ids[n:len(ids):len(ids)]
	}
	return out, nil
}

// SequencesToTexts converts id sequences back to texts as Keras'
// Tokenizer.sequences_to_texts: the words joined with one space (also at
// character level), ids >= NumWords replaced by the OOV token (or
// dropped).
//
// It is strict where Keras is silent: an id that is not in index_word
// (including the padding id 0, which Keras never assigns, and negative
// ids) is an error wrapping ErrUnknownID that names the sequence,
// position and id, because such an id means the sequences do not belong
// to this tokenizer. Keras skips such an id, or writes the OOV token for
// it when the tokenizer has one; SequencesToTextsLenient does exactly
// that.
func (t *Tokenizer) SequencesToTexts(seqs [][]int) ([]string, error) {
	return t.sequencesToTexts(seqs, false)
}

// SequencesToTextsLenient is Keras' sequences_to_texts to the letter: an
// id that is not in index_word (padding 0, an id from another vocabulary)
// is dropped, or becomes the OOV token when the tokenizer has one. Its
// only error is Keras' own: an OOV token that is not in the word index
// (Keras raises KeyError), wrapping ErrUnknownID.
func (t *Tokenizer) SequencesToTextsLenient(seqs [][]int) ([]string, error) {
	return t.sequencesToTexts(seqs, true)
}

func (t *Tokenizer) sequencesToTexts(seqs [][]int, lenient bool) ([]string, error) {
	out := make([]string, len(seqs))
	var buf []byte
	for i, seq := range seqs {
		s, err := t.sequenceToText(seq, " ", lenient, &buf)
		if err != nil {
			var u *UnknownIDError
			if errors.As(err, &u) {
				u.Sequence = i
				return nil, u
			}
			return nil, fmt.Errorf("sequence %d: %w", i, err)
		}
		out[i] = s
	}
	return out, nil
}

// SequenceToText is SequencesToTexts for one sequence, with the separator
// given (" " is Keras'; generation joins character-level output with "").
func (t *Tokenizer) SequenceToText(seq []int, sep string) (string, error) {
	return t.sequenceToText(seq, sep, false, new([]byte))
}

// word is index_word[id], through the dense slice when there is one.
func (t *Tokenizer) word(id int) (string, bool) {
	if t.hasID != nil {
		if id >= 0 && id < len(t.hasID) && t.hasID[id] {
			return t.byID[id], true
		}
		return "", false
	}
	w, ok := t.indexWord[id]
	return w, ok
}

func (t *Tokenizer) sequenceToText(seq []int, sep string, lenient bool, buf *[]byte) (string, error) {
	b := (*buf)[:0]
	defer func() { *buf = b }()
	first := true
	numWords := t.cfg.NumWords
	// oovWord is index_word[word_index.get(oov_token)].
	oovWord := func() (string, bool, error) {
		oov, hasOOV := t.oovIndex()
		if !hasOOV {
			return "", false, nil
		}
		w, ok := t.word(oov)
		if !ok {
			return "", false, fmt.Errorf("%w: the OOV id %d is not in index_word (Keras: KeyError)", ErrUnknownID, oov)
		}
		return w, true, nil
	}
	for j, id := range seq {
		w, ok := t.word(id)
		switch {
		case ok && numWords > 0 && id >= numWords:
			// Keras: the OOV token if it is in the word index, else dropped.
			var has bool
			var err error
			if w, has, err = oovWord(); err != nil {
				return "", err
			} else if !has {
				continue
			}
		case !ok && !lenient:
			return "", &UnknownIDError{Position: j, ID: id, Entries: len(t.indexWord)}
		case !ok && t.cfg.OOVToken == nil:
			continue // Keras drops it
		case !ok:
			var has bool
			var err error
			if w, has, err = oovWord(); err != nil {
				return "", err
			} else if !has {
				return "", fmt.Errorf("%w: id %d at position %d: the OOV token %q is not in the word index (Keras: KeyError)", ErrUnknownID, id, j, *t.cfg.OOVToken)
			}
		}
		if !first {
			b = append(b, sep...)
		}
		b = append(b, w...)
		first = false
	}
	return string(b), nil
}

// Matrix modes of TextsToMatrix, Keras' names.
const (
	ModeBinary = "binary"
	ModeCount  = "count"
	ModeFreq   = "freq"
	ModeTFIDF  = "tfidf"
)

// TextsToMatrix is Keras' Tokenizer.texts_to_matrix: one row per text of
// VocabularySize() columns, in mode binary (1 where a word occurs), count,
// freq (count / sequence length) or tfidf ((1+ln count) *
// ln(1 + document_count/(1+index_docs[id]))).
func (t *Tokenizer) TextsToMatrix(texts []string, mode string) ([][]float64, error) {
	seqs, err := t.TextsToSequences(texts)
	if err != nil {
		return nil, err
	}
	return t.SequencesToMatrix(seqs, mode)
}

// SequencesToMatrix is Keras' Tokenizer.sequences_to_matrix.
func (t *Tokenizer) SequencesToMatrix(seqs [][]int, mode string) ([][]float64, error) {
	switch mode {
	case ModeBinary, ModeCount, ModeFreq, ModeTFIDF:
	default:
		return nil, fmt.Errorf("%w: unknown vectorization mode %q (want binary, count, freq or tfidf)", ErrArgument, mode)
	}
	numWords := t.cfg.NumWords
	if numWords == 0 {
		if len(t.wordIndex) == 0 {
			return nil, fmt.Errorf("%w: specify num_words, or fit on some text data first", ErrArgument)
		}
		numWords = len(t.wordIndex) + 1
	}
	if mode == ModeTFIDF && t.documentCount == 0 {
		return nil, fmt.Errorf("%w: fit the Tokenizer on some data before using tfidf mode", ErrArgument)
	}
	if int64(numWords)*int64(len(seqs)) > 1<<31 {
		return nil, fmt.Errorf("%w: a %d x %d matrix is too large", ErrArgument, len(seqs), numWords)
	}
	x := make([][]float64, len(seqs))
	flat := make([]float64, len(seqs)*numWords)
	counts := map[int]int{}
	for i, seq := range seqs {
		row := flat[i*numWords : (i+1)*numWords : (i+1)*numWords]
		x[i] = row
		if len(seq) == 0 {
			continue
		}
		clear(counts)
		for _, j := range seq {
			if j >= numWords {
				continue
			}
			if j < 0 {
				// numpy would index from the end; Keras' sequences never hold one.
				return nil, fmt.Errorf("%w: negative id %d in sequence %d", ErrArgument, j, i)
			}
			counts[j]++
		}
		for j, c := range counts {
			switch mode {
			case ModeCount:
				row[j] = float64(c)
			case ModeFreq:
				row[j] = float64(c) / float64(len(seq))
			case ModeBinary:
				row[j] = 1
			case ModeTFIDF:
				tf := 1 + math.Log(float64(c))
				idf := math.Log(1 + float64(t.documentCount)/float64(1+t.indexDocs[j]))
				row[j] = tf * idf
			}
		}
	}
	return x, nil
}

// FitOnTexts updates the word counts and rebuilds the word index from
// texts, as Keras' fit_on_texts: ids by decreasing count, ties in first-seen
// order, the OOV token (if any) at id 1.
func (t *Tokenizer) FitOnTexts(texts []string) error {
	var buf []byte
	seen := map[string]bool{}
	for _, s := range texts {
		t.documentCount++
		clear(seen)
		err := t.splitWords(s, &buf, func(w string) error {
			if p, ok := t.wordCountPos[w]; ok {
				t.wordCounts[p].Count++
			} else {
				w = strings.Clone(w)
				t.wordCountPos[w] = len(t.wordCounts)
				t.wordCounts = append(t.wordCounts, WordCount{w, 1})
			}
			if !seen[w] {
				seen[strings.Clone(w)] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		for w := range seen {
			t.wordDocs[w]++
		}
	}
	sorted := append([]WordCount(nil), t.wordCounts...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Count > sorted[j].Count })
	var voc []string
	if t.cfg.OOVToken != nil {
		voc = append(voc, *t.cfg.OOVToken)
	}
	for _, wc := range sorted {
		voc = append(voc, wc.Word)
	}
	t.wordIndex = make(map[string]int, len(voc))
	for i, w := range voc {
		t.wordIndex[w] = i + 1 // dict(zip(...)): a later duplicate wins
	}
	t.indexWord = make(map[int]string, len(t.wordIndex))
	for w, i := range t.wordIndex {
		t.indexWord[i] = w
	}
	for w, c := range t.wordDocs {
		t.indexDocs[t.wordIndex[w]] = c
	}
	t.buildFast()
	return nil
}

// unsafeString views b as a string for map lookups; b must not change while
// the string is in use.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
