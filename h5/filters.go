package h5

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
	"strconv"
	"sync"
)

// Filter identifiers (Spec IV.A.2.l and the HDF Group filter registry).
const (
	filterDeflate    = 1
	filterShuffle    = 2
	filterFletcher32 = 3
	filterSzip       = 4
	filterNbit       = 5
	filterScaleOff   = 6
	filterLZF        = 32000
)

var knownFilters = map[uint16]string{
	filterDeflate: "deflate", filterShuffle: "shuffle", filterFletcher32: "fletcher32",
	filterSzip: "szip", filterNbit: "nbit", filterScaleOff: "scaleoffset",
	filterLZF: "lzf", 307: "bzip2", 32001: "blosc", 32004: "lz4", 32008: "bitshuffle",
	32013: "zfp", 32015: "zstd", 32017: "sz", 32026: "blosc2",
}

func filterName(id uint16) string {
	if n, ok := knownFilters[id]; ok {
		return n
	}
	return "filter " + strconv.Itoa(int(id))
}

var zlibPool sync.Pool // of io.ReadCloser implementing zlib.Resetter

// scratch holds two buffers that filter stages alternate between, reused
// from chunk to chunk.
type scratch struct {
	bufs [2][]byte
	cur  int // index of the buffer holding the current data, -1: neither
}

// next returns a buffer of n bytes that is not the one holding the input.
func (s *scratch) next(n uint64) []byte {
	i := 0
	if s.cur == 0 {
		i = 1
	}
	s.cur = i
	if uint64(cap(s.bufs[i])) < n {
		s.bufs[i] = make([]byte, n)
	}
	return s.bufs[i][:n]
}

// unfilter undoes the pipeline on one chunk (reverse order), skipping the
// filters whose bit is set in mask. want is the decoded chunk size. The
// result may live in s.
func (d *Dataset) unfilter(b []byte, mask uint32, want uint64, off int64, s *scratch) ([]byte, error) {
	f := d.obj.f
	s.cur = -1
	for i := len(d.filters) - 1; i >= 0; i-- {
		if i < 32 && mask&(1<<uint(i)) != 0 {
			continue
		}
		flt := d.filters[i]
		var err error
		switch flt.ID {
		case filterDeflate:
			b, err = inflate(b, s.next(want))
		case filterShuffle:
			es := d.dtype.Size
			if len(flt.ClientData) > 0 {
				es = int(flt.ClientData[0])
			}
			b = unshuffle(b, es, s)
		case filterFletcher32:
			if len(b) < 4 {
				return nil, f.formatErr(d.obj.path, "fletcher32 filter", off, "chunk of %d bytes has no checksum", len(b))
			}
			data := b[:len(b)-4]
			stored := binary.LittleEndian.Uint32(b[len(b)-4:])
			sum := fletcher32(data)
			// HDF5 before 1.6.3 stored the sum byte-swapped; it accepts both.
			swapped := sum>>24 | (sum>>8)&0xff00 | (sum<<8)&0xff0000 | sum<<24
			if stored != sum && stored != swapped {
				return nil, f.formatErr(d.obj.path, "fletcher32 filter", off, "checksum mismatch: computed 0x%08x, stored 0x%08x", sum, stored)
			}
			b = data
		case filterLZF:
			b, err = lzfDecompress(b, s.next(want)[:0:want])
		default:
			return nil, f.unsupported(d.obj.path, "filter %d (%s)", flt.ID, filterName(flt.ID))
		}
		if err != nil {
			return nil, f.formatErr(d.obj.path, filterName(flt.ID)+" filter", off, "%v", err)
		}
	}
	return b, nil
}

// inflate decompresses a zlib stream into out, producing at most len(out)
// bytes.
func inflate(b, out []byte) ([]byte, error) {
	br := bytes.NewReader(b)
	var zr io.ReadCloser
	if p := zlibPool.Get(); p != nil {
		zr = p.(io.ReadCloser)
		if err := zr.(zlib.Resetter).Reset(br, nil); err != nil {
			return nil, err
		}
	} else {
		var err error
		if zr, err = zlib.NewReader(br); err != nil {
			return nil, err
		}
	}
	defer zlibPool.Put(zr)
	n, err := io.ReadFull(zr, out)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return out[:n], nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// unshuffle reverses the byte shuffle: byte j of element i was stored at
// j*n + i; trailing bytes beyond whole elements are stored as is.
func unshuffle(b []byte, es int, s *scratch) []byte {
	if es <= 1 || len(b) < es {
		return b
	}
	n := len(b) / es
	out := s.next(uint64(len(b)))
	for j := 0; j < es; j++ {
		src := b[j*n : (j+1)*n]
		for i, x := range src {
			out[i*es+j] = x
		}
	}
	copy(out[n*es:], b[n*es:])
	return out
}

// lzfDecompress decodes LZF (liblzf's lzf_decompress, as used by h5py's
// filter 32000), appending to out up to its capacity.
func lzfDecompress(in, out []byte) ([]byte, error) {
	want := uint64(cap(out))
	for i := 0; i < len(in); {
		ctrl := int(in[i])
		i++
		if ctrl < 32 { // literal run of ctrl+1 bytes
			n := ctrl + 1
			if i+n > len(in) {
				return nil, errLZF("literal run past the input")
			}
			if uint64(len(out)+n) > want {
				return nil, errLZF("output larger than the chunk")
			}
			out = append(out, in[i:i+n]...)
			i += n
			continue
		}
		n := ctrl >> 5
		if n == 7 {
			if i >= len(in) {
				return nil, errLZF("truncated length")
			}
			n += int(in[i])
			i++
		}
		if i >= len(in) {
			return nil, errLZF("truncated back reference")
		}
		ref := len(out) - ((ctrl&0x1f)<<8 + 1) - int(in[i])
		i++
		n += 2
		if ref < 0 {
			return nil, errLZF("back reference before the start")
		}
		if uint64(len(out)+n) > want {
			return nil, errLZF("output larger than the chunk")
		}
		for k := 0; k < n; k++ { // may overlap: copy byte by byte
			out = append(out, out[ref+k])
		}
	}
	return out, nil
}

type errLZF string

func (e errLZF) Error() string { return "lzf: " + string(e) }
