package h5

import (
	"errors"
	"fmt"
)

// Sentinel errors that callers test with errors.Is.
var (
	// ErrNotFound means a group member or attribute does not exist.
	ErrNotFound = errors.New("h5: not found")
	// ErrFormat means the file is not well-formed HDF5.
	ErrFormat = errors.New("h5: malformed file")
	// ErrUnsupported means the file is valid HDF5 but uses a feature this
	// reader does not implement.
	ErrUnsupported = errors.New("h5: unsupported feature")
)

// FormatError describes malformed file data: which file, which object
// (HDF5 path), which on-disk structure, and where.
type FormatError struct {
	File      string // file name given to Open
	Path      string // HDF5 object path, e.g. "/model_weights/lstm"
	Structure string // on-disk structure, e.g. "object header", "v1 B-tree"
	Offset    int64  // absolute byte offset in the file, -1 if unknown
	Msg       string
}

// Error returns "h5: FILE: PATH: STRUCTURE: msg (offset 0x..)".
func (e *FormatError) Error() string {
	s := "h5: " + e.File + ": " + e.Path + ": " + e.Structure + ": " + e.Msg
	if e.Offset >= 0 {
		s += fmt.Sprintf(" (offset 0x%x)", e.Offset)
	}
	return s
}

// Is reports whether target is ErrFormat.
func (e *FormatError) Is(target error) bool { return target == ErrFormat }

// UnsupportedError describes a valid HDF5 feature this reader does not
// implement, such as an unknown filter.
type UnsupportedError struct {
	File    string
	Path    string
	Feature string // e.g. "filter 307 (bzip2)"
}

// Error returns "h5: FILE: PATH: unsupported FEATURE".
func (e *UnsupportedError) Error() string {
	return "h5: " + e.File + ": " + e.Path + ": unsupported " + e.Feature
}

// Is reports whether target is ErrUnsupported.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// notFound builds an error wrapping ErrNotFound.
func (f *File) notFound(path, what string) error {
	return fmt.Errorf("h5: %s: %s: %s: %w", f.name, path, what, ErrNotFound)
}

// formatErr builds a FormatError for this file.
func (f *File) formatErr(path, structure string, off int64, format string, args ...any) error {
	return &FormatError{File: f.name, Path: path, Structure: structure, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// unsupported builds an UnsupportedError for this file.
func (f *File) unsupported(path, format string, args ...any) error {
	return &UnsupportedError{File: f.name, Path: path, Feature: fmt.Sprintf(format, args...)}
}
