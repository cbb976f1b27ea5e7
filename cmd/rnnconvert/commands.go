package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/runtime"
)

// modelFlags are the flags every command that loads a model shares.
type modelFlags struct {
	config, weights, kerasVersion string
}

func (mf *modelFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&mf.config, "config", "", "architecture JSON (with --weights) instead of MODEL")
	fs.StringVar(&mf.weights, "weights", "", "weights file for --config")
	fs.StringVar(&mf.kerasVersion, "keras-version", "", "Keras version whose semantics apply when the file does not record it")
}

// load loads the model from the positional MODEL or --config/--weights.
func (mf *modelFlags) load(pos []string) (*keras.Model, error) {
	var opts []keras.Option
	if mf.kerasVersion != "" {
		opts = append(opts, keras.WithKerasVersion(mf.kerasVersion))
	}
	switch {
	case mf.config != "" || mf.weights != "":
		if mf.config == "" || mf.weights == "" || len(pos) != 0 {
			return nil, errUsage("give either MODEL or both --config and --weights")
		}
		return keras.LoadConfigAndWeights(mf.config, mf.weights, opts...)
	case len(pos) == 1:
		return keras.Load(pos[0], opts...)
	}
	return nil, errUsage("want exactly one MODEL (or --config and --weights), got %d arguments", len(pos))
}

// describe reads the model's description without building it.
func (mf *modelFlags) describe(pos []string) (*keras.Summary, error) {
	var opts []keras.Option
	if mf.kerasVersion != "" {
		opts = append(opts, keras.WithKerasVersion(mf.kerasVersion))
	}
	if mf.config != "" {
		return keras.DescribeConfigAndWeights(mf.config, mf.weights, opts...)
	}
	return keras.Describe(pos[0], opts...)
}

type usageErr struct{ msg string }

func (e usageErr) Error() string { return "rnnconvert: " + e.msg }

func errUsage(format string, a ...any) error { return usageErr{fmt.Sprintf(format, a...)} }

// status maps an error to an exit status: 2 for usage errors, 1 otherwise.
func status(stderr io.Writer, err error) int {
	if _, ok := err.(usageErr); ok {
		fmt.Fprintln(stderr, err)
		return 2
	}
	return fail(stderr, err)
}

func runInspect(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("inspect", stderr)
	var mf modelFlags
	mf.register(fs)
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return parseFailed(err)
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

// callFlags are predict's and verify's input and call-grouping flags.
type callFlags struct {
	inputs stringList
	calls  int
}

func (cf *callFlags) register(fs *flag.FlagSet) {
	fs.Var(&cf.inputs, "input", "input .npy file, in model input order; repeat per input (and per call)")
	fs.IntVar(&cf.calls, "calls", 1, "split the inputs into this many calls run in order on one stateful session")
}

// runCalls runs the inputs as cf.calls calls on one Session and returns
// every output in order (call 0's outputs, then call 1's, ...).
func (cf *callFlags) runCalls(m *keras.Model) ([]*runtime.Tensor, error) {
	if len(cf.inputs) == 0 {
		return nil, errUsage("no --input given")
	}
	if cf.calls < 1 || len(cf.inputs)%cf.calls != 0 {
		return nil, errUsage("%d inputs do not split into %d calls", len(cf.inputs), cf.calls)
	}
	per := len(cf.inputs) / cf.calls
	if want := len(m.Inputs()); per != want {
		return nil, errUsage("model has %d inputs, got %d per call (%d files, %d calls)", want, per, len(cf.inputs), cf.calls)
	}
	s := m.NewSession()
	var outs []*runtime.Tensor
	for c := 0; c < cf.calls; c++ {
		xs := make([]*runtime.Tensor, per)
		for i := range xs {
			t, err := keras.ReadNPYFile(cf.inputs[c*per+i])
			if err != nil {
				return nil, err
			}
			xs[i] = t
		}
		ys, err := s.Predict(xs...)
		if err != nil {
			return nil, fmt.Errorf("call %d: %w", c, err)
		}
		outs = append(outs, ys...)
	}
	return outs, nil
}

func runPredict(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("predict", stderr)
	var mf modelFlags
	var cf callFlags
	mf.register(fs)
	cf.register(fs)
	var tp textPredictFlags
	tp.register(fs)
	out := fs.String("out", "", "directory for the outputs y0.npy, y1.npy, ...")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return parseFailed(err)
	}
	if *out == "" {
		return usageError(stderr, "predict needs --out DIR")
	}
	m, err := mf.load(pos)
	if err != nil {
		return status(stderr, err)
	}
	if tp.active() {
		return tp.predict(m, *out, stdout, stderr)
	}
	ys, err := cf.runCalls(m)
	if err != nil {
		return status(stderr, err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fail(stderr, err)
	}
	for i, y := range ys {
		p := filepath.Join(*out, fmt.Sprintf("y%d.npy", i))
		if err := keras.WriteNPYFile(p, y); err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "%s %v\n", p, y.Shape)
	}
	return 0
}

func runVerify(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", stderr)
	var mf modelFlags
	var cf callFlags
	var expects stringList
	mf.register(fs)
	cf.register(fs)
	fs.Var(&expects, "expect", "expected output .npy, in model output order; repeat per output (and per call)")
	caseDir := fs.String("case", "", "run a golden case folder (case.json, model files, x*.npy, y*.npy)")
	atol := fs.Float64("atol", keras.DefaultAtol, "absolute tolerance")
	rtol := fs.Float64("rtol", keras.DefaultRtol, "relative tolerance")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return parseFailed(err)
	}
	if *caseDir != "" {
		if len(pos) != 0 || len(cf.inputs) != 0 || len(expects) != 0 || mf.config != "" {
			return usageError(stderr, "--case takes no MODEL, --input, --expect or --config")
		}
		return verifyCase(*caseDir, mf.kerasVersion, stdout, stderr)
	}
	m, err := mf.load(pos)
	if err != nil {
		return status(stderr, err)
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
