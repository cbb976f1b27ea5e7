package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/rnnkit/rnnkit/keras"
)

// modelFlags are the flags every command that loads a model shares.
type modelFlags struct {
	config, weights, kerasVersion string
	// cmd is the command name, for hints that show a command line.
	cmd string
	// vocab is --vocabulary LAYER=FILE.
	vocab vocabFlags
}

func (mf *modelFlags) register(fs *flag.FlagSet, cmd string) {
	mf.cmd = cmd
	fs.StringVar(&mf.config, "config", "", "architecture `JSON` (model.to_json()), with --weights, instead of MODEL")
	fs.StringVar(&mf.weights, "weights", "", "weights `FILE` for --config (.weights.h5 or legacy save_weights HDF5)")
	fs.StringVar(&mf.kerasVersion, "keras-version", "", "Keras `VERSION` whose semantics apply (2.1.6, 3.16.0), for files that do not record it;\nthe default is the version the file records")
	fs.Var(&mf.vocab, "vocabulary", vocabUsage)
}

// kerasVersionRE accepts the versions rnnkit knows: Keras 1 to 3, as
// MAJOR[.MINOR[.PATCH]] with an optional suffix ("2.2.4-tf").
var kerasVersionRE = regexp.MustCompile(`^[123](\.[0-9]+){0,2}([-+][0-9A-Za-z.+-]*)?$`)

func (mf *modelFlags) options() ([]keras.Option, error) {
	vopts, err := mf.vocab.options()
	if err != nil {
		return nil, err
	}
	if mf.kerasVersion == "" {
		return vopts, nil
	}
	if !kerasVersionRE.MatchString(mf.kerasVersion) {
		return nil, errUsage("--keras-version %q: want a Keras version from 1 to 3 such as 1.2.2, 2.1.6 or 3.16.0", mf.kerasVersion)
	}
	return append(vopts, keras.WithKerasVersion(mf.kerasVersion)), nil
}

// load loads the model from the positional MODEL or --config/--weights.
func (mf *modelFlags) load(pos []string) (*keras.Model, error) {
	opts, err := mf.options()
	if err != nil {
		return nil, err
	}
	switch {
	case mf.config != "" || mf.weights != "":
		if mf.config == "" || mf.weights == "" || len(pos) != 0 {
			return nil, errUsage("give either MODEL or both --config and --weights")
		}
		m, err := keras.LoadConfigAndWeights(mf.config, mf.weights, opts...)
		return m, mf.explain(err)
	case len(pos) == 1:
		m, err := keras.Load(pos[0], opts...)
		return m, mf.explain(err)
	}
	return nil, errUsage("want exactly one MODEL (or --config and --weights), got %d arguments", len(pos))
}

// describe reads the model's description without building it.
func (mf *modelFlags) describe(pos []string) (*keras.Summary, error) {
	opts, err := mf.options()
	if err != nil {
		return nil, err
	}
	if mf.config != "" {
		return keras.DescribeConfigAndWeights(mf.config, mf.weights, opts...)
	}
	return keras.Describe(pos[0], opts...)
}

// explain turns a load error the library can say more about
// (*keras.LoadError) into one whose hint names this command's flags.
func (mf *modelFlags) explain(err error) error {
	var le *keras.LoadError
	if err == nil || !errors.As(err, &le) {
		return err
	}
	var hint string
	switch {
	case le.Model != "":
		hint = fmt.Sprintf("pass it as MODEL without --config/--weights: rnnconvert %s %s", mf.cmd, le.Model)
	case le.Config != "" && le.Weights != "":
		hint = fmt.Sprintf("pass --config %s --weights %s", le.Config, le.Weights)
	case le.Weights != "":
		hint = fmt.Sprintf("pass --config model.json --weights %s, with the model's architecture JSON (model.to_json())", le.Weights)
	case le.Config != "":
		hint = fmt.Sprintf("pass --config %s --weights WEIGHTS, with the model's weights file", le.Config)
	default:
		return err
	}
	return &hintError{err: err, msg: fmt.Sprintf("rnnconvert: %s: %s: %s", filepath.Base(le.File), le.Reason, hint)}
}

// hintError replaces a library error's text with the command's own
// wording; errors.Is and As still see the library error.
type hintError struct {
	err error
	msg string
}

func (e *hintError) Error() string { return e.msg }
func (e *hintError) Unwrap() error { return e.err }

type usageErr struct{ msg string }

func (e usageErr) Error() string { return "rnnconvert: " + e.msg }

func errUsage(format string, a ...any) error { return usageErr{fmt.Sprintf(format, a...)} }

// status maps an error to an exit status: 2 for usage errors, 1 otherwise.
func status(stderr io.Writer, err error) int {
	var ue usageErr
	if errors.As(err, &ue) {
		fmt.Fprintln(stderr, err)
		return 2
	}
	return fail(stderr, err)
}

var inspectCmd = command{
	name:     "inspect",
	synopsis: []string{"MODEL [--json]", "--config model.json --weights WEIGHTS [--json]"},
	summary: `Prints the model's format, writer's Keras version, inputs (shape, dtype, whether
they take token ids and the vocabulary size), outputs and layers with output
shapes and parameter counts, like Keras' model.summary(). A model with layers
rnnkit cannot build is still described, then the command fails naming them.`,
	examples: []string{
		"rnnconvert inspect testdata/example/char_gru_generator/model.keras",
		"rnnconvert inspect testdata/example/char_gru_generator/model.h5 --json",
		"rnnconvert inspect --config testdata/example/char_gru_generator/model.json --weights testdata/example/char_gru_generator/model.weights.h5",
	},
}

func runInspect(args []string, stdout, stderr io.Writer) int {
	fs := inspectCmd.flags(stderr)
	var mf modelFlags
	mf.register(fs, "inspect")
	asJSON := fs.Bool("json", false, "print the summary as JSON (inputs, outputs, layers)")
	pos, code, done := inspectCmd.parse(fs, args, stdout, stderr)
	if done {
		return code
	}
	m, err := mf.load(pos)
	var s *keras.Summary
	switch {
	case err == nil:
		s = m.Summary()
	case errors.Is(err, keras.ErrUnsupported):
		// A model rnnkit cannot build can still be described from its
		// configuration and weights, without output shapes: show that,
		// then fail with the reason.
		var derr error
		if s, derr = mf.describe(pos); derr != nil {
			return status(stderr, err)
		}
	default:
		return status(stderr, err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(s); err != nil {
			return fail(stderr, err)
		}
	} else {
		fmt.Fprint(stdout, s.String())
	}
	if err != nil {
		return status(stderr, err)
	}
	return 0
}

// makeInput builds one model input once the model and the input's spec
// are known.
type makeInput func(m *keras.Model, spec keras.TensorSpec) (*keras.Tensor, error)

// inputSource is one use of an input flag: it gives one model input of
// one call.
type inputSource struct {
	flag, text string
	make       makeInput
}

// inputFlag is a flag each use of which gives one model input, in order
// with the other input flags: --input, --ids, --values, and those other
// files of this command add to moreInputFlags.
type inputFlag struct {
	name, usage string
	// parse checks the flag's text (a parse error is a usage error) and
	// returns what makes the tensor.
	parse func(text string) (makeInput, error)
}

// moreInputFlags are input flags defined in other files of this command
// (for example --texts); they append to it from an init function, and
// predict and verify register them beside --input, --ids and --values.
var moreInputFlags []inputFlag

// sourceFlag is the flag.Value of an inputFlag: each Set appends a source.
type sourceFlag struct {
	f    inputFlag
	list *[]inputSource
}

func (s sourceFlag) String() string { return "" }

func (s sourceFlag) Set(v string) error {
	mk, err := s.f.parse(v)
	if err != nil {
		return err
	}
	*s.list = append(*s.list, inputSource{flag: "--" + s.f.name, text: v, make: mk})
	return nil
}

// callFlags are predict's and verify's input and call-grouping flags.
type callFlags struct {
	sources []inputSource
	calls   int
}

func (cf *callFlags) register(fs *flag.FlagSet) {
	flags := append([]inputFlag{
		{"input", "input `FILE.npy`; repeat per model input, in the model's input order (and per call)", parseNPYFlag},
		{"ids", "inline token `IDS` such as \"3,7,1;4,0,0\": integers, ',' between steps, ';' between sequences\n(a batch of 2 sequences of 3 steps); one input, in order with --input and --values", parseIDsFlag},
		{"values", "inline float `VALUES` such as \"0.5,1;2,-3\", laid out like --ids; rows are reshaped to the\ninput's feature dimensions (a (None, 4, 2) input takes rows of 8 values)", parseValuesFlag},
	}, moreInputFlags...)
	for _, f := range flags {
		fs.Var(sourceFlag{f, &cf.sources}, f.name, f.usage)
	}
	fs.IntVar(&cf.calls, "calls", 1, "split the inputs into this many calls run in order on one session\n(stateful layers carry their states from call to call)")
}

func parseNPYFlag(text string) (makeInput, error) {
	return func(*keras.Model, keras.TensorSpec) (*keras.Tensor, error) { return keras.ReadNPYFile(text) }, nil
}

func parseIDsFlag(text string) (makeInput, error) {
	rows, err := parseMatrix(text, true)
	if err != nil {
		return nil, err
	}
	return func(m *keras.Model, spec keras.TensorSpec) (*keras.Tensor, error) {
		return matrixTensor(rows, spec, "--ids")
	}, nil
}

func parseValuesFlag(text string) (makeInput, error) {
	rows, err := parseMatrix(text, false)
	if err != nil {
		return nil, err
	}
	return func(m *keras.Model, spec keras.TensorSpec) (*keras.Tensor, error) {
		return matrixTensor(rows, spec, "--values")
	}, nil
}

// parseMatrix reads "1,2,3;4,5,6": rows separated by ';', values by ','
// (spaces allowed). With ints, every value must be an integer whose
// magnitude is at most 2^24 (token ids travel as float32).
func parseMatrix(text string, ints bool) ([][]float32, error) {
	var rows [][]float32
	for ri, r := range strings.Split(text, ";") {
		r = strings.TrimSpace(r)
		if r == "" {
			return nil, fmt.Errorf("row %d is empty", ri)
		}
		var row []float32
		for _, f := range strings.Split(r, ",") {
			f = strings.TrimSpace(f)
			if ints {
				n, err := strconv.ParseInt(f, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("row %d: %q is not an integer token id", ri, f)
				}
				if n > 1<<24 || n < -(1<<24) {
					return nil, fmt.Errorf("row %d: token id %d exceeds 2^24, the largest id rnnkit holds exactly", ri, n)
				}
				row = append(row, float32(n))
				continue
			}
			v, err := strconv.ParseFloat(f, 32)
			if err != nil {
				return nil, fmt.Errorf("row %d: %q is not a number", ri, f)
			}
			row = append(row, float32(v))
		}
		if len(rows) > 0 && len(row) != len(rows[0]) {
			return nil, fmt.Errorf("row %d has %d values, row 0 has %d: every sequence needs the same length (pad it)", ri, len(row), len(rows[0]))
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// matrixTensor lays rows out as the input spec says: [rows, values] for
// an input of rank 2 (or an unknown shape), each row reshaped to the
// input's dimensions after the batch for higher ranks (one open dimension
// is inferred), one value per row for rank 1.
func matrixTensor(rows [][]float32, spec keras.TensorSpec, flagName string) (*keras.Tensor, error) {
	r, c := len(rows), len(rows[0])
	data := make([]float32, 0, r*c)
	for _, row := range rows {
		data = append(data, row...)
	}
	shape := []int{r, c}
	switch rank := len(spec.Shape); {
	case rank == 1:
		if c != 1 {
			return nil, errUsage("%s: input %q is %v (one value per sequence), got rows of %d values", flagName, spec.Name, spec.Shape, c)
		}
		shape = []int{r}
	case rank > 2:
		inner := append([]int(nil), spec.Shape[1:]...)
		known, open := 1, -1
		for i, d := range inner {
			if d < 0 {
				if open >= 0 {
					return nil, errUsage("%s: input %q has shape %v with more than one open dimension after the batch: pass an .npy file with --input", flagName, spec.Name, spec.Shape)
				}
				open = i
				continue
			}
			known *= d
		}
		if known == 0 || c%known != 0 || (open < 0 && c != known) {
			return nil, errUsage("%s: rows of %d values do not fill input %q of shape %v (want a multiple of %d values per sequence)", flagName, c, spec.Name, spec.Shape, known)
		}
		if open >= 0 {
			inner[open] = c / known
		}
		shape = append([]int{r}, inner...)
	}
	return keras.FromFloat32(data, shape...)
}

// runCalls runs the inputs as cf.calls calls on one Session and returns
// every output in order (call 0's outputs, then call 1's, ...).
func (cf *callFlags) runCalls(m *keras.Model) ([]*keras.Tensor, error) {
	if len(cf.sources) == 0 {
		return nil, errUsage("no input given: pass --ids, --values or --input once per model input")
	}
	if cf.calls < 1 || len(cf.sources)%cf.calls != 0 {
		return nil, errUsage("%d inputs do not split into %d calls", len(cf.sources), cf.calls)
	}
	specs := m.Inputs()
	per := len(cf.sources) / cf.calls
	if want := len(specs); per != want {
		return nil, errUsage("model has %d inputs, got %d per call (%d inputs given, %d calls)", want, per, len(cf.sources), cf.calls)
	}
	s := m.NewSession()
	var outs []*keras.Tensor
	for c := 0; c < cf.calls; c++ {
		xs := make([]*keras.Tensor, per)
		for i := range xs {
			src := cf.sources[c*per+i]
			t, err := src.make(m, specs[i])
			if err != nil {
				return nil, err
			}
			xs[i] = t
		}
		ys, err := s.Predict(xs...)
		if err != nil {
			if cf.calls > 1 {
				return nil, fmt.Errorf("call %d: %w", c, err)
			}
			return nil, err
		}
		outs = append(outs, ys...)
	}
	return outs, nil
}

var predictCmd = command{
	name: "predict",
	synopsis: []string{
		`MODEL --ids "3,7,1;4,0,0" [--json] [--out DIR [--name-outputs]]`,
		`MODEL --values "0.5,1,2;3,4,5" ...`,
		`MODEL --input x0.npy [--input x1.npy ...] [--calls K] ...`,
		`MODEL (--texts X.json | --text S ...) [--vocabulary LAYER=FILE] [--out DIR]`,
		`MODEL --tokenizer T (--texts X.json | --text S ...) [--maxlen N --padding pre|post --truncating pre|post] ...`,
	},
	summary: `Runs MODEL on the inputs and prints its outputs, or writes them as .npy files
with --out. Give one input flag per model input, in the model's input order
(rnnconvert inspect lists them): --ids for inline token ids, --values for small
inline float inputs, --input for .npy files. With --calls K the inputs are K
calls in a row on one session. Bad inputs (a token id outside the vocabulary, a
wrong shape) fail with exit status 1 and a message naming the input.

A model with one token-id input also takes text: --tokenizer T (a Keras
Tokenizer's to_json output, a word-index JSON or a pickle) with --texts X.json
(a JSON list of strings) or --text S, tokenized (texts_to_sequences) and
padded (pad_sequences with --maxlen, --padding, --truncating, --value; without
--maxlen the model's fixed input length, else the longest text). A model whose
input takes strings (TextVectorization or StringLookup inside) runs on --texts
or --text without a tokenizer; --vocabulary LAYER=FILE supplies a lookup
layer's vocabulary that the file does not keep.`,
	examples: []string{
		`rnnconvert predict testdata/example/char_gru_generator/model.keras --ids "22,9,13;4,20,0" --json`,
		`rnnconvert predict testdata/goldens-text/pipe_sentiment_lstm_en/model.keras --tokenizer testdata/goldens-text/pipe_sentiment_lstm_en/tokenizer.json --text "a masterpiece, truly great" --maxlen 12`,
		"rnnconvert predict testdata/example/char_gru_generator/model.keras --input testdata/example/char_gru_generator/x0.npy --out /tmp/out --name-outputs",
		"rnnconvert predict testdata/goldens-text/textvectorization/tv_default_len12_lstm/model.keras --text \"Great movie!\" --out /tmp/out",
		"rnnconvert predict spam_model.h5 --vocabulary text_vectorization=vectorizer_vocab.pkl --texts texts.json --out /tmp/out",
	},
}

func runPredict(args []string, stdout, stderr io.Writer) int {
	fs := predictCmd.flags(stderr)
	var mf modelFlags
	var cf callFlags
	mf.register(fs, "predict")
	cf.register(fs)
	var tp textPredictFlags
	tp.register(fs)
	out := fs.String("out", "", "write the outputs to this `DIR` as y0.npy, y1.npy, ... (numbered across outputs and calls)\ninstead of printing them")
	named := fs.Bool("name-outputs", false, "with --out, name the files by output (<output>.npy; <output>_<call>.npy with --calls)")
	asJSON := fs.Bool("json", false, `print the outputs as JSON: {"outputs": [{"name", "call", "shape", "values"}]};
NaN and infinities print as the strings "NaN", "Infinity", "-Infinity"`)
	var maxMem byteSize
	fs.Var(&maxMem, "max-memory", "memory budget of each call, `SIZE` in bytes with an optional unit (512MiB, 2GB, 1073741824),\nor none: a call estimated to need more fails before it runs (default 1GiB)")
	pos, code, done := predictCmd.parse(fs, args, stdout, stderr)
	if done {
		return code
	}
	if *named && *out == "" {
		return usageError(stderr, "--name-outputs needs --out DIR")
	}
	m, err := mf.load(pos)
	if err != nil {
		return status(stderr, err)
	}
	m = withMemory(m, &maxMem)
	var ys []*keras.Tensor
	if tp.active() {
		ys, err = tp.predict(m)
	} else {
		ys, err = cf.runCalls(m)
	}
	if err != nil {
		return status(stderr, err)
	}
	results := nameOutputs(m, ys, cf.calls)
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return fail(stderr, err)
		}
		for i := range results {
			r := &results[i]
			name := fmt.Sprintf("y%d.npy", i)
			if *named {
				name = r.fileName(cf.calls) + ".npy"
			}
			r.File = filepath.Join(*out, name)
			if err := keras.WriteNPYFile(r.File, r.t); err != nil {
				return fail(stderr, err)
			}
			if !*asJSON {
				fmt.Fprintf(stdout, "%s %v\n", r.File, r.t.Shape)
			}
		}
	}
	switch {
	case *asJSON:
		if err := writeJSON(stdout, results); err != nil {
			return fail(stderr, err)
		}
	case *out == "":
		writeText(stdout, results, cf.calls)
	}
	return 0
}

// outputResult is one output of one call.
type outputResult struct {
	Name string `json:"name"`
	// unique is Name made unique among the model's outputs (two outputs
	// of one layer are "lstm" and "lstm_1"), for file names.
	unique string
	Call   int    `json:"call"`
	File   string `json:"file,omitempty"`
	t      *keras.Tensor
}

// nameOutputs pairs the outputs (all calls, in order) with the model's
// output names.
func nameOutputs(m *keras.Model, ys []*keras.Tensor, calls int) []outputResult {
	specs := m.Outputs()
	unique := make([]string, len(specs))
	used := map[string]bool{}
	for i, s := range specs {
		base := safeName(s.Name)
		if base == "" {
			base = fmt.Sprintf("output%d", i)
		}
		u := base
		for n := 1; used[u]; n++ {
			u = fmt.Sprintf("%s_%d", base, n)
		}
		used[u] = true
		unique[i] = u
	}
	res := make([]outputResult, len(ys))
	per := max(1, len(ys)/max(1, calls))
	for i, y := range ys {
		j := i % per
		r := outputResult{Call: i / per, t: y}
		if j < len(specs) {
			r.Name, r.unique = specs[j].Name, unique[j]
		} else {
			r.unique = fmt.Sprintf("output%d", j)
		}
		res[i] = r
	}
	return res
}

func (r *outputResult) fileName(calls int) string {
	if calls > 1 {
		return fmt.Sprintf("%s_%d", r.unique, r.Call)
	}
	return r.unique
}

// safeName keeps a layer name usable as a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
			return r
		}
		return '_'
	}, strings.Trim(s, "."))
}

// writeText prints each output's name and shape, then one line per row
// along the last axis, prefixed by the row's index.
func writeText(w io.Writer, results []outputResult, calls int) {
	for _, r := range results {
		fmt.Fprintf(w, "%s", r.Name)
		if calls > 1 {
			fmt.Fprintf(w, " (call %d)", r.Call)
		}
		fmt.Fprintf(w, ": shape %v\n", r.t.Shape)
		lead := r.t.Shape
		if len(lead) > 0 {
			lead = lead[:len(lead)-1]
		}
		for i := range r.t.Rows() {
			idx := make([]string, len(lead))
			k := i
			for j := len(lead) - 1; j >= 0; j-- {
				idx[j] = strconv.Itoa(k % max(lead[j], 1))
				k /= max(lead[j], 1)
			}
			fmt.Fprintf(w, "  [%s]", strings.Join(idx, " "))
			for _, v := range r.t.Row(i) {
				fmt.Fprintf(w, " %s", formatFloat(v))
			}
			fmt.Fprintln(w)
		}
	}
}

func formatFloat(v float32) string {
	return strconv.FormatFloat(float64(v), 'g', -1, 32)
}

// writeJSON prints {"outputs": [...]}, each output with its values nested
// as its shape says (numpy's tolist()).
func writeJSON(w io.Writer, results []outputResult) error {
	var b strings.Builder
	b.WriteString("{\"outputs\": [")
	for i, r := range results {
		if i > 0 {
			b.WriteString(",")
		}
		name, err := json.Marshal(r.Name)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "\n  {\"name\": %s, \"call\": %d, ", name, r.Call)
		if r.File != "" {
			file, err := json.Marshal(r.File)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "\"file\": %s, ", file)
		}
		b.WriteString("\"shape\": [")
		for i, d := range r.t.Shape {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Itoa(d))
		}
		b.WriteString("], \"values\": ")
		writeNested(&b, r.t.Data, r.t.Shape)
		b.WriteString("}")
	}
	b.WriteString("\n]}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeNested(b *strings.Builder, data []float32, shape []int) {
	if len(shape) == 0 {
		if len(data) > 0 {
			b.WriteString(jsonFloat(data[0]))
		}
		return
	}
	n := shape[0]
	step := 0
	if n > 0 {
		step = len(data) / n
	}
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		writeNested(b, data[i*step:(i+1)*step], shape[1:])
	}
	b.WriteByte(']')
}

func jsonFloat(v float32) string {
	f := float64(v)
	switch {
	case f != f:
		return `"NaN"`
	case f > 3.5e38:
		return `"Infinity"`
	case f < -3.5e38:
		return `"-Infinity"`
	}
	return formatFloat(v)
}

var verifyCmd = command{
	name: "verify",
	synopsis: []string{
		"MODEL --input x0.npy [--input ...] --expect y0.npy [--expect ...] [--calls K] [--atol A] [--rtol R]",
		"--case DIR",
		"MODEL",
	},
	summary: `Runs MODEL on the inputs and compares every output with the one Keras computed,
|got - want| <= atol + rtol*|want|; exits with status 1 when one is out of
tolerance. --case runs a reference case folder holding case.json (the golden
cases of testdata/goldens, or the expected/ folder of a real-world artifact) in
every format it ships. MODEL alone replays the self-check vectors that
rnnconvert seal MODEL --case DIR stored beside it (MODEL.selfcheck.npz); the
load checks MODEL.sha256 when it is there.`,
	examples: []string{
		"rnnconvert verify --case testdata/example/char_gru_generator",
		"rnnconvert verify testdata/example/char_gru_generator/model.keras --input testdata/example/char_gru_generator/x0.npy --expect testdata/example/char_gru_generator/y0.npy",
	},
}

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := verifyCmd.flags(stderr)
	var mf modelFlags
	var cf callFlags
	var expects stringList
	mf.register(fs, "verify")
	cf.register(fs)
	fs.Var(&expects, "expect", "expected output `FILE.npy` computed by Keras; repeat per output, in the model's output order (and per call)")
	caseDir := fs.String("case", "", "run a reference case `DIR` (case.json, model files, x*.npy, y*.npy) instead of MODEL")
	atol := fs.Float64("atol", keras.DefaultAtol, "absolute tolerance")
	rtol := fs.Float64("rtol", keras.DefaultRtol, "relative tolerance")
	pos, code, done := verifyCmd.parse(fs, args, stdout, stderr)
	if done {
		return code
	}
	if *caseDir != "" {
		if len(pos) != 0 || len(cf.sources) != 0 || len(expects) != 0 || mf.config != "" {
			return usageError(stderr, "--case takes no MODEL, --input, --expect or --config")
		}
		if _, err := mf.options(); err != nil {
			return status(stderr, err)
		}
		return verifyCase(*caseDir, mf.kerasVersion, stdout, stderr)
	}
	m, err := mf.load(pos)
	if err != nil {
		return status(stderr, err)
	}
	if len(cf.sources) == 0 && len(expects) == 0 {
		return verifySelfCheck(m, &mf, pos, stdout, stderr)
	}
	ys, err := cf.runCalls(m)
	if err != nil {
		return status(stderr, err)
	}
	if len(expects) != len(ys) {
		return usageError(stderr, "model produced %d outputs over %d calls, got %d --expect files", len(ys), cf.calls, len(expects))
	}
	ok := true
	perCall := len(ys) / cf.calls
	for i, y := range ys {
		want, err := keras.ReadNPYFile(expects[i])
		if err != nil {
			return fail(stderr, err)
		}
		r := keras.Compare(y, want, *atol, *rtol)
		r.File, r.Call = expects[i], i/perCall
		ok = printResult(stdout, &r) && ok
	}
	if !ok {
		fmt.Fprintln(stderr, "rnnconvert: outputs out of tolerance")
		return 1
	}
	return 0
}

// printResult prints one comparison line and reports whether it passed.
func printResult(w io.Writer, r *keras.OutputResult) bool {
	verdict := "ok"
	if !r.OK() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%-4s %s\n", verdict, r)
	return r.OK()
}

// verifyCase runs every format a case ships.
func verifyCase(dir, kerasVersion string, stdout, stderr io.Writer) int {
	if _, err := os.Stat(filepath.Join(dir, "case.json")); err != nil {
		if _, e2 := os.Stat(filepath.Join(dir, "expected", "case.json")); e2 == nil {
			return usageError(stderr, "%s is a real-world artifact folder: its reference case is in expected/: pass --case %s", dir, filepath.Join(dir, "expected"))
		}
		return usageError(stderr, "--case %s: no case.json there: pass a folder holding case.json (a golden case, or an artifact's expected/ folder)", dir)
	}
	c, err := keras.ReadCase(dir)
	if err != nil {
		return fail(stderr, err)
	}
	var opts []keras.Option
	if kerasVersion != "" {
		opts = append(opts, keras.WithKerasVersion(kerasVersion))
	}
	formats := c.Formats
	if len(formats) == 0 {
		return fail(stderr, fmt.Errorf("rnnconvert: case %s lists no formats", dir))
	}
	ok := true
	for _, f := range formats {
		fmt.Fprintf(stdout, "%s [%s]\n", c.Name, f)
		m, err := c.Load(f, opts...)
		if err != nil {
			fmt.Fprintln(stderr, err)
			ok = false
			continue
		}
		results, err := c.Run(m)
		for i := range results {
			ok = printResult(stdout, &results[i]) && ok
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			ok = false
		}
	}
	if !ok {
		fmt.Fprintln(stderr, "rnnconvert: case failed")
		return 1
	}
	return 0
}
