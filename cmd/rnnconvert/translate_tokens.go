package main

import (
	"fmt"

	"github.com/rnnkit/rnnkit/seq2seq"
	"github.com/rnnkit/rnnkit/text"
)

// newTokenTranslator loads the source and target Keras Tokenizers (any
// form text.LoadTokenizer reads) for a token-level model.
func newTokenTranslator(s *seq2seq.Model, src, tgt, start, stop string, maxLen int) (*seq2seq.TokenTranslator, error) {
	if (start == "") != (stop == "") {
		return nil, errUsage("translate: give both --start and --stop, or neither")
	}
	st, err := text.LoadTokenizer(src)
	if err != nil {
		return nil, fmt.Errorf("rnnconvert translate: --source-tokenizer: %w", err)
	}
	tt, err := text.LoadTokenizer(tgt)
	if err != nil {
		return nil, fmt.Errorf("rnnconvert translate: --target-tokenizer: %w", err)
	}
	tr, err := seq2seq.NewTextTranslator(s, st, tt, start, stop, maxLen)
	if err != nil {
		return nil, fmt.Errorf("rnnconvert translate: %s: %w", tgt, err)
	}
	return tr, nil
}
