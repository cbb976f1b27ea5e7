package keras

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/rnnkit/rnnkit/internal/npy"
	"github.com/rnnkit/rnnkit/runtime"
)

// ReadNPY reads a NumPy .npy array as a float32 tensor of the same shape.
// Floating-point, integer and boolean arrays are converted (token ids stay
// exact up to 2^24, as everywhere in rnnkit). Fortran-ordered, complex and
// structured arrays are rejected with ErrUnsupported.
func ReadNPY(r io.Reader) (*runtime.Tensor, error) {
	h, data, err := npy.Read(r)
	if err != nil {
		if errors.Is(err, npy.ErrUnsupported) {
			return nil, fmt.Errorf("%w: %w", err, ErrUnsupported)
		}
		return nil, err
	}
	return runtime.FromData(data, h.Shape...)
}

// ReadNPYFile reads a .npy file; see ReadNPY.
func ReadNPYFile(path string) (*runtime.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ReadNPY(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// WriteNPY writes t as a little-endian float32 .npy array with t's shape,
// as numpy.save would.
func WriteNPY(w io.Writer, t *runtime.Tensor) error {
	return npy.Write(w, t.Shape, t.Data)
}

// WriteNPYFile writes t to path; see WriteNPY.
func WriteNPYFile(path string, t *runtime.Tensor) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteNPY(f, t); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
