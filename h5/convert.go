package h5

import (
	"encoding/binary"
	"math"
	"strings"

	"github.com/rnnkit/rnnkit/internal/float16"
)

// Conversions from file element bytes to Go values. raw holds whole elements
// of the file datatype; array types expand to several values per element.

func (f *File) numericType(t *Datatype, path, want string) (*Datatype, int, error) {
	s, n := t.scalar()
	if s.Class != ClassInteger && s.Class != ClassFloat {
		return nil, 0, f.unsupported(path, "conversion of %s data to %s", t.describe(), want)
	}
	if s.Size > 8 || s.Size <= 0 {
		return nil, 0, f.unsupported(path, "%d-byte %s", s.Size, s.Class)
	}
	return s, n, nil
}

// rawUint reads one size-byte element in the type's byte order.
func rawUint(t *Datatype, b []byte) uint64 {
	switch {
	case t.Size == 4 && t.ByteOrder == binary.LittleEndian:
		return uint64(binary.LittleEndian.Uint32(b))
	case t.Size == 8 && t.ByteOrder == binary.LittleEndian:
		return binary.LittleEndian.Uint64(b)
	}
	var v uint64
	if t.ByteOrder == binary.BigEndian {
		for i := 0; i < t.Size; i++ {
			v = v<<8 | uint64(b[i])
		}
	} else {
		for i := t.Size - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
	}
	return v
}

func bitmask(n int) uint64 {
	if n >= 64 {
		return math.MaxUint64
	}
	return 1<<uint(n) - 1
}

// intValue decodes an integer element; unsigned 64-bit values above
// MaxInt64 report ok=false.
func intValue(t *Datatype, b []byte) (v int64, u uint64, ok bool) {
	x := rawUint(t, b)
	prec := t.Precision
	if prec <= 0 || prec > 8*t.Size {
		prec = 8 * t.Size
	}
	x = (x >> uint(t.BitOffset)) & bitmask(prec)
	if t.Signed {
		if prec < 64 && x&(1<<uint(prec-1)) != 0 {
			x |= ^bitmask(prec)
		}
		return int64(x), x, true
	}
	return int64(x), x, x <= math.MaxInt64
}

// floatValue decodes any IEEE-like float layout the datatype describes.
func floatValue(t *Datatype, b []byte) float64 {
	x := rawUint(t, b)
	if t.standardIEEE {
		switch t.Size {
		case 4:
			return float64(math.Float32frombits(uint32(x)))
		case 8:
			return math.Float64frombits(x)
		case 2:
			return float64(float16.ToFloat32(uint16(x)))
		}
	}
	neg := (x>>uint(t.SignLoc))&1 != 0
	e := (x >> uint(t.ExpLoc)) & bitmask(t.ExpSize)
	m := (x >> uint(t.MantLoc)) & bitmask(t.MantSize)
	var v float64
	switch {
	case e == bitmask(t.ExpSize):
		if m != 0 {
			return math.NaN()
		}
		v = math.Inf(1)
	case e == 0:
		v = math.Ldexp(float64(m), 1-int(t.ExpBias)-t.MantSize)
	default:
		frac := float64(m)
		if t.implicitMantissa {
			frac += float64(uint64(1) << uint(t.MantSize))
		}
		v = math.Ldexp(frac, int(e)-int(t.ExpBias)-t.MantSize)
	}
	if neg {
		v = -v
	}
	return v
}

// decodeFloat32 converts raw elements of type t into dst (len = values).
func decodeFloat32(t *Datatype, raw []byte, dst []float32) {
	if t.Class == ClassFloat && t.standardIEEE && t.Size == 4 && t.ByteOrder == binary.LittleEndian {
		raw = raw[:4*len(dst)]
		// Four values per step with one bounds check each: the compiler
		// turns every Uint32 into a single load.
		i := 0
		for ; i+4 <= len(dst); i += 4 {
			b := raw[4*i : 4*i+16 : 4*i+16]
			d := dst[i : i+4 : i+4]
			d[0] = math.Float32frombits(binary.LittleEndian.Uint32(b[0:4]))
			d[1] = math.Float32frombits(binary.LittleEndian.Uint32(b[4:8]))
			d[2] = math.Float32frombits(binary.LittleEndian.Uint32(b[8:12]))
			d[3] = math.Float32frombits(binary.LittleEndian.Uint32(b[12:16]))
		}
		for ; i < len(dst); i++ {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return
	}
	if t.Class == ClassFloat && t.standardIEEE && t.Size == 2 && t.ByteOrder == binary.LittleEndian {
		for i := range dst {
			dst[i] = float16.ToFloat32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
		return
	}
	sz := t.Size
	for i := range dst {
		e := raw[i*sz : i*sz+sz]
		if t.Class == ClassFloat {
			dst[i] = float32(floatValue(t, e))
			continue
		}
		v, u, _ := intValue(t, e)
		if t.Signed {
			dst[i] = float32(v)
		} else {
			dst[i] = float32(u)
		}
	}
}

func decodeFloat64(t *Datatype, raw []byte, dst []float64) {
	if t.Class == ClassFloat && t.standardIEEE && t.Size == 8 && t.ByteOrder == binary.LittleEndian {
		raw = raw[:8*len(dst)]
		for i := range dst {
			b := raw[8*i : 8*i+8 : 8*i+8]
			dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(b))
		}
		return
	}
	sz := t.Size
	for i := range dst {
		e := raw[i*sz : i*sz+sz]
		if t.Class == ClassFloat {
			dst[i] = floatValue(t, e)
		} else if v, u, _ := intValue(t, e); t.Signed {
			dst[i] = float64(v)
		} else {
			dst[i] = float64(u)
		}
	}
}

// decodeInt64 converts integer elements; it returns the index of the first
// value that does not fit (unsigned above MaxInt64), or -1.
func decodeInt64(t *Datatype, raw []byte, dst []int64) int {
	sz := t.Size
	for i := range dst {
		v, _, ok := intValue(t, raw[i*sz:i*sz+sz])
		if !ok {
			return i
		}
		dst[i] = v
	}
	return -1
}

// fixedString decodes one fixed-length string element per its padding.
func fixedString(t *Datatype, b []byte) string {
	switch t.StringPad {
	case NullTerm:
		if i := strings.IndexByte(string(b), 0); i >= 0 {
			b = b[:i]
		}
	case NullPad:
		for len(b) > 0 && b[len(b)-1] == 0 {
			b = b[:len(b)-1]
		}
	case SpacePad:
		for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == 0) {
			b = b[:len(b)-1]
		}
	}
	return string(b)
}

// decodeStrings converts fixed or variable-length string elements.
func (f *File) decodeStrings(t *Datatype, raw []byte, nelem int, path string) ([]string, error) {
	s, per := t.scalar()
	if !s.IsString {
		return nil, f.unsupported(path, "conversion of %s data to strings", t.describe())
	}
	n := nelem * per
	if s.VarLenString {
		stride := 4 + f.sizeOffsets + 4
		if len(raw)/stride < n {
			return nil, f.formatErr(path, "variable-length data", -1, "%d bytes hold fewer than %d references", len(raw), n)
		}
		out := make([]string, 0, n)
		for i := 0; i < n; i++ {
			c := f.newCursor(raw[i*stride:(i+1)*stride], -1, path, "variable-length string")
			ln := uint64(c.u32())
			addr := c.addr()
			idx := c.u32()
			if c.err != nil {
				return nil, c.err
			}
			if ln == 0 && (addr == 0 || addr == undef) {
				out = append(out, "")
				continue
			}
			obj, err := f.globalHeapObject(addr, idx, path)
			if err != nil {
				return nil, err
			}
			if ln > uint64(len(obj)) {
				return nil, f.formatErr(path, "global heap", -1, "string of %d bytes in heap object %d of %d bytes", ln, idx, len(obj))
			}
			out = append(out, strings.TrimRight(string(obj[:ln]), "\x00"))
		}
		return out, nil
	}
	sz := s.Size
	if len(raw)/sz < n {
		return nil, f.formatErr(path, "string data", -1, "%d bytes hold fewer than %d strings of %d bytes", len(raw), n, sz)
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, fixedString(s, raw[i*sz:(i+1)*sz]))
	}
	return out, nil
}
