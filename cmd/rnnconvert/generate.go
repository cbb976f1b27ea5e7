package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/rnnkit/rnnkit/generate"
	"github.com/rnnkit/rnnkit/text"
)

const generateHelp = `usage: rnnconvert generate MODEL --tokenizer T --seed TEXT --steps N [flags]

Continues TEXT with a Keras language model (token ids in, next-token
probabilities out) and its Tokenizer T. With --window W (default: the model's
fixed input length) every step re-predicts on the last W ids pre-padded with
0, as Keras tutorials do; a model with an open input length and no --window
streams, feeding one id per step. Greedy by default; --temperature samples,
optionally restricted by --top-k and --top-p, seeded by --rand-seed.
Prints the continuation (char-level tokens joined without a separator,
word-level with one space), or {"ids": [...], "text": "..."} with --json.

flags:
`

const generateExample = `
example:
  rnnconvert generate testdata/goldens-text/gen_char_lstm_en/model.keras \
    --tokenizer testdata/goldens-text/gen_char_lstm_en/tokenizer.json \
    --seed "the movie " --steps 25 --window 10 --json
`

func runGenerate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("generate", stderr)
	helpUsage(fs, stdout, generateHelp, generateExample)
	var mf modelFlags
	mf.register(fs, "generate")
	tokPath := fs.String("tokenizer", "", "Keras Tokenizer file (required)")
	seed := fs.String("seed", "", "the prompt text")
	steps := fs.Int("steps", 0, "number of tokens to generate (required, > 0)")
	window := fs.Int("window", 0, "re-predict on the last W ids, pre-padded with 0 (0: the model's input length, or stream)")
	greedy := fs.Bool("greedy", false, "argmax decoding (the default; excludes --temperature)")
	temperature := fs.Float64("temperature", 0, "sample with this temperature (0: greedy)")
	topK := fs.Int("top-k", 0, "sample among the K most likely tokens (with --temperature)")
	topP := fs.Float64("top-p", 0, "sample among the most likely tokens of total probability P (with --temperature)")
	randSeed := fs.Uint64("rand-seed", 1, "seed of the sampling random source")
	var stops stringList
	fs.Var(&stops, "stop", "stop when this token is generated (repeatable; not printed)")
	asJSON := fs.Bool("json", false, `print {"ids": [...], "text": "..."}`)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return parseFailed(err)
	}
	if *tokPath == "" {
		return usageError(stderr, "generate needs --tokenizer T")
	}
	if *steps <= 0 {
		return usageError(stderr, "generate needs --steps N > 0")
	}
	if *greedy && *temperature != 0 {
		return usageError(stderr, "--greedy and --temperature exclude each other")
	}
	tok, err := text.LoadTokenizer(*tokPath)
	if err != nil {
		return fail(stderr, err)
	}
	m, err := mf.load(pos)
	if err != nil {
		return status(stderr, err)
	}
	opts := generate.Options{Steps: *steps, Window: *window, Temperature: *temperature, TopK: *topK, TopP: *topP}
	if *temperature > 0 {
		opts.Rand = rand.New(rand.NewPCG(*randSeed, 0))
	}
	for _, s := range stops {
		id, ok := tok.ID(s)
		if !ok {
			return fail(stderr, fmt.Errorf("--stop %q: not in the tokenizer's word index", s))
		}
		opts.StopIDs = append(opts.StopIDs, id)
	}
	g, err := generate.New(m, tok, opts)
	if err != nil {
		if errors.Is(err, generate.ErrOptions) {
			return usageError(stderr, "%v", err)
		}
		return fail(stderr, err)
	}
	r, err := g.Generate(context.Background(), *seed)
	if err != nil {
		return fail(stderr, err)
	}
	if *asJSON {
		ids := r.IDs
		if ids == nil {
			ids = []int{}
		}
		return okOrFail(stderr, writeJSONValue(stdout, map[string]any{"ids": ids, "text": r.Text}))
	}
	fmt.Fprintln(stdout, r.Text)
	return 0
}
