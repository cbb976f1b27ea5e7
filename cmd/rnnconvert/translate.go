package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/rnnkit/rnnkit/seq2seq"
)

var translateCmd = command{
	name: "translate",
	synopsis: []string{
		"MODEL --vocab V.json --texts X.json [--beam B] [--json]",
		"MODEL --source-tokenizer S --target-tokenizer T --texts X.json [--start W --stop W] [--beam B]",
	},
	summary: `Translates texts with a trained Keras encoder-decoder (seq2seq) model: an
encoder RNN with return_state whose states initialize a decoder RNN, and a
Dense softmax on the decoder (the Keras lstm_seq2seq example). MODEL is the
training model as saved; the encoder and decoder-step models are built from
its layers, and each decoded token costs one decoder step.

Character models (one-hot inputs) take --vocab: a JSON object with
source_chars and target_chars (the sorted character lists whose indices are
the one-hot positions), start and stop (the target characters that begin
and end a translation, "\t" and "\n" in the example) and max_decoder_len.
Source characters outside source_chars are all-zero rows (as in the
example), or an error with --strict. Optional keys: max_encoder_len pads
every source to that many rows, with all-zero rows or, with source_pad
(" " in the current Keras example), that character's rows. An encoder
input of fixed length pads to its length.

Token models (Embedding inputs) take --source-tokenizer and
--target-tokenizer: Keras Tokenizer files (to_json output, a word-index JSON
or a pickle). Translations join the target words with one space.

The output on stdout is JSON: {"translations": ["...", ...]}, one per input
text, in order.`,
	examples: []string{
		"rnnconvert translate testdata/goldens-text/s2s_char_lstm_translate/model.h5 --vocab testdata/goldens-text/s2s_char_lstm_translate/vocab.json --text go. --beam 3",
		"rnnconvert translate testdata/goldens-s2s/s2s_token_lstm/model.keras --source-tokenizer testdata/goldens-s2s/s2s_token_lstm/source_tokenizer.json --target-tokenizer testdata/goldens-s2s/s2s_token_lstm/target_tokenizer.json --text 'i am cold' --max-decoder-len 8",
	},
}

// maxTextsFile bounds the size of a --texts file.
const maxTextsFile = 256 << 20

func runTranslate(args []string, stdout, stderr io.Writer) int {
	fs := translateCmd.flags(stderr)
	var mf modelFlags
	mf.register(fs, "translate")
	vocab := fs.String("vocab", "", "character vocabulary `V.json` (source_chars, target_chars, start, stop, max_decoder_len)")
	srcTok := fs.String("source-tokenizer", "", "source Keras Tokenizer `FILE` (to_json, word-index JSON or pickle), for token-level models")
	tgtTok := fs.String("target-tokenizer", "", "target Keras Tokenizer `FILE`, for token-level models")
	textsFile := fs.String("texts", "", "`X.json`: a JSON list of the texts to translate")
	var texts stringList
	fs.Var(&texts, "text", "a `TEXT` to translate (repeatable; after those of --texts)")
	beam := fs.Int("beam", 1, "beam width `B`; 1 decodes greedily")
	_ = fs.Bool("json", false, "print JSON: it is the only output form (the flag is accepted for symmetry with generate)")
	strict := fs.Bool("strict", false, "fail on source characters outside source_chars instead of encoding them as all-zero rows")
	encIn := fs.String("encoder-input", "", "`NAME` of the model's encoder input, when the graph leaves it ambiguous")
	decIn := fs.String("decoder-input", "", "`NAME` of the model's decoder input, when the graph leaves it ambiguous")
	maxLen := fs.Int("max-decoder-len", 0, "most tokens `N` a translation has; 0: the vocabulary's max_decoder_len, or 50 for token models")
	start := fs.String("start", "", "target `WORD` that starts decoding (token models); none: the first pair of <start>/<end>, <sos>/<eos>,\nsos/eos, startseq/endseq, start/end, <s>/</s>, <bos>/<eos>, bos/eos the target tokenizer knows")
	stop := fs.String("stop", "", "target `WORD` that ends a translation (token models; give it with --start)")
	padding := fs.String("padding", "post", "token models whose encoder input has a fixed length: pad (and truncate) sources at the `SIDE` pre or post,\nas pad_sequences(padding=..., truncating=...) did for training")
	pos, code, done := translateCmd.parse(fs, args, stdout, stderr)
	if done {
		return code
	}
	if *beam < 1 {
		return usageError(stderr, "translate: --beam %d: want at least 1", *beam)
	}
	if *padding != "pre" && *padding != "post" {
		return usageError(stderr, "translate: --padding %q: want pre or post", *padding)
	}
	if *maxLen < 0 {
		return usageError(stderr, "translate: --max-decoder-len %d: want at least 1", *maxLen)
	}
	charLevel := *vocab != ""
	tokenLevel := *srcTok != "" || *tgtTok != ""
	switch {
	case charLevel && tokenLevel:
		return usageError(stderr, "translate: give either --vocab (character models) or --source-tokenizer and --target-tokenizer (token models), not both")
	case !charLevel && !tokenLevel:
		return usageError(stderr, "translate: needs --vocab V.json, or --source-tokenizer and --target-tokenizer")
	case tokenLevel && (*srcTok == "" || *tgtTok == ""):
		return usageError(stderr, "translate: token models need both --source-tokenizer and --target-tokenizer")
	}
	all, err := readTexts(*textsFile)
	if err != nil {
		return status(stderr, err)
	}
	all = append(all, texts...)
	if *textsFile == "" && len(texts) == 0 {
		return usageError(stderr, "translate: needs --texts X.json or --text S")
	}
	m, err := mf.load(pos)
	if err != nil {
		return status(stderr, err)
	}
	s, err := seq2seq.New(m, seq2seq.WithEncoderInput(*encIn), seq2seq.WithDecoderInput(*decIn))
	if err != nil {
		return fail(stderr, err)
	}
	var translate func(ctx context.Context, text string) (string, *seq2seq.Result, error)
	if charLevel {
		v, err := seq2seq.LoadCharVocab(*vocab)
		if err != nil {
			return fail(stderr, err)
		}
		if *maxLen > 0 {
			v.MaxDecoderLen = *maxLen
		}
		tr, err := seq2seq.NewCharTranslator(s, v)
		if err != nil {
			return fail(stderr, fmt.Errorf("%s with %s: %w", m.Description().File, *vocab, err))
		}
		tr.Beam, tr.Strict = *beam, *strict
		translate = tr.Translate
	} else {
		n := *maxLen
		if n == 0 {
			n = 50
		}
		tr, err := newTokenTranslator(s, *srcTok, *tgtTok, *start, *stop, n)
		if err != nil {
			return status(stderr, err)
		}
		tr.Beam, tr.PadPre = *beam, *padding == "pre"
		translate = tr.Translate
	}
	out := struct {
		Translations []string `json:"translations"`
	}{Translations: make([]string, 0, len(all))}
	ctx := context.Background()
	for i, text := range all {
		t, _, err := translate(ctx, text)
		if err != nil {
			return fail(stderr, fmt.Errorf("rnnconvert translate: text %d: %w", i, err))
		}
		out.Translations = append(out.Translations, t)
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fail(stderr, err)
	}
	return 0
}

// readTexts reads a JSON list of strings; "" reads nothing.
func readTexts(path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("rnnconvert: --texts: %w", err)
	}
	if fi.Size() > maxTextsFile {
		return nil, fmt.Errorf("rnnconvert: --texts %s: %d bytes, more than the %d allowed", path, fi.Size(), maxTextsFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rnnconvert: --texts: %w", err)
	}
	var texts []string
	if err := json.Unmarshal(data, &texts); err != nil {
		return nil, fmt.Errorf("rnnconvert: --texts %s: want a JSON list of strings: %v", path, err)
	}
	return texts, nil
}
