package runtime

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
)

// ErrLimit means a call would exceed a bound: its estimated or actual
// memory goes over the call's budget, or a size computed from the input
// shapes overflows. errors.Is(err, ErrInput) holds for it too, since the
// input decides it. Package keras reports these errors as keras.ErrLimit.
var ErrLimit error = limitError{}

type limitError struct{}

func (limitError) Error() string        { return "limit exceeded" }
func (limitError) Is(target error) bool { return target == ErrInput }

// MaxElements bounds the element count of any tensor or buffer: its bytes
// (4 per float32) must fit an int64 with room to add several of them.
const MaxElements = 1 << 56

// SizeError is the error of a size that overflows or is negative: a
// shape's element count, or a product of dimensions. errors.Is(err,
// ErrLimit) and errors.Is(err, ErrInput) hold.
type SizeError struct {
	// What names the size ("shape", "scratch buffer", ...).
	What string
	// Dims are the factors (at most the first 8 are kept).
	Dims []int
}

func (e *SizeError) Error() string {
	b := make([]byte, 0, 64)
	b = append(b, e.What...)
	b = append(b, " ["...)
	for i, d := range e.Dims {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(d), 10)
	}
	b = append(b, "]: "...)
	neg := false
	for _, d := range e.Dims {
		neg = neg || d < 0
	}
	if neg {
		b = append(b, "negative dimension"...)
	} else {
		b = append(b, "element count overflows"...)
	}
	return string(b)
}

// Unwrap returns ErrLimit.
func (e *SizeError) Unwrap() error { return ErrLimit }

func sizeError(what string, dims []int) *SizeError {
	if len(dims) > 8 {
		dims = dims[:8]
	}
	return &SizeError{What: what, Dims: append([]int(nil), dims...)}
}

// ShapeSize returns the element count of shape, the product of its
// dimensions (1 for a scalar), or a *SizeError when a dimension is
// negative or the product of the non-zero dimensions exceeds
// MaxElements. Every size computed from an input's shape goes through
// it (or MulSize), so that a hostile shape such as [1<<32, 1<<32], whose
// product wraps to 0 in int arithmetic, fails instead of allocating.
// Because zero dimensions do not hide the others, the product of any
// subset of a valid shape's dimensions fits in an int as well.
func ShapeSize(shape []int) (int, error) {
	p, zero := 1, false
	for _, d := range shape {
		if d < 0 {
			return 0, sizeError("shape", shape)
		}
		if d == 0 {
			zero = true
			continue
		}
		hi, lo := bits.Mul64(uint64(p), uint64(d))
		if hi != 0 || lo > MaxElements {
			return 0, sizeError("shape", shape)
		}
		p = int(lo)
	}
	if zero {
		return 0, nil
	}
	return p, nil
}

// MulSize is ShapeSize for factors given one by one: MulSize(b, t, u)
// is b*t*u, or an error when a factor is negative or the product
// exceeds MaxElements.
func MulSize(dims ...int) (int, error) { return ShapeSize(dims) }

// MustSize is ShapeSize for callers that cannot return an error (layers
// sizing buffers inside Call): on overflow it panics with a *SizeError,
// which Graph.Run turns back into its error.
func MustSize(dims ...int) int {
	n, err := ShapeSize(dims)
	if err != nil {
		panic(limitPanic{err})
	}
	return n
}

// limitPanic carries a limit error from an allocation that cannot return
// one (Output, Scratch, NewTensor) up to the outermost Graph.Run, which
// recovers it and returns the error. Any other panic passes through.
type limitPanic struct{ err error }

// Error makes an unrecovered limitPanic print its message.
func (p limitPanic) Error() string { return p.err.Error() }

// MemoryError is the error of a call whose memory goes over its budget:
// the estimate made before the call, or the workspace's count of the
// bytes it allocated. errors.Is(err, ErrLimit) and errors.Is(err,
// ErrInput) hold.
type MemoryError struct {
	// Need is the estimated (or, during the call, requested) bytes and
	// Budget the bound, in bytes.
	Need, Budget int64
	// Estimate says Need is an estimate made before the call; otherwise
	// the workspace refused an allocation during the call.
	Estimate bool
	// Detail, when not empty, says what the estimate was of.
	Detail string
}

func (e *MemoryError) Error() string {
	what := "allocating"
	if e.Estimate {
		what = "an estimated"
	}
	msg := fmt.Sprintf("the call needs %s %s, over the memory budget of %s", what, FormatBytes(e.Need), FormatBytes(e.Budget))
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

// Unwrap returns ErrLimit.
func (e *MemoryError) Unwrap() error { return ErrLimit }

// FormatBytes prints a byte count with a binary unit: "512 B", "1.5 GiB".
func FormatBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	f := float64(n)
	u := -1
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) + " " + units[u]
}
