package text

import "errors"

// Errors a caller can test with errors.Is. Every error this package returns
// wraps one of them and names the file or value it concerns.
var (
	// ErrFormat: a file or value is not in any form this package reads
	// (malformed JSON or pickle, wrong field types, inconsistent fields).
	ErrFormat = errors.New("text: malformed input")
	// ErrUnexpectedClass: a pickle names a Python class other than a Keras
	// Tokenizer and the builtin, collections and numpy types that hold its
	// data. Nothing else is ever instantiated.
	ErrUnexpectedClass = errors.New("text: pickle of an unexpected class")
	// ErrUnsupported: a well-formed input uses a feature this package does
	// not implement (out-of-band pickle buffers, a custom analyzer, ...).
	ErrUnsupported = errors.New("text: unsupported")
	// ErrUnknownID: SequencesToTexts met an id that is not in index_word.
	ErrUnknownID = errors.New("text: unknown token id")
	// ErrArgument: an argument Keras would refuse (pad_sequences with
	// maxlen < 0, an unknown padding mode, an empty split, ...).
	ErrArgument = errors.New("text: invalid argument")
)
