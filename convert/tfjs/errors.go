package tfjs

import (
	"fmt"

	"github.com/rnnkit/rnnkit/convert"
)

// Errors are *convert.Error with Reader "tfjs": formatErr for data that
// does not follow the TF.js layers-model layout (convert.ErrFormat), unsupportedErr
// for valid data rnnkit does not read (convert.ErrUnsupported).

// formatErr reports malformed data in file at path; off is the byte offset
// in file, or -1 when not meaningful.
func formatErr(file, path string, off int64, format string, args ...any) error {
	return convert.FormatErrorAt("tfjs", file, path, off, fmt.Sprintf(format, args...))
}

func unsupportedErr(file, path, msg string) error {
	return convert.UnsupportedErrorIn("tfjs", file, path, msg)
}
