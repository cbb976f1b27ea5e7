package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// PythonLower returns s lower-cased as Python 3's str.lower does it, which
// is what the Keras Tokenizer calls: the full Unicode lowercase mapping,
// not Go's per-rune unicode.ToLower. The two differ in exactly two places,
// both pinned by tests against CPython:
//
//   - U+0130 (İ, capital I with dot above) becomes two code points,
//     "i\u0307", where Go gives plain "i";
//   - U+03A3 (Σ) becomes final sigma ς at the end of a word (preceded by a
//     cased letter, not followed by one, ignoring case-ignorable marks in
//     between), σ elsewhere; Go always gives σ.
//
// Every other code point maps by the simple lowercase mapping of the Unicode
// tables (ß, emoji, Hangul, combining marks and no-break space are left as
// they are). Invalid UTF-8 bytes are copied unchanged.
func PythonLower(s string) string {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			break
		}
	}
	if i == len(s) {
		return s // ASCII with nothing to lower: no allocation
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteByte(s[i])
			i++
			continue
		}
		switch r {
		case '\u0130':
			b.WriteString("i\u0307")
		case '\u03a3':
			if finalSigma(s, i, i+n) {
				b.WriteRune('\u03c2')
			} else {
				b.WriteRune('\u03c3')
			}
		default:
			b.WriteRune(lowerRune(r))
		}
		i += n
	}
	return b.String()
}

// lowerRune is the simple lowercase mapping.
func lowerRune(r rune) rune {
	return unicode.ToLower(r)
}

// finalSigma reports whether the Σ at s[start:end] is in the Final_Sigma
// context: \p{cased}\p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased}).
func finalSigma(s string, start, end int) bool {
	j := start
	before := false
	for j > 0 {
		r, n := utf8.DecodeLastRuneInString(s[:j])
		j -= n
		if !caseIgnorable(r) {
			before = cased(r)
			break
		}
	}
	if !before {
		return false
	}
	j = end
	for j < len(s) {
		r, n := utf8.DecodeRuneInString(s[j:])
		j += n
		if !caseIgnorable(r) {
			return !cased(r)
		}
	}
	return true
}

// cased is Unicode's Cased property: Lowercase, Uppercase or Lt.
func cased(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
	}
	return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

// caseIgnorable is Unicode's Case_Ignorable property: Mn, Me, Cf, Lm, Sk,
// or Word_Break MidLetter, MidNumLet or Single_Quote.
func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '^', '`', 0x00a8, 0x00ad, 0x00af, 0x00b4, 0x00b7, 0x00b8,
		0x0387, 0x055f, 0x05f4, 0x2018, 0x2019, 0x2024, 0x2027, 0xfe13, 0xfe52, 0xfe55, 0xff07, 0xff0e, 0xff1a:
		return true
	}
	if r < utf8.RuneSelf {
		return false
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// ASCIILower returns s with the ASCII letters A-Z lowered and every other
// byte unchanged, which is what TensorFlow's tf.strings.lower does when
// called without an encoding, as Keras' TextVectorization calls it
// (standardize "lower" and "lower_and_strip_punctuation"). It differs from
// PythonLower, the Keras Tokenizer's lowering, on purpose: "ΣΑΣ", "İ",
// "Ä" and the other non-ASCII capitals stay as they are. Invalid UTF-8 is
// copied unchanged. A string with no capital A-Z is returned without
// allocating.
func ASCIILower(s string) string {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			break
		}
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, len(s))
	copy(b, s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return string(b)
}
