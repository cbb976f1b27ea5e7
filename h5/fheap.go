package h5

import (
	"encoding/binary"
	"math/bits"
)

// Fractal heaps (Spec III.G) store dense links and attributes.

type fheap struct {
	f             *File
	path          string
	addr          uint64
	idLen         int
	filterLen     int
	flags         uint8
	hugeBtree     uint64
	width         uint64
	startBlock    uint64
	maxDirect     uint64
	maxHeapBits   int
	rootAddr      uint64
	curRows       int
	offBytes      int
	lenBytes      int
	maxDirectRows int
	checked       map[uint64]bool
}

func (f *File) openFractalHeap(addr uint64, path string) (*fheap, error) {
	const st = "fractal heap header"
	O, L := f.sizeOffsets, f.sizeLengths
	n := 4 + 1 + 2 + 2 + 1 + 4 + 12*L + 3*O + 2 + 2 + 2 + 2 + 4
	b, off, err := f.readUpTo(addr, uint64(n+L+4+1<<16), path, st)
	if err != nil {
		return nil, err
	}
	c := f.newCursor(b, off, path, st)
	c.signature("FRHP")
	if v := c.u8(); v != 0 && c.err == nil {
		c.fail("version %d, want 0", v)
	}
	h := &fheap{f: f, path: path, addr: addr, checked: map[uint64]bool{}}
	h.idLen = int(c.u16())
	h.filterLen = int(c.u16())
	h.flags = c.u8()
	maxManaged := uint64(c.u32())
	c.length() // next huge object id
	h.hugeBtree = c.addr()
	c.length() // free space in managed blocks
	c.addr()   // free-space manager
	c.length() // managed space
	c.length() // allocated managed space
	c.length() // direct block allocation iterator
	c.length() // managed objects
	c.length() // huge objects size
	c.length() // huge objects count
	c.length() // tiny objects size
	c.length() // tiny objects count
	h.width = uint64(c.u16())
	h.startBlock = c.length()
	h.maxDirect = c.length()
	h.maxHeapBits = int(c.u16())
	c.u16() // starting rows in root indirect block
	h.rootAddr = c.addr()
	h.curRows = int(c.u16())
	if h.filterLen > 0 {
		c.length() // filtered root direct block size
		c.u32()    // filter mask
		c.skip(h.filterLen)
	}
	c.checksum(0)
	if c.err != nil {
		return nil, c.err
	}
	pow2 := func(x uint64) bool { return x != 0 && x&(x-1) == 0 }
	if h.idLen < 2 || h.width == 0 || !pow2(h.width) || !pow2(h.startBlock) || !pow2(h.maxDirect) ||
		h.maxDirect < h.startBlock || h.maxHeapBits == 0 || h.maxHeapBits > 64 || h.curRows > 64 || maxManaged == 0 {
		return nil, c.errorf("heap ID length %d, table width %d, block sizes %d..%d, heap bits %d, rows %d",
			h.idLen, h.width, h.startBlock, h.maxDirect, h.maxHeapBits, h.curRows)
	}
	h.offBytes = (h.maxHeapBits + 7) / 8
	h.lenBytes = min((bits.Len64(h.maxDirect)-1+7)/8, encSize(maxManaged))
	h.maxDirectRows = bits.Len64(h.maxDirect) - bits.Len64(h.startBlock) + 2
	return h, nil
}

// blockPrefix reads what indirect and direct blocks start with: the
// signature, version 0, the heap header's address and the block's offset
// in the heap's address space, which must be blockOff.
func (h *fheap) blockPrefix(c *cursor, sig string, blockOff uint64) {
	c.signature(sig)
	if v := c.u8(); v != 0 && c.err == nil {
		c.fail("version %d, want 0", v)
	}
	c.addr()
	if got := c.uN(h.offBytes); c.err == nil && got != blockOff {
		c.fail("block offset %d, want %d", got, blockOff)
	}
}

func (h *fheap) rowSize(r int) uint64 {
	if r == 0 {
		return h.startBlock
	}
	if r-1 >= 64-bits.Len64(h.startBlock) {
		return 0
	}
	return h.startBlock << uint(r-1)
}

// get returns the object a heap ID names, with its absolute file offset.
func (h *fheap) get(id []byte) ([]byte, int64, error) {
	f := h.f
	if len(id) != h.idLen {
		return nil, 0, f.formatErr(h.path, "fractal heap ID", -1, "ID of %d bytes, want %d", len(id), h.idLen)
	}
	switch (id[0] >> 4) & 3 {
	case 0: // managed
		c := f.newCursor(id[1:], -1, h.path, "fractal heap ID")
		off := c.uN(h.offBytes)
		n := c.uN(h.lenBytes)
		if c.err != nil {
			return nil, 0, c.err
		}
		return h.managed(off, n)
	case 1: // huge
		if h.filterLen > 0 {
			return nil, 0, f.unsupported(h.path, "filtered fractal heap huge objects")
		}
		c := f.newCursor(id[1:], -1, h.path, "fractal heap ID")
		if h.idLen-1 >= f.sizeOffsets+f.sizeLengths {
			a := c.addr()
			n := c.length()
			if c.err != nil {
				return nil, 0, c.err
			}
			b, off, err := f.read(a, n, h.path, "fractal heap huge object")
			return b, off, err
		}
		key := c.uN(min(h.idLen-1, 8))
		if c.err != nil {
			return nil, 0, c.err
		}
		var addr, n uint64
		found := false
		err := f.walkBTree2(h.hugeBtree, bt2HugeObject, h.path, func(rec []byte) error {
			rc := f.newCursor(rec, -1, h.path, "huge object record")
			a := rc.addr()
			ln := rc.length()
			k := rc.length()
			if rc.err == nil && k == key {
				addr, n, found = a, ln, true
			}
			return rc.err
		})
		if err != nil {
			return nil, 0, err
		}
		if !found {
			return nil, 0, f.formatErr(h.path, "fractal heap", -1, "huge object %d not in its B-tree", key)
		}
		return f.read(addr, n, h.path, "fractal heap huge object")
	case 2: // tiny
		if h.idLen <= 18 {
			n := int(id[0]&0x0f) + 1
			if 1+n > len(id) {
				return nil, 0, f.formatErr(h.path, "fractal heap ID", -1, "tiny object of %d bytes in a %d-byte ID", n, len(id))
			}
			return append([]byte(nil), id[1:1+n]...), -1, nil
		}
		n := (int(id[0]&0x0f)<<8 | int(id[1])) + 1
		if 2+n > len(id) {
			return nil, 0, f.formatErr(h.path, "fractal heap ID", -1, "tiny object of %d bytes in a %d-byte ID", n, len(id))
		}
		return append([]byte(nil), id[2:2+n]...), -1, nil
	}
	return nil, 0, f.formatErr(h.path, "fractal heap ID", -1, "ID type %d", (id[0]>>4)&3)
}

// managed finds a managed object at heap offset off by walking the
// doubling table from the root block.
func (h *fheap) managed(off, n uint64) ([]byte, int64, error) {
	f := h.f
	if h.filterLen > 0 {
		return nil, 0, f.unsupported(h.path, "filtered fractal heap blocks")
	}
	if h.curRows == 0 {
		return h.direct(h.rootAddr, 0, h.startBlock, off, n)
	}
	blockAddr, blockOff, nrows := h.rootAddr, uint64(0), h.curRows
	for depth := 0; depth < maxDepth; depth++ {
		const st = "fractal heap indirect block"
		nDirect := min(nrows, h.maxDirectRows) * int(h.width)
		nIndirect := max(nrows-h.maxDirectRows, 0) * int(h.width)
		size := uint64(5+f.sizeOffsets+h.offBytes) + uint64(nDirect+nIndirect)*uint64(f.sizeOffsets) + 4
		b, boff, err := f.read(blockAddr, size, h.path, st)
		if err != nil {
			return nil, 0, err
		}
		c := f.newCursor(b, boff, h.path, st)
		h.blockPrefix(c, "FHIB", blockOff)
		entries := c.pos
		c.pos = int(size - 4)
		c.checksum(0)
		if c.err != nil {
			return nil, 0, c.err
		}
		// Locate the row and column holding off.
		start := blockOff
		found := false
		for r := 0; r < nrows; r++ {
			rs := h.rowSize(r)
			if rs == 0 {
				break
			}
			span := rs * h.width
			if off >= start && off-start < span {
				col := (off - start) / rs
				i := uint64(r)*h.width + col
				ec := f.newCursor(b[entries+int(i)*f.sizeOffsets:], boff, h.path, st)
				child := ec.addr()
				if ec.err != nil {
					return nil, 0, ec.err
				}
				if child == undef {
					return nil, 0, f.formatErr(h.path, st, boff, "heap offset %d falls in an unallocated block", off)
				}
				childOff := start + col*rs
				if r < h.maxDirectRows {
					return h.direct(child, childOff, rs, off, n)
				}
				blockAddr, blockOff = child, childOff
				prev := nrows
				nrows = bits.Len64(rs) - bits.Len64(h.startBlock*h.width) + 1
				if nrows <= 0 || nrows >= prev {
					return nil, 0, f.formatErr(h.path, st, boff, "child block of %d bytes has %d rows", rs, nrows)
				}
				found = true
				break
			}
			start += span
		}
		if !found {
			return nil, 0, f.formatErr(h.path, st, boff, "heap offset %d outside the block", off)
		}
	}
	return nil, 0, f.formatErr(h.path, "fractal heap", -1, "indirect blocks nested deeper than %d", maxDepth)
}

func (h *fheap) direct(addr, blockOff, blockSize, off, n uint64) ([]byte, int64, error) {
	f := h.f
	const st = "fractal heap direct block"
	hdr := uint64(5 + f.sizeOffsets + h.offBytes)
	if h.flags&2 != 0 {
		hdr += 4
	}
	if off < blockOff || off-blockOff < hdr || off-blockOff > blockSize || n > blockSize-(off-blockOff) {
		return nil, 0, f.formatErr(h.path, st, -1, "object at heap offset %d (%d bytes) outside block at %d of %d bytes", off, n, blockOff, blockSize)
	}
	if !h.checked[addr] {
		b, boff, err := f.read(addr, blockSize, h.path, st)
		if err != nil {
			return nil, 0, err
		}
		c := f.newCursor(b, boff, h.path, st)
		h.blockPrefix(c, "FHDB", blockOff)
		if c.err != nil {
			return nil, 0, c.err
		}
		if h.flags&2 != 0 {
			// The checksum covers the whole block with its own field zeroed.
			p := c.pos
			stored := binary.LittleEndian.Uint32(b[p:])
			copy(b[p:p+4], []byte{0, 0, 0, 0})
			if got := lookup3(b); got != stored {
				return nil, 0, f.formatErr(h.path, st, boff, "checksum mismatch: computed 0x%08x, stored 0x%08x", got, stored)
			}
		}
		h.checked[addr] = true
	}
	return f.read(addr+(off-blockOff), n, h.path, "fractal heap object")
}

// denseLinks reads the links of a group stored in a fractal heap, through
// its name-index v2 B-tree (type 5).
func (f *File) denseLinks(heapAddr, nameIndex uint64, path string) ([]link, error) {
	h, err := f.openFractalHeap(heapAddr, path)
	if err != nil {
		return nil, err
	}
	var links []link
	err = f.walkBTree2(nameIndex, bt2LinkName, path, func(rec []byte) error {
		if len(rec) < 4+h.idLen {
			return f.formatErr(path, "link name record", -1, "record of %d bytes, want %d", len(rec), 4+h.idLen)
		}
		obj, off, err := h.get(rec[4 : 4+h.idLen])
		if err != nil {
			return err
		}
		l, err := f.parseLink(obj, off, path)
		if err != nil {
			return err
		}
		links = append(links, l)
		return nil
	})
	return links, err
}

// denseAttributes reads attributes stored in a fractal heap through their
// name-index v2 B-tree (type 8).
func (f *File) denseAttributes(heapAddr, nameIndex uint64, path string) ([]*Attribute, error) {
	h, err := f.openFractalHeap(heapAddr, path)
	if err != nil {
		return nil, err
	}
	var out []*Attribute
	err = f.walkBTree2(nameIndex, bt2AttrName, path, func(rec []byte) error {
		if len(rec) < 8+1+4+4 || h.idLen > 8 {
			return f.formatErr(path, "attribute name record", -1, "record of %d bytes with heap IDs of %d bytes", len(rec), h.idLen)
		}
		flags := rec[8]
		order := binary.LittleEndian.Uint32(rec[9:])
		obj, off, err := h.get(rec[:h.idLen])
		if err != nil {
			return err
		}
		a, err := f.parseAttribute(obj, off, path, flags)
		if err != nil {
			return err
		}
		a.crtOrder = int64(order)
		out = append(out, a)
		return nil
	})
	return out, err
}
