package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/runtime"
	"github.com/rnnkit/rnnkit/text"
)

// The text commands: tokenize, detokenize and pad (Keras' Tokenizer and
// pad_sequences), and predict's --tokenizer path. Results go to stdout as
// JSON; what Keras refuses exits 1 with the reason on stderr.

const tokenizeHelp = `usage: rnnconvert tokenize --tokenizer T (--texts X.json | --text S ...) [flags]

Tokenizes texts as the Keras Tokenizer T does (texts_to_sequences) and prints
{"sequences": [[...], ...]}; with --maxlen also "padded" (pad_sequences);
with --matrix MODE prints {"matrix": [[...], ...]} (texts_to_matrix, float64).
T is Tokenizer.to_json() output (also JSON-encoded twice), a word-index JSON,
or a pickle of a Tokenizer or word-index dict. X.json is a JSON list of strings.

flags:
`

const tokenizeExample = `
example:
  rnnconvert tokenize --tokenizer testdata/goldens-text/tok_default_en/tokenizer.json \
    --text "The movie was great" --maxlen 6
`

const detokenizeHelp = `usage: rnnconvert detokenize --tokenizer T --sequences S.json

Turns id sequences back into texts as the Keras Tokenizer's sequences_to_texts
(words joined by one space) and prints {"texts": [...]}. An id that is not in
the tokenizer's index_word (including the padding id 0) is an error; with
--lenient it is dropped, or becomes the OOV token, exactly as Keras does.

flags:
`

const detokenizeExample = `
example:
  echo '[[1, 2, 3]]' > /tmp/s.json
  rnnconvert detokenize --tokenizer testdata/goldens-text/tok_default_en/tokenizer.json --sequences /tmp/s.json
`

const padHelp = `usage: rnnconvert pad --sequences S.json [flags]

Pads id sequences as keras.utils.pad_sequences and prints {"padded": [[...]]}.
What Keras refuses (maxlen < 0, an unknown padding mode, maxlen 0 with
truncating pre, ...) exits 1 with a message.

flags:
`

const padExample = `
example:
  echo '[[1], [2, 3], [4, 5, 6]]' > /tmp/s.json
  rnnconvert pad --sequences /tmp/s.json --maxlen 2 --padding post
`

// helpUsage sets a FlagSet's help: text, the flags with defaults, example,
// printed to w (stdout: --help is output the user asked for).
func helpUsage(fs *flag.FlagSet, w io.Writer, head, example string) {
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprint(w, head)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(out)
		fmt.Fprint(w, example)
	}
}

// newFlagSet returns a text command's FlagSet, reporting errors to stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("rnnconvert "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFailed converts a flag parse error to a status: --help is success.
func parseFailed(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// writeJSONValue prints v as one line of JSON, without HTML escaping.
func writeJSONValue(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// optInt is an int flag that remembers whether it was given.
type optInt struct {
	v   int
	set bool
}

func (o *optInt) String() string {
	if !o.set {
		return ""
	}
	return strconv.Itoa(o.v)
}

func (o *optInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("want an integer")
	}
	o.v, o.set = n, true
	return nil
}

// padFlags are pad_sequences' arguments.
type padFlags struct {
	maxlen              optInt
	padding, truncating string
	value               float64
	dtype               string
}

func (pf *padFlags) register(fs *flag.FlagSet, withDType bool) {
	fs.Var(&pf.maxlen, "maxlen", "pad or truncate to this length (default: the longest sequence)")
	fs.StringVar(&pf.padding, "padding", "pre", "pad before (pre) or after (post)")
	fs.StringVar(&pf.truncating, "truncating", "pre", "cut from the start (pre) or the end (post)")
	fs.Float64Var(&pf.value, "value", 0, "padding value")
	if withDType {
		fs.StringVar(&pf.dtype, "dtype", "int32", "int32 or float32")
	}
}

func (pf *padFlags) options() text.PadOptions {
	o := text.PadOptions{Padding: pf.padding, Truncating: pf.truncating, Value: pf.value, DType: pf.dtype}
	if pf.maxlen.set {
		o.MaxLen = text.MaxLen(pf.maxlen.v)
	}
	return o
}

// textsFlags name the input texts: --texts X.json or --text S (repeatable).
type textsFlags struct {
	file  string
	texts stringList
}

func (tf *textsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&tf.file, "texts", "", "JSON file holding a list of strings")
	fs.Var(&tf.texts, "text", "a text (repeatable), instead of --texts")
}

func (tf *textsFlags) given() bool { return tf.file != "" || len(tf.texts) > 0 }

func (tf *textsFlags) read() ([]string, error) {
	switch {
	case tf.file != "" && len(tf.texts) > 0:
		return nil, errUsage("give --texts or --text, not both")
	case tf.file != "":
		b, err := os.ReadFile(tf.file)
		if err != nil {
			return nil, err
		}
		var texts []string
		if err := json.Unmarshal(b, &texts); err != nil {
			return nil, fmt.Errorf("%s: want a JSON list of strings: %w", tf.file, err)
		}
		return texts, nil
	case len(tf.texts) > 0:
		return tf.texts, nil
	}
	return nil, errUsage("no texts: give --texts X.json or --text S")
}

// readSequences reads a JSON list of lists of numbers.
func readSequences(path string) ([][]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var seqs [][]float64
	if err := json.Unmarshal(b, &seqs); err != nil {
		return nil, fmt.Errorf("%s: want a JSON list of lists of numbers: %w", path, err)
	}
	for i, s := range seqs {
		if s == nil {
			seqs[i] = []float64{}
		}
	}
	return seqs, nil
}

func intSequences(path string, seqs [][]float64) ([][]int, error) {
	out := make([][]int, len(seqs))
	for i, s := range seqs {
		out[i] = make([]int, len(s))
		for j, v := range s {
			if v != math.Trunc(v) || math.Abs(v) > math.MaxInt32 {
				return nil, fmt.Errorf("%s: sequence %d position %d: %v is not a token id", path, i, j, v)
			}
			out[i][j] = int(v)
		}
	}
	return out, nil
}

// paddedJSON renders a Padded matrix: ints for int32; for float32 each
// value's exact float64 (0.1 prints as 0.10000000149011612, what numpy's
// float32 0.1 is as a Python float), so a reader comparing with Keras'
// float32 array, exactly or after a cast, sees the same numbers.
func paddedJSON(p *text.Padded) [][]json.Number {
	rows := make([][]json.Number, p.Rows)
	for i := range rows {
		row := p.Row(i)
		r := make([]json.Number, len(row))
		for j, v := range row {
			if p.DType == "int32" {
				r[j] = json.Number(strconv.FormatInt(int64(v), 10))
			} else {
				r[j] = json.Number(strconv.FormatFloat(float64(float32(v)), 'g', -1, 64))
			}
		}
		rows[i] = r
	}
	return rows
}

func runTokenize(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("tokenize", stderr)
	helpUsage(fs, stdout, tokenizeHelp, tokenizeExample)
	tokPath := fs.String("tokenizer", "", "Keras Tokenizer file (required)")
	var tf textsFlags
	tf.register(fs)
	var pf padFlags
	pf.register(fs, true)
	matrix := fs.String("matrix", "", "print texts_to_matrix in this mode instead: binary, count, freq or tfidf")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return parseFailed(err)
	}
	if len(pos) != 0 {
		return usageError(stderr, "tokenize takes no positional arguments, got %q", pos)
	}
	if *tokPath == "" {
		return usageError(stderr, "tokenize needs --tokenizer T")
	}
	texts, err := tf.read()
	if err != nil {
		return status(stderr, err)
	}
	tok, err := text.LoadTokenizer(*tokPath)
	if err != nil {
		return fail(stderr, err)
	}
	if *matrix != "" {
		m, err := tok.TextsToMatrix(texts, *matrix)
		if err != nil {
			return fail(stderr, err)
		}
		if m == nil {
			m = [][]float64{}
		}
		return okOrFail(stderr, writeJSONValue(stdout, map[string]any{"matrix": m}))
	}
	seqs, err := tok.TextsToSequences(texts)
	if err != nil {
		return fail(stderr, err)
	}
	out := map[string]any{"sequences": seqs}
	if pf.maxlen.set {
		p, err := text.PadSequences(seqs, pf.options())
		if err != nil {
			return fail(stderr, err)
		}
		out["padded"] = paddedJSON(p)
	}
	return okOrFail(stderr, writeJSONValue(stdout, out))
}

func okOrFail(stderr io.Writer, err error) int {
	if err != nil {
		return fail(stderr, err)
	}
	return 0
}

func runDetokenize(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("detokenize", stderr)
	helpUsage(fs, stdout, detokenizeHelp, detokenizeExample)
	tokPath := fs.String("tokenizer", "", "Keras Tokenizer file (required)")
	seqPath := fs.String("sequences", "", "JSON list of id lists (required)")
	lenient := fs.Bool("lenient", false, "drop ids not in index_word (or write the OOV token) as Keras does, instead of failing")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return parseFailed(err)
	}
	if len(pos) != 0 || *tokPath == "" || *seqPath == "" {
		return usageError(stderr, "detokenize needs --tokenizer T --sequences S.json and no positional arguments")
	}
	tok, err := text.LoadTokenizer(*tokPath)
	if err != nil {
		return fail(stderr, err)
	}
	raw, err := readSequences(*seqPath)
	if err != nil {
		return fail(stderr, err)
	}
	seqs, err := intSequences(*seqPath, raw)
	if err != nil {
		return fail(stderr, err)
	}
	texts, err := tok.SequencesToTexts(seqs)
	if *lenient {
		texts, err = tok.SequencesToTextsLenient(seqs)
	}
	if err != nil {
		return fail(stderr, fmt.Errorf("%s: %w", *seqPath, err))
	}
	return okOrFail(stderr, writeJSONValue(stdout, map[string]any{"texts": texts}))
}

func runPad(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("pad", stderr)
	helpUsage(fs, stdout, padHelp, padExample)
	seqPath := fs.String("sequences", "", "JSON list of number lists (required)")
	var pf padFlags
	pf.register(fs, true)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return parseFailed(err)
	}
	if len(pos) != 0 || *seqPath == "" {
		return usageError(stderr, "pad needs --sequences S.json and no positional arguments")
	}
	seqs, err := readSequences(*seqPath)
	if err != nil {
		return fail(stderr, err)
	}
	p, err := text.PadFloatSequences(seqs, pf.options())
	if err != nil {
		return fail(stderr, fmt.Errorf("%s: %w", *seqPath, err))
	}
	return okOrFail(stderr, writeJSONValue(stdout, map[string]any{"padded": paddedJSON(p)}))
}

// textPredictFlags are predict's text-input flags: with --tokenizer, the
// texts are tokenized and padded (Keras' Tokenizer and pad_sequences) into
// the token ids the model's one input takes.
type textPredictFlags struct {
	tokenizer string
	texts     textsFlags
	pad       padFlags
}

func (tp *textPredictFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&tp.tokenizer, "tokenizer", "", "Keras Tokenizer file: tokenize and pad --texts into the model's token-id input")
	tp.texts.register(fs)
	tp.pad.register(fs, false)
}

// active reports whether predict was given text input.
func (tp *textPredictFlags) active() bool { return tp.tokenizer != "" || tp.texts.given() }

// predict turns the texts into the model's input and predicts: a model with
// a string input takes them as they are; a token-id model needs the
// tokenizer, and the ids are padded. Without --maxlen the model's fixed
// input length applies, else the longest sequence (pad_sequences'
// default). Usage errors are errUsage (status 2).
func (tp *textPredictFlags) predict(m *keras.Model) ([]*keras.Tensor, error) {
	texts, err := tp.texts.read()
	if err != nil {
		return nil, err
	}
	if tp.tokenizer == "" {
		if stringInput(m) < 0 {
			return nil, errNotStrings
		}
		return predictStrings(m, texts)
	}
	ins := m.Inputs()
	if len(ins) != 1 || len(ins[0].Shape) != 2 {
		return nil, fmt.Errorf("predict --tokenizer: the model has %d inputs, want one (batch, time) token-id input", len(ins))
	}
	tok, err := text.LoadTokenizer(tp.tokenizer)
	if err != nil {
		return nil, err
	}
	seqs, err := tok.TextsToSequences(texts)
	if err != nil {
		return nil, err
	}
	opts := tp.pad.options()
	if opts.MaxLen == nil && ins[0].Shape[1] > 0 {
		opts.MaxLen = text.MaxLen(ins[0].Shape[1])
	}
	p, err := text.PadSequences(seqs, opts)
	if err != nil {
		return nil, err
	}
	x, err := runtime.FromData(p.Float32s(), p.Rows, p.Cols)
	if err != nil {
		return nil, err
	}
	ys, err := m.Predict(x)
	if err != nil {
		if errors.Is(err, keras.ErrInput) {
			return nil, fmt.Errorf("padded ids of shape %v: %w", x.Shape, err)
		}
		return nil, err
	}
	return ys, nil
}

// runTextCommand dispatches the text commands (one case line in run).
func runTextCommand(cmd string, args []string, stdout, stderr io.Writer) int {
	switch cmd {
	case "tokenize":
		return runTokenize(args, stdout, stderr)
	case "detokenize":
		return runDetokenize(args, stdout, stderr)
	case "pad":
		return runPad(args, stdout, stderr)
	}
	return runGenerate(args, stdout, stderr)
}
