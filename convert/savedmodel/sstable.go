package savedmodel

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// LevelDB table layout, as TensorFlow's lib/io/table_format writes it for
// TensorBundle index files (keras-formats.md §4.4):
//
//	data blocks … | metaindex block | index block | footer (48 bytes)
//
// Every block is followed by a 5-byte trailer: compression type, then the
// masked CRC32C of the block bytes and the type byte.
const (
	footerLen      = 48
	tableMagic     = 0xdb4775248b80fb57
	blockTrailer   = 5
	noCompression  = 0
	snappyCompress = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crcMaskDelta and maskCRC follow LevelDB's crc32c::Mask: stored CRCs are
// rotated and offset so that a CRC of data holding CRCs is not degenerate.
const crcMaskDelta = 0xa282ead8

func maskCRC(c uint32) uint32 { return ((c >> 15) | (c << 17)) + crcMaskDelta }

func unmaskCRC(m uint32) uint32 {
	r := m - crcMaskDelta
	return (r >> 17) | (r << 15)
}

// tableEntry is one key/value pair of a table.
type tableEntry struct {
	key, value []byte
}

// blockHandle points at a block: offset and size, without the trailer.
type blockHandle struct {
	offset, size uint64
}

// decodeHandle reads a BlockHandle (two varint64s) from b and returns the
// number of bytes used, or 0 when b does not hold one.
func decodeHandle(b []byte) (blockHandle, int) {
	off, n := binary.Uvarint(b)
	if n <= 0 {
		return blockHandle{}, 0
	}
	size, m := binary.Uvarint(b[n:])
	if m <= 0 {
		return blockHandle{}, 0
	}
	return blockHandle{off, size}, n + m
}

// readTable parses a whole LevelDB table held in data and returns its
// entries in key order. file names the table in errors.
func readTable(data []byte, file string) ([]tableEntry, error) {
	if len(data) < footerLen {
		return nil, formatErr(file, "footer", 0, "file is %d bytes, shorter than the %d-byte table footer", len(data), footerLen)
	}
	footerOff := int64(len(data) - footerLen)
	footer := data[footerOff:]
	if m := binary.LittleEndian.Uint64(footer[40:]); m != tableMagic {
		return nil, formatErr(file, "footer", footerOff+40, "bad table magic 0x%016x, want 0x%016x", m, uint64(tableMagic))
	}
	_, n := decodeHandle(footer)
	if n == 0 {
		return nil, formatErr(file, "footer", footerOff, "bad metaindex block handle")
	}
	index, m := decodeHandle(footer[n:])
	if m == 0 {
		return nil, formatErr(file, "footer", footerOff+int64(n), "bad index block handle")
	}
	indexBlock, err := readBlock(data, index, file, "index block", int(footerOff))
	if err != nil {
		return nil, err
	}
	budget0 := 16*len(data) + 1<<20
	handles, err := parseBlock(indexBlock, file, "index block", int64(index.offset), &budget0)
	if err != nil {
		return nil, err
	}
	var out []tableEntry
	// Prefix compression lets a small block expand into many long keys;
	// this budget keeps hostile tables from allocating without bound.
	budget := 16*len(data) + 1<<20
	for i, h := range handles {
		bh, n := decodeHandle(h.value)
		if n == 0 || n != len(h.value) {
			return nil, formatErr(file, "index block", int64(index.offset), "entry %d (key %q): bad block handle", i, h.key)
		}
		// Data blocks precede the index block; a handle past it is corrupt.
		blk, err := readBlock(data, bh, file, "data block", int(index.offset))
		if err != nil {
			return nil, err
		}
		entries, err := parseBlock(blk, file, "data block", int64(bh.offset), &budget)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if len(out) > 0 && bytes.Compare(out[len(out)-1].key, e.key) >= 0 {
				return nil, formatErr(file, "data block", int64(bh.offset), "key %q is not after key %q", e.key, out[len(out)-1].key)
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// readBlock returns the contents of the block at h after checking that it
// and its trailer lie before limit and that its checksum matches.
func readBlock(data []byte, h blockHandle, file, what string, limit int) ([]byte, error) {
	if h.offset > uint64(limit) || h.size > uint64(limit)-h.offset || uint64(limit)-h.offset-h.size < blockTrailer {
		return nil, formatErr(file, what, int64(min(h.offset, uint64(len(data)))), "block of %d bytes at offset %d does not fit before offset %d", h.size, h.offset, limit)
	}
	blk := data[h.offset : h.offset+h.size]
	trailer := data[h.offset+h.size : h.offset+h.size+blockTrailer]
	want := unmaskCRC(binary.LittleEndian.Uint32(trailer[1:]))
	got := crc32.Update(crc32.Checksum(blk, castagnoli), castagnoli, trailer[:1])
	if got != want {
		return nil, formatErr(file, what, int64(h.offset), "block checksum 0x%08x, stored 0x%08x", got, want)
	}
	switch trailer[0] {
	case noCompression:
		return blk, nil
	case snappyCompress:
		return nil, unsupportedErr(file, what, "snappy-compressed table block (TensorFlow writes TensorBundle indexes uncompressed)")
	default:
		return nil, formatErr(file, what, int64(h.offset+h.size), "unknown block compression type %d", trailer[0])
	}
}

// parseBlock decodes a block's prefix-compressed entries. Restart points
// only speed up seeks, so a full scan needs just their count to find where
// the entries end.
func parseBlock(blk []byte, file, what string, base int64, budget *int) ([]tableEntry, error) {
	if len(blk) < 4 {
		return nil, formatErr(file, what, base, "block of %d bytes has no restart count", len(blk))
	}
	nRestarts := uint64(binary.LittleEndian.Uint32(blk[len(blk)-4:]))
	if nRestarts*4 > uint64(len(blk)-4) {
		return nil, formatErr(file, what, base+int64(len(blk)-4), "%d restart points do not fit in a %d-byte block", nRestarts, len(blk))
	}
	end := len(blk) - 4 - int(nRestarts)*4
	var out []tableEntry
	var prev []byte
	for p := 0; p < end; {
		start := p
		var hdr [3]uint64
		for i := range hdr {
			v, n := binary.Uvarint(blk[p:end])
			if n <= 0 || v > 1<<32-1 {
				return nil, formatErr(file, what, base+int64(p), "bad entry header varint")
			}
			hdr[i] = v
			p += n
		}
		shared, nonShared, valueLen := hdr[0], hdr[1], hdr[2]
		if shared > uint64(len(prev)) {
			return nil, formatErr(file, what, base+int64(start), "entry shares %d key bytes, previous key has %d", shared, len(prev))
		}
		if nonShared > uint64(end-p) || valueLen > uint64(end-p)-nonShared {
			return nil, formatErr(file, what, base+int64(start), "entry of %d key and %d value bytes overruns the block", nonShared, valueLen)
		}
		*budget -= int(shared + nonShared)
		if *budget < 0 {
			return nil, formatErr(file, what, base+int64(start), "prefix-compressed keys expand to more than 16 times the table size")
		}
		key := make([]byte, 0, shared+nonShared)
		key = append(key, prev[:shared]...)
		key = append(key, blk[p:p+int(nonShared)]...)
		p += int(nonShared)
		out = append(out, tableEntry{key: key, value: blk[p : p+int(valueLen)]})
		p += int(valueLen)
		prev = key
	}
	return out, nil
}
