package savedmodel

import (
	"fmt"

	"github.com/rnnkit/rnnkit/convert"
)

// FormatError reports malformed data: a file or record that does not
// follow the SavedModel, TensorBundle or protobuf layout it should.
// errors.Is(err, convert.ErrFormat) holds for it.
type FormatError struct {
	File   string // file name as given to the reader
	Path   string // object inside the file: a table key, a proto field, a node path
	Offset int64  // byte offset in File, or -1 when not meaningful
	Msg    string
}

func (e *FormatError) Error() string {
	s := "savedmodel: " + e.File
	if e.Path != "" {
		s += ": " + e.Path
	}
	s += ": " + e.Msg
	if e.Offset >= 0 {
		s += fmt.Sprintf(" (offset 0x%x)", e.Offset)
	}
	return s
}

// Is makes FormatError match convert.ErrFormat.
func (e *FormatError) Is(target error) bool { return target == convert.ErrFormat }

// UnsupportedError reports well-formed data that rnnkit does not read
// (snappy-compressed table blocks, partitioned variables, string weights).
// errors.Is(err, convert.ErrUnsupported) holds for it.
type UnsupportedError struct {
	File string
	Path string
	Msg  string
}

func (e *UnsupportedError) Error() string {
	s := "savedmodel: " + e.File
	if e.Path != "" {
		s += ": " + e.Path
	}
	return s + ": unsupported: " + e.Msg
}

// Is makes UnsupportedError match convert.ErrUnsupported.
func (e *UnsupportedError) Is(target error) bool { return target == convert.ErrUnsupported }

func formatErr(file, path string, off int64, format string, args ...any) error {
	return &FormatError{File: file, Path: path, Offset: off, Msg: fmt.Sprintf(format, args...)}
}
