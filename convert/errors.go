package convert

import "errors"

// Errors that callers can test for with errors.Is.
var (
	// ErrFormat means a file is not a well-formed Keras model of the kind
	// its reader expected.
	ErrFormat = errors.New("not a valid Keras model file")
	// ErrConfig means a layer's configuration holds an option of the wrong
	// type or an unsupported value.
	ErrConfig = errors.New("invalid layer config")
	// ErrWeights means a layer's weights are missing or do not match the
	// shapes its configuration implies.
	ErrWeights = errors.New("weights do not match the model")
	// ErrUnsupported means the file is valid but uses something rnnkit does
	// not implement.
	ErrUnsupported = errors.New("unsupported")
)
