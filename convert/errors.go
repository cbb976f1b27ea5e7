package convert

import (
	"errors"
	"fmt"
	"strings"
)

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

// Error is an error located in a model file: the file, the object inside
// it (an HDF5 path, a config path such as "layers[3] (lstm)", a layer or
// weight name) and what was wrong. It matches its Kind (ErrFormat,
// ErrConfig, ErrWeights, ErrUnsupported) and any wrapped cause through
// errors.Is.
type Error struct {
	File string
	Path string
	Msg  string
	// Kind is one of the package's sentinel errors.
	Kind error
	// Err is the underlying cause, or nil.
	Err error
	// Reader names the package that found the error ("savedmodel",
	// "tfjs") and starts the message; empty means "convert".
	Reader string
}

// Error formats "convert: FILE: PATH: message: cause", with Reader in
// place of "convert" when it is set. Each part is clipped, so that the
// message stays under a fixed length (4 KiB) whatever the input held.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Reader != "" {
		b.WriteString(clipString(e.Reader, 64))
	} else {
		b.WriteString("convert")
	}
	b.WriteString(": ")
	if e.File != "" {
		b.WriteString(clipString(e.File, 512))
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(clipString(e.Path, 512))
		b.WriteString(": ")
	}
	b.WriteString(clipString(e.Msg, maxPartLen))
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(clipString(e.Err.Error(), maxErrorLen-b.Len()-64))
	}
	return b.String()
}

// Is reports whether target is e's Kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// FormatErrorAt returns an ErrFormat error found by the reader package at
// byte off of file (off < 0: no offset): "READER: FILE: PATH: message
// (offset 0x…)".
func FormatErrorAt(reader, file, path string, off int64, msg string) *Error {
	if off >= 0 {
		msg += fmt.Sprintf(" (offset 0x%x)", off)
	}
	return &Error{Reader: reader, File: file, Path: path, Msg: msg, Kind: ErrFormat}
}

// UnsupportedErrorIn returns an ErrUnsupported error found by the reader
// package: "READER: FILE: PATH: unsupported: message".
func UnsupportedErrorIn(reader, file, path, msg string) *Error {
	return &Error{Reader: reader, File: file, Path: path, Msg: "unsupported: " + msg, Kind: ErrUnsupported}
}
