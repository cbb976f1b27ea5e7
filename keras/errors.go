package keras

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/layers"
	"github.com/rnnkit/rnnkit/runtime"
)

// Errors a caller can test for with errors.Is. They are the convert
// package's sentinels, re-exported so that users need import only keras.
var (
	// ErrFormat means the file is not a well-formed model of the kind its
	// content announced.
	ErrFormat = convert.ErrFormat
	// ErrConfig means a layer's configuration has an option of the wrong
	// type or a value rnnkit does not support.
	ErrConfig = convert.ErrConfig
	// ErrWeights means weights are missing or do not fit the architecture.
	ErrWeights = convert.ErrWeights
	// ErrUnsupported means the file is valid but uses something rnnkit does
	// not implement (a layer class, a container format, an option).
	ErrUnsupported = convert.ErrUnsupported
	// ErrNoArchitecture means the file holds only weights (Keras
	// save_weights); load it with LoadConfigAndWeights and the model's
	// architecture JSON. The error is a *LoadError.
	ErrNoArchitecture = errors.New("weights-only file")
	// ErrInput means the tensors given to Predict do not fit the model's
	// inputs (count, rank, a fixed dimension, a token id outside the
	// vocabulary), or exceed a limit (ErrLimit): a service answers it
	// with a client error (HTTP 400).
	ErrInput = runtime.ErrInput
	// ErrLimit means a call exceeds a bound set with the load options
	// (WithMaxBatch, WithMaxSequenceLength, WithMemoryBudget, ...) or
	// CallOptions; errors.Is(err, ErrInput) holds for these errors too.
	// It is runtime.ErrLimit: sizes that overflow and calls over their
	// memory budget are limit errors too. Load errors match it as well
	// when the file exceeds a load limit (LoadLimits, WithLoadLimits);
	// those are not ErrInput.
	ErrLimit = runtime.ErrLimit
)

// UnsupportedLayerError reports one layer whose class has no builder. It
// is layers.UnsupportedLayerError; errors.As finds it in Load's errors.
type UnsupportedLayerError = layers.UnsupportedLayerError

// UnsupportedLayersError lists every layer of a model that rnnkit cannot
// build, so that a user sees them all at once instead of one per attempt.
// errors.As finds each *UnsupportedLayerError through it, and
// errors.Is(err, ErrUnsupported) holds.
type UnsupportedLayersError struct {
	// File names the model file.
	File string
	// Layers holds one entry per unsupported layer, in model order.
	Layers []*UnsupportedLayerError
}

func (e *UnsupportedLayersError) Error() string {
	var b strings.Builder
	noun := "layers"
	if len(e.Layers) == 1 {
		noun = "layer"
	}
	fmt.Fprintf(&b, "keras: %s: %d unsupported %s: ", e.File, len(e.Layers), noun)
	var lambdas, classes []string
	seen := map[string]bool{}
	for i, l := range e.Layers {
		if l.IsLambda() {
			lambdas = append(lambdas, fmt.Sprintf("%q", l.Name))
		} else {
			class := l.ClassName
			if i := strings.LastIndexByte(class, '>'); i >= 0 {
				class = class[i+1:] // Keras 3's "package>Class": register the class
			}
			if !seen[class] {
				seen[class] = true
				classes = append(classes, fmt.Sprintf("%q", class))
			}
		}
		if i >= maxListedLayers {
			continue
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%q (%s", l.Name, l.ClassName)
		l.WriteDetail(&b)
		b.WriteByte(')')
	}
	if n := len(e.Layers) - maxListedLayers; n > 0 {
		fmt.Fprintf(&b, "; and %d more", n)
	}
	if len(lambdas) > 0 {
		fmt.Fprintf(&b, ". A Lambda's Python code cannot run here: supply a Go function with keras.WithLambda(name, fn) for %s", listClip(lambdas))
	}
	if len(classes) > 0 {
		fmt.Fprintf(&b, ". Implement the class in Go and register it with keras.WithLayer(class, builder) for %s", listClip(classes))
	}
	return b.String()
}

// maxListedLayers bounds how many layers an UnsupportedLayersError
// describes, so its message stays short for any model.
const maxListedLayers = 12

func listClip(s []string) string {
	if len(s) > maxListedLayers {
		return strings.Join(s[:maxListedLayers], ", ") + fmt.Sprintf(" and %d more", len(s)-maxListedLayers)
	}
	return strings.Join(s, ", ")
}

// Unwrap returns the per-layer errors, for errors.Is and errors.As.
func (e *UnsupportedLayersError) Unwrap() []error {
	errs := make([]error, len(e.Layers))
	for i, l := range e.Layers {
		errs[i] = l
	}
	return errs
}

// InputError is the error of a call whose inputs do not fit the model or
// exceed a limit. errors.Is(err, ErrInput) holds, and errors.Is(err,
// ErrLimit) for an exceeded limit; errors.As finds the *InputError.
type InputError struct {
	// File is the model file as given to Load (the message shows its base
	// name only).
	File string
	// Input is the input's name (its InputLayer), "" when the error is
	// about the inputs as a whole (their count); Index is its position
	// among the model's inputs, -1 then.
	Input string
	Index int
	// Position, for a bad value such as a token id outside the
	// vocabulary, is the value's index in the tensor ([batch, time]), and
	// Value the value; nil otherwise.
	Position []int
	Value    float32
	// Reason says what is wrong and what was expected.
	Reason string
	// Err is ErrInput, ErrLimit, or an error wrapping ErrLimit (a
	// *runtime.MemoryError for a call over its memory budget, a
	// *runtime.SizeError for a shape whose size overflows).
	Err error
}

func (e *InputError) Error() string {
	var b strings.Builder
	b.WriteString("keras: ")
	if e.File != "" {
		b.WriteString(displayName(e.File))
		b.WriteString(": ")
	}
	if e.Input != "" {
		fmt.Fprintf(&b, "input %q", e.Input)
		if e.Position != nil {
			b.WriteString(" at [")
			for i, p := range e.Position {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprint(&b, p)
			}
			b.WriteByte(']')
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Unwrap returns ErrInput or ErrLimit.
func (e *InputError) Unwrap() error { return e.Err }

// displayName is the base name of a model file, or of both files of a
// "config + weights" pair, for messages.
func displayName(file string) string {
	parts := strings.Split(file, " + ")
	for i, p := range parts {
		parts[i] = filepath.Base(p)
	}
	return strings.Join(parts, " + ")
}

// LoadError is a load error where rnnkit can tell what the file is and
// what to load instead: a weights-only file, an architecture JSON given
// alone, a model file given as the architecture, a SavedModel's
// saved_model.pb given instead of its folder, a folder holding a JSON and
// weights pair. errors.Is matches Err (ErrNoArchitecture or ErrFormat);
// command-line tools turn the suggestion into their own flags.
type LoadError struct {
	// File is the path given (the message shows its base name).
	File string
	// Reason says what the file is.
	Reason string
	// Model, when set, is a path to load with Load instead.
	Model string
	// Config and Weights, when set, are the architecture JSON and weights
	// file to load with LoadConfigAndWeights instead; one of them is ""
	// when rnnkit cannot tell which file it would be.
	Config, Weights string
	// Err is the kind of error: ErrNoArchitecture or ErrFormat.
	Err error
}

func (e *LoadError) Error() string {
	msg := "keras: " + displayName(e.File) + ": " + e.Reason
	switch {
	case e.Model != "":
		msg += fmt.Sprintf(": load %s with Load", e.Model)
	case e.Config != "" && e.Weights != "":
		msg += fmt.Sprintf(": load LoadConfigAndWeights(%q, %q)", e.Config, e.Weights)
	case e.Weights != "":
		msg += ": load it with LoadConfigAndWeights and the model's architecture JSON"
	case e.Config != "":
		msg += ": load it with LoadConfigAndWeights and the model's weights file"
	}
	return msg
}

// Unwrap returns Err.
func (e *LoadError) Unwrap() error { return e.Err }

// ModelError is an error about a model file: loading it, or running the
// model. File is the path as given (both paths, "config + weights", for an
// architecture JSON with its weights file); the message names the file
// once, by its base name, and each layer once. errors.Is and errors.As see
// the error it wraps (ErrFormat, ErrWeights, *UnsupportedLayersError, ...).
type ModelError struct {
	File string
	Err  error
}

func (e *ModelError) Error() string {
	return convert.ClipMessage(tidyMessage(clipRaw(e.Err.Error()), e.File))
}

// clipRaw bounds the text tidyMessage works on, so that a message built
// from a hostile input costs little to tidy.
func clipRaw(s string) string {
	if len(s) > 64<<10 {
		return s[:64<<10]
	}
	return s
}

// Unwrap returns the wrapped error.
func (e *ModelError) Unwrap() error { return e.Err }

// Is makes a load that exceeded a load limit (convert.ErrLimit) match
// ErrLimit too.
func (e *ModelError) Is(target error) bool {
	return target == ErrLimit && errors.Is(e.Err, convert.ErrLimit)
}

// modelError wraps err as a *ModelError for file, unless it is nil or
// already an error type that formats its file itself.
func modelError(file string, err error) error {
	if err == nil {
		return nil
	}
	var me *ModelError
	var le *LoadError
	var ie *InputError
	if errors.As(err, &me) || errors.As(err, &le) || errors.As(err, &ie) {
		return err
	}
	if errors.Is(err, fs.ErrNotExist) {
		// The path as the caller gave it says best where it was looked for.
		return err
	}
	return &ModelError{File: file, Err: err}
}

// layerSegment matches a message segment naming a layer, with its class
// when given: layer "gru" (GRU).
var layerSegment = regexp.MustCompile(`^layer "([^"]*)"( \([A-Za-z0-9_.]+\))?$`)

// tidyMessage rewrites the text of an error that passed through several
// packages, each naming what it knew: every path of file becomes its base
// name, package prefixes go, and a segment (the text between ": ") that
// repeats an earlier one is dropped, so that the file and each layer are
// named once (a layer's class joins its first mention).
func tidyMessage(msg, file string) string {
	paths := strings.Split(file, " + ")
	sort.Slice(paths, func(i, j int) bool { return len(paths[i]) > len(paths[j]) })
	for _, p := range paths {
		if b := filepath.Base(p); p != "" && b != p {
			msg = strings.ReplaceAll(msg, p, b)
		}
	}
	var out []string
	seen := map[string]bool{}
	layerAt := map[string]int{}
	for _, seg := range strings.Split(msg, ": ") {
		switch seg {
		case "keras", "convert", "h5", "runtime", "layers":
			continue
		}
		if m := layerSegment.FindStringSubmatch(seg); m != nil {
			if i, ok := layerAt[m[1]]; ok {
				if m[2] != "" && !strings.Contains(out[i], "(") {
					out[i] = seg
				}
				continue
			}
			layerAt[m[1]] = len(out)
		} else if seen[seg] {
			continue
		}
		seen[seg] = true
		out = append(out, seg)
	}
	// A pair's base names first, then one of them alone, is one mention.
	if len(out) > 1 && strings.Contains(out[0], " + ") {
		for i := 1; i < len(out); i++ {
			for _, part := range strings.Split(out[0], " + ") {
				if out[i] == part {
					out = append(out[:i], out[i+1:]...)
					i--
					break
				}
			}
		}
	}
	return "keras: " + strings.Join(out, ": ")
}
