// Package npy reads and writes NumPy .npy arrays (format versions 1.0 to
// 3.0, https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html)
// as float32, which is all rnnkit exchanges with Keras.
//
// It exists because codeberg.org/sbinet/npyio panics on malformed headers
// and sizes allocations from the header alone; here every length is
// bounded and the data buffer grows only as bytes actually arrive.
package npy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strconv"
	"strings"
)

// ErrFormat means the input is not a well-formed .npy array.
var ErrFormat = errors.New("npy: invalid .npy data")

// ErrUnsupported means a valid array whose dtype or layout is not read
// (complex, structured, string, object, Fortran order).
var ErrUnsupported = errors.New("npy: unsupported array")

const (
	magic = "\x93NUMPY"
	// maxHeader bounds the header dictionary; numpy's own limit for
	// reading untrusted files is 10000 bytes.
	maxHeader = 1 << 16
	// MaxElements bounds the element count a header may announce.
	MaxElements = 1 << 31
	// chunk is how many bytes are read at a time, so that a header
	// announcing more data than the stream holds costs little.
	chunk = 1 << 20
)

// Header is an array's description.
type Header struct {
	// Descr is the dtype string ("<f4", "<i8", "|b1").
	Descr   string
	Fortran bool
	Shape   []int
}

// Read reads one array and converts its values to float32.
func Read(r io.Reader) (Header, []float32, error) {
	h, err := ReadHeader(r)
	if err != nil {
		return h, nil, err
	}
	if h.Fortran {
		return h, nil, fmt.Errorf("%w: Fortran-ordered array (shape %v)", ErrUnsupported, h.Shape)
	}
	order, kind, size, err := parseDescr(h.Descr)
	if err != nil {
		return h, nil, err
	}
	n := 1
	for _, d := range h.Shape {
		if d > 0 && n > MaxElements/d {
			return h, nil, fmt.Errorf("%w: shape %v holds more than %d elements", ErrFormat, h.Shape, MaxElements)
		}
		n *= d
	}
	// A file knows its size: an array it cannot hold fails before any
	// reading, and one it can is allocated once (growing by append would
	// hold two copies of a large array at the peak).
	capacity := min(n, chunk/4)
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() {
			if int64(n) > fi.Size()/int64(size) {
				return h, nil, fmt.Errorf("%w: shape %v needs %d bytes of data, the file has %d in all", ErrFormat, h.Shape, int64(n)*int64(size), fi.Size())
			}
			capacity = n
		}
	}
	br := bufio.NewReaderSize(r, 64<<10)
	out := make([]float32, 0, capacity)
	buf := make([]byte, 0, min(n*size, chunk))
	for done := 0; done < n; {
		k := min(n-done, chunk/size)
		buf = buf[:k*size]
		if _, err := io.ReadFull(br, buf); err != nil {
			return h, nil, fmt.Errorf("%w: data ends after %d of %d elements (shape %v): %v", ErrFormat, done, n, h.Shape, err)
		}
		for i := 0; i < k; i++ {
			out = append(out, decode(buf[i*size:(i+1)*size], order, kind))
		}
		done += k
	}
	return h, out, nil
}

// ReadHeader reads the magic, version and header dictionary.
func ReadHeader(r io.Reader) (Header, error) {
	var h Header
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return h, fmt.Errorf("%w: no .npy preamble: %v", ErrFormat, err)
	}
	if string(pre[:6]) != magic {
		return h, fmt.Errorf("%w: bad magic % x", ErrFormat, pre[:6])
	}
	var hlen int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return h, fmt.Errorf("%w: header length: %v", ErrFormat, err)
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return h, fmt.Errorf("%w: header length: %v", ErrFormat, err)
		}
		l := binary.LittleEndian.Uint32(b[:])
		if l > maxHeader {
			return h, fmt.Errorf("%w: header of %d bytes exceeds %d", ErrFormat, l, maxHeader)
		}
		hlen = int(l)
	default:
		return h, fmt.Errorf("%w: format version %d.%d", ErrUnsupported, pre[6], pre[7])
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return h, fmt.Errorf("%w: header: %v", ErrFormat, err)
	}
	if err := parseDict(strings.TrimSpace(string(hdr)), &h); err != nil {
		return h, err
	}
	return h, nil
}

// parseDict parses the header: a Python dict literal with the keys
// 'descr' (a string), 'fortran_order' (True/False) and 'shape' (a tuple of
// integers), in any order.
func parseDict(s string, h *Header) error {
	p := &dictParser{s: s}
	if !p.eat('{') {
		return p.fail("want '{'")
	}
	seen := map[string]bool{}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, ok := p.str()
		if !ok {
			return p.fail("want a quoted key")
		}
		if !p.eat(':') {
			return p.fail("want ':'")
		}
		switch key {
		case "descr":
			v, ok := p.str()
			if !ok {
				return p.fail("descr: want a string (structured dtypes are not supported)")
			}
			h.Descr = v
		case "fortran_order":
			switch {
			case p.word("True"):
				h.Fortran = true
			case p.word("False"):
				h.Fortran = false
			default:
				return p.fail("fortran_order: want True or False")
			}
		case "shape":
			shape, ok := p.tuple()
			if !ok {
				return p.fail("shape: want a tuple of non-negative integers")
			}
			h.Shape = shape
		default:
			return p.fail(fmt.Sprintf("unknown key %q", key))
		}
		seen[key] = true
		p.space()
		if !p.eat(',') {
			p.space()
			if !p.eat('}') {
				return p.fail("want ',' or '}'")
			}
			break
		}
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return fmt.Errorf("%w: header lacks %q", ErrFormat, k)
		}
	}
	return nil
}

type dictParser struct {
	s   string
	pos int
}

func (p *dictParser) fail(msg string) error {
	return fmt.Errorf("%w: header %q: at byte %d: %s", ErrFormat, p.s, p.pos, msg)
}

func (p *dictParser) space() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\n') {
		p.pos++
	}
}

func (p *dictParser) eat(c byte) bool {
	p.space()
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *dictParser) word(w string) bool {
	p.space()
	if strings.HasPrefix(p.s[p.pos:], w) {
		p.pos += len(w)
		return true
	}
	return false
}

// str reads a single- or double-quoted string without escapes.
func (p *dictParser) str() (string, bool) {
	p.space()
	if p.pos >= len(p.s) || (p.s[p.pos] != '\'' && p.s[p.pos] != '"') {
		return "", false
	}
	q := p.s[p.pos]
	end := strings.IndexByte(p.s[p.pos+1:], q)
	if end < 0 {
		return "", false
	}
	v := p.s[p.pos+1 : p.pos+1+end]
	p.pos += end + 2
	return v, true
}

// tuple reads "()", "(3,)" or "(2, 3)".
func (p *dictParser) tuple() ([]int, bool) {
	if !p.eat('(') {
		return nil, false
	}
	shape := []int{}
	for {
		if p.eat(')') {
			return shape, true
		}
		p.space()
		start := p.pos
		for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
			p.pos++
		}
		if p.pos == start || p.pos-start > 12 {
			return nil, false
		}
		d, err := strconv.Atoi(p.s[start:p.pos])
		if err != nil {
			return nil, false
		}
		shape = append(shape, d)
		if len(shape) > 32 {
			return nil, false
		}
		if !p.eat(',') {
			if p.eat(')') {
				return shape, true
			}
			return nil, false
		}
	}
}

// parseDescr splits "<f4" into byte order, kind and item size, and
// rejects what Read does not convert.
func parseDescr(d string) (binary.ByteOrder, byte, int, error) {
	if len(d) < 3 {
		return nil, 0, 0, fmt.Errorf("%w: dtype %q", ErrUnsupported, d)
	}
	var order binary.ByteOrder
	switch d[0] {
	case '<', '|', '=':
		order = binary.LittleEndian
	case '>':
		order = binary.BigEndian
	default:
		return nil, 0, 0, fmt.Errorf("%w: dtype %q", ErrUnsupported, d)
	}
	kind := d[1]
	size, err := strconv.Atoi(d[2:])
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%w: dtype %q", ErrUnsupported, d)
	}
	ok := false
	switch kind {
	case 'f':
		ok = size == 2 || size == 4 || size == 8
	case 'i', 'u':
		ok = size == 1 || size == 2 || size == 4 || size == 8
	case 'b':
		ok = size == 1
	}
	if !ok {
		return nil, 0, 0, fmt.Errorf("%w: dtype %q (want float16/32/64, integers or bool)", ErrUnsupported, d)
	}
	return order, kind, size, nil
}

// decode converts one element to float32 (integers beyond 2^24 round).
func decode(b []byte, order binary.ByteOrder, kind byte) float32 {
	switch kind {
	case 'f':
		switch len(b) {
		case 2:
			return halfToFloat32(order.Uint16(b))
		case 4:
			return math.Float32frombits(order.Uint32(b))
		default:
			return float32(math.Float64frombits(order.Uint64(b)))
		}
	case 'i':
		switch len(b) {
		case 1:
			return float32(int8(b[0]))
		case 2:
			return float32(int16(order.Uint16(b)))
		case 4:
			return float32(int32(order.Uint32(b)))
		default:
			return float32(int64(order.Uint64(b)))
		}
	case 'u':
		switch len(b) {
		case 1:
			return float32(b[0])
		case 2:
			return float32(order.Uint16(b))
		case 4:
			return float32(order.Uint32(b))
		default:
			return float32(order.Uint64(b))
		}
	}
	// bool
	if b[0] != 0 {
		return 1
	}
	return 0
}

// halfToFloat32 converts an IEEE 754 binary16 value exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch exp {
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case 0:
		v := float32(frac) / (1 << 24) // subnormal: frac × 2^-24, exact in float32
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// Write writes a little-endian float32 array of the given shape in format
// 1.0, with the header padded to a multiple of 64 bytes as numpy does.
func Write(w io.Writer, shape []int, data []float32) error {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("npy: negative dimension in shape %v", shape)
		}
		n *= d
	}
	if n != len(data) {
		return fmt.Errorf("npy: %d values do not fill shape %v", len(data), shape)
	}
	var sb strings.Builder
	sb.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		sb.WriteByte(',')
	}
	sb.WriteByte(')')
	dict := "{'descr': '<f4', 'fortran_order': False, 'shape': " + sb.String() + ", }"
	total := len(magic) + 2 + 2 + len(dict) + 1
	hdr := dict + strings.Repeat(" ", (64-total%64)%64) + "\n"
	if len(hdr) > math.MaxUint16 {
		return fmt.Errorf("npy: header of %d bytes does not fit format 1.0", len(hdr))
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(magic)
	bw.Write([]byte{1, 0, byte(len(hdr)), byte(len(hdr) >> 8)})
	bw.WriteString(hdr)
	var b [4]byte
	for _, v := range data {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		bw.Write(b[:])
	}
	return bw.Flush()
}
