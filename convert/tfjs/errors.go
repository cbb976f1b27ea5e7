package tfjs

import (
	"fmt"

	"github.com/rnnkit/rnnkit/convert"
)

// FormatError reports a model.json or weight shard that does not follow
// the TF.js layers-model format. errors.Is(err, convert.ErrFormat) holds.
type FormatError struct {
	File   string // model.json or a shard file
	Path   string // JSON location or weight name
	Offset int64  // byte offset in File, or -1
	Msg    string
}

func (e *FormatError) Error() string {
	s := "tfjs: " + e.File
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

// UnsupportedError reports valid TF.js data rnnkit does not read (string
// weights, unknown quantization). errors.Is(err, convert.ErrUnsupported)
// holds.
type UnsupportedError struct {
	File string
	Path string
	Msg  string
}

func (e *UnsupportedError) Error() string {
	s := "tfjs: " + e.File
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
