// Package keras is rnnkit's public API: it loads a Keras model from the
// files Keras writes and runs it with Keras' numbers.
//
// Load detects the format from the content (legacy HDF5 full models of
// Keras 1, 2, tf.keras and Keras 3, Keras 3 .keras zips, tf.keras
// SavedModel directories, TF.js layers models); LoadConfigAndWeights
// takes an architecture JSON with its weights file. Both build every layer
// at load time, so a model with layers rnnkit lacks fails at once with an
// UnsupportedLayersError naming all of them; WithLayer plugs in builders
// for custom layers.
//
// A Model is immutable. Predict runs a batch from zero recurrent states
// and is safe from many goroutines. A Session (NewSession) carries the
// states of stateful layers from call to call as Keras' predict does, and a
// stream (NewStream) carries every recurrent layer's state, for feeding a
// sequence in pieces such as text generation one token at a time.
//
// A Tensor is row-major float32 with a shape (NewTensor, FromFloat32).
// Inputs are [batch, time, features] for sequences of vectors and
// [batch, time] for token ids, built from ints with FromTokenIDs; Inputs
// says which inputs take token ids and their vocabulary size. Float ids
// fed to an Embedding follow Keras' int32 cast, which truncates toward
// zero (2.7 is id 2). Argmax, Softmax and Tensor.Row read outputs.
// Semantics follow the Keras version that wrote the file (Keras 2's
// hard_sigmoid, GRU reset_after defaults, Keras 1 and CuDNN weight
// layouts); WithKerasVersion overrides it.
//
// PredictContext stops a call once its context is done, between layers
// and every few time steps of a recurrent layer. WithThreads,
// WithMaxSequenceLength and WithMaxBatch bound every call of a model, and
// Model.WithCallOptions returns a view of it with other bounds; a call
// past a bound fails with ErrLimit before any work. By default a call may
// use DefaultMemoryBudget bytes and DefaultMaxSequenceLength time steps.
//
// Errors can be tested with errors.Is against ErrFormat, ErrConfig,
// ErrWeights, ErrUnsupported, ErrNoArchitecture, ErrInput and ErrLimit
// (which is also ErrInput), and with errors.As for *InputError,
// *LoadError, *ModelError and *UnsupportedLayersError. Messages name the
// file once, by base name (the error values hold the full path), the
// layer or input concerned, and what was expected.
//
// Case, Compare and the .npy helpers run reference cases (inputs and
// outputs computed by Keras) the way rnnconvert verify does.
package keras
