package h5

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// Class is an HDF5 datatype class (Spec IV.A.2.d).
type Class int

// Datatype classes.
const (
	ClassInteger   Class = 0
	ClassFloat     Class = 1
	ClassTime      Class = 2
	ClassString    Class = 3
	ClassBitfield  Class = 4
	ClassOpaque    Class = 5
	ClassCompound  Class = 6
	ClassReference Class = 7
	ClassEnum      Class = 8
	ClassVarLen    Class = 9
	ClassArray     Class = 10
)

var classNames = [...]string{"integer", "float", "time", "string", "bitfield", "opaque", "compound", "reference", "enum", "vlen", "array"}

// String returns the class name as h5py and the spec call it.
func (c Class) String() string {
	if c >= 0 && int(c) < len(classNames) {
		return classNames[c]
	}
	return "class " + strconv.Itoa(int(c))
}

// StringPad is how a fixed-length string fills unused bytes.
type StringPad int

// String padding kinds.
const (
	NullTerm StringPad = 0
	NullPad  StringPad = 1
	SpacePad StringPad = 2
)

// CharSet is a string's character set.
type CharSet int

// Character sets.
const (
	ASCII CharSet = 0
	UTF8  CharSet = 1
)

// Member is one field of a compound datatype.
type Member struct {
	Name   string
	Offset int
	Type   Datatype
}

// Datatype describes the element type of a dataset or attribute.
type Datatype struct {
	Class     Class
	Size      int              // bytes per element as stored (vlen: the heap reference)
	Signed    bool             // integers
	ByteOrder binary.ByteOrder // integers and floats
	// Strings: IsString is true for fixed-length strings (ClassString) and
	// variable-length strings (ClassVarLen with VarLenString).
	IsString     bool
	VarLenString bool
	StringPad    StringPad
	CharSet      CharSet
	// Bit layout of integers and floats.
	BitOffset, Precision           int
	ExpLoc, ExpSize                int
	MantLoc, MantSize, SignLoc     int
	ExpBias                        uint32
	Base                           *Datatype // enum, vlen sequence and array element type
	ArrayDims                      []int     // array class
	Members                        []Member  // compound class
	EnumNames                      []string  // enum class
	implicitMantissa, standardIEEE bool
}

// NumpyName returns the numpy dtype name: "int8" ... "uint64", "float16",
// "float32", "float64", "string", or the class name for other types.
func (t Datatype) NumpyName() string {
	switch t.Class {
	case ClassInteger:
		if t.Signed {
			return "int" + strconv.Itoa(8*t.Size)
		}
		return "uint" + strconv.Itoa(8*t.Size)
	case ClassFloat:
		return "float" + strconv.Itoa(8*t.Size)
	case ClassString:
		return "string"
	case ClassVarLen:
		if t.VarLenString {
			return "string"
		}
	case ClassEnum:
		if len(t.EnumNames) == 2 && t.EnumNames[0] == "FALSE" && t.EnumNames[1] == "TRUE" {
			return "bool"
		}
		if t.Base != nil {
			return t.Base.NumpyName()
		}
	case ClassArray:
		if t.Base != nil {
			return t.Base.NumpyName()
		}
	}
	return t.Class.String()
}

// elements returns the number of base elements per stored element (array
// types hold several) and the scalar type they have.
func (t *Datatype) scalar() (*Datatype, int) {
	n := 1
	for t.Class == ClassArray && t.Base != nil {
		for _, d := range t.ArrayDims {
			n *= d
		}
		t = t.Base
	}
	if t.Class == ClassEnum && t.Base != nil {
		t = t.Base
	}
	return t, n
}

const maxTypeDepth = 16

// parseDatatype decodes a datatype message (Spec IV.A.2.d) from c.
func (f *File) parseDatatype(c *cursor, depth int) Datatype {
	var t Datatype
	if depth > maxTypeDepth {
		c.fail("datatype nested deeper than %d", maxTypeDepth)
		return t
	}
	b0 := c.u8()
	bf := uint32(c.u8()) | uint32(c.u8())<<8 | uint32(c.u8())<<16
	t.Size = int(c.u32())
	t.Class = Class(b0 & 0x0f)
	version := b0 >> 4
	if c.err != nil {
		return t
	}
	if t.Size <= 0 || t.Size > 1<<24 {
		c.fail("datatype size %d", t.Size)
		return t
	}
	t.ByteOrder = binary.LittleEndian
	if bf&1 != 0 {
		t.ByteOrder = binary.BigEndian
	}
	switch t.Class {
	case ClassInteger, ClassBitfield:
		t.Signed = t.Class == ClassInteger && bf&0x08 != 0
		t.BitOffset = int(c.u16())
		t.Precision = int(c.u16())
	case ClassFloat:
		if bf&0x40 != 0 {
			c.fail("VAX float byte order")
		}
		t.Signed = true
		t.implicitMantissa = (bf>>4)&3 == 2
		t.SignLoc = int((bf >> 8) & 0xff)
		t.BitOffset = int(c.u16())
		t.Precision = int(c.u16())
		t.ExpLoc = int(c.u8())
		t.ExpSize = int(c.u8())
		t.MantLoc = int(c.u8())
		t.MantSize = int(c.u8())
		t.ExpBias = c.u32()
		t.standardIEEE = t.BitOffset == 0 && t.implicitMantissa &&
			(t.Size == 2 && t.Precision == 16 && t.ExpLoc == 10 && t.ExpSize == 5 && t.MantLoc == 0 && t.MantSize == 10 && t.ExpBias == 15 && t.SignLoc == 15 ||
				t.Size == 4 && t.Precision == 32 && t.ExpLoc == 23 && t.ExpSize == 8 && t.MantLoc == 0 && t.MantSize == 23 && t.ExpBias == 127 && t.SignLoc == 31 ||
				t.Size == 8 && t.Precision == 64 && t.ExpLoc == 52 && t.ExpSize == 11 && t.MantLoc == 0 && t.MantSize == 52 && t.ExpBias == 1023 && t.SignLoc == 63)
		if c.err == nil && (t.Size > 8 || t.ExpSize == 0 || t.ExpSize > 16 || t.MantSize > 63 ||
			t.ExpLoc+t.ExpSize > 8*t.Size || t.MantLoc+t.MantSize > 8*t.Size || t.SignLoc >= 8*t.Size) {
			c.fail("float layout size %d exp %d/%d mantissa %d/%d sign %d", t.Size, t.ExpLoc, t.ExpSize, t.MantLoc, t.MantSize, t.SignLoc)
		}
	case ClassTime:
		t.Precision = int(c.u16())
	case ClassString:
		t.IsString = true
		t.StringPad = StringPad(bf & 0x0f)
		t.CharSet = CharSet((bf >> 4) & 0x0f)
	case ClassOpaque:
		n := int(bf & 0xff)
		c.skip(n)
	case ClassCompound:
		n := int(bf & 0xffff)
		if n > c.left() {
			c.fail("compound with %d members in %d bytes", n, c.left())
			return t
		}
		for i := 0; i < n && c.err == nil; i++ {
			var m Member
			if version >= 3 {
				m.Name = cstring(c)
				w := 4
				if t.Size < 256 {
					w = 1
				} else if t.Size < 65536 {
					w = 2
				}
				m.Offset = int(c.uN(w))
			} else {
				s := c.pos
				m.Name = cstring(c)
				c.skip(pad8(c.pos-s) - (c.pos - s))
				m.Offset = int(c.u32())
				if version == 1 {
					c.skip(1 + 3 + 4 + 4 + 16) // rank, reserved, permutation, reserved, dims
				}
			}
			m.Type = f.parseDatatype(c, depth+1)
			t.Members = append(t.Members, m)
		}
	case ClassReference:
	case ClassEnum:
		n := int(bf & 0xffff)
		base := f.parseDatatype(c, depth+1)
		t.Base = &base
		if c.err != nil {
			return t
		}
		if n > c.left() {
			c.fail("enum with %d members in %d bytes", n, c.left())
			return t
		}
		for i := 0; i < n && c.err == nil; i++ {
			s := c.pos
			t.EnumNames = append(t.EnumNames, cstring(c))
			if version < 3 {
				c.skip(pad8(c.pos-s) - (c.pos - s))
			}
		}
		if base.Size > 0 {
			c.skip(n * base.Size)
		}
	case ClassVarLen:
		base := f.parseDatatype(c, depth+1)
		t.Base = &base
		if bf&0x0f == 1 {
			t.IsString = true
			t.VarLenString = true
			t.StringPad = StringPad((bf >> 4) & 0x0f)
			t.CharSet = CharSet((bf >> 8) & 0x0f)
		}
	case ClassArray:
		rank := int(c.u8())
		if version < 3 {
			c.skip(3)
		}
		for i := 0; i < rank && c.err == nil; i++ {
			d := c.u32()
			if d > 1<<24 {
				c.fail("array dimension %d", d)
			}
			t.ArrayDims = append(t.ArrayDims, int(d))
		}
		if version < 3 {
			c.skip(4 * rank)
		}
		base := f.parseDatatype(c, depth+1)
		t.Base = &base
		// Each array element takes at least one byte of the array's size,
		// which bounds the values a hostile type can claim.
		n := uint64(1)
		for _, d := range t.ArrayDims {
			n *= uint64(d)
			if n > uint64(t.Size) {
				c.fail("array of %v elements in %d bytes", t.ArrayDims, t.Size)
				break
			}
		}
	default:
		c.fail("datatype class %d", t.Class)
	}
	return t
}

func pad8(n int) int { return (n + 7) &^ 7 }

// cstring reads a NUL-terminated string.
func cstring(c *cursor) string {
	if c.err != nil {
		return ""
	}
	for i := c.pos; i < len(c.b); i++ {
		if c.b[i] == 0 {
			s := string(c.b[c.pos:i])
			c.pos = i + 1
			return s
		}
	}
	c.fail("unterminated string")
	return ""
}

// describe gives a short human-readable type name for listings and errors.
func (t Datatype) describe() string {
	switch t.Class {
	case ClassInteger, ClassFloat:
		o := "LE"
		if t.ByteOrder == binary.BigEndian {
			o = "BE"
		}
		return t.NumpyName() + " " + o
	case ClassString:
		return fmt.Sprintf("fixed string(%d) %s %s", t.Size, padName(t.StringPad), charsetName(t.CharSet))
	case ClassVarLen:
		if t.VarLenString {
			return "vlen string " + charsetName(t.CharSet)
		}
		if t.Base != nil {
			return "vlen sequence of " + t.Base.describe()
		}
	case ClassArray:
		if t.Base != nil {
			return fmt.Sprintf("array%v of %s", t.ArrayDims, t.Base.describe())
		}
	}
	return t.NumpyName()
}

func padName(p StringPad) string {
	switch p {
	case NullTerm:
		return "nullterm"
	case NullPad:
		return "nullpad"
	case SpacePad:
		return "spacepad"
	}
	return "pad" + strconv.Itoa(int(p))
}

func charsetName(c CharSet) string {
	if c == UTF8 {
		return "utf-8"
	}
	return "ascii"
}
