package main

import (
	"errors"

	"github.com/rnnkit/rnnkit/seq2seq"
)

// newTokenTranslator loads the source and target tokenizers. Until package
// text lands on main this reports that token-level translation is not
// wired into the CLI yet.
func newTokenTranslator(s *seq2seq.Model, src, tgt, start, stop string, maxLen int) (*seq2seq.TokenTranslator, error) {
	return nil, errors.New("rnnconvert translate: token-level models need package text's tokenizers (not merged yet)")
}
