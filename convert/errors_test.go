package convert

import (
	"errors"
	"testing"
)

// TestReaderErrors pins the messages the savedmodel and tfjs readers
// print, which they used to format with their own error types.
func TestReaderErrors(t *testing.T) {
	tests := []struct {
		err  *Error
		kind error
		want string
	}{
		{FormatErrorAt("savedmodel", "variables.index", "lstm/kernel", 0x1c, "bad varint"), ErrFormat,
			"savedmodel: variables.index: lstm/kernel: bad varint (offset 0x1c)"},
		{FormatErrorAt("tfjs", "model.json", "", -1, "not JSON"), ErrFormat,
			"tfjs: model.json: not JSON"},
		{FormatErrorAt("tfjs", "shard.bin", "", 0, "short"), ErrFormat,
			"tfjs: shard.bin: short (offset 0x0)"},
		{UnsupportedErrorIn("savedmodel", "saved_model", "root", "no model_config"), ErrUnsupported,
			"savedmodel: saved_model: root: unsupported: no model_config"},
		{UnsupportedErrorIn("tfjs", "model.json", "", `dtype "string"`), ErrUnsupported,
			`tfjs: model.json: unsupported: dtype "string"`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
		if !errors.Is(tt.err, tt.kind) {
			t.Errorf("%q does not match %v", tt.err, tt.kind)
		}
		for _, other := range []error{ErrFormat, ErrConfig, ErrWeights, ErrUnsupported} {
			if other != tt.kind && errors.Is(tt.err, other) {
				t.Errorf("%q matches %v", tt.err, other)
			}
		}
	}
}
