package h5

// Global heap collections (Spec III.E) hold variable-length data; local
// heaps (Spec III.D) hold the link names of symbol-table groups.

func (f *File) globalHeapObject(addr uint64, index uint32, path string) ([]byte, error) {
	const st = "global heap"
	f.mu.Lock()
	col, ok := f.gheaps[addr]
	f.mu.Unlock()
	if !ok {
		pre, off, err := f.read(addr, uint64(8+f.sizeLengths), path, st)
		if err != nil {
			return nil, err
		}
		c := f.newCursor(pre, off, path, st)
		c.signature("GCOL")
		if v := c.u8(); v != 1 && c.err == nil {
			c.fail("version %d, want 1", v)
		}
		c.skip(3)
		size := c.length()
		if c.err != nil {
			return nil, c.err
		}
		b, off, err := f.read(addr, size, path, st)
		if err != nil {
			return nil, err
		}
		col = map[uint16][]byte{}
		c = f.newCursor(b, off, path, st)
		// The collection header and each object header are padded to a
		// multiple of 8 bytes (H5HG_ALIGN), which matters when L = 2 or 4.
		hdr := pad8(8 + f.sizeLengths)
		c.pos = hdr
		for c.left() >= hdr {
			idx := c.u16()
			c.skip(2 + 4) // reference count, reserved
			n := c.length()
			c.skip(hdr - 8 - f.sizeLengths)
			if idx == 0 { // free space
				break
			}
			if n > uint64(c.left()) {
				c.fail("object %d of %d bytes in %d bytes left", idx, n, c.left())
				break
			}
			col[idx] = c.bytes(int(n))
			c.skip(min(pad8(int(n))-int(n), c.left()))
		}
		if c.err != nil {
			return nil, c.err
		}
		f.mu.Lock()
		f.gheaps[addr] = col
		f.mu.Unlock()
	}
	obj, ok := col[uint16(index)]
	if !ok || index > 0xffff {
		return nil, f.formatErr(path, st, -1, "collection 0x%x has no object %d", addr, index)
	}
	return obj, nil
}

// localHeap returns the data segment of the local heap at addr.
func (f *File) localHeap(addr uint64, path string) ([]byte, error) {
	const st = "local heap"
	f.mu.Lock()
	data, ok := f.lheaps[addr]
	f.mu.Unlock()
	if ok {
		return data, nil
	}
	b, off, err := f.read(addr, uint64(8+2*f.sizeLengths+f.sizeOffsets), path, st)
	if err != nil {
		return nil, err
	}
	c := f.newCursor(b, off, path, st)
	c.signature("HEAP")
	if v := c.u8(); v != 0 && c.err == nil {
		c.fail("version %d, want 0", v)
	}
	c.skip(3)
	size := c.length()
	c.length() // free list head
	dataAddr := c.addr()
	if c.err != nil {
		return nil, c.err
	}
	data, _, err = f.read(dataAddr, size, path, st+" data segment")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.lheaps[addr] = data
	f.mu.Unlock()
	return data, nil
}
