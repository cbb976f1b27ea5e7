package h5

// dataspace is a decoded dataspace message (Spec IV.A.2.b).
type dataspace struct {
	null    bool
	dims    []uint64 // empty for scalar and null spaces
	maxDims []uint64 // nil when not stored; undef = unlimited
}

const maxRank = 32

func (f *File) parseDataspace(c *cursor) dataspace {
	var s dataspace
	v := c.u8()
	rank := int(c.u8())
	flags := c.u8()
	switch v {
	case 1:
		c.skip(5)
	case 2:
		switch c.u8() {
		case 0: // scalar
		case 1: // simple
		case 2:
			s.null = true
		default:
			c.fail("dataspace type unknown")
		}
	default:
		c.fail("dataspace version %d, want 1 or 2", v)
	}
	if c.err != nil {
		return s
	}
	if rank > maxRank {
		c.fail("dataspace rank %d, want at most %d", rank, maxRank)
		return s
	}
	s.dims = make([]uint64, rank)
	for i := range s.dims {
		s.dims[i] = c.length()
		if s.dims[i] == undef {
			c.fail("dataspace dimension %d is undefined", i)
		}
	}
	if flags&1 != 0 {
		s.maxDims = make([]uint64, rank)
		for i := range s.maxDims {
			s.maxDims[i] = c.length()
		}
	}
	if s.null {
		s.dims = nil
	}
	return s
}

// count returns the number of elements (1 for scalar, 0 for null), or
// ok=false when the product overflows.
func (s dataspace) count() (uint64, bool) {
	if s.null {
		return 0, true
	}
	n := uint64(1)
	for _, d := range s.dims {
		var ok bool
		if n, ok = mulOK(n, d, 1<<62); !ok {
			return 0, false
		}
	}
	return n, true
}

func (s dataspace) shape() []int {
	if s.null {
		return nil
	}
	out := make([]int, len(s.dims))
	for i, d := range s.dims {
		out[i] = int(d)
	}
	return out
}
