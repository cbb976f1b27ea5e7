package text

import (
	"fmt"
	"math"
)

// PadOptions are keras.utils.pad_sequences' arguments. The zero value is
// Keras' defaults: maxlen None (the longest sequence), padding and
// truncating "pre", value 0, dtype "int32".
type PadOptions struct {
	// MaxLen, when not nil, is the output length (Keras' maxlen).
	MaxLen *int
	// Padding is "pre" (default when empty) or "post".
	Padding string
	// Truncating is "pre" (default when empty: keep the end) or "post".
	Truncating string
	// Value fills the padding (cast to DType as numpy casts it).
	Value float64
	// DType is "int32" (default when empty) or "float32".
	DType string
}

// MaxLen returns &n, for PadOptions.MaxLen.
func MaxLen(n int) *int { return &n }

// Padded is pad_sequences' result: a Rows x Cols row-major matrix whose
// values are already those of DType (int32 values are whole numbers).
type Padded struct {
	Rows, Cols int
	DType      string
	Values     []float64
}

// Row returns row i of the matrix.
func (p *Padded) Row(i int) []float64 { return p.Values[i*p.Cols : (i+1)*p.Cols] }

// Ints returns the values as ints (for int32 padding, the token ids).
func (p *Padded) Ints() []int {
	out := make([]int, len(p.Values))
	for i, v := range p.Values {
		out[i] = int(v)
	}
	return out
}

// Float32s returns the values as float32.
func (p *Padded) Float32s() []float32 {
	out := make([]float32, len(p.Values))
	for i, v := range p.Values {
		out[i] = float32(v)
	}
	return out
}

// PadSequences pads (and truncates) sequences to one length exactly as
// keras.utils.pad_sequences, including its errors: maxlen < 0, no
// sequences without maxlen, an unknown padding or truncating mode (which
// Keras, and this function, only notice on a non-empty sequence), and
// maxlen 0 with truncating "pre" on a non-empty sequence (Keras' "could not
// broadcast" error). Errors wrap ErrArgument.
func PadSequences(seqs [][]int, opts PadOptions) (*Padded, error) {
	f := make([][]float64, len(seqs))
	for i, s := range seqs {
		row := make([]float64, len(s))
		for j, v := range s {
			row[j] = float64(v)
		}
		f[i] = row
	}
	return PadFloatSequences(f, opts)
}

// PadFloatSequences is PadSequences on sequences of numbers.
func PadFloatSequences(seqs [][]float64, opts PadOptions) (*Padded, error) {
	dtype := opts.DType
	if dtype == "" {
		dtype = "int32"
	}
	var cast func(v float64) (float64, error)
	switch dtype {
	case "int32":
		cast = func(v float64) (float64, error) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, fmt.Errorf("%w: cannot convert %v to int32", ErrArgument, v)
			}
			v = math.Trunc(v)
			if v > math.MaxInt32 || v < math.MinInt32 {
				return 0, fmt.Errorf("%w: %v is out of the int32 range", ErrArgument, v)
			}
			return v, nil
		}
	case "float32":
		cast = func(v float64) (float64, error) { return float64(float32(v)), nil }
	default:
		return nil, fmt.Errorf("%w: dtype %q (want int32 or float32)", ErrArgument, opts.DType)
	}
	padding, truncating := opts.Padding, opts.Truncating
	if padding == "" {
		padding = "pre"
	}
	if truncating == "" {
		truncating = "pre"
	}
	var maxlen int
	if opts.MaxLen != nil {
		maxlen = *opts.MaxLen
		if maxlen < 0 {
			return nil, fmt.Errorf("%w: maxlen %d: negative dimensions are not allowed", ErrArgument, maxlen)
		}
	} else {
		if len(seqs) == 0 {
			return nil, fmt.Errorf("%w: no sequences and no maxlen (zero-size array to reduction operation maximum which has no identity)", ErrArgument)
		}
		for _, s := range seqs {
			maxlen = max(maxlen, len(s))
		}
	}
	if int64(maxlen)*int64(len(seqs)) > 1<<31 {
		return nil, fmt.Errorf("%w: a %d x %d result is too large", ErrArgument, len(seqs), maxlen)
	}
	fill, err := cast(opts.Value)
	if err != nil {
		return nil, fmt.Errorf("value: %w", err)
	}
	p := &Padded{Rows: len(seqs), Cols: maxlen, DType: dtype, Values: make([]float64, len(seqs)*maxlen)}
	for i := range p.Values {
		p.Values[i] = fill
	}
	for idx, s := range seqs {
		if len(s) == 0 {
			continue
		}
		var trunc []float64
		switch truncating {
		case "pre": // s[-maxlen:]; s[-0:] is all of s
			trunc = s
			if maxlen > 0 && len(s) > maxlen {
				trunc = s[len(s)-maxlen:]
			}
		case "post":
			trunc = s[:min(maxlen, len(s))]
		default:
			return nil, fmt.Errorf("%w: truncating type %q not understood (want pre or post)", ErrArgument, opts.Truncating)
		}
		if padding != "pre" && padding != "post" {
			return nil, fmt.Errorf("%w: padding type %q not understood (want pre or post)", ErrArgument, opts.Padding)
		}
		if len(trunc) > maxlen {
			return nil, fmt.Errorf("%w: sequence %d: could not broadcast input array from shape (%d,) into shape (%d,)", ErrArgument, idx, len(trunc), maxlen)
		}
		row := p.Row(idx)
		off := 0
		if padding == "pre" {
			off = maxlen - len(trunc)
		}
		for j, v := range trunc {
			c, err := cast(v)
			if err != nil {
				return nil, fmt.Errorf("sequence %d: %w", idx, err)
			}
			row[off+j] = c
		}
	}
	return p, nil
}
