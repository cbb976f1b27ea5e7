package convert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// JSONError returns the ErrFormat error for data, read from file (path
// names the document inside it: "config.json", "model config"), that is
// not valid JSON. Its message gives the byte offset, the line and column
// and encoding/json's reason: "invalid JSON at byte 1234 (line 3, column
// 17): invalid character '}' looking for beginning of object key
// string".
func JSONError(file, path string, data []byte) *Error {
	var raw json.RawMessage
	err := json.Unmarshal(data, &raw)
	if err == nil {
		// Valid for encoding/json but not for the caller's parser: name
		// the place anyway.
		err = errors.New("rejected by the JSON parser")
	}
	return JSONDecodeError(file, path, data, err)
}

// JSONDecodeError locates err, an error of encoding/json decoding data
// (a *json.SyntaxError or *json.UnmarshalTypeError carry the offset;
// other errors are located by a validation pass), as JSONError does.
func JSONDecodeError(file, path string, data []byte, err error) *Error {
	off := int64(-1)
	reason := err.Error()
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	default:
		var raw json.RawMessage
		if verr := json.Unmarshal(data, &raw); errors.As(verr, &se) {
			off, reason = se.Offset, se.Error()
		}
	}
	msg := "invalid JSON"
	if off > 0 && off <= int64(len(data)) && strings.HasPrefix(reason, "invalid character") {
		off-- // encoding/json counts the offending byte as read
	}
	if off >= 0 {
		line, col := lineColumn(data, off)
		msg = fmt.Sprintf("invalid JSON at byte %d (line %d, column %d)", off, line, col)
	}
	return &Error{File: file, Path: path, Kind: ErrFormat, Msg: msg + ": " + clipString(reason, 256)}
}

// lineColumn returns the 1-based line and column (in bytes) of byte off
// of data; an offset past the end is placed after the last byte.
func lineColumn(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	head := data[:off]
	line = bytes.Count(head, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(head, '\n') + 1) + 1
	return line, col
}
