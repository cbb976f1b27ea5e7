package h5

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"sync"
)

// Superblock layout constants (Spec II.A).
const (
	signature      = "\x89HDF\r\n\x1a\n"
	superblockV0V1 = 24 // bytes before the base address field in versions 0 and 1
	maxUserBlock   = 1 << 40
)

// File is an open HDF5 file. Its methods are safe for concurrent use.
type File struct {
	r      io.ReaderAt
	closer io.Closer
	size   int64
	name   string

	base         int64 // absolute offset that file addresses are relative to
	sizeOffsets  int
	sizeLengths  int
	superVersion int
	rootAddr     uint64

	mu        sync.Mutex
	headers   map[uint64]*objectHeader
	gheaps    map[uint64]map[uint16][]byte
	lheaps    map[uint64][]byte
	linkCache map[uint64][]link
	maxData   int64
}

// Open opens the HDF5 file at path. Close releases the OS file.
func Open(path string) (*File, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := osf.Stat()
	if err != nil {
		osf.Close()
		return nil, err
	}
	f, err := OpenReaderAt(osf, st.Size(), path)
	if err != nil {
		osf.Close()
		return nil, err
	}
	f.closer = osf
	return f, nil
}

// OpenReaderAt opens an HDF5 file held in r, of size bytes. name is used in
// error messages only. The caller keeps ownership of r.
func OpenReaderAt(r io.ReaderAt, size int64, name string) (*File, error) {
	f := &File{
		r:         r,
		size:      size,
		name:      name,
		headers:   map[uint64]*objectHeader{},
		gheaps:    map[uint64]map[uint16][]byte{},
		lheaps:    map[uint64][]byte{},
		linkCache: map[uint64][]link{},
	}
	if err := f.readSuperblock(); err != nil {
		return nil, err
	}
	return f, nil
}

// OpenFS opens name in fsys. When the fs.File implements io.ReaderAt it is
// read in place; otherwise its contents are read into memory.
func OpenFS(fsys fs.FS, name string) (*File, error) {
	file, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, err
	}
	if ra, ok := file.(io.ReaderAt); ok && st.Mode().IsRegular() {
		f, err := OpenReaderAt(ra, st.Size(), name)
		if err != nil {
			file.Close()
			return nil, err
		}
		f.closer = file
		return f, nil
	}
	data, err := io.ReadAll(file)
	file.Close()
	if err != nil {
		return nil, err
	}
	return OpenReaderAt(bytes.NewReader(data), int64(len(data)), name)
}

// Close closes the underlying file when the File was made by Open or OpenFS.
func (f *File) Close() error {
	if f.closer != nil {
		c := f.closer
		f.closer = nil
		return c.Close()
	}
	return nil
}

// Name returns the name given when the file was opened.
func (f *File) Name() string { return f.name }

// Size returns the size of the file in bytes.
func (f *File) Size() int64 { return f.size }

// SuperblockVersion returns the superblock version (0 to 3).
func (f *File) SuperblockVersion() int { return f.superVersion }

// Root returns the root group "/".
func (f *File) Root() *Group {
	return &Group{obj: object{f: f, path: "/", addr: f.rootAddr}}
}

// readAbs reads n bytes at absolute offset off, checking the file bounds first
// so that no allocation exceeds the file size.
func (f *File) readAbs(off int64, n uint64, path, structure string) ([]byte, error) {
	if off < 0 || off > f.size || n > uint64(f.size-off) {
		return nil, f.formatErr(path, structure, off, "%d bytes at offset 0x%x run past the end of the file (size %d)", n, off, f.size)
	}
	b := make([]byte, n)
	if n == 0 {
		return b, nil
	}
	if m, err := f.r.ReadAt(b, off); err != nil && !(err == io.EOF && uint64(m) == n) {
		return nil, f.formatErr(path, structure, off, "read: %v", err)
	}
	return b, nil
}

// abs converts a file address to an absolute offset, rejecting undef and
// addresses beyond the file.
func (f *File) abs(addr uint64, path, structure string) (int64, error) {
	if addr == undef {
		return 0, f.formatErr(path, structure, -1, "address is undefined")
	}
	if addr > uint64(f.size) || int64(addr) > f.size-f.base {
		return 0, f.formatErr(path, structure, -1, "address 0x%x is past the end of the file (size %d)", addr, f.size)
	}
	return f.base + int64(addr), nil
}

// read reads n bytes at file address addr.
func (f *File) read(addr, n uint64, path, structure string) ([]byte, int64, error) {
	off, err := f.abs(addr, path, structure)
	if err != nil {
		return nil, 0, err
	}
	b, err := f.readAbs(off, n, path, structure)
	return b, off, err
}

// readUpTo reads at most n bytes at addr, fewer when the file ends first;
// used for structures whose length is only known after a prefix is decoded.
func (f *File) readUpTo(addr, n uint64, path, structure string) ([]byte, int64, error) {
	off, err := f.abs(addr, path, structure)
	if err != nil {
		return nil, 0, err
	}
	if rem := uint64(f.size - off); n > rem {
		n = rem
	}
	b, err := f.readAbs(off, n, path, structure)
	return b, off, err
}

func (f *File) readSuperblock() error {
	const st = "superblock"
	var sigBuf [8]byte
	found := int64(-1)
	for off := int64(0); off < f.size && off <= maxUserBlock; {
		if n, _ := f.r.ReadAt(sigBuf[:], off); n == 8 && string(sigBuf[:]) == signature {
			found = off
			break
		}
		if off == 0 {
			off = 512
		} else {
			off *= 2
		}
	}
	if found < 0 {
		return f.formatErr("/", st, 0, "HDF5 signature not found at 0, 512, 1024, ...")
	}
	b, err := f.readAbs(found, min(uint64(f.size-found), 256), "/", st)
	if err != nil {
		return err
	}
	c := f.newCursor(b, found, "/", st)
	c.skip(8)
	f.superVersion = int(c.u8())
	switch f.superVersion {
	case 0, 1:
		c.skip(4) // free-space, root STE, reserved, shared header versions
		f.sizeOffsets = int(c.u8())
		f.sizeLengths = int(c.u8())
		c.skip(1)
		if err := f.checkSizes(c); err != nil {
			return err
		}
		c.skip(2 + 2 + 4) // group K values, consistency flags
		if f.superVersion == 1 {
			c.skip(4) // indexed storage K, reserved
		}
		c.addr() // base address: HDF5 uses where the signature was found
		c.addr() // free-space info
		c.addr() // end of file
		c.addr() // driver info
		// Root group symbol table entry (Spec III.C).
		c.addr() // link name offset
		f.rootAddr = c.addr()
		c.skip(4 + 4 + 16)
	case 2, 3:
		f.sizeOffsets = int(c.u8())
		f.sizeLengths = int(c.u8())
		c.skip(1)
		if err := f.checkSizes(c); err != nil {
			return err
		}
		c.addr() // base address
		c.addr() // superblock extension
		c.addr() // end of file
		f.rootAddr = c.addr()
		c.checksum(0)
	default:
		return f.unsupported("/", "superblock version %d", f.superVersion)
	}
	if c.err != nil {
		return c.err
	}
	f.base = found
	if f.rootAddr == undef {
		return f.formatErr("/", st, found, "root group address is undefined")
	}
	return nil
}

func (f *File) checkSizes(c *cursor) error {
	if c.err != nil {
		return c.err
	}
	ok := func(n int) bool { return n == 2 || n == 4 || n == 8 }
	if !ok(f.sizeOffsets) || !ok(f.sizeLengths) {
		return c.errorf("size of offsets %d / lengths %d, want 2, 4 or 8", f.sizeOffsets, f.sizeLengths)
	}
	return nil
}
