package text

import (
	"encoding/binary"
	"unicode/utf8"
	"unsafe"
)

// The fast path of TextsToSequences and SequencesToTexts: an open-addressing
// table from words to ids keyed by a hash computed while the text is
// scanned, and a dense id -> word slice. Both are built once when the word
// index is set (fitting or loading) and only read afterwards. Texts the
// fast path cannot take (non-ASCII bytes, character level, a separator of
// several bytes or non-ASCII filters) go through the general code, which
// defines the results; tests compare the two on every golden.

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

type wordSlot struct {
	hash uint64
	key  uint64 // packWord(word) for words of up to 8 bytes
	word string
	id   int
	used bool
}

// packWord packs a word of up to 8 bytes into a uint64, first byte lowest.
func packWord(s string) uint64 {
	var p uint64
	for i := 0; i < len(s); i++ {
		p |= uint64(s[i]) << (8 * i)
	}
	return p
}

// wordHash is the table's hash: the packed bytes mixed with the length for
// words of up to 8 bytes (which the scanner packs as it goes), FNV-1a for
// longer ones. Lookups compare the packed bytes and length, or the words.
func wordHash(s string, packed uint64) uint64 {
	if len(s) <= 8 {
		h := (packed ^ uint64(len(s))<<59) * 0x9E3779B97F4A7C15
		return h ^ h>>29
	}
	return fnvString(s)
}

// wordTable maps words to ids.
type wordTable struct {
	slots []wordSlot
	mask  uint64
}

func fnvString(s string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

func newWordTable(wi map[string]int) *wordTable {
	n := 16
	for n < 2*len(wi) {
		n *= 2
	}
	t := &wordTable{slots: make([]wordSlot, n), mask: uint64(n - 1)}
	for w, id := range wi {
		h := wordHash(w, packWord(w))
		i := h & t.mask
		for t.slots[i].used {
			i = (i + 1) & t.mask
		}
		t.slots[i] = wordSlot{hash: h, key: packWord(w[:min(len(w), 8)]), word: w, id: id, used: true}
	}
	return t
}

// lookup finds w; if it has up to 8 bytes, packed is packWord(w): the
// packed bytes and the length identify a short word.
func (t *wordTable) lookup(w string, packed uint64) (int, bool) {
	h := wordHash(w, packed)
	if len(w) <= 8 {
		for i := h & t.mask; ; i = (i + 1) & t.mask {
			s := &t.slots[i]
			if !s.used {
				return 0, false
			}
			if s.key == packed && len(s.word) == len(w) {
				return s.id, true
			}
		}
	}
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if !s.used {
			return 0, false
		}
		if s.hash == h && s.word == w {
			return s.id, true
		}
	}
}

// Byte actions of the ASCII scanner.
const (
	actWord = iota // part of a word (lowered through fastLower)
	actSep         // the split byte or a filter: ends a word
	actBail        // not ASCII: the general path takes the text
)

// fastPath holds what the ASCII scanner needs; nil when the configuration
// has no fast path.
type fastPath struct {
	act   [256]uint8
	lower [128]byte
	words *wordTable
}

// buildFast sets up the fast path for the current configuration and word
// index. It must run after every change of either.
func (t *Tokenizer) buildFast() {
	t.fast = nil
	t.byID, t.hasID = nil, nil
	// Dense id -> word, unless the ids are sparse.
	maxID := 0
	for id := range t.indexWord {
		if id < 0 {
			maxID = -1
			break
		}
		maxID = max(maxID, id)
	}
	if maxID >= 0 && maxID <= 4*len(t.indexWord)+1024 {
		t.byID = make([]string, maxID+1)
		t.hasID = make([]bool, maxID+1)
		for id, w := range t.indexWord {
			t.byID[id], t.hasID[id] = w, true
		}
	}
	if t.cfg.CharLevel || len(t.cfg.Split) != 1 || t.cfg.Split[0] >= utf8.RuneSelf || t.filter != nil {
		return
	}
	f := &fastPath{words: newWordTable(t.wordIndex)}
	for c := 0; c < 256; c++ {
		// Keras lowers first, then filters and splits: the action is the
		// lowered byte's.
		l := byte(c)
		if t.cfg.Lower && 'A' <= l && l <= 'Z' {
			l += 'a' - 'A'
		}
		switch {
		case c >= utf8.RuneSelf:
			f.act[c] = actBail
		case l == t.cfg.Split[0] || t.asciiFilter[l]:
			f.act[c] = actSep
		default:
			f.act[c] = actWord
			f.lower[c] = l
		}
	}
	t.fast = f
}

// appendSequenceFast is AppendSequence for an ASCII text; ok is false
// (and dst unchanged in length) when the text needs the general path.
func (t *Tokenizer) appendSequenceFast(dst []int, text string, buf *[]byte, oov int, hasOOV bool) ([]int, bool) {
	f := t.fast
	n0 := len(dst)
	numWords := t.cfg.NumWords
	lower := t.cfg.Lower
	start := -1 // start of the current word, -1 between words
	for i := 0; ; i++ {
		if i < len(text) {
			switch f.act[text[i]] {
			case actWord:
				if start < 0 {
					start = i
				}
				continue
			case actBail:
				return dst[:n0], false
			}
		}
		// A separator or the end of the text ends the word text[start:i]
		// (all ASCII: a non-ASCII byte would have bailed out).
		if start >= 0 {
			word := text[start:i]
			var packed uint64
			if len(word) <= 8 {
				if start+8 <= len(text) {
					// One load of 8 bytes, the word's bytes kept.
					b := unsafe.Slice(unsafe.StringData(text[start:]), 8)
					packed = binary.LittleEndian.Uint64(b)
					if len(word) < 8 {
						packed &= 1<<(8*len(word)) - 1
					}
				} else {
					packed = packWord(word)
				}
				if lower {
					packed = swarLower(packed)
				}
			} else if lower {
				b := (*buf)[:0]
				for j := 0; j < len(word); j++ {
					b = append(b, f.lower[word[j]])
				}
				*buf = b
				word = unsafeString(b)
			}
			id, ok := f.words.lookup(word, packed)
			switch {
			case ok && (numWords == 0 || id < numWords):
				dst = append(dst, id)
			case hasOOV:
				dst = append(dst, oov)
			}
			start = -1
		}
		if i >= len(text) {
			return dst, true
		}
	}
}

// swarLower lowers the ASCII capitals among the 8 bytes of x (each < 0x80).
func swarLower(x uint64) uint64 {
	const ones = 0x0101010101010101
	geA := x + ones*(0x80-'A')   // high bit set where byte >= 'A'
	gtZ := x + ones*(0x80-'Z'-1) // high bit set where byte > 'Z'
	upper := (geA &^ gtZ) & (ones * 0x80)
	return x | upper>>2
}
