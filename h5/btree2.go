package h5

import "math/bits"

// Version 2 B-trees (Spec III.A.2).

// Record types used here.
const (
	bt2HugeObject    = 1
	bt2LinkName      = 5
	bt2AttrName      = 8
	bt2ChunkPlain    = 10
	bt2ChunkFiltered = 11
)

// encSize is the bytes needed to encode n (H5VM_limit_enc_size).
func encSize(n uint64) int {
	if n == 0 {
		return 1
	}
	return (bits.Len64(n)-1)/8 + 1
}

type btree2 struct {
	f         *File
	path      string
	typ       int
	nodeSize  uint64
	recSize   uint64
	depth     int
	nrecBytes int
	cumBytes  []int // per depth
	seen      map[uint64]bool
}

// walkBTree2 calls fn with every record of the v2 B-tree at addr, in key
// order.
func (f *File) walkBTree2(addr uint64, wantType int, path string, fn func(rec []byte) error) error {
	const st = "v2 B-tree header"
	b, off, err := f.read(addr, uint64(4+1+1+4+2+2+1+1+f.sizeOffsets+2+f.sizeLengths+4), path, st)
	if err != nil {
		return err
	}
	c := f.newCursor(b, off, path, st)
	c.signature("BTHD")
	if v := c.u8(); v != 0 && c.err == nil {
		c.fail("version %d, want 0", v)
	}
	t := &btree2{f: f, path: path, seen: map[uint64]bool{}}
	t.typ = int(c.u8())
	t.nodeSize = uint64(c.u32())
	t.recSize = uint64(c.u16())
	t.depth = int(c.u16())
	c.skip(2)
	root := c.addr()
	rootN := uint64(c.u16())
	c.length() // total records
	c.checksum(0)
	if c.err != nil {
		return c.err
	}
	if t.typ != wantType {
		return c.errorf("record type %d, want %d", t.typ, wantType)
	}
	if t.recSize == 0 || t.nodeSize < 10+t.recSize || t.nodeSize > uint64(f.size) || t.depth > maxDepth {
		return c.errorf("node size %d, record size %d, depth %d", t.nodeSize, t.recSize, t.depth)
	}
	maxLeaf := (t.nodeSize - 10) / t.recSize
	t.nrecBytes = encSize(maxLeaf)
	t.cumBytes = make([]int, t.depth+1)
	cum := maxLeaf
	t.cumBytes[0] = encSize(cum)
	for d := 1; d <= t.depth; d++ {
		ptr := uint64(f.sizeOffsets + t.nrecBytes)
		if d > 1 {
			ptr += uint64(t.cumBytes[d-1])
		}
		if t.nodeSize < 10+ptr {
			return c.errorf("node size %d too small for depth %d", t.nodeSize, t.depth)
		}
		maxD := (t.nodeSize - (10 + ptr)) / (t.recSize + ptr)
		hi, lo := bits.Mul64(maxD+1, cum)
		if hi != 0 || lo+maxD < lo {
			return c.errorf("record counts overflow at depth %d", d)
		}
		cum = lo + maxD
		t.cumBytes[d] = encSize(cum)
	}
	if root == undef || rootN == 0 {
		return nil
	}
	return t.node(root, rootN, t.depth, fn)
}

func (t *btree2) node(addr, nrec uint64, depth int, fn func([]byte) error) error {
	f := t.f
	st := "v2 B-tree leaf node"
	sig := "BTLF"
	if depth > 0 {
		st, sig = "v2 B-tree internal node", "BTIN"
	}
	if t.seen[addr] {
		return f.formatErr(t.path, st, -1, "node 0x%x visited twice", addr)
	}
	t.seen[addr] = true
	ptr := uint64(0)
	if depth > 0 {
		ptr = uint64(f.sizeOffsets + t.nrecBytes)
		if depth > 1 {
			ptr += uint64(t.cumBytes[depth-1])
		}
	}
	if nrec > t.nodeSize/t.recSize {
		return f.formatErr(t.path, st, -1, "%d records do not fit a node of %d bytes", nrec, t.nodeSize)
	}
	size := 6 + nrec*t.recSize + 4
	if depth > 0 {
		size += (nrec + 1) * ptr
	}
	b, off, err := f.read(addr, size, t.path, st)
	if err != nil {
		return err
	}
	c := f.newCursor(b, off, t.path, st)
	c.signature(sig)
	if v := c.u8(); v != 0 && c.err == nil {
		c.fail("version %d, want 0", v)
	}
	if typ := int(c.u8()); typ != t.typ && c.err == nil {
		c.fail("record type %d, want %d", typ, t.typ)
	}
	c.pos = int(size - 4)
	c.checksum(0)
	if c.err != nil {
		return c.err
	}
	recs := b[6 : 6+nrec*t.recSize]
	if depth == 0 {
		for i := uint64(0); i < nrec; i++ {
			if err := fn(recs[i*t.recSize : (i+1)*t.recSize]); err != nil {
				return err
			}
		}
		return nil
	}
	c.pos = int(6 + nrec*t.recSize)
	type child struct {
		addr, n uint64
	}
	kids := make([]child, nrec+1)
	for i := range kids {
		kids[i].addr = c.addr()
		kids[i].n = c.uN(t.nrecBytes)
		if depth > 1 {
			c.uN(t.cumBytes[depth-1])
		}
	}
	if c.err != nil {
		return c.err
	}
	for i, k := range kids {
		if err := t.node(k.addr, k.n, depth-1, fn); err != nil {
			return err
		}
		if uint64(i) < nrec {
			if err := fn(recs[uint64(i)*t.recSize : uint64(i+1)*t.recSize]); err != nil {
				return err
			}
		}
	}
	return nil
}
