package convert

import (
	"bytes"
	"cmp"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// ErrIntegrity means a file's content does not match a checksum it or
// its sidecar records: a .keras member whose CRC-32 differs from its
// central header's, a model whose SHA-256 differs from MODEL.sha256.
// Errors of damaged zip members match both ErrIntegrity and ErrFormat.
var ErrIntegrity = errors.New("integrity check failed")

// Zip layout (PKWARE APPNOTE.TXT §4.3): signatures and fixed lengths.
const (
	zipLocalSig       = 0x04034b50
	zipCentralSig     = 0x02014b50
	zipEOCDSig        = 0x06054b50
	zipEOCD64Sig      = 0x06064b50
	zipEOCD64LocSig   = 0x07064b50
	zipLocalLen       = 30 // + name + extra
	zipCentralLen     = 46 // + name + extra + comment
	zipEOCDLen        = 22 // + comment
	zipEOCD64LocLen   = 20
	zipEOCD64Len      = 56
	zipMaxComment     = 65535
	zipMethodStore    = 0
	zipMethodDeflate  = 8
	zipFlagEncrypted  = 0x1
	zipZip64ExtraID   = 0x0001
	zipDeflateMaxRate = 1100 // deflate expands at most ~1032:1
)

// zipArchive is a .keras archive's central directory, read and checked.
type zipArchive struct {
	r     io.ReaderAt
	size  int64
	file  string
	cdOff int64
	// members in central directory order.
	members []*zipEntry
	byName  map[string]*zipEntry
}

// zipEntry is one central directory entry.
type zipEntry struct {
	index        int
	name         string
	flags        uint16
	method       uint16
	crc          uint32
	csize, usize uint64
	localOff     int64
}

func (a *zipArchive) errAt(structure string, off int64, format string, args ...any) *Error {
	return FormatErrorAt("", a.file, "zip: "+structure, off, fmt.Sprintf(format, args...))
}

func (m *zipEntry) central() string {
	return fmt.Sprintf("central header %d (%q)", m.index, clipString(m.name, 128))
}
func (m *zipEntry) local() string {
	return fmt.Sprintf("local header of member %d (%q)", m.index, clipString(m.name, 128))
}
func (m *zipEntry) data() string {
	return fmt.Sprintf("data of member %d (%q)", m.index, clipString(m.name, 128))
}

// openZip reads and checks the end of central directory record (zip64
// too) and every central header. Nothing is allocated beyond what the
// file's size can hold.
func openZip(r io.ReaderAt, size int64, file string) (*zipArchive, error) {
	a := &zipArchive{r: r, size: size, file: file}
	if size < zipEOCDLen {
		return nil, a.errAt("end of central directory", -1, "file of %d bytes is too short for a zip archive", size)
	}
	// The record sits in the last 22 + 65535 bytes.
	tail := min(size, zipEOCDLen+zipMaxComment)
	buf := make([]byte, tail)
	if _, err := r.ReadAt(buf, size-tail); err != nil && !errors.Is(err, io.EOF) {
		return nil, a.errAt("end of central directory", size-tail, "reading: %v", err)
	}
	at := -1
	for i := len(buf) - zipEOCDLen; i >= 0; i-- {
		if binary.LittleEndian.Uint32(buf[i:]) == zipEOCDSig &&
			int(binary.LittleEndian.Uint16(buf[i+20:]))+i+zipEOCDLen <= len(buf) {
			at = i
			break
		}
	}
	if at < 0 {
		return nil, a.errAt("end of central directory", -1, "no end of central directory record in the last %d bytes: not a zip archive, or truncated", tail)
	}
	eocdOff := size - tail + int64(at)
	e := buf[at:]
	disk, cdDisk := binary.LittleEndian.Uint16(e[4:]), binary.LittleEndian.Uint16(e[6:])
	entries := uint64(binary.LittleEndian.Uint16(e[10:]))
	cdSize := uint64(binary.LittleEndian.Uint32(e[12:]))
	cdOff := uint64(binary.LittleEndian.Uint32(e[16:]))
	endOfCD := eocdOff
	if entries == 0xffff || cdSize == 0xffffffff || cdOff == 0xffffffff {
		var err error
		if entries, cdSize, cdOff, endOfCD, err = a.readEOCD64(eocdOff); err != nil {
			return nil, err
		}
	} else if disk != 0 || cdDisk != 0 {
		return nil, a.errAt("end of central directory", eocdOff, "multi-disk archive (disk %d, central directory on disk %d)", disk, cdDisk)
	}
	if cdOff > uint64(endOfCD) || cdSize > uint64(endOfCD)-cdOff {
		return nil, a.errAt("end of central directory", eocdOff, "central directory at 0x%x of %d bytes does not fit before the record", cdOff, cdSize)
	}
	if entries > cdSize/zipCentralLen {
		return nil, a.errAt("end of central directory", eocdOff, "%d entries cannot fit in a central directory of %d bytes", entries, cdSize)
	}
	a.cdOff = int64(cdOff)
	cd := make([]byte, cdSize)
	if _, err := r.ReadAt(cd, int64(cdOff)); err != nil {
		return nil, a.errAt("central directory", int64(cdOff), "reading %d bytes: %v", cdSize, err)
	}
	a.members = make([]*zipEntry, 0, entries)
	a.byName = make(map[string]*zipEntry, entries)
	pos := 0
	for i := 0; i < int(entries); i++ {
		off := int64(cdOff) + int64(pos)
		where := fmt.Sprintf("central header %d", i)
		if len(cd)-pos < zipCentralLen {
			return nil, a.errAt(where, off, "truncated: %d bytes left in the central directory, want %d", len(cd)-pos, zipCentralLen)
		}
		h := cd[pos:]
		if sig := binary.LittleEndian.Uint32(h); sig != zipCentralSig {
			return nil, a.errAt(where, off, "bad signature 0x%08x, want 0x%08x", sig, zipCentralSig)
		}
		m := &zipEntry{
			index:    i,
			flags:    binary.LittleEndian.Uint16(h[8:]),
			method:   binary.LittleEndian.Uint16(h[10:]),
			crc:      binary.LittleEndian.Uint32(h[16:]),
			csize:    uint64(binary.LittleEndian.Uint32(h[20:])),
			usize:    uint64(binary.LittleEndian.Uint32(h[24:])),
			localOff: int64(binary.LittleEndian.Uint32(h[42:])),
		}
		nameLen := int(binary.LittleEndian.Uint16(h[28:]))
		extraLen := int(binary.LittleEndian.Uint16(h[30:]))
		commentLen := int(binary.LittleEndian.Uint16(h[32:]))
		total := zipCentralLen + nameLen + extraLen + commentLen
		if len(cd)-pos < total {
			return nil, a.errAt(where, off, "name, extra field and comment (%d bytes) run past the central directory", total-zipCentralLen)
		}
		m.name = string(h[zipCentralLen : zipCentralLen+nameLen])
		where = m.central()
		if err := a.zip64Extra(m, h[zipCentralLen+nameLen:zipCentralLen+nameLen+extraLen], where, off); err != nil {
			return nil, err
		}
		if m.localOff > int64(cdOff) || uint64(m.localOff)+zipLocalLen > cdOff {
			return nil, a.errAt(where, off, "local header offset 0x%x is not before the central directory at 0x%x", m.localOff, cdOff)
		}
		if a.byName[m.name] != nil {
			return nil, a.errAt(where, off, "duplicate member name (also central header %d)", a.byName[m.name].index)
		}
		a.byName[m.name] = m
		a.members = append(a.members, m)
		pos += total
	}
	return a, nil
}

// readEOCD64 reads the zip64 end of central directory locator, just
// before the record at eocdOff, and the record it points to.
func (a *zipArchive) readEOCD64(eocdOff int64) (entries, cdSize, cdOff uint64, end int64, err error) {
	locOff := eocdOff - zipEOCD64LocLen
	if locOff < 0 {
		return 0, 0, 0, 0, a.errAt("zip64 end of central directory locator", -1, "the record needs one, and the file has no room for it")
	}
	var loc [zipEOCD64LocLen]byte
	if _, err := a.r.ReadAt(loc[:], locOff); err != nil {
		return 0, 0, 0, 0, a.errAt("zip64 end of central directory locator", locOff, "reading: %v", err)
	}
	if sig := binary.LittleEndian.Uint32(loc[:]); sig != zipEOCD64LocSig {
		return 0, 0, 0, 0, a.errAt("zip64 end of central directory locator", locOff, "bad signature 0x%08x, want 0x%08x", sig, zipEOCD64LocSig)
	}
	recOff := binary.LittleEndian.Uint64(loc[8:])
	if recOff > uint64(locOff) || uint64(locOff)-recOff < zipEOCD64Len {
		return 0, 0, 0, 0, a.errAt("zip64 end of central directory locator", locOff, "record offset 0x%x is not before the locator", recOff)
	}
	var rec [zipEOCD64Len]byte
	if _, err := a.r.ReadAt(rec[:], int64(recOff)); err != nil {
		return 0, 0, 0, 0, a.errAt("zip64 end of central directory", int64(recOff), "reading: %v", err)
	}
	if sig := binary.LittleEndian.Uint32(rec[:]); sig != zipEOCD64Sig {
		return 0, 0, 0, 0, a.errAt("zip64 end of central directory", int64(recOff), "bad signature 0x%08x, want 0x%08x", sig, zipEOCD64Sig)
	}
	if d, cd := binary.LittleEndian.Uint32(rec[16:]), binary.LittleEndian.Uint32(rec[20:]); d != 0 || cd != 0 {
		return 0, 0, 0, 0, a.errAt("zip64 end of central directory", int64(recOff), "multi-disk archive (disk %d, central directory on disk %d)", d, cd)
	}
	return binary.LittleEndian.Uint64(rec[32:]), binary.LittleEndian.Uint64(rec[40:]), binary.LittleEndian.Uint64(rec[48:]), int64(recOff), nil
}

// zip64Extra replaces 0xffffffff sizes and offset with the zip64 extra
// field's values (APPNOTE §4.5.3).
func (a *zipArchive) zip64Extra(m *zipEntry, extra []byte, where string, off int64) error {
	needU, needC, needO := m.usize == 0xffffffff, m.csize == 0xffffffff, m.localOff == 0xffffffff
	for len(extra) >= 4 {
		id, n := binary.LittleEndian.Uint16(extra), int(binary.LittleEndian.Uint16(extra[2:]))
		if 4+n > len(extra) {
			return a.errAt(where, off, "extra field 0x%04x of %d bytes runs past the extra data", id, n)
		}
		body := extra[4 : 4+n]
		if id == zipZip64ExtraID {
			take := func(need bool, dst *uint64) error {
				if !need {
					return nil
				}
				if len(body) < 8 {
					return a.errAt(where, off, "zip64 extra field too short")
				}
				*dst, body = binary.LittleEndian.Uint64(body), body[8:]
				return nil
			}
			lo := uint64(m.localOff)
			for _, f := range []struct {
				need bool
				dst  *uint64
			}{{needU, &m.usize}, {needC, &m.csize}, {needO, &lo}} {
				if err := take(f.need, f.dst); err != nil {
					return err
				}
			}
			if lo > 1<<62 {
				return a.errAt(where, off, "local header offset 0x%x out of range", lo)
			}
			m.localOff = int64(lo)
			return nil
		}
		extra = extra[4+n:]
	}
	if needU || needC || needO {
		return a.errAt(where, off, "sizes marked zip64 (0xffffffff) without a zip64 extra field")
	}
	return nil
}

// dataOffset checks member m's local header and returns where its data
// starts.
func (a *zipArchive) dataOffset(m *zipEntry) (int64, error) {
	var h [zipLocalLen]byte
	if _, err := a.r.ReadAt(h[:], m.localOff); err != nil {
		return 0, a.errAt(m.local(), m.localOff, "reading: %v", err)
	}
	if sig := binary.LittleEndian.Uint32(h[:]); sig != zipLocalSig {
		return 0, a.errAt(m.local(), m.localOff, "bad signature 0x%08x, want 0x%08x", sig, zipLocalSig)
	}
	nameLen := int64(binary.LittleEndian.Uint16(h[26:]))
	extraLen := int64(binary.LittleEndian.Uint16(h[28:]))
	if nameLen != int64(len(m.name)) {
		return 0, a.errAt(m.local(), m.localOff, "name of %d bytes, the central header's has %d", nameLen, len(m.name))
	}
	name := make([]byte, nameLen)
	if _, err := a.r.ReadAt(name, m.localOff+zipLocalLen); err != nil {
		return 0, a.errAt(m.local(), m.localOff, "reading the name: %v", err)
	}
	if !bytes.Equal(name, []byte(m.name)) {
		return 0, a.errAt(m.local(), m.localOff, "name %q differs from the central header's", clipString(string(name), 128))
	}
	if method := binary.LittleEndian.Uint16(h[8:]); method != m.method {
		return 0, a.errAt(m.local(), m.localOff, "compression method %d, the central header's is %d", method, m.method)
	}
	off := m.localOff + zipLocalLen + nameLen + extraLen
	if uint64(off) > uint64(a.cdOff) || m.csize > uint64(a.cdOff-off) {
		return 0, a.errAt(m.data(), off, "%d bytes from 0x%x run into the central directory at 0x%x", m.csize, off, a.cdOff)
	}
	return off, nil
}

// open returns random access to member m, checked against its CRC-32
// first: a section of the archive for a stored member (read once to
// check it), the inflated bytes for a deflated one. limit bounds the
// uncompressed size.
func (a *zipArchive) open(m *zipEntry, limit uint64) (io.ReaderAt, int64, error) {
	return a.openNamed(m, limit, "")
}

// openNamed is open naming the Limits field that set limit.
func (a *zipArchive) openNamed(m *zipEntry, limit uint64, field string) (io.ReaderAt, int64, error) {
	if err := a.precheckNamed(m, limit, field); err != nil {
		return nil, 0, err
	}
	off, err := a.dataOffset(m)
	if err != nil {
		return nil, 0, err
	}
	switch m.method {
	case zipMethodStore:
		if m.csize != m.usize {
			return nil, 0, a.errAt(m.central(), -1, "stored member with compressed size %d and size %d", m.csize, m.usize)
		}
		sec := io.NewSectionReader(a.r, off, int64(m.csize))
		if err := a.checkCRC(m, sec, off); err != nil {
			return nil, 0, err
		}
		return sec, int64(m.csize), nil
	case zipMethodDeflate:
		out, err := a.inflate(m, off)
		if err != nil {
			return nil, 0, err
		}
		return bytes.NewReader(out), int64(len(out)), nil
	}
	return nil, 0, a.unsupportedMethod(m)
}

// checkCRC reads a stored member's bytes once, in chunks, and compares
// their CRC-32 with the central header's.
func (a *zipArchive) checkCRC(m *zipEntry, sec *io.SectionReader, off int64) error {
	buf := make([]byte, min(int64(256<<10), max(sec.Size(), 1)))
	var crc uint32
	for pos := int64(0); pos < sec.Size(); {
		n, err := sec.ReadAt(buf[:min(int64(len(buf)), sec.Size()-pos)], pos)
		crc = crc32.Update(crc, crc32.IEEETable, buf[:n])
		pos += int64(n)
		if err != nil && !(errors.Is(err, io.EOF) && pos == sec.Size()) {
			return a.errAt(m.data(), off+pos, "reading: %v", err)
		}
	}
	if crc != m.crc {
		return a.crcErr(m, off, crc)
	}
	return nil
}

func (a *zipArchive) crcErr(m *zipEntry, off int64, got uint32) error {
	e := a.errAt(m.data(), off, "CRC-32 0x%08x, the central header records 0x%08x: the member is damaged", got, m.crc)
	e.Err = ErrIntegrity
	return e
}

// inflate decompresses deflated member m, whose data starts at off,
// and checks its size and CRC-32. The buffer grows with the output, so a
// damaged size field allocates nothing.
func (a *zipArchive) inflate(m *zipEntry, off int64) ([]byte, error) {
	if m.usize/zipDeflateMaxRate > m.csize+1 {
		return nil, a.errAt(m.central(), -1, "size %d from %d compressed bytes: more than deflate can expand (a zip bomb?)", m.usize, m.csize)
	}
	fr := flate.NewReader(io.NewSectionReader(a.r, off, int64(m.csize)))
	defer fr.Close()
	var b bytes.Buffer
	b.Grow(int(min(m.usize, 4*m.csize+1<<20)))
	n, err := io.Copy(&b, io.LimitReader(fr, int64(m.usize)+1))
	switch {
	case err != nil:
		return nil, a.errAt(m.data(), off, "inflating: %v", err)
	case uint64(n) != m.usize:
		return nil, a.errAt(m.data(), off, "inflates to %s bytes, the central header records %d", sizeText(n, m.usize), m.usize)
	}
	out := b.Bytes()
	if got := crc32.ChecksumIEEE(out); got != m.crc {
		return nil, a.crcErr(m, off, got)
	}
	return out, nil
}

func sizeText(n int64, want uint64) string {
	if uint64(n) > want {
		return fmt.Sprintf("more than %d", want)
	}
	return fmt.Sprint(n)
}

// readAll returns member m's bytes, checked against its CRC-32, bounded
// by limit.
func (a *zipArchive) readAll(m *zipEntry, limit uint64, field string) ([]byte, error) {
	if err := a.precheckNamed(m, limit, field); err != nil {
		return nil, err
	}
	off, err := a.dataOffset(m)
	if err != nil {
		return nil, err
	}
	switch m.method {
	case zipMethodStore:
		if m.csize != m.usize {
			return nil, a.errAt(m.central(), -1, "stored member with compressed size %d and size %d", m.csize, m.usize)
		}
		out := make([]byte, m.csize)
		if _, err := a.r.ReadAt(out, off); err != nil && !(errors.Is(err, io.EOF) && len(out) == 0) {
			return nil, a.errAt(m.data(), off, "reading %d bytes: %v", m.csize, err)
		}
		if got := crc32.ChecksumIEEE(out); got != m.crc {
			return nil, a.crcErr(m, off, got)
		}
		return out, nil
	case zipMethodDeflate:
		return a.inflate(m, off)
	}
	return nil, a.unsupportedMethod(m)
}

func (a *zipArchive) unsupportedMethod(m *zipEntry) error {
	return &Error{File: a.file, Path: "zip: " + m.central(), Kind: ErrUnsupported,
		Msg: fmt.Sprintf("unsupported: compression method %d (want stored or deflate)", m.method)}
}

// precheckNamed refuses encrypted members, deflated members claiming
// more than deflate can expand, and members larger than limit; field
// names the Limits field that set limit (" bytes" when none did).
func (a *zipArchive) precheckNamed(m *zipEntry, limit uint64, field string) error {
	if m.flags&zipFlagEncrypted != 0 {
		return &Error{File: a.file, Path: "zip: " + m.central(), Kind: ErrUnsupported, Msg: "unsupported: encrypted member"}
	}
	if m.method == zipMethodDeflate && m.usize/zipDeflateMaxRate > m.csize+1 {
		return a.errAt(m.central(), -1, "size %d from %d compressed bytes: more than deflate can expand (a zip bomb?)", m.usize, m.csize)
	}
	if m.usize > limit {
		return &Error{File: a.file, Path: "zip: " + m.central(), Kind: ErrLimit,
			Msg: fmt.Sprintf("member of %d bytes exceeds the limit of %d%s", m.usize, limit, cmp.Or(field, " bytes"))}
	}
	return nil
}
