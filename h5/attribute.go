package h5

import (
	"sort"
)

// Attribute is an attribute of a group or dataset. Its value is decoded on
// demand by Strings, Float64s, Int64s or Value.
type Attribute struct {
	Name  string
	Shape []int // empty for a scalar, nil for a null dataspace
	Type  Datatype

	f        *File
	path     string // owner path, for errors
	raw      []byte
	nelem    int
	null     bool
	crtOrder int64
}

// IsScalar reports whether the attribute has a scalar dataspace.
func (a *Attribute) IsScalar() bool { return !a.null && len(a.Shape) == 0 }

// IsNull reports whether the attribute has a null dataspace (no value).
func (a *Attribute) IsNull() bool { return a.null }

// Len returns the number of values (elements times array-type elements).
func (a *Attribute) Len() int {
	_, per := a.Type.scalar()
	return a.nelem * per
}

func (a *Attribute) where() string { return a.path + " attribute " + a.Name }

// Strings returns the values of a string attribute (fixed-length,
// variable-length or an array of strings); a scalar gives one element.
func (a *Attribute) Strings() ([]string, error) {
	return a.f.decodeStrings(&a.Type, a.raw, a.nelem, a.where())
}

// String returns the value of a scalar or one-element string attribute.
func (a *Attribute) String() (string, error) {
	s, err := a.Strings()
	if err != nil {
		return "", err
	}
	if len(s) != 1 {
		return "", a.f.formatErr(a.where(), "attribute", -1, "%d strings, want 1", len(s))
	}
	return s[0], nil
}

// Float64s returns the values of a numeric attribute, flattened in row-major
// order.
func (a *Attribute) Float64s() ([]float64, error) {
	t, per, err := a.f.numericType(&a.Type, a.where(), "float64")
	if err != nil {
		return nil, err
	}
	out := make([]float64, a.nelem*per)
	decodeFloat64(t, a.raw, out)
	return out, nil
}

// Int64s returns the values of an integer attribute, flattened.
func (a *Attribute) Int64s() ([]int64, error) {
	t, per, err := a.f.numericType(&a.Type, a.where(), "int64")
	if err != nil {
		return nil, err
	}
	if t.Class != ClassInteger {
		return nil, a.f.unsupported(a.where(), "conversion of %s data to int64", a.Type.describe())
	}
	out := make([]int64, a.nelem*per)
	if i := decodeInt64(t, a.raw, out); i >= 0 {
		return nil, a.f.formatErr(a.where(), "attribute", -1, "value %d does not fit in int64", i)
	}
	return out, nil
}

// Value returns the attribute as string, []string, float64, []float64,
// int64 or []int64 (a scalar dataspace gives the single forms, values are
// flattened), or nil for a null dataspace.
func (a *Attribute) Value() (any, error) {
	if a.null {
		return nil, nil
	}
	s, _ := a.Type.scalar()
	scalar := len(a.Shape) == 0 && a.Len() == 1
	switch {
	case s.IsString:
		v, err := a.Strings()
		if err != nil || !scalar {
			return v, err
		}
		return v[0], nil
	case s.Class == ClassFloat:
		v, err := a.Float64s()
		if err != nil || !scalar {
			return v, err
		}
		return v[0], nil
	case s.Class == ClassInteger:
		v, err := a.Int64s()
		if err != nil {
			// uint64 beyond int64: fall back to float64 rather than fail.
			fv, ferr := a.Float64s()
			if ferr != nil {
				return nil, err
			}
			if scalar {
				return fv[0], nil
			}
			return fv, nil
		}
		if !scalar {
			return v, nil
		}
		return v[0], nil
	}
	return nil, a.f.unsupported(a.where(), "attribute of type %s", a.Type.describe())
}

// attributes gathers compact and dense attributes of an object header.
func (f *File) attributes(h *objectHeader, path string) ([]*Attribute, error) {
	var out []*Attribute
	for i := range h.msgs {
		m := &h.msgs[i]
		if m.typ != msgAttribute {
			continue
		}
		a, err := f.parseAttribute(m.data, m.off, path, m.flags)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if m := h.find(msgAttrInfo); m != nil {
		c := f.newCursor(m.data, m.off, path, "attribute info message")
		if v := c.u8(); v != 0 && c.err == nil {
			c.fail("version %d, want 0", v)
		}
		flags := c.u8()
		if flags&1 != 0 {
			c.skip(2)
		}
		heap := c.addr()
		nameIndex := c.addr()
		if c.err != nil {
			return nil, c.err
		}
		if heap != undef {
			dense, err := f.denseAttributes(heap, nameIndex, path)
			if err != nil {
				return nil, err
			}
			if flags&1 != 0 {
				sort.SliceStable(dense, func(i, j int) bool { return dense[i].crtOrder < dense[j].crtOrder })
			} else {
				sort.SliceStable(dense, func(i, j int) bool { return dense[i].Name < dense[j].Name })
			}
			out = append(out, dense...)
		}
	}
	return out, nil
}

// parseAttribute decodes an attribute message (Spec IV.A.2.m).
func (f *File) parseAttribute(b []byte, off int64, path string, msgFlags uint8) (*Attribute, error) {
	if msgFlags&msgFlagShared != 0 {
		return nil, f.unsupported(path, "shared attribute message")
	}
	c := f.newCursor(b, off, path, "attribute message")
	v := c.u8()
	flags := c.u8()
	nameLen := int(c.u16())
	dtLen := int(c.u16())
	dsLen := int(c.u16())
	if v == 3 {
		c.u8() // name charset
	}
	if c.err != nil {
		return nil, c.err
	}
	if v < 1 || v > 3 {
		return nil, c.errorf("version %d, want 1 to 3", v)
	}
	field := func(n int) *cursor {
		start := c.pos
		raw := c.bytes(n)
		if v == 1 {
			c.skip(pad8(n) - n)
		}
		sub := f.newCursor(raw, c.base+int64(start), path, "attribute message")
		if c.err != nil {
			sub.err = c.err
		}
		return sub
	}
	nc := field(nameLen)
	name := cstring(nc)
	if nc.err == nil && nameLen == 0 {
		nc.fail("empty attribute name")
	}
	if nc.err != nil {
		return nil, nc.err
	}
	a := &Attribute{Name: name, f: f, path: path}
	tc := field(dtLen)
	if flags&1 != 0 && tc.err == nil {
		m := &message{typ: msgDatatype, flags: msgFlagShared, data: tc.b, off: tc.base}
		t, err := f.resolveShared(m, path)
		if err != nil {
			return nil, err
		}
		tc = f.newCursor(t.data, t.off, path, "datatype message")
	}
	a.Type = f.parseDatatype(tc, 0)
	if tc.err != nil {
		return nil, tc.err
	}
	sc := field(dsLen)
	if flags&2 != 0 && sc.err == nil {
		return nil, f.unsupported(path+" attribute "+name, "shared dataspace")
	}
	space := f.parseDataspace(sc)
	if sc.err != nil {
		return nil, sc.err
	}
	a.null = space.null
	a.Shape = space.shape()
	if a.Shape == nil && !space.null {
		a.Shape = []int{}
	}
	n, ok := space.count()
	esize := f.elemSize(&a.Type)
	total, ok2 := mulOK(n, uint64(esize), uint64(c.left()))
	if !ok || !ok2 || total > uint64(c.left()) {
		return nil, c.errorf("attribute %s: %d elements of %d bytes, %d bytes of data", name, n, esize, c.left())
	}
	a.nelem = int(n)
	a.raw = c.bytes(int(total))
	return a, c.err
}

// elemSize is the stored size of one element: variable-length types are
// stored as heap references (length, collection address, index).
func (f *File) elemSize(t *Datatype) int {
	if t.Class == ClassVarLen {
		return 4 + f.sizeOffsets + 4
	}
	if t.Class == ClassArray && t.Base != nil && t.Base.Class == ClassVarLen {
		_, per := t.scalar()
		return per * (4 + f.sizeOffsets + 4)
	}
	return t.Size
}
