package text

import (
	"errors"
	"fmt"
)

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

// ErrDuplicate: a vocabulary lists a token twice (Keras' lookup layers
// refuse it: "The passed vocabulary has at least one repeated term").
var ErrDuplicate = errors.New("text: repeated vocabulary term")

// UnknownIDError is the error SequencesToTexts returns for an id that is
// not in the tokenizer's index_word. It wraps ErrUnknownID.
type UnknownIDError struct {
	Sequence int // index of the sequence in the batch (0 for SequenceToText)
	Position int // position of the id in its sequence
	ID       int
	Entries  int // len(index_word)
}

func (e *UnknownIDError) Error() string {
	return fmt.Sprintf("text: unknown token id: id %d at position %d of sequence %d is not in index_word (%d entries; Keras would drop it, or write the OOV token: see SequencesToTextsLenient)",
		e.ID, e.Position, e.Sequence, e.Entries)
}

func (e *UnknownIDError) Unwrap() error { return ErrUnknownID }

// DuplicateError is the error ParseVocabulary returns for a vocabulary
// that lists a token twice. It wraps ErrDuplicate.
type DuplicateError struct {
	Token         string
	First, Second int // the two ids (line or list positions, from 0)
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("text: repeated vocabulary term %q at ids %d and %d (Keras refuses a vocabulary with repeated terms)", e.Token, e.First, e.Second)
}

func (e *DuplicateError) Unwrap() error { return ErrDuplicate }
