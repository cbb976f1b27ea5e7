// Command rnnconvert inspects, runs and verifies Keras recurrent models
// with rnnkit, without Python.
//
// Usage:
//
//	rnnconvert inspect MODEL [--json]
//	rnnconvert predict MODEL (--ids "3,7,1;4,0,0" | --values "0.5,1;2,3" | --input x0.npy) [--json] [--out DIR]
//	rnnconvert verify MODEL --input x0.npy ... --expect y0.npy ... [--calls K] [--atol A] [--rtol R]
//	rnnconvert verify --case DIR
//	rnnconvert verify MODEL            (replays MODEL.selfcheck.npz)
//	rnnconvert seal MODEL [--case DIR]
//	rnnconvert h5 FILE [--json] [--data]
//	rnnconvert serve MODEL [--name N] [--addr HOST:PORT] [--grpc-addr HOST:PORT]
//	rnnconvert --version
//
// MODEL is a file or directory in any format keras.Load reads (.h5, .keras,
// SavedModel directory, TF.js model.json), or --config model.json
// --weights WEIGHTS for an architecture JSON with its weights file.
// `rnnconvert COMMAND --help` lists a command's flags with their defaults
// and examples.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: rnnconvert COMMAND [flags]

commands:
  inspect MODEL [--json]                      layers, inputs, outputs, parameter counts
  predict MODEL --ids "3,7,1;4,0,0" [--json]  run MODEL on inline token ids, inline --values or --input .npy files
  verify MODEL --input x.npy --expect y.npy   compare MODEL's outputs with Keras' (or --case DIR)
  h5 FILE [--json] [--data]                   list an HDF5 file's groups, datasets and attributes
  seal MODEL [--case DIR]                     write MODEL.sha256 (checked at load) and self-check vectors
  convert IN -o OUT.keras                     write any model rnnkit reads as a Keras 3 .keras file, verified
    (convert IN alone writes <stem of IN>.keras in the working directory)
  tokenize --tokenizer T --texts X.json       Keras Tokenizer: texts to id sequences (or --matrix)
  detokenize --tokenizer T --sequences S.json id sequences back to texts
  pad --sequences S.json [--maxlen N]         Keras pad_sequences
  generate MODEL --tokenizer T --seed TEXT    continue a text with a generator model
  translate MODEL --vocab V --texts X.json    translate with a seq2seq model (or --source/--target-tokenizer)
  serve MODEL [--addr HOST:PORT]              serve MODEL over KServe v2 (REST, gRPC) and TF Serving REST

MODEL is a .h5 or .keras file, a SavedModel directory or a TF.js model.json;
for an architecture JSON with its weights file pass --config model.json
--weights WEIGHTS instead of MODEL.

rnnconvert COMMAND --help   the command's flags, defaults and examples
rnnconvert --version        the rnnkit module version and the Go version
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
	case "convert":
		return runConvert(rest, false, stdout, stderr)
	case "seal":
		return runSeal(rest, stdout, stderr)
	case "translate":
		return runTranslate(rest, stdout, stderr)
	case "serve":
		return runServe(rest, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprint(stdout, versionText())
		return 0
	case "help", "-h", "-help", "--help":
		if len(rest) == 1 && rest[0] != "help" && !strings.HasPrefix(rest[0], "-") {
			return run([]string{rest[0], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return 0
	}
	if _, err := os.Stat(cmd); err == nil && !strings.HasPrefix(cmd, "-") {
		// "rnnconvert model.h5": convert it to model.keras here.
		return runConvert(args, true, stdout, stderr)
	}
	fmt.Fprintf(stderr, "rnnconvert: unknown command %q\n\n%s", cmd, usage)
	return 2
}

// modulePath is the rnnkit module, whose version --version reports.
const modulePath = "github.com/rnnkit/rnnkit"

// versionText describes the binary: the rnnkit module version (a tag, a
// pseudo-version from the checkout's commit, or "(devel)"), the commit
// when the build recorded it, and the Go version.
func versionText() string {
	version, commit, modified := "(unknown)", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path == modulePath && bi.Main.Version != "" {
			version = bi.Main.Version
		} else {
			for _, d := range bi.Deps {
				if d.Path == modulePath {
					version = d.Version
				}
			}
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rnnconvert %s (module %s)\n", version, modulePath)
	if commit != "" {
		fmt.Fprintf(&b, "commit %s", commit)
		if modified {
			b.WriteString(" (modified)")
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "go %s %s/%s\n", goruntime.Version(), goruntime.GOOS, goruntime.GOARCH)
	return b.String()
}

// command describes a command for its --help text; flags come from its
// FlagSet.
type command struct {
	// name is the command ("predict"); synopsis its argument forms, one
	// per line, without "rnnconvert NAME".
	name     string
	synopsis []string
	// summary says what the command does, in a paragraph or two.
	summary string
	// examples are complete command lines, run from the repository root.
	examples []string
}

// flags returns the command's FlagSet. Errors go to stderr; --help is
// handled by parse.
func (c *command) flags(stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("rnnconvert "+c.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // parse prints the help or a pointer to it
	return fs
}

// help writes the command's help: synopsis, summary, every flag with its
// default, and the examples.
func (c *command) help(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, "usage:")
	for _, s := range c.synopsis {
		fmt.Fprintf(w, "  rnnconvert %s %s\n", c.name, s)
	}
	fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.summary))
	fmt.Fprintln(w, "\nflags:")
	fs.VisitAll(func(f *flag.Flag) {
		typ, text := flag.UnquoteUsage(f)
		head := "  --" + f.Name
		if typ != "" {
			head += " " + typ
		}
		fmt.Fprintln(w, head)
		def := f.DefValue
		switch {
		case isBoolFlag(f) && def == "false":
			def = ""
		case def == "" || def == "[]":
			def = "none"
		}
		if def != "" {
			text += fmt.Sprintf(" (default %s)", def)
		}
		fmt.Fprintf(w, "      %s\n", strings.ReplaceAll(text, "\n", "\n      "))
	})
	if len(c.examples) > 0 {
		fmt.Fprintln(w, "\nexamples:")
		for _, e := range c.examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// parse parses a command's arguments, flags before or after positional
// ones ("inspect MODEL --json"). It returns the positional arguments, or
// done with the exit status when the command must stop: 0 after printing
// --help to stdout, 2 after a flag error (printed to stderr).
func (c *command) parse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (pos []string, status int, done bool) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			c.help(stdout, fs)
			return nil, 0, true
		}
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.help(stdout, fs)
			return nil, 0, true
		}
		fmt.Fprintf(stderr, "run 'rnnconvert %s --help' for its flags\n", c.name)
		return nil, 2, true
	}
	return pos, 0, false
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
