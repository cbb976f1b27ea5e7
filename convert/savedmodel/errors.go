package savedmodel

import (
	"fmt"

	"github.com/rnnkit/rnnkit/convert"
)

// Errors are *convert.Error with Reader "savedmodel": formatErr for data that
// does not follow the SavedModel, TensorBundle or protobuf layout (convert.ErrFormat), unsupportedErr
// for valid data rnnkit does not read (convert.ErrUnsupported).

// formatErr reports malformed data in file at path; off is the byte offset
// in file, or -1 when not meaningful.
func formatErr(file, path string, off int64, format string, args ...any) error {
	return convert.FormatErrorAt("savedmodel", file, path, off, fmt.Sprintf(format, args...))
}

func unsupportedErr(file, path, msg string) error {
	return convert.UnsupportedErrorIn("savedmodel", file, path, msg)
}
