package keras

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/layers"
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
	// architecture JSON.
	ErrNoArchitecture = errors.New("weights-only file: pass the architecture JSON to LoadConfigAndWeights")
	// ErrInput means the tensors given to Predict do not fit the model's
	// inputs (count, rank or a fixed dimension).
	ErrInput = errors.New("input does not fit the model")
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
	for i, l := range e.Layers {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q (%s)", l.Name, l.ClassName)
	}
	return b.String()
}

// Unwrap returns the per-layer errors, for errors.Is and errors.As.
func (e *UnsupportedLayersError) Unwrap() []error {
	errs := make([]error, len(e.Layers))
	for i, l := range e.Layers {
		errs[i] = l
	}
	return errs
}
