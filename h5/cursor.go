package h5

import (
	"encoding/binary"
	"math"
)

// undef is the "not allocated" address (all bits set), normalized to 64 bits
// whatever the file's size of offsets.
const undef = math.MaxUint64

// cursor decodes one on-disk structure with a sticky error, in the manner of
// debug/dwarf's buf: every read checks the bytes left; after the first
// underflow it records an error and returns zeros, so callers check err once
// per structure.
type cursor struct {
	f         *File
	b         []byte
	pos       int
	base      int64 // file offset of b[0], for error messages
	path      string
	structure string
	err       error
}

func (f *File) newCursor(b []byte, base int64, path, structure string) *cursor {
	return &cursor{f: f, b: b, base: base, path: path, structure: structure}
}

// fail records a format error at the current position (first one wins).
func (c *cursor) fail(format string, args ...any) {
	if c.err == nil {
		c.err = c.f.formatErr(c.path, c.structure, c.base+int64(c.pos), format, args...)
	}
}

func (c *cursor) left() int { return len(c.b) - c.pos }

func (c *cursor) need(n int) bool {
	if c.err != nil {
		return false
	}
	if n < 0 || n > len(c.b)-c.pos {
		c.fail("truncated: need %d bytes, have %d", n, len(c.b)-c.pos)
		return false
	}
	return true
}

func (c *cursor) bytes(n int) []byte {
	if !c.need(n) {
		return nil
	}
	s := c.b[c.pos : c.pos+n : c.pos+n]
	c.pos += n
	return s
}

func (c *cursor) skip(n int) { c.bytes(n) }

func (c *cursor) u8() uint8 {
	if !c.need(1) {
		return 0
	}
	v := c.b[c.pos]
	c.pos++
	return v
}

func (c *cursor) u16() uint16 {
	if !c.need(2) {
		return 0
	}
	v := binary.LittleEndian.Uint16(c.b[c.pos:])
	c.pos += 2
	return v
}

func (c *cursor) u32() uint32 {
	if !c.need(4) {
		return 0
	}
	v := binary.LittleEndian.Uint32(c.b[c.pos:])
	c.pos += 4
	return v
}

func (c *cursor) u64() uint64 { return c.uN(8) }

// uN reads an n-byte little-endian unsigned integer (n <= 8).
func (c *cursor) uN(n int) uint64 {
	if n > 8 {
		c.fail("integer field of %d bytes", n)
		return 0
	}
	if !c.need(n) {
		return 0
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(c.b[c.pos+i])
	}
	c.pos += n
	return v
}

// addr reads a file address of the superblock's size of offsets; the
// all-ones value becomes undef.
func (c *cursor) addr() uint64 { return c.undefOrN(c.f.sizeOffsets) }

// length reads a length field of the superblock's size of lengths; the
// all-ones value becomes undef.
func (c *cursor) length() uint64 { return c.undefOrN(c.f.sizeLengths) }

// undefOrN reads an n-byte value, mapping all ones to undef.
func (c *cursor) undefOrN(n int) uint64 {
	v := c.uN(n)
	if c.err == nil && n < 8 && v == (uint64(1)<<(8*n))-1 {
		return undef
	}
	return v
}

// signature checks a 4-byte ASCII signature.
func (c *cursor) signature(sig string) bool {
	b := c.bytes(len(sig))
	if c.err != nil {
		return false
	}
	if string(b) != sig {
		c.pos -= len(sig)
		c.fail("bad signature %q, want %q", b, sig)
		return false
	}
	return true
}

// checksum verifies the lookup3 checksum stored at the current position over
// b[start:pos] and consumes it.
func (c *cursor) checksum(start int) {
	if c.err != nil {
		return
	}
	end := c.pos
	want := c.u32()
	if c.err != nil {
		return
	}
	if got := lookup3(c.b[start:end]); got != want {
		c.pos = end
		c.fail("checksum mismatch: computed 0x%08x, stored 0x%08x", got, want)
	}
}

// errorf wraps a message with the cursor's location without making it sticky.
func (c *cursor) errorf(format string, args ...any) error {
	return c.f.formatErr(c.path, c.structure, c.base+int64(c.pos), format, args...)
}

// mulOK multiplies two non-negative sizes, reporting overflow past limit.
func mulOK(a, b, limit uint64) (uint64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	if a > limit/b {
		return 0, false
	}
	return a * b, true
}
