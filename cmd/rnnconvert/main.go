// Command rnnconvert inspects, runs and verifies Keras recurrent models
// with rnnkit, without Python.
//
// Usage:
//
//	rnnconvert inspect MODEL [--json]
//	rnnconvert predict MODEL --input x0.npy [--input x1.npy ...] --out DIR [--calls K]
//	rnnconvert verify MODEL --input x0.npy ... --expect y0.npy ... [--calls K] [--atol A] [--rtol R]
//	rnnconvert verify --case DIR
//	rnnconvert h5 FILE [--json] [--data]
//
// MODEL is a file or directory in any format keras.Load reads (.h5, .keras,
// SavedModel directory, TF.js model.json), or --config model.json
// --weights WEIGHTS for an architecture JSON with its weights file.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  rnnconvert inspect MODEL [--json]
  rnnconvert predict MODEL --input x0.npy [--input ...] --out DIR [--calls K]
  rnnconvert verify MODEL --input x0.npy [--input ...] --expect y0.npy [--expect ...] [--calls K] [--atol A] [--rtol R]
  rnnconvert verify --case DIR
  rnnconvert h5 FILE [--json] [--data]
  rnnconvert tokenize|detokenize|pad|generate ... (Keras Tokenizer, pad_sequences, text generation; --help each)
  rnnconvert translate MODEL (--vocab V.json | --source-tokenizer S --target-tokenizer T) --texts X.json [--beam B] [--json]

MODEL is a .h5/.keras file, a SavedModel directory or a TF.js model.json;
instead of MODEL, --config model.json --weights WEIGHTS loads an
architecture JSON with its weights. --keras-version V sets the writer's
Keras version for files that do not record it.
`

// run executes one command line and returns the exit status: 0 on
// success, 1 when the work failed (load error, outputs out of tolerance),
// 2 on a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "inspect":
		return runInspect(rest, stdout, stderr)
	case "predict":
		return runPredict(rest, stdout, stderr)
	case "verify":
		return runVerify(rest, stdout, stderr)
	case "h5":
		return runH5Command(rest, stdout, stderr)
	case "tokenize", "detokenize", "pad", "generate":
		return runTextCommand(cmd, rest, stdout, stderr)
	case "translate":
		return runTranslate(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "rnnconvert: unknown command %q\n%s", cmd, usage)
	return 2
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// parseInterleaved parses flags that may come before or after positional
// arguments ("inspect MODEL --json"), which flag.Parse alone stops at.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("rnnconvert "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	return fs
}

// fail prints err as it is to stderr and returns status 1.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, err)
	return 1
}

// usageError prints a usage problem and returns status 2.
func usageError(stderr io.Writer, format string, a ...any) int {
	fmt.Fprintf(stderr, "rnnconvert: "+format+"\n", a...)
	return 2
}

// parseFailed converts a flag parse error to a status: -h is success.
func parseFailed(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}
