package h5

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"unicode/utf8"
)

// Builder assembles an HDF5 file in memory: groups, contiguous datasets
// of float32, float16, float64 and integers, and attributes of strings and
// numbers. Write lays it out as libhdf5 does with libver="latest"
// (superblock version 2, version 2 object headers with compact link
// storage, variable-length strings in one global heap collection), which
// h5py, h5dump and this package read back. It holds what Keras writes in a
// .weights.h5 file; it is not a general HDF5 writer (no chunking,
// compression, dense link storage or references).
type Builder struct {
	root *BuilderGroup
}

// NewBuilder returns a builder holding an empty root group.
func NewBuilder() *Builder { return &Builder{root: &BuilderGroup{}} }

// Root returns the root group.
func (b *Builder) Root() *BuilderGroup { return b.root }

// BuilderGroup is a group being built.
type BuilderGroup struct {
	attrs    []*builderAttr
	children []builderChild
}

type builderChild struct {
	name  string
	group *BuilderGroup
	set   *BuilderDataset
}

// BuilderDataset is a dataset being built.
type BuilderDataset struct {
	dtype []byte // datatype message
	shape []int
	raw   []byte // little-endian element bytes
	attrs []*builderAttr
}

type builderAttr struct {
	name  string
	dtype []byte
	shape []int // nil: scalar
	raw   []byte
	// strs holds variable-length strings whose heap references fill raw
	// at layout time.
	strs []string
}

// Group returns the child group name, creating it when absent. It panics
// if name is empty, holds a '/', or names a dataset: these are programming
// errors of the caller.
func (g *BuilderGroup) Group(name string) *BuilderGroup {
	checkLinkName(name)
	for _, c := range g.children {
		if c.name == name {
			if c.group == nil {
				panic(fmt.Sprintf("h5: %q is a dataset, not a group", name))
			}
			return c.group
		}
	}
	c := &BuilderGroup{}
	g.children = append(g.children, builderChild{name: name, group: c})
	return c
}

func (g *BuilderGroup) addSet(name string, d *BuilderDataset) *BuilderDataset {
	checkLinkName(name)
	for _, c := range g.children {
		if c.name == name {
			panic(fmt.Sprintf("h5: %q already exists", name))
		}
	}
	g.children = append(g.children, builderChild{name: name, set: d})
	return d
}

func checkLinkName(name string) {
	if name == "" || name == "." || bytes.ContainsAny([]byte(name), "/\x00") || len(name) > 255 || !utf8.ValidString(name) {
		panic(fmt.Sprintf("h5: bad link name %q", name))
	}
}

func shapeLen(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic("h5: negative dimension")
		}
		n *= d
	}
	return n
}

// Float32 adds a float32 dataset of the given shape holding data.
func (g *BuilderGroup) Float32(name string, shape []int, data []float32) *BuilderDataset {
	if shapeLen(shape) != len(data) {
		panic(fmt.Sprintf("h5: %d values for shape %v", len(data), shape))
	}
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return g.addSet(name, &BuilderDataset{dtype: floatType(4), shape: shape, raw: raw})
}

// Float16 adds an IEEE half-precision dataset holding data rounded to
// nearest even.
func (g *BuilderGroup) Float16(name string, shape []int, data []float32) *BuilderDataset {
	if shapeLen(shape) != len(data) {
		panic(fmt.Sprintf("h5: %d values for shape %v", len(data), shape))
	}
	raw := make([]byte, 2*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint16(raw[2*i:], Float32ToHalf(v))
	}
	return g.addSet(name, &BuilderDataset{dtype: floatType(2), shape: shape, raw: raw})
}

// Float64 adds a float64 dataset.
func (g *BuilderGroup) Float64(name string, shape []int, data []float64) *BuilderDataset {
	if shapeLen(shape) != len(data) {
		panic(fmt.Sprintf("h5: %d values for shape %v", len(data), shape))
	}
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(v))
	}
	return g.addSet(name, &BuilderDataset{dtype: floatType(8), shape: shape, raw: raw})
}

// Int64 adds a signed 64-bit integer dataset.
func (g *BuilderGroup) Int64(name string, shape []int, data []int64) *BuilderDataset {
	if shapeLen(shape) != len(data) {
		panic(fmt.Sprintf("h5: %d values for shape %v", len(data), shape))
	}
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	return g.addSet(name, &BuilderDataset{dtype: intType(8, true), shape: shape, raw: raw})
}

// Int32 adds a signed 32-bit integer dataset.
func (g *BuilderGroup) Int32(name string, shape []int, data []int32) *BuilderDataset {
	if shapeLen(shape) != len(data) {
		panic(fmt.Sprintf("h5: %d values for shape %v", len(data), shape))
	}
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], uint32(v))
	}
	return g.addSet(name, &BuilderDataset{dtype: intType(4, true), shape: shape, raw: raw})
}

// attrHolder is a group's or dataset's attribute list.
func setAttr(list *[]*builderAttr, a *builderAttr) {
	if a.name == "" || len(a.name) > 65534 {
		panic(fmt.Sprintf("h5: bad attribute name %q", a.name))
	}
	for i, old := range *list {
		if old.name == a.name {
			(*list)[i] = a
			return
		}
	}
	*list = append(*list, a)
}

func stringAttr(name string, vals []string, scalar bool) *builderAttr {
	a := &builderAttr{name: name, dtype: vlenStringType(), strs: vals, raw: make([]byte, 16*len(vals))}
	if !scalar {
		a.shape = []int{len(vals)}
	}
	return a
}

func fixedStringAttr(name string, vals []string) *builderAttr {
	size := 1
	for _, v := range vals {
		size = max(size, len(v))
	}
	raw := make([]byte, size*len(vals))
	for i, v := range vals {
		copy(raw[i*size:], v)
	}
	return &builderAttr{name: name, dtype: fixedStringType(size), shape: []int{len(vals)}, raw: raw}
}

func float64Attr(name string, v float64) *builderAttr {
	return &builderAttr{name: name, dtype: floatType(8), raw: binary.LittleEndian.AppendUint64(nil, math.Float64bits(v))}
}

func int64Attr(name string, v int64) *builderAttr {
	return &builderAttr{name: name, dtype: intType(8, true), raw: binary.LittleEndian.AppendUint64(nil, uint64(v))}
}

// SetString sets a scalar variable-length UTF-8 string attribute, as h5py
// writes a Python str.
func (g *BuilderGroup) SetString(name, v string) {
	setAttr(&g.attrs, stringAttr(name, []string{v}, true))
}

// SetStrings sets a 1-d variable-length string attribute.
func (g *BuilderGroup) SetStrings(name string, vs []string) {
	setAttr(&g.attrs, stringAttr(name, vs, false))
}

// SetFixedStrings sets a 1-d null-padded fixed-length string attribute
// (numpy "S" arrays, as legacy Keras wrote layer_names).
func (g *BuilderGroup) SetFixedStrings(name string, vs []string) {
	setAttr(&g.attrs, fixedStringAttr(name, vs))
}

// SetFloat64 sets a scalar float64 attribute.
func (g *BuilderGroup) SetFloat64(name string, v float64) { setAttr(&g.attrs, float64Attr(name, v)) }

// SetInt64 sets a scalar int64 attribute.
func (g *BuilderGroup) SetInt64(name string, v int64) { setAttr(&g.attrs, int64Attr(name, v)) }

// SetString sets a scalar variable-length string attribute on the dataset.
func (d *BuilderDataset) SetString(name, v string) {
	setAttr(&d.attrs, stringAttr(name, []string{v}, true))
}

// Datatype messages (Spec IV.A.2.d).
func floatType(size int) []byte {
	b := []byte{0x11, 0x20, byte(size*8 - 1), 0}
	b = binary.LittleEndian.AppendUint32(b, uint32(size))
	var expLoc, expSize, mantSize byte
	var bias uint32
	switch size {
	case 2:
		expLoc, expSize, mantSize, bias = 10, 5, 10, 15
	case 4:
		expLoc, expSize, mantSize, bias = 23, 8, 23, 127
	case 8:
		expLoc, expSize, mantSize, bias = 52, 11, 52, 1023
	}
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(size*8))
	b = append(b, expLoc, expSize, 0, mantSize)
	return binary.LittleEndian.AppendUint32(b, bias)
}

func intType(size int, signed bool) []byte {
	var flags byte
	if signed {
		flags = 0x08
	}
	b := []byte{0x10, flags, 0, 0}
	b = binary.LittleEndian.AppendUint32(b, uint32(size))
	b = binary.LittleEndian.AppendUint16(b, 0)
	return binary.LittleEndian.AppendUint16(b, uint16(size*8))
}

// vlenStringType is h5py's str: a variable-length UTF-8 string of 1-byte
// characters, null-terminated.
func vlenStringType() []byte {
	b := []byte{0x19, 0x01, 0x01, 0x00}
	b = binary.LittleEndian.AppendUint32(b, 16)
	return append(b, intType(1, false)...)
}

func fixedStringType(size int) []byte {
	b := []byte{0x13, 0x00, 0x00, 0x00} // null-terminated ASCII
	return binary.LittleEndian.AppendUint32(b, uint32(size))
}

// Float32ToHalf rounds v to the nearest IEEE binary16 value (ties to
// even), with overflow to infinity, as numpy's astype(float16) does.
func Float32ToHalf(v float32) uint16 {
	b := math.Float32bits(v)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case b&0x7fffffff > 0x7f800000: // NaN
		return sign | 0x7e00
	case b&0x7fffffff == 0x7f800000:
		return sign | 0x7c00
	case exp >= 31:
		return sign | 0x7c00
	case exp <= 0:
		if exp < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint(14 - exp)
		half := uint32(1) << (shift - 1)
		r := m >> shift
		if rem := m & (1<<shift - 1); rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(exp)<<10 | mant>>13
	if rem := mant & 0x1fff; rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++ // may carry into the exponent, up to infinity: still correct
	}
	return sign | uint16(r)
}

const undefAddr = ^uint64(0)

// layout state for Write.
type writeLayout struct {
	next    uint64
	heapObj []string // global heap objects, index i+1
	heap    uint64
	objects []*objectPlan
}

type objectPlan struct {
	addr  uint64
	size  uint64
	build func() []byte // called once every address is known
	data  []byte        // dataset raw data, written at dataAddr
	dAddr uint64
}

func (l *writeLayout) alloc(n uint64) uint64 {
	a := l.next
	l.next += (n + 7) &^ 7
	return a
}

// Write writes the file to w.
func (b *Builder) Write(w io.Writer) error {
	l := &writeLayout{next: superblockSize}
	// Variable-length strings first, so that attribute sizes are known.
	var collect func(g *BuilderGroup)
	collectAttrs := func(as []*builderAttr) {
		for _, a := range as {
			l.heapObj = append(l.heapObj, a.strs...)
		}
	}
	collect = func(g *BuilderGroup) {
		collectAttrs(g.attrs)
		for _, c := range g.children {
			if c.group != nil {
				collect(c.group)
			} else {
				collectAttrs(c.set.attrs)
			}
		}
	}
	collect(b.root)
	rootPlan := l.planGroup(b.root)
	if len(l.heapObj) > 0 {
		l.heap = l.alloc(l.heapSize())
	}
	for _, o := range l.objects {
		if o.data != nil {
			o.dAddr = l.alloc(uint64(len(o.data)))
		}
	}
	// Fill the heap references of every string attribute, in the order
	// they were collected.
	next := uint32(1)
	var fill func(g *BuilderGroup)
	fillAttrs := func(as []*builderAttr) {
		for _, a := range as {
			for i, s := range a.strs {
				binary.LittleEndian.PutUint32(a.raw[16*i:], uint32(len(s)))
				binary.LittleEndian.PutUint64(a.raw[16*i+4:], l.heap)
				binary.LittleEndian.PutUint32(a.raw[16*i+12:], next)
				next++
			}
		}
	}
	fill = func(g *BuilderGroup) {
		fillAttrs(g.attrs)
		for _, c := range g.children {
			if c.group != nil {
				fill(c.group)
			} else {
				fillAttrs(c.set.attrs)
			}
		}
	}
	fill(b.root)

	out := make([]byte, l.next)
	copy(out, superblock(rootPlan.addr, l.next))
	for _, o := range l.objects {
		hdr := o.build()
		if uint64(len(hdr)) != o.size {
			return fmt.Errorf("h5: internal error: object header of %d bytes, planned %d", len(hdr), o.size)
		}
		copy(out[o.addr:], hdr)
		if o.data != nil {
			copy(out[o.dAddr:], o.data)
		}
	}
	if len(l.heapObj) > 0 {
		copy(out[l.heap:], l.heapBytes())
	}
	_, err := w.Write(out)
	return err
}

// WriteFile writes the file at path through a temporary file in the same
// folder, renamed into place once complete, so that a failure leaves no
// partial file.
func (b *Builder) WriteFile(path string) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".h5-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := b.Write(f); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

const superblockSize = 48

func superblock(root, eof uint64) []byte {
	b := append([]byte(nil), signature...)
	b = append(b, 2, 8, 8, 0)
	b = binary.LittleEndian.AppendUint64(b, 0)
	b = binary.LittleEndian.AppendUint64(b, undefAddr)
	b = binary.LittleEndian.AppendUint64(b, eof)
	b = binary.LittleEndian.AppendUint64(b, root)
	return binary.LittleEndian.AppendUint32(b, lookup3(b))
}

// heapSize is the global heap collection's size: header, objects padded
// to 8 bytes, and a free-space object, at least the 4096 bytes libhdf5
// allocates for a collection.
func (l *writeLayout) heapSize() uint64 {
	n := uint64(16)
	for _, s := range l.heapObj {
		n += 16 + (uint64(len(s))+7)&^7
	}
	n += 16
	return max(n, 4096)
}

func (l *writeLayout) heapBytes() []byte {
	size := l.heapSize()
	b := append([]byte("GCOL"), 1, 0, 0, 0)
	b = binary.LittleEndian.AppendUint64(b, size)
	for i, s := range l.heapObj {
		b = binary.LittleEndian.AppendUint16(b, uint16(i+1))
		b = binary.LittleEndian.AppendUint16(b, 0)
		b = binary.LittleEndian.AppendUint32(b, 0)
		b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
		for len(b)%8 != 0 {
			b = append(b, 0)
		}
	}
	free := size - uint64(len(b))
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint64(b, free)
	return append(b, make([]byte, size-uint64(len(b)))...)
}

// encodeObjectHeader encodes a version 2 object header: "OHDR", version 2,
// flags 2 (a 4-byte chunk size, no times), the messages, and the checksum.
func encodeObjectHeader(msgs [][]byte) []byte {
	var body []byte
	for _, m := range msgs {
		body = append(body, m...)
	}
	b := append([]byte("OHDR"), 2, 2)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, lookup3(b))
}

func headerMsg(typ byte, flags byte, data []byte) []byte {
	if len(data) > math.MaxUint16 {
		panic("h5: header message over 64 KiB")
	}
	b := []byte{typ}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(data)))
	b = append(b, flags)
	return append(b, data...)
}

func dataspaceMsg(shape []int, scalar bool) []byte {
	if scalar {
		return headerMsg(msgDataspace, 0, []byte{2, 0, 0, 0})
	}
	b := []byte{2, byte(len(shape)), 0, 1}
	for _, d := range shape {
		b = binary.LittleEndian.AppendUint64(b, uint64(d))
	}
	return headerMsg(msgDataspace, 0, b)
}

func attributeMsg(a *builderAttr) []byte {
	space := dataspaceMsg(a.shape, a.shape == nil)[4:]
	name := append([]byte(a.name), 0)
	b := []byte{3, 0}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(name)))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(a.dtype)))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(space)))
	b = append(b, 1) // UTF-8 name
	b = append(b, name...)
	b = append(b, a.dtype...)
	b = append(b, space...)
	b = append(b, a.raw...)
	return headerMsg(msgAttribute, 0, b)
}

// planGroup reserves g's object header and, recursively, its children's.
func (l *writeLayout) planGroup(g *BuilderGroup) *objectPlan {
	// Children in name order, as libhdf5 lists compact links.
	kids := append([]builderChild(nil), g.children...)
	sort.SliceStable(kids, func(i, j int) bool { return kids[i].name < kids[j].name })
	p := &objectPlan{}
	var plans []*objectPlan
	msgs := func() [][]byte {
		info := []byte{0, 0}
		info = binary.LittleEndian.AppendUint64(info, undefAddr)
		info = binary.LittleEndian.AppendUint64(info, undefAddr)
		ms := [][]byte{headerMsg(msgLinkInfo, 0, info), headerMsg(msgGroupInfo, 0, []byte{0, 0})}
		for i, k := range kids {
			lb := []byte{1, 0x10, 1, byte(len(k.name))} // version 1; charset given: UTF-8
			lb = append(lb, k.name...)
			addr := uint64(0)
			if plans != nil {
				addr = plans[i].addr
			}
			lb = binary.LittleEndian.AppendUint64(lb, addr)
			ms = append(ms, headerMsg(msgLink, 0, lb))
		}
		for _, a := range g.attrs {
			ms = append(ms, attributeMsg(a))
		}
		return ms
	}
	p.size = uint64(len(encodeObjectHeader(msgs())))
	p.addr = l.alloc(p.size)
	l.objects = append(l.objects, p)
	for _, k := range kids {
		if k.group != nil {
			plans = append(plans, l.planGroup(k.group))
		} else {
			plans = append(plans, l.planDataset(k.set))
		}
	}
	p.build = func() []byte { return encodeObjectHeader(msgs()) }
	return p
}

func (l *writeLayout) planDataset(d *BuilderDataset) *objectPlan {
	p := &objectPlan{data: d.raw}
	if len(d.raw) == 0 {
		p.data = nil
	}
	msgs := func() [][]byte {
		ms := [][]byte{
			dataspaceMsg(d.shape, false),
			headerMsg(msgDatatype, 1, d.dtype),
			headerMsg(msgFill, 1, []byte{3, 0x0a}), // late allocation, never written
		}
		lay := []byte{3, 1}
		addr := undefAddr
		if p.data != nil {
			addr = p.dAddr
		}
		lay = binary.LittleEndian.AppendUint64(lay, addr)
		lay = binary.LittleEndian.AppendUint64(lay, uint64(len(d.raw)))
		ms = append(ms, headerMsg(msgLayout, 0, lay))
		for _, a := range d.attrs {
			ms = append(ms, attributeMsg(a))
		}
		return ms
	}
	p.size = uint64(len(encodeObjectHeader(msgs())))
	p.addr = l.alloc(p.size)
	l.objects = append(l.objects, p)
	p.build = func() []byte { return encodeObjectHeader(msgs()) }
	return p
}
