package runtime

import "errors"

// ErrInput means the data given to a model does not fit it: a tensor of
// the wrong count, rank or dimension, or a token id outside the vocabulary.
// Package keras re-exports it as keras.ErrInput.
var ErrInput = errors.New("input does not fit the model")
