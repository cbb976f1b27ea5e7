package text

import (
	"fmt"
	"slices"
	"testing"
)

// sequencesBothWays tokenizes s with the fast path and with the general
// code (the fast path switched off), which defines Keras' behaviour.
func sequencesBothWays(t *testing.T, tok *Tokenizer, s string) (fast, general []int) {
	t.Helper()
	fast, err1 := tok.AppendSequence(nil, s, nil)
	f := tok.fast
	tok.fast = nil
	general, err2 := tok.AppendSequence(nil, s, nil)
	tok.fast = f
	if (err1 == nil) != (err2 == nil) {
		t.Fatalf("%q: errors differ: %v / %v", s, err1, err2)
	}
	return fast, general
}

func checkFastPath(t *testing.T, cfg Config, fit []string, texts []string) {
	t.Helper()
	tok, err := NewTokenizer(cfg)
	if err != nil {
		return
	}
	if err := tok.FitOnTexts(fit); err != nil {
		return
	}
	for _, s := range texts {
		fast, general := sequencesBothWays(t, tok, s)
		if !slices.Equal(fast, general) {
			t.Fatalf("%+v %q: fast path %v, general %v", cfg, s, fast, general)
		}
	}
	seqs, err := tok.TextsToSequences(texts)
	if err != nil {
		return
	}
	for i, seq := range seqs {
		f := tok.fast
		tok.fast = nil
		want, _ := tok.AppendSequence(nil, texts[i], nil)
		tok.fast = f
		if !slices.Equal(seq, want) {
			t.Fatalf("TextsToSequences[%d] %v, want %v", i, seq, want)
		}
	}
}

func TestFastPathMatchesGeneral(t *testing.T) {
	oov := "<OOV>"
	texts := []string{"", " ", "The CAT sat; on the MAT!", "HELLO hello HeLLo", "abcdefgh ABCDEFGH abcdefghi ABCDEFGHI",
		"e-mail: ME@X.COM", "tabs\tand\nnew\rlines", "über ÜBER", "x\x00y \x00", "ZZZZZZZZZZZZ zzzzzzzzzzzz", "@[`{"}
	for _, cfg := range []Config{
		DefaultConfig(),
		{Filters: DefaultFilters, Lower: false, Split: " "},
		{Filters: "e", Lower: true, Split: " "}, // a lowercase filter also removes E
		{Filters: "E", Lower: true, Split: " "}, // an uppercase one never matches
		{Filters: "", Lower: true, Split: "a"},  // split on a letter
		{Filters: "", Lower: true, Split: "A"},
		{Filters: "!", Lower: false, Split: "T"},
		{Filters: DefaultFilters, Lower: true, Split: " ", NumWords: 4, OOVToken: &oov},
		{Filters: DefaultFilters, Lower: true, Split: " ", NumWords: 3},
	} {
		t.Run(fmt.Sprintf("%q/%v/%q/%d", cfg.Filters, cfg.Lower, cfg.Split, cfg.NumWords), func(t *testing.T) {
			tok, _ := NewTokenizer(cfg)
			if tok.fast == nil {
				t.Fatal("no fast path for an ASCII configuration")
			}
			checkFastPath(t, cfg, texts, texts)
		})
	}
}

func TestSwarLower(t *testing.T) {
	for c := 0; c < 128; c++ {
		for _, pos := range []int{0, 3, 7} {
			x := uint64(c) << (8 * pos)
			want := byte(c)
			if 'A' <= want && want <= 'Z' {
				want += 'a' - 'A'
			}
			if got := swarLower(x); got != uint64(want)<<(8*pos) {
				t.Fatalf("swarLower(%#x) = %#x, want %#x", x, got, uint64(want)<<(8*pos))
			}
		}
	}
}

// FuzzFastPath: the ASCII fast path agrees with the general code for any
// text, filters, separator byte and lowering.
func FuzzFastPath(f *testing.F) {
	f.Add("The CAT sat; on the MAT!", "the cat", DefaultFilters, byte(' '), true, 0)
	f.Add("HELLO hello", "hello", "e", byte('l'), true, 2)
	f.Add("abcdefghiJ abcdefghij", "abcdefghij", "", byte(' '), false, 0)
	f.Fuzz(func(t *testing.T, s, fit, filters string, split byte, lower bool, numWords int) {
		if split >= 0x80 || numWords < 0 || numWords > 1000 {
			return
		}
		oov := "<OOV>"
		for _, o := range []*string{nil, &oov} {
			checkFastPath(t, Config{Filters: filters, Lower: lower, Split: string(rune(split)), NumWords: numWords, OOVToken: o},
				[]string{fit, s[:len(s)/2]}, []string{s, fit})
		}
	})
}
