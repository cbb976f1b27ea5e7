package h5

// Object header message types (Spec IV.A.2).
const (
	msgNIL          = 0x00
	msgDataspace    = 0x01
	msgLinkInfo     = 0x02
	msgDatatype     = 0x03
	msgFillOld      = 0x04
	msgFill         = 0x05
	msgLink         = 0x06
	msgExternal     = 0x07
	msgLayout       = 0x08
	msgGroupInfo    = 0x0A
	msgFilters      = 0x0B
	msgAttribute    = 0x0C
	msgContinuation = 0x10
	msgSymbolTable  = 0x11
	msgAttrInfo     = 0x15
)

// Message flag bits (Spec IV.A.1).
const (
	msgFlagShared = 0x02
)

// Limits that keep hostile files from causing unbounded work.
const (
	maxHeaderBlocks = 1 << 16 // continuation blocks per object header
	maxDepth        = 64      // B-tree and heap recursion depth
	maxLinkHops     = 32      // soft links followed while resolving one path
)

// message is one object header message; data aliases the header block.
type message struct {
	typ      uint16
	flags    uint8
	crtOrder uint16
	data     []byte
	off      int64 // absolute file offset of data
}

type objectHeader struct {
	addr    uint64
	version int
	flags   uint8 // version 2 header flags
	msgs    []message
}

// find returns the first message of type t, or nil.
func (h *objectHeader) find(t uint16) *message {
	for i := range h.msgs {
		if h.msgs[i].typ == t {
			return &h.msgs[i]
		}
	}
	return nil
}

// header returns the parsed object header at addr, cached per file.
func (f *File) header(addr uint64, path string) (*objectHeader, error) {
	f.mu.Lock()
	h := f.headers[addr]
	f.mu.Unlock()
	if h != nil {
		return h, nil
	}
	h, err := f.parseHeader(addr, path)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.headers[addr] = h
	f.mu.Unlock()
	return h, nil
}

type block struct{ addr, size uint64 }

func (f *File) parseHeader(addr uint64, path string) (*objectHeader, error) {
	const st = "object header"
	pre, off, err := f.readUpTo(addr, 64, path, st)
	if err != nil {
		return nil, err
	}
	h := &objectHeader{addr: addr}
	var pending []block
	if len(pre) >= 4 && string(pre[:4]) == "OHDR" {
		h.version = 2
		c := f.newCursor(pre, off, path, st)
		c.skip(4)
		if v := c.u8(); v != 2 && c.err == nil {
			return nil, c.errorf("version %d, want 2", v)
		}
		h.flags = c.u8()
		if h.flags&0x20 != 0 {
			c.skip(16) // access, modification, change, birth times
		}
		if h.flags&0x10 != 0 {
			c.skip(4) // max compact / min dense attributes
		}
		size := c.uN(1 << (h.flags & 3))
		if c.err != nil {
			return nil, c.err
		}
		prefix := uint64(c.pos)
		if size > uint64(f.size) {
			return nil, c.errorf("chunk 0 size %d exceeds the file size", size)
		}
		b, off, err := f.read(addr, prefix+size+4, path, st)
		if err != nil {
			return nil, err
		}
		c = f.newCursor(b, off, path, st)
		c.pos = int(prefix + size)
		c.checksum(0)
		if c.err != nil {
			return nil, c.err
		}
		if err := f.parseMessagesV2(h, b[prefix:prefix+size], off+int64(prefix), path, &pending); err != nil {
			return nil, err
		}
	} else {
		c := f.newCursor(pre, off, path, st)
		v := c.u8()
		if c.err == nil && v != 1 {
			return nil, c.errorf("version %d, want 1 or signature OHDR", v)
		}
		h.version = 1
		c.skip(1)
		c.u16() // number of messages; the blocks are walked instead
		c.u32() // reference count
		size := uint64(c.u32())
		if c.err != nil {
			return nil, c.err
		}
		// Messages start 8-byte aligned after the 12-byte prefix.
		pending = append(pending, block{addr + 16, size})
	}
	seen := map[uint64]bool{}
	for len(pending) > 0 {
		blk := pending[0]
		pending = pending[1:]
		if seen[blk.addr] || len(seen) >= maxHeaderBlocks {
			return nil, f.formatErr(path, st, -1, "continuation block 0x%x repeats or too many blocks", blk.addr)
		}
		seen[blk.addr] = true
		b, off, err := f.read(blk.addr, blk.size, path, st)
		if err != nil {
			return nil, err
		}
		if h.version == 1 {
			err = f.parseMessagesV1(h, b, off, path, &pending)
		} else {
			c := f.newCursor(b, off, path, "object header continuation")
			c.signature("OCHK")
			if len(b) < 8 {
				c.fail("continuation block of %d bytes", len(b))
			}
			if c.err != nil {
				return nil, c.err
			}
			c.pos = len(b) - 4
			c.checksum(0)
			if c.err != nil {
				return nil, c.err
			}
			err = f.parseMessagesV2(h, b[4:len(b)-4], off+4, path, &pending)
		}
		if err != nil {
			return nil, err
		}
	}
	return h, nil
}

func (f *File) addMessage(h *objectHeader, m message, path string, pending *[]block) error {
	if m.typ == msgContinuation {
		c := f.newCursor(m.data, m.off, path, "continuation message")
		a := c.addr()
		n := c.length()
		if c.err != nil {
			return c.err
		}
		if n > uint64(f.size) {
			return c.errorf("continuation length %d exceeds the file size", n)
		}
		*pending = append(*pending, block{a, n})
		return nil
	}
	if m.typ == msgNIL {
		return nil
	}
	h.msgs = append(h.msgs, m)
	return nil
}

func (f *File) parseMessagesV1(h *objectHeader, b []byte, off int64, path string, pending *[]block) error {
	c := f.newCursor(b, off, path, "object header message")
	for c.left() >= 8 {
		typ := c.u16()
		size := int(c.u16())
		flags := c.u8()
		c.skip(3)
		data := c.bytes(size)
		if c.err != nil {
			return c.err
		}
		if err := f.addMessage(h, message{typ: typ, flags: flags, data: data, off: off + int64(c.pos-size)}, path, pending); err != nil {
			return err
		}
	}
	return nil
}

func (f *File) parseMessagesV2(h *objectHeader, b []byte, off int64, path string, pending *[]block) error {
	c := f.newCursor(b, off, path, "object header message")
	hdr := 4
	if h.flags&0x04 != 0 {
		hdr = 6
	}
	for c.left() >= hdr {
		typ := uint16(c.u8())
		size := int(c.u16())
		flags := c.u8()
		var order uint16
		if h.flags&0x04 != 0 {
			order = c.u16()
		}
		data := c.bytes(size)
		if c.err != nil {
			return c.err
		}
		if err := f.addMessage(h, message{typ: typ, flags: flags, crtOrder: order, data: data, off: off + int64(c.pos-size)}, path, pending); err != nil {
			return err
		}
	}
	return nil
}

// sharedTarget decodes a shared message (Spec IV.A.2.x, "Shared Message")
// and returns the object header address holding the real message. Messages
// kept in the shared-message heap are not supported.
func (f *File) sharedTarget(m *message, path string) (uint64, error) {
	c := f.newCursor(m.data, m.off, path, "shared message")
	v := c.u8()
	typ := c.u8()
	switch v {
	case 1:
		c.skip(6)
	case 2:
	case 3:
		if typ != 2 {
			if c.err == nil {
				return 0, f.unsupported(path, "shared message type %d (shared object header message heap)", typ)
			}
		}
	default:
		c.fail("shared message version %d", v)
	}
	a := c.addr()
	if c.err != nil {
		return 0, c.err
	}
	return a, nil
}

// resolveShared returns the message itself, or for a shared message the
// message of the same type in the object header it points to (committed
// datatypes).
func (f *File) resolveShared(m *message, path string) (*message, error) {
	if m.flags&msgFlagShared == 0 {
		return m, nil
	}
	a, err := f.sharedTarget(m, path)
	if err != nil {
		return nil, err
	}
	h, err := f.header(a, path)
	if err != nil {
		return nil, err
	}
	t := h.find(m.typ)
	if t == nil || t.flags&msgFlagShared != 0 {
		return nil, f.formatErr(path, "shared message", m.off, "object 0x%x has no unshared message of type 0x%x", a, m.typ)
	}
	return t, nil
}
