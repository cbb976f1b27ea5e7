package text

import (
	"strings"
	"unicode/utf8"
)

// This file holds TensorFlow's string ops as Keras' preprocessing layers
// (TextVectorization, StringLookup, Hashing) call them. They differ from
// the Tokenizer's Python string methods on purpose: TensorFlow works on
// UTF-8 bytes and knows only ASCII case and whitespace.

// TFLower is tf.strings.lower without an encoding, which Keras'
// TextVectorization calls for standardize "lower" and
// "lower_and_strip_punctuation": it lowers the ASCII letters A-Z and
// leaves every other byte as it is ("ÉCOLE" becomes "École", "İ" and "ß"
// stay).
func TFLower(s string) string { return ASCIILower(s) }

// TFPunctuation is the regex Keras' TextVectorization removes for
// standardize "strip_punctuation" and "lower_and_strip_punctuation" (with
// tf.strings.regex_replace). Its class holds ASCII characters only.
const TFPunctuation = `[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_` + "`" + `{|}~']`

// isTFPunct reports whether b is in TFPunctuation's class: the 32 ASCII
// punctuation characters (",-\." is the range ',' to '.', which holds
// '-').
func isTFPunct(b byte) bool {
	switch {
	case b >= '!' && b <= '/':
		return true
	case b >= ':' && b <= '@':
		return true
	case b >= '[' && b <= '`':
		return true
	case b >= '{' && b <= '~':
		return true
	}
	return false
}

// TFStripPunctuation is tf.strings.regex_replace(s, TFPunctuation, ""):
// every ASCII punctuation byte is removed. Bytes of multi-byte UTF-8
// sequences are never ASCII, so other characters stay whole.
func TFStripPunctuation(s string) string {
	i := 0
	for i < len(s) && !isTFPunct(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, i, len(s))
	copy(b, s[:i])
	for ; i < len(s); i++ {
		if !isTFPunct(s[i]) {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// isTFSpace is absl::ascii_isspace, which tf.strings.split's whitespace
// mode splits on: space, \t, \n, \v, \f, \r.
func isTFSpace(b byte) bool {
	return b == ' ' || (b >= '\t' && b <= '\r')
}

// TFSplitWhitespace is tf.strings.split(s) (no separator): s split on runs
// of ASCII whitespace, with no empty tokens. Other spaces (the
// non-breaking space U+00A0, the ideographic space) are part of tokens.
func TFSplitWhitespace(s string) []string {
	var out []string
	i := 0
	for i < len(s) {
		for i < len(s) && isTFSpace(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !isTFSpace(s[j]) {
			j++
		}
		if j > i {
			out = append(out, s[i:j])
		}
		i = j
	}
	return out
}

// TFSplitCharacters is tf.strings.unicode_split(s, "UTF-8"): one token per
// code point. An invalid UTF-8 byte becomes U+FFFD, the op's default
// replacement (errors="replace").
func TFSplitCharacters(s string) []string {
	out := make([]string, 0, utf8.RuneCountInString(s))
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				out = append(out, "\uFFFD")
				continue
			}
		}
		out = append(out, s[i:i+utf8.RuneLen(r)])
	}
	return out
}

// TFNgrams is tf.strings.ngrams(tokens, widths, separator=" ") as
// TextVectorization calls it (no padding, short sequences not preserved):
// for each width in order, every run of that many consecutive tokens
// joined with one space. A width larger than len(tokens) adds nothing.
func TFNgrams(tokens []string, widths []int) []string {
	var out []string
	for _, w := range widths {
		if w <= 0 {
			continue
		}
		if w == 1 {
			out = append(out, tokens...)
			continue
		}
		for i := 0; i+w <= len(tokens); i++ {
			out = append(out, strings.Join(tokens[i:i+w], " "))
		}
	}
	return out
}
