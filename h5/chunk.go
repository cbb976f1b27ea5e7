package h5

import (
	"errors"
	"io"
	"math/bits"
)

// Chunked storage (Spec IV.A.2.i and the chunk index structures of III.A.1,
// III.A.2, VII fixed arrays and VIII extensible arrays).

// chunkReader assembles chunks into the dataset buffer.
type chunkReader struct {
	d          *Dataset
	dims       []uint64
	chunk      []uint64
	es         uint64
	chunkBytes uint64
	grid       []uint64 // chunks per dimension over the current extent
	budget     uint64   // bytes of chunks still allowed to be decoded
	// put stores a run of whole elements at byte offset off of the
	// dataset in C order (copying bytes, or converting them).
	put  func(off uint64, run []byte)
	read []byte // reused buffer for stored chunks
	s    scratch
}

// readChunked assembles a chunked dataset, handing each run of elements to
// put (see chunkReader); the caller fills the unwritten parts.
func (d *Dataset) readChunked(put func(off uint64, run []byte)) error {
	f := d.obj.f
	l := &d.layout
	cr := &chunkReader{d: d, put: put, dims: d.space.dims, chunk: l.chunk, es: uint64(f.elemSize(&d.dtype))}
	cb := cr.es
	for _, c := range l.chunk {
		var ok bool
		if cb, ok = mulOK(cb, c, f.dataLimit()); !ok {
			return f.formatErr(d.obj.path, "data layout message", -1, "chunk of %v elements exceeds the data limit", l.chunk)
		}
	}
	cr.chunkBytes = cb
	// Hostile indexes can list the same small compressed chunk many times;
	// the total decoded is held to the data limit like the output.
	cr.budget = f.dataLimit()
	cr.grid = make([]uint64, len(cr.dims))
	for i := range cr.dims {
		cr.grid[i] = (cr.dims[i] + l.chunk[i] - 1) / l.chunk[i]
	}
	if l.addr == undef {
		// No chunk was ever written: the caller fills the whole dataset.
		return nil
	}
	switch l.index {
	case idxBTree1:
		rank := len(cr.dims)
		return f.walkBTree1(l.addr, 1, d.obj.path, map[uint64]bool{}, maxDepth, rank, func(child uint64, key []byte) error {
			c := f.newCursor(key, -1, d.obj.path, "v1 B-tree chunk key")
			size := uint64(c.u32())
			mask := c.u32()
			scaled := make([]uint64, rank)
			for i := range scaled {
				o := c.u64()
				if o%l.chunk[i] != 0 {
					c.fail("chunk offset %d not a multiple of chunk dimension %d", o, l.chunk[i])
				}
				scaled[i] = o / l.chunk[i]
			}
			if c.err != nil {
				return c.err
			}
			return cr.chunkAt(scaled, child, size, mask)
		})
	case idxSingle:
		size := cr.chunkBytes
		if l.flags&2 != 0 {
			size = l.singleSize
		}
		return cr.chunkAt(make([]uint64, len(cr.dims)), l.addr, size, l.singleMask)
	case idxImplicit:
		lin := cr.linearizer(false)
		return cr.eachChunk(func(scaled []uint64) error {
			i := lin(scaled)
			a, ok := mulOK(i, cr.chunkBytes, uint64(f.size))
			if !ok || l.addr > undef-a {
				return f.formatErr(d.obj.path, "implicit chunk index", -1, "chunk %d address overflows", i)
			}
			return cr.chunkAt(scaled, l.addr+a, cr.chunkBytes, 0)
		})
	case idxFixed, idxExtArray:
		// Both arrays list one entry per chunk; the extensible array
		// numbers them with the unlimited dimension first.
		var arr interface {
			entry(i uint64) (chunkEntry, error)
		}
		var err error
		if l.index == idxFixed {
			arr, err = f.openFixedArray(l.addr, d.obj.path, l.flags)
		} else {
			arr, err = f.openExtArray(l.addr, d.obj.path, l)
		}
		if err != nil {
			return err
		}
		lin := cr.linearizer(l.index == idxExtArray)
		return cr.eachChunk(func(scaled []uint64) error {
			e, err := arr.entry(lin(scaled))
			if err != nil {
				return err
			}
			return cr.chunkAt(scaled, e.addr, cr.size(e), e.mask)
		})
	case idxBTree2:
		rank := len(cr.dims)
		filtered := len(d.filters) > 0
		want := bt2ChunkPlain
		if filtered {
			want = bt2ChunkFiltered
		}
		return f.walkBTree2(l.addr, want, d.obj.path, func(rec []byte) error {
			c := f.newCursor(rec, -1, d.obj.path, "v2 B-tree chunk record")
			a := c.addr()
			size, mask := cr.chunkBytes, uint32(0)
			if filtered {
				n := len(rec) - f.sizeOffsets - 4 - 8*rank
				if n < 1 || n > 8 {
					c.fail("chunk size field of %d bytes", n)
				}
				size = c.uN(n)
				mask = c.u32()
			}
			scaled := make([]uint64, rank)
			for i := range scaled {
				scaled[i] = c.u64()
			}
			if c.err != nil {
				return c.err
			}
			return cr.chunkAt(scaled, a, size, mask)
		})
	}
	return f.unsupported(d.obj.path, "chunk index type %d", l.index)
}

func (cr *chunkReader) size(e chunkEntry) uint64 {
	if e.filtered {
		return e.size
	}
	return cr.chunkBytes
}

// eachChunk calls fn for every chunk coordinate of the current extent.
func (cr *chunkReader) eachChunk(fn func(scaled []uint64) error) error {
	rank := len(cr.grid)
	for _, g := range cr.grid {
		if g == 0 {
			return nil
		}
	}
	s := make([]uint64, rank)
	for {
		if err := fn(s); err != nil {
			return err
		}
		k := rank - 1
		for ; k >= 0; k-- {
			s[k]++
			if s[k] < cr.grid[k] {
				break
			}
			s[k] = 0
		}
		if k < 0 {
			return nil
		}
	}
}

// linearizer maps chunk coordinates to the index used by implicit, fixed
// and extensible array indexes: row-major over the grid of the maximum
// dimensions; for extensible arrays the unlimited dimension is moved first
// (H5VM_swizzle_coords) so it varies slowest.
func (cr *chunkReader) linearizer(swizzle bool) func([]uint64) uint64 {
	d := cr.d
	rank := len(cr.dims)
	maxGrid := make([]uint64, rank)
	order := make([]int, 0, rank)
	unlim := -1
	for i := 0; i < rank; i++ {
		m := cr.dims[i]
		if d.space.maxDims != nil {
			m = d.space.maxDims[i]
		}
		if m == undef {
			if unlim < 0 {
				unlim = i
			}
			maxGrid[i] = cr.grid[i]
		} else {
			maxGrid[i] = (m + cr.chunk[i] - 1) / cr.chunk[i]
		}
	}
	if swizzle && unlim > 0 {
		order = append(order, unlim)
		for i := 0; i < rank; i++ {
			if i != unlim {
				order = append(order, i)
			}
		}
	} else {
		for i := 0; i < rank; i++ {
			order = append(order, i)
		}
	}
	return func(s []uint64) uint64 {
		var idx uint64
		for _, i := range order {
			idx = idx*maxGrid[i] + s[i]
		}
		return idx
	}
}

// chunkAt reads one stored chunk and copies its overlap with the extent.
func (cr *chunkReader) chunkAt(scaled []uint64, addr, size uint64, mask uint32) error {
	d := cr.d
	f := d.obj.f
	for i, s := range scaled {
		if s >= cr.grid[i] {
			return nil // chunk beyond the current extent (dataset shrunk)
		}
	}
	if addr == undef {
		return nil // never written: keep the fill value
	}
	if cr.budget < cr.chunkBytes {
		return f.formatErr(d.obj.path, "chunk index", -1, "chunks decode to more than the limit of %d bytes (SetDataLimit)", f.dataLimit())
	}
	cr.budget -= cr.chunkBytes
	if len(d.filters) == 0 && size < cr.chunkBytes {
		return f.formatErr(d.obj.path, "chunk", -1, "chunk %v stored in %d bytes, want %d", scaled, size, cr.chunkBytes)
	}
	if len(d.filters) == 0 {
		size = cr.chunkBytes
	}
	abs, err := f.abs(addr, d.obj.path, "chunk")
	if err != nil {
		return err
	}
	if size > uint64(f.size-abs) {
		return f.formatErr(d.obj.path, "chunk", abs, "%d bytes run past the end of the file (size %d)", size, f.size)
	}
	if uint64(cap(cr.read)) < size {
		cr.read = make([]byte, size)
	}
	raw := cr.read[:size]
	if m, err := f.r.ReadAt(raw, abs); err != nil && !(errors.Is(err, io.EOF) && uint64(m) == size) {
		return f.formatErr(d.obj.path, "chunk", abs, "read: %v", err)
	}
	off := abs
	if len(d.filters) > 0 {
		if raw, err = d.unfilter(raw, mask, cr.chunkBytes, off, &cr.s); err != nil {
			return err
		}
		if uint64(len(raw)) != cr.chunkBytes {
			return f.formatErr(d.obj.path, "chunk", off, "chunk %v decodes to %d bytes, want %d", scaled, len(raw), cr.chunkBytes)
		}
	}
	cr.copyChunk(scaled, raw)
	return nil
}

// copyChunk copies the part of a full chunk inside the extent into out.
func (cr *chunkReader) copyChunk(scaled []uint64, raw []byte) {
	rank := len(cr.dims)
	origin := make([]uint64, rank)
	ext := make([]uint64, rank)
	for i := range scaled {
		origin[i] = scaled[i] * cr.chunk[i]
		ext[i] = min(cr.chunk[i], cr.dims[i]-origin[i])
	}
	run := ext[rank-1] * cr.es
	idx := make([]uint64, rank) // position within the chunk, last dim fixed at 0
	for {
		var src, dst uint64
		for i := 0; i < rank; i++ {
			src = src*cr.chunk[i] + idx[i]
			dst = dst*cr.dims[i] + origin[i] + idx[i]
		}
		src *= cr.es
		dst *= cr.es
		cr.put(dst, raw[src:src+run])
		k := rank - 2
		for ; k >= 0; k-- {
			idx[k]++
			if idx[k] < ext[k] {
				break
			}
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// chunkEntry is one element of a fixed or extensible array chunk index.
type chunkEntry struct {
	addr     uint64
	size     uint64
	mask     uint32
	filtered bool
}

func (f *File) decodeEntry(b []byte, filtered bool, path string) (chunkEntry, error) {
	c := f.newCursor(b, -1, path, "chunk index entry")
	e := chunkEntry{filtered: filtered}
	e.addr = c.addr()
	if filtered {
		n := len(b) - f.sizeOffsets - 4
		if n < 1 || n > 8 {
			c.fail("chunk size field of %d bytes", n)
		}
		e.size = c.uN(n)
		e.mask = c.u32()
	}
	return e, c.err
}

// fixedArray is a fixed array chunk index (FAHD/FADB).
type fixedArray struct {
	f         *File
	path      string
	filtered  bool
	entrySize uint64
	pageBits  uint
	n         uint64
	dblk      uint64
	paged     bool
	npages    uint64
	bitmap    []byte
	pagesAt   uint64 // address of the first page
	data      []byte // unpaged entries
	pages     map[uint64][]byte
}

func (f *File) openFixedArray(addr uint64, path string, layoutFlags uint8) (*fixedArray, error) {
	const st = "fixed array header"
	b, off, err := f.read(addr, uint64(4+1+1+1+1+f.sizeLengths+f.sizeOffsets+4), path, st)
	if err != nil {
		return nil, err
	}
	c := f.newCursor(b, off, path, st)
	c.signature("FAHD")
	if v := c.u8(); v != 0 && c.err == nil {
		c.fail("version %d, want 0", v)
	}
	fa := &fixedArray{f: f, path: path, pages: map[uint64][]byte{}}
	client := c.u8()
	fa.entrySize = uint64(c.u8())
	fa.pageBits = uint(c.u8())
	fa.n = c.length()
	fa.dblk = c.addr()
	c.checksum(0)
	if c.err != nil {
		return nil, c.err
	}
	fa.filtered = client == 1
	if client > 1 || fa.entrySize < uint64(f.sizeOffsets) || fa.pageBits > 32 || fa.pageBits == 0 {
		return nil, c.errorf("client %d, entry size %d, page bits %d", client, fa.entrySize, fa.pageBits)
	}
	if fa.n > uint64(f.size) { // every allocated chunk costs at least one byte
		fa.n = uint64(f.size)
	}
	if fa.dblk == undef {
		fa.n = 0
		return fa, nil
	}
	const bst = "fixed array data block"
	prefix := uint64(4 + 1 + 1 + f.sizeOffsets)
	pageN := uint64(1) << fa.pageBits
	var size uint64
	if fa.n > pageN {
		fa.paged = true
		fa.npages = (fa.n + pageN - 1) / pageN
		size = prefix + (fa.npages+7)/8 + 4
	} else {
		size = prefix + fa.n*fa.entrySize + 4
	}
	b, off, err = f.read(fa.dblk, size, path, bst)
	if err != nil {
		return nil, err
	}
	c = f.newCursor(b, off, path, bst)
	c.arrayBlockPrefix("FADB", addr)
	if fa.paged {
		fa.bitmap = c.bytes(int((fa.npages + 7) / 8))
	} else {
		fa.data = c.bytes(int(fa.n * fa.entrySize))
	}
	c.checksum(0)
	if c.err != nil {
		return nil, c.err
	}
	fa.pagesAt = fa.dblk + size
	return fa, nil
}

func (fa *fixedArray) entry(i uint64) (chunkEntry, error) {
	f := fa.f
	if i >= fa.n {
		return chunkEntry{addr: undef}, nil
	}
	if !fa.paged {
		return f.decodeEntry(fa.data[i*fa.entrySize:(i+1)*fa.entrySize], fa.filtered, fa.path)
	}
	pageN := uint64(1) << fa.pageBits
	p := i / pageN
	if fa.bitmap[p/8]&(0x80>>(p%8)) == 0 {
		return chunkEntry{addr: undef}, nil
	}
	page, ok := fa.pages[p]
	if !ok {
		n := pageN
		if p == fa.npages-1 {
			n = fa.n - p*pageN
		}
		pageSize := pageN*fa.entrySize + 4
		var err error
		if page, err = f.readPage(fa.pagesAt+p*pageSize, n*fa.entrySize+4, fa.path, "fixed array page"); err != nil {
			return chunkEntry{}, err
		}
		fa.pages[p] = page
	}
	j := i % pageN
	return f.decodeEntry(page[j*fa.entrySize:(j+1)*fa.entrySize], fa.filtered, fa.path)
}

// arrayBlockPrefix reads what every fixed or extensible array block after
// the header starts with: its signature, version 0, the client ID (checked
// in the header) and the address of the header.
func (c *cursor) arrayBlockPrefix(sig string, header uint64) {
	c.signature(sig)
	if v := c.u8(); v != 0 && c.err == nil {
		c.fail("version %d, want 0", v)
	}
	c.u8()
	if a := c.addr(); a != header && c.err == nil {
		c.fail("header address 0x%x, want 0x%x", a, header)
	}
}

// readPage reads a page of array index entries: size bytes at addr whose
// last 4 are the checksum of the rest. It returns the entries.
func (f *File) readPage(addr, size uint64, path, what string) ([]byte, error) {
	b, off, err := f.read(addr, size, path, what)
	if err != nil {
		return nil, err
	}
	c := f.newCursor(b, off, path, what)
	c.pos = len(b) - 4
	c.checksum(0)
	if c.err != nil {
		return nil, c.err
	}
	return b[:len(b)-4], nil
}

// extArray is an extensible array chunk index (EAHD/EAIB/EASB/EADB).
type extArray struct {
	f           *File
	path        string
	addr        uint64
	filtered    bool
	entrySize   uint64
	maxBits     uint
	idxElems    uint64
	minElems    uint64
	minPtrs     uint64
	pageBits    uint
	maxIndex    uint64
	arrOffBytes int
	iblkEntries []byte
	dblkAddrs   []uint64 // from the index block
	sblkAddrs   []uint64
	iblkSblks   int
	sblks       []eaSuper
	dblocks     map[uint64]*eaDataBlock
	superBlocks map[uint64]*eaSuperBlock
}

type eaSuper struct {
	ndblks    uint64
	dblkElems uint64
	start     uint64 // first element index (after the index block elements)
	startDblk uint64 // first data block number
}

type eaDataBlock struct {
	data  []byte            // unpaged entries
	pages map[uint64][]byte // paged
	addr  uint64
}

type eaSuperBlock struct {
	dblks  []uint64
	bitmap []byte // per data block, ceil(npages/8) bytes each
}

func (f *File) openExtArray(addr uint64, path string, l *layout) (*extArray, error) {
	const st = "extensible array header"
	O, L := f.sizeOffsets, f.sizeLengths
	b, off, err := f.read(addr, uint64(4+1+1+1+1+1+1+1+1+6*L+O+4), path, st)
	if err != nil {
		return nil, err
	}
	c := f.newCursor(b, off, path, st)
	c.signature("EAHD")
	if v := c.u8(); v != 0 && c.err == nil {
		c.fail("version %d, want 0", v)
	}
	ea := &extArray{f: f, path: path, addr: addr, dblocks: map[uint64]*eaDataBlock{}, superBlocks: map[uint64]*eaSuperBlock{}}
	client := c.u8()
	ea.entrySize = uint64(c.u8())
	ea.maxBits = uint(c.u8())
	ea.idxElems = uint64(c.u8())
	ea.minElems = uint64(c.u8())
	ea.minPtrs = uint64(c.u8())
	ea.pageBits = uint(c.u8())
	for i := 0; i < 4; i++ {
		c.length() // secondary and data block counts and sizes
	}
	ea.maxIndex = c.length() // maximum index set, plus one
	c.length()               // elements realized
	iblk := c.addr()
	c.checksum(0)
	if c.err != nil {
		return nil, c.err
	}
	ea.filtered = client == 1
	pow2 := func(x uint64) bool { return x != 0 && x&(x-1) == 0 }
	if client > 1 || ea.entrySize < uint64(O) || ea.maxBits == 0 || ea.maxBits > 64 || !pow2(ea.minElems) || !pow2(ea.minPtrs) ||
		ea.pageBits > 32 || uint(bits.Len64(ea.minElems)-1) > ea.maxBits {
		return nil, c.errorf("client %d, element size %d, max bits %d, min elements %d, min pointers %d", client, ea.entrySize, ea.maxBits, ea.minElems, ea.minPtrs)
	}
	ea.arrOffBytes = int(ea.maxBits+7) / 8
	// Super block table (H5EA__hdr_init).
	nsblks := 1 + int(ea.maxBits) - (bits.Len64(ea.minElems) - 1)
	// Super blocks past 2^48 elements cannot be addressed in any file
	// (and their sizes would overflow), so the table stops there.
	var start, startDblk uint64
	for s := 0; s < nsblks && start < 1<<48; s++ {
		sb := eaSuper{ndblks: 1 << uint(s/2), dblkElems: ea.minElems << uint((s+1)/2), start: start, startDblk: startDblk}
		ea.sblks = append(ea.sblks, sb)
		start += sb.ndblks * sb.dblkElems
		startDblk += sb.ndblks
	}
	ea.iblkSblks = 2 * (bits.Len64(ea.minPtrs) - 1)
	if ea.iblkSblks > nsblks {
		return nil, c.errorf("%d index block super blocks of %d", ea.iblkSblks, nsblks)
	}
	if iblk == undef {
		ea.maxIndex = 0
		return ea, nil
	}
	ndblk := 2 * (ea.minPtrs - 1)
	nsblk := uint64(nsblks - ea.iblkSblks)
	if ea.iblkSblks > len(ea.sblks) {
		return nil, c.errorf("%d index block super blocks of %d", ea.iblkSblks, len(ea.sblks))
	}
	const ist = "extensible array index block"
	size := uint64(4+1+1+O) + ea.idxElems*ea.entrySize + (ndblk+nsblk)*uint64(O) + 4
	b, off, err = f.read(iblk, size, path, ist)
	if err != nil {
		return nil, err
	}
	c = f.newCursor(b, off, path, ist)
	c.arrayBlockPrefix("EAIB", addr)
	ea.iblkEntries = c.bytes(int(ea.idxElems * ea.entrySize))
	for i := uint64(0); i < ndblk; i++ {
		ea.dblkAddrs = append(ea.dblkAddrs, c.addr())
	}
	for i := uint64(0); i < nsblk; i++ {
		ea.sblkAddrs = append(ea.sblkAddrs, c.addr())
	}
	c.checksum(0)
	if c.err != nil {
		return nil, c.err
	}
	return ea, nil
}

func (ea *extArray) entry(i uint64) (chunkEntry, error) {
	f := ea.f
	none := chunkEntry{addr: undef}
	if i >= ea.maxIndex {
		return none, nil
	}
	if i < ea.idxElems {
		return f.decodeEntry(ea.iblkEntries[i*ea.entrySize:(i+1)*ea.entrySize], ea.filtered, ea.path)
	}
	i -= ea.idxElems
	s := 0
	for s+1 < len(ea.sblks) && ea.sblks[s+1].start <= i {
		s++
	}
	sb := ea.sblks[s]
	if i-sb.start >= sb.ndblks*sb.dblkElems {
		return none, nil
	}
	k := (i - sb.start) / sb.dblkElems // data block within the super block
	j := (i - sb.start) % sb.dblkElems // element within the data block
	if k >= sb.ndblks {
		return none, nil
	}
	var dblkAddr uint64
	var pageInit []byte
	pageN := uint64(1) << ea.pageBits
	paged := sb.dblkElems > pageN
	npages := uint64(0)
	if paged {
		npages = sb.dblkElems / pageN
	}
	if s < ea.iblkSblks {
		n := sb.startDblk + k
		if n >= uint64(len(ea.dblkAddrs)) {
			return none, nil
		}
		dblkAddr = ea.dblkAddrs[n]
	} else {
		if s-ea.iblkSblks >= len(ea.sblkAddrs) {
			return none, nil
		}
		sa := ea.sblkAddrs[s-ea.iblkSblks]
		if sa == undef {
			return none, nil
		}
		sup, err := ea.superBlock(sa, sb, npages)
		if err != nil {
			return chunkEntry{}, err
		}
		if k >= uint64(len(sup.dblks)) {
			return chunkEntry{}, f.formatErr(ea.path, "extensible array super block", -1, "data block %d of %d", k, len(sup.dblks))
		}
		dblkAddr = sup.dblks[k]
		pageInit = sup.bitmap
	}
	if dblkAddr == undef {
		return none, nil
	}
	db, err := ea.dataBlock(dblkAddr, sb, paged)
	if err != nil {
		return chunkEntry{}, err
	}
	if !paged {
		// A block shared by two super blocks in a hostile file may be shorter.
		if (j+1)*ea.entrySize > uint64(len(db.data)) {
			return chunkEntry{}, f.formatErr(ea.path, "extensible array data block", -1, "element %d beyond the block", j)
		}
		return f.decodeEntry(db.data[j*ea.entrySize:(j+1)*ea.entrySize], ea.filtered, ea.path)
	}
	// The super block's page-init bits run continuously over its data
	// blocks (bit k*npages + p, most significant bit first), although each
	// block is given ceil(npages/8) bytes of room.
	p := j / pageN
	bit := k*npages + p
	if pageInit == nil || bit/8 >= uint64(len(pageInit)) || pageInit[bit/8]&(0x80>>(bit%8)) == 0 {
		return none, nil
	}
	page, ok := db.pages[p]
	if !ok {
		prefix := uint64(4+1+1+f.sizeOffsets+ea.arrOffBytes) + 4
		pageSize := pageN*ea.entrySize + 4
		if page, err = f.readPage(dblkAddr+prefix+p*pageSize, pageSize, ea.path, "extensible array data block page"); err != nil {
			return chunkEntry{}, err
		}
		db.pages[p] = page
	}
	jj := j % pageN
	return f.decodeEntry(page[jj*ea.entrySize:(jj+1)*ea.entrySize], ea.filtered, ea.path)
}

func (ea *extArray) superBlock(addr uint64, sb eaSuper, npages uint64) (*eaSuperBlock, error) {
	if s, ok := ea.superBlocks[addr]; ok {
		return s, nil
	}
	f := ea.f
	const st = "extensible array super block"
	bm := uint64(0)
	if npages > 0 {
		bm = sb.ndblks * ((npages + 7) / 8)
	}
	if sb.ndblks > uint64(f.size)/uint64(f.sizeOffsets) || bm > uint64(f.size) {
		return nil, f.formatErr(ea.path, st, -1, "super block of %d data blocks exceeds the file", sb.ndblks)
	}
	size := uint64(4+1+1+f.sizeOffsets+ea.arrOffBytes) + bm + sb.ndblks*uint64(f.sizeOffsets) + 4
	b, off, err := f.read(addr, size, ea.path, st)
	if err != nil {
		return nil, err
	}
	c := f.newCursor(b, off, ea.path, st)
	c.arrayBlockPrefix("EASB", ea.addr)
	c.uN(ea.arrOffBytes)
	s := &eaSuperBlock{bitmap: c.bytes(int(bm))}
	for i := uint64(0); i < sb.ndblks; i++ {
		s.dblks = append(s.dblks, c.addr())
	}
	c.checksum(0)
	if c.err != nil {
		return nil, c.err
	}
	ea.superBlocks[addr] = s
	return s, nil
}

func (ea *extArray) dataBlock(addr uint64, sb eaSuper, paged bool) (*eaDataBlock, error) {
	if d, ok := ea.dblocks[addr]; ok {
		return d, nil
	}
	f := ea.f
	const st = "extensible array data block"
	size := uint64(4+1+1+f.sizeOffsets+ea.arrOffBytes) + 4
	if !paged {
		if sb.dblkElems > uint64(f.size)/ea.entrySize {
			return nil, f.formatErr(ea.path, st, -1, "data block of %d elements exceeds the file", sb.dblkElems)
		}
		size += sb.dblkElems * ea.entrySize
	}
	b, off, err := f.read(addr, size, ea.path, st)
	if err != nil {
		return nil, err
	}
	c := f.newCursor(b, off, ea.path, st)
	c.arrayBlockPrefix("EADB", ea.addr)
	c.uN(ea.arrOffBytes)
	d := &eaDataBlock{addr: addr, pages: map[uint64][]byte{}}
	if !paged {
		d.data = c.bytes(int(sb.dblkElems * ea.entrySize))
	}
	c.checksum(0)
	if c.err != nil {
		return nil, c.err
	}
	ea.dblocks[addr] = d
	return d, nil
}
