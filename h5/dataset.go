package h5

import (
	"errors"
	"io"
)

// Layout classes (Spec IV.A.2.i).
const (
	layoutCompact    = 0
	layoutContiguous = 1
	layoutChunked    = 2
	layoutVirtual    = 3
)

// Chunk index types of layout version 4; btree1 stands for the version 1
// B-tree of layout version 3.
const (
	idxBTree1   = 0
	idxSingle   = 1
	idxImplicit = 2
	idxFixed    = 3
	idxExtArray = 4
	idxBTree2   = 5
)

var indexNames = [...]string{"v1 B-tree", "single chunk", "implicit", "fixed array", "extensible array", "v2 B-tree"}

type layout struct {
	version int
	class   int
	compact []byte
	addr    uint64
	size    uint64
	chunk   []uint64 // chunk dimensions, rank entries
	flags   uint8
	index   int
	// single chunk with filters
	singleSize uint64
	singleMask uint32
	// fixed/extensible array parameters
	pageBits                         uint8
	eaMaxBits, eaIdxElems, eaMinPtrs uint8
	eaMinElems                       uint8
	bt2NodeSize                      uint32
}

// Filter is one entry of a dataset's filter pipeline.
type Filter struct {
	ID         uint16
	Name       string
	Optional   bool
	ClientData []uint32
}

// Dataset is an HDF5 dataset.
type Dataset struct {
	obj     object
	dtype   Datatype
	space   dataspace
	layout  layout
	filters []Filter
	fill    []byte // nil: zeros
	extern  bool
}

// Path returns the dataset's absolute path.
func (d *Dataset) Path() string { return d.obj.path }

// Addr returns the dataset's object header address.
func (d *Dataset) Addr() uint64 { return d.obj.addr }

// Attrs returns the dataset's attributes in file order.
func (d *Dataset) Attrs() ([]*Attribute, error) { return d.obj.Attrs() }

// Attr returns the named attribute; the error wraps ErrNotFound when absent.
func (d *Dataset) Attr(name string) (*Attribute, error) { return d.obj.Attr(name) }

// Shape returns the dataset dimensions (empty for a scalar, nil for a null
// dataspace).
func (d *Dataset) Shape() []int {
	s := d.space.shape()
	if s == nil && !d.space.null {
		return []int{}
	}
	return s
}

// MaxShape returns the maximum dimensions, -1 for unlimited (nil when the
// file stores none).
func (d *Dataset) MaxShape() []int {
	if d.space.maxDims == nil {
		return nil
	}
	out := make([]int, len(d.space.maxDims))
	for i, m := range d.space.maxDims {
		if m == undef {
			out[i] = -1
		} else {
			out[i] = int(m)
		}
	}
	return out
}

// Len returns the number of values the Read methods return.
func (d *Dataset) Len() int {
	n, _ := d.space.count()
	_, per := d.dtype.scalar()
	return int(n) * per
}

// Type returns the element datatype.
func (d *Dataset) Type() Datatype { return d.dtype }

// Layout returns "compact", "contiguous", "chunked" or "virtual".
func (d *Dataset) Layout() string {
	switch d.layout.class {
	case layoutCompact:
		return "compact"
	case layoutContiguous:
		return "contiguous"
	case layoutChunked:
		return "chunked"
	}
	return "virtual"
}

// Chunks returns the chunk dimensions of a chunked dataset, else nil.
func (d *Dataset) Chunks() []int {
	if d.layout.class != layoutChunked {
		return nil
	}
	out := make([]int, len(d.layout.chunk))
	for i, c := range d.layout.chunk {
		out[i] = int(c)
	}
	return out
}

// ChunkIndex names the chunk index of a chunked dataset: "v1 B-tree",
// "single chunk", "implicit", "fixed array", "extensible array" or
// "v2 B-tree"; "" for other layouts.
func (d *Dataset) ChunkIndex() string {
	if d.layout.class != layoutChunked {
		return ""
	}
	return indexNames[d.layout.index]
}

// Filters returns the filter pipeline in write order.
func (d *Dataset) Filters() []Filter { return d.filters }

func openDataset(o *object) (*Dataset, error) {
	f := o.f
	h, err := o.header()
	if err != nil {
		return nil, err
	}
	d := &Dataset{obj: *o}
	lm := h.find(msgLayout)
	if lm == nil {
		k, ok := kindOf(h)
		return nil, f.formatErr(o.path, "object header", -1, "object is a %s, want a dataset", kindName(k, ok))
	}
	sm := h.find(msgDataspace)
	tm := h.find(msgDatatype)
	if sm == nil || tm == nil {
		return nil, f.formatErr(o.path, "object header", -1, "dataset without dataspace or datatype message")
	}
	if sm.flags&msgFlagShared != 0 {
		return nil, f.unsupported(o.path, "shared dataspace message")
	}
	c := f.newCursor(sm.data, sm.off, o.path, "dataspace message")
	d.space = f.parseDataspace(c)
	if c.err != nil {
		return nil, c.err
	}
	tm, err = f.resolveShared(tm, o.path)
	if err != nil {
		return nil, err
	}
	c = f.newCursor(tm.data, tm.off, o.path, "datatype message")
	d.dtype = f.parseDatatype(c, 0)
	if c.err != nil {
		return nil, c.err
	}
	if err := d.parseLayout(lm); err != nil {
		return nil, err
	}
	if m := h.find(msgFilters); m != nil {
		if d.filters, err = f.parseFilters(m, o.path); err != nil {
			return nil, err
		}
	}
	if m := h.find(msgFill); m != nil {
		if d.fill, err = f.parseFill(m, o.path); err != nil {
			return nil, err
		}
	} else if m := h.find(msgFillOld); m != nil {
		c := f.newCursor(m.data, m.off, o.path, "fill value message")
		n := c.u32()
		if c.err == nil && n > 0 && int(n) <= c.left() {
			d.fill = c.bytes(int(n))
		}
	}
	if d.fill != nil && len(d.fill) != f.elemSize(&d.dtype) {
		d.fill = nil // a fill of another size cannot be applied element-wise; HDF5 converts, we use zeros
	}
	d.extern = h.find(msgExternal) != nil
	return d, nil
}

func (d *Dataset) parseLayout(m *message) error {
	f := d.obj.f
	c := f.newCursor(m.data, m.off, d.obj.path, "data layout message")
	l := &d.layout
	l.version = int(c.u8())
	if c.err == nil && (l.version < 3 || l.version > 4) {
		return f.unsupported(d.obj.path, "data layout version %d", l.version)
	}
	l.class = int(c.u8())
	switch l.class {
	case layoutCompact:
		n := int(c.u16())
		l.compact = c.bytes(n)
	case layoutContiguous:
		l.addr = c.addr()
		l.size = c.length()
	case layoutChunked:
		if l.version == 3 {
			nd := int(c.u8())
			l.addr = c.addr()
			if c.err == nil && (nd < 1 || nd > maxRank+1) {
				c.fail("chunk dimensionality %d", nd)
			}
			for i := 0; i < nd && c.err == nil; i++ {
				l.chunk = append(l.chunk, uint64(c.u32()))
			}
		} else {
			l.flags = c.u8()
			nd := int(c.u8())
			enc := int(c.u8())
			if c.err == nil && (nd < 1 || nd > maxRank+1 || enc < 1 || enc > 8) {
				c.fail("chunk dimensionality %d, size encoding %d", nd, enc)
			}
			for i := 0; i < nd && c.err == nil; i++ {
				l.chunk = append(l.chunk, c.uN(enc))
			}
			l.index = int(c.u8())
			switch l.index {
			case idxSingle:
				if l.flags&2 != 0 {
					l.singleSize = c.length()
					l.singleMask = c.u32()
				}
			case idxImplicit:
			case idxFixed:
				l.pageBits = c.u8()
			case idxExtArray:
				l.eaMaxBits = c.u8()
				l.eaIdxElems = c.u8()
				l.eaMinPtrs = c.u8()
				l.eaMinElems = c.u8()
				l.pageBits = c.u8()
			case idxBTree2:
				l.bt2NodeSize = c.u32()
				c.skip(2)
			default:
				if c.err == nil {
					c.fail("chunk index type %d", l.index)
				}
			}
			l.addr = c.addr()
		}
		if c.err == nil {
			// The last "dimension" is the element size.
			es := l.chunk[len(l.chunk)-1]
			l.chunk = l.chunk[:len(l.chunk)-1]
			if int(es) != f.elemSize(&d.dtype) && es != uint64(d.dtype.Size) {
				c.fail("chunk element size %d, datatype size %d", es, d.dtype.Size)
			}
			if len(l.chunk) != len(d.space.dims) {
				c.fail("chunk rank %d, dataspace rank %d", len(l.chunk), len(d.space.dims))
			}
			for _, x := range l.chunk {
				if x == 0 || x > 1<<32 {
					c.fail("chunk dimension %d", x)
				}
			}
		}
	case layoutVirtual:
		if c.err == nil {
			return f.unsupported(d.obj.path, "virtual dataset layout")
		}
	default:
		c.fail("layout class %d", l.class)
	}
	return c.err
}

// parseFilters decodes a filter pipeline message (Spec IV.A.2.l).
func (f *File) parseFilters(m *message, path string) ([]Filter, error) {
	c := f.newCursor(m.data, m.off, path, "filter pipeline message")
	v := c.u8()
	n := int(c.u8())
	if v == 1 {
		c.skip(6)
	} else if v != 2 && c.err == nil {
		c.fail("version %d, want 1 or 2", v)
	}
	var out []Filter
	for i := 0; i < n && c.err == nil; i++ {
		var flt Filter
		flt.ID = c.u16()
		nameLen := 0
		if v == 1 || flt.ID >= 256 {
			nameLen = int(c.u16())
		}
		flt.Optional = c.u16()&1 != 0
		nv := int(c.u16())
		if nameLen > 0 {
			sub := f.newCursor(c.bytes(nameLen), 0, path, "filter pipeline message")
			if c.err == nil {
				flt.Name = cstringLoose(sub.b)
			}
			if v == 1 {
				c.skip(pad8(nameLen) - nameLen)
			}
		}
		if nv > c.left()/4 {
			c.fail("%d client values in %d bytes", nv, c.left())
			break
		}
		for j := 0; j < nv; j++ {
			flt.ClientData = append(flt.ClientData, c.u32())
		}
		if v == 1 && nv%2 == 1 {
			c.skip(4)
		}
		if flt.Name == "" {
			flt.Name = filterName(flt.ID)
		}
		out = append(out, flt)
	}
	return out, c.err
}

func cstringLoose(b []byte) string {
	for i, x := range b {
		if x == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// parseFill decodes a fill value message (Spec IV.A.2.f); nil means zeros.
func (f *File) parseFill(m *message, path string) ([]byte, error) {
	c := f.newCursor(m.data, m.off, path, "fill value message")
	v := c.u8()
	switch v {
	case 1, 2:
		c.skip(2) // allocation and write time
		defined := c.u8()
		if v == 2 && defined == 0 {
			return nil, c.err
		}
		if c.left() < 4 {
			return nil, c.err
		}
	case 3:
		flags := c.u8()
		if flags&0x20 == 0 {
			return nil, c.err
		}
	default:
		c.fail("version %d, want 1 to 3", v)
		return nil, c.err
	}
	n := c.u32()
	if c.err != nil {
		return nil, c.err
	}
	if n == 0 {
		return nil, nil
	}
	if int64(n) > int64(c.left()) {
		return nil, c.errorf("fill value of %d bytes, %d left", n, c.left())
	}
	b := c.bytes(int(n))
	for _, x := range b {
		if x != 0 {
			return b, nil
		}
	}
	return nil, nil
}

// dataBytes checks the dataset's size against the file and the data limit.
func (d *Dataset) dataBytes() (uint64, error) {
	f := d.obj.f
	n, ok := d.space.count()
	es := uint64(f.elemSize(&d.dtype))
	total, ok2 := mulOK(n, es, 1<<62)
	if !ok || !ok2 {
		return 0, f.formatErr(d.obj.path, "dataspace", -1, "element count overflows")
	}
	if d.extern {
		return 0, f.unsupported(d.obj.path, "external data storage")
	}
	limit := f.dataLimit()
	if total > limit {
		return 0, f.formatErr(d.obj.path, "dataspace", -1, "%d bytes of data exceed the limit of %d bytes for a file of %d bytes", total, limit, f.size)
	}
	return total, nil
}

// dataLimit bounds how many bytes one dataset read may produce. Contiguous
// and compact data cannot exceed the file, but compressed chunks and fill
// values can, so hostile sizes are capped relative to the file size.
func (f *File) dataLimit() uint64 {
	if f.maxData > 0 {
		return uint64(f.maxData)
	}
	return 16<<20 + 256*uint64(f.size)
}

// SetDataLimit sets the largest number of bytes one dataset read may produce
// (default 16 MiB + 256 × the file size). Raise it for highly compressed or
// mostly unwritten datasets; lower it to bound memory on untrusted input.
func (f *File) SetDataLimit(n int64) { f.maxData = n }

// fillBuffer fills out with the fill value (zeros when none).
func (d *Dataset) fillBuffer(out []byte) {
	if d.fill == nil {
		return
	}
	for i := 0; i+len(d.fill) <= len(out); i += len(d.fill) {
		copy(out[i:], d.fill)
	}
}

// readRaw returns all elements as stored (file byte order), C order.
func (d *Dataset) readRaw() ([]byte, error) {
	f := d.obj.f
	total, err := d.dataBytes()
	if err != nil {
		return nil, err
	}
	switch d.layout.class {
	case layoutCompact:
		if uint64(len(d.layout.compact)) < total {
			return nil, f.formatErr(d.obj.path, "data layout message", -1, "compact data of %d bytes, want %d", len(d.layout.compact), total)
		}
		return append([]byte(nil), d.layout.compact[:total]...), nil
	case layoutContiguous:
		out := make([]byte, total)
		err := d.readContiguous(func(raw []byte, off uint64) error {
			copy(out[off:], raw)
			return nil
		})
		return out, err
	}
	out := make([]byte, total)
	d.fillBuffer(out)
	if total == 0 {
		return out, nil
	}
	return out, d.readChunked(func(off uint64, run []byte) { copy(out[off:], run) })
}

// readContiguous streams contiguous data in pieces of at most 1 MiB so that
// conversions need no second full-size buffer. fn gets the byte offset.
func (d *Dataset) readContiguous(fn func(raw []byte, off uint64) error) error {
	f := d.obj.f
	total, err := d.dataBytes()
	if err != nil {
		return err
	}
	if d.layout.addr == undef || total == 0 {
		// Never written: the whole dataset is the fill value.
		buf := make([]byte, total)
		d.fillBuffer(buf)
		return fn(buf, 0)
	}
	if d.layout.size < total {
		return f.formatErr(d.obj.path, "data layout message", -1, "contiguous storage of %d bytes, want %d", d.layout.size, total)
	}
	start, err := f.abs(d.layout.addr, d.obj.path, "contiguous data")
	if err != nil {
		return err
	}
	if uint64(f.size-start) < total {
		return f.formatErr(d.obj.path, "contiguous data", start, "%d bytes run past the end of the file (size %d)", total, f.size)
	}
	es := uint64(f.elemSize(&d.dtype))
	piece := (1 << 20) / es * es
	if piece == 0 {
		piece = es
	}
	buf := make([]byte, min(piece, total))
	for off := uint64(0); off < total; off += piece {
		n := min(piece, total-off)
		b := buf[:n]
		if m, err := f.r.ReadAt(b, start+int64(off)); err != nil && !(errors.Is(err, io.EOF) && uint64(m) == n) {
			return f.formatErr(d.obj.path, "contiguous data", start+int64(off), "read: %v", err)
		}
		if err := fn(b, off); err != nil {
			return err
		}
	}
	return nil
}

// ReadFloat32 returns every value converted to float32 (from float16,
// float32, float64 or integers), flattened in row-major order.
func (d *Dataset) ReadFloat32() ([]float32, error) {
	f := d.obj.f
	if _, _, err := f.numericType(&d.dtype, d.obj.path, "float32"); err != nil {
		return nil, err
	}
	if _, err := d.dataBytes(); err != nil {
		return nil, err
	}
	out := make([]float32, d.Len())
	if err := d.readFloat32Into(out, true); err != nil {
		return nil, err
	}
	return out, nil
}

// ReadFloat32Into is ReadFloat32 into a caller's buffer of exactly Len()
// values, so that repeated reads allocate nothing of the data's size.
func (d *Dataset) ReadFloat32Into(dst []float32) error { return d.readFloat32Into(dst, false) }

// readFloat32Into reads into dst; zeroed says dst is known to be all zeros
// (fresh from make), which saves touching every page once more.
func (d *Dataset) readFloat32Into(dst []float32, zeroed bool) error {
	f := d.obj.f
	t, _, err := f.numericType(&d.dtype, d.obj.path, "float32")
	if err != nil {
		return err
	}
	if _, err := d.dataBytes(); err != nil {
		return err
	}
	if len(dst) != d.Len() {
		return f.formatErr(d.obj.path, "dataset", -1, "destination holds %d values, dataset has %d", len(dst), d.Len())
	}
	es := uint64(t.Size)
	if d.layout.class == layoutContiguous {
		// Stream in 1 MiB pieces: no second buffer of the data's size.
		return d.readContiguous(func(raw []byte, off uint64) error {
			decodeFloat32(t, raw, dst[off/es:off/es+uint64(len(raw))/es])
			return nil
		})
	}
	if d.layout.class == layoutChunked {
		// Convert chunk by chunk: no raw buffer of the data's size.
		if d.fill != nil {
			_, per := d.dtype.scalar()
			fv := make([]float32, per)
			decodeFloat32(t, d.fill, fv)
			for i := range dst {
				dst[i] = fv[i%per]
			}
		} else if !zeroed {
			clear(dst)
		}
		if len(dst) == 0 {
			return nil
		}
		return d.readChunked(func(off uint64, run []byte) {
			decodeFloat32(t, run, dst[off/es:off/es+uint64(len(run))/es])
		})
	}
	raw, err := d.readRaw()
	if err != nil {
		return err
	}
	decodeFloat32(t, raw, dst)
	return nil
}

// ReadFloat64 returns every value converted to float64, flattened.
func (d *Dataset) ReadFloat64() ([]float64, error) {
	f := d.obj.f
	t, _, err := f.numericType(&d.dtype, d.obj.path, "float64")
	if err != nil {
		return nil, err
	}
	raw, err := d.readRaw()
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(raw)/t.Size)
	decodeFloat64(t, raw, out)
	return out, nil
}

// ReadInt64 returns every value of an integer dataset as int64, flattened.
func (d *Dataset) ReadInt64() ([]int64, error) {
	f := d.obj.f
	t, _, err := f.numericType(&d.dtype, d.obj.path, "int64")
	if err != nil {
		return nil, err
	}
	if t.Class != ClassInteger {
		return nil, f.unsupported(d.obj.path, "conversion of %s data to int64", d.dtype.describe())
	}
	raw, err := d.readRaw()
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(raw)/t.Size)
	if i := decodeInt64(t, raw, out); i >= 0 {
		return nil, f.formatErr(d.obj.path, "dataset", -1, "value %d does not fit in int64", i)
	}
	return out, nil
}

// ReadStrings returns every value of a string dataset, flattened.
func (d *Dataset) ReadStrings() ([]string, error) {
	raw, err := d.readRaw()
	if err != nil {
		return nil, err
	}
	n, _ := d.space.count()
	return d.obj.f.decodeStrings(&d.dtype, raw, int(n), d.obj.path)
}
