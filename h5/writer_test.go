package h5

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"math"
)

// A minimal test-only HDF5 writer (superblock 2, version 2 object headers,
// one root group of float32 datasets, contiguous or deflated chunks indexed
// by a version 1 B-tree) so that benchmarks can build large files without
// Python. It writes only what libhdf5 itself would write for these cases.

type testDataset struct {
	name   string
	data   []float32
	chunk  int // 0: contiguous
	level  int // deflate level for chunked data; 0: no filter
	chunks [][]byte
}

type testWriter struct {
	buf bytes.Buffer
}

func (w *testWriter) align() {
	for w.buf.Len()%8 != 0 {
		w.buf.WriteByte(0)
	}
}

func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }

// ohdr encodes a version 2 object header holding msgs (type, data).
func ohdr(msgs ...[]byte) []byte {
	var body []byte
	for _, m := range msgs {
		body = append(body, m...)
	}
	h := []byte("OHDR")
	h = append(h, 2, 0x02) // version 2; 4-byte chunk size
	h = append(h, le32(uint32(len(body)))...)
	h = append(h, body...)
	return append(h, le32(lookup3(h))...)
}

func msg(typ byte, data []byte) []byte {
	m := []byte{typ}
	m = append(m, le16(uint16(len(data)))...)
	m = append(m, 0)
	return append(m, data...)
}

var float32Type = []byte{0x11, 0x20, 0x1f, 0x00, 4, 0, 0, 0, 0, 0, 32, 0, 23, 8, 0, 23, 127, 0, 0, 0}

// buildTestFile returns the bytes of an HDF5 file holding the datasets.
func buildTestFile(sets []*testDataset) []byte {
	w := &testWriter{}
	w.buf.Write(make([]byte, 48)) // superblock, written last
	var links [][]byte
	for _, d := range sets {
		n := len(d.data)
		raw := make([]byte, 4*n)
		for i, v := range d.data {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
		space := append([]byte{2, 1, 0, 1}, le64(uint64(n))...)
		var layout, pipeline []byte
		if d.chunk == 0 {
			w.align()
			addr := w.buf.Len()
			w.buf.Write(raw)
			layout = append([]byte{3, 1}, le64(uint64(addr))...)
			layout = append(layout, le64(uint64(len(raw)))...)
		} else {
			type stored struct{ addr, size, off int }
			var chunks []stored
			cb := 4 * d.chunk
			for off := 0; off < n; off += d.chunk {
				part := make([]byte, cb) // edge chunks are stored full size
				copy(part, raw[4*off:])
				if d.level > 0 {
					var z bytes.Buffer
					zw, _ := zlib.NewWriterLevel(&z, d.level)
					zw.Write(part)
					zw.Close()
					part = z.Bytes()
				}
				d.chunks = append(d.chunks, part)
				chunks = append(chunks, stored{w.buf.Len(), len(part), off})
				w.buf.Write(part)
			}
			w.align()
			tree := w.buf.Len()
			node := []byte("TREE")
			node = append(node, 1, 0)
			node = append(node, le16(uint16(len(chunks)))...)
			node = append(node, le64(undef)...)
			node = append(node, le64(undef)...)
			for _, c := range chunks {
				node = append(node, le32(uint32(c.size))...)
				node = append(node, le32(0)...)
				node = append(node, le64(uint64(c.off))...)
				node = append(node, le64(0)...)
				node = append(node, le64(uint64(c.addr))...)
			}
			node = append(node, le32(0)...)
			node = append(node, le32(0)...)
			node = append(node, le64(uint64(n))...)
			node = append(node, le64(0)...)
			w.buf.Write(node)
			layout = append([]byte{3, 2, 2}, le64(uint64(tree))...)
			layout = append(layout, le32(uint32(d.chunk))...)
			layout = append(layout, le32(4)...)
			if d.level > 0 {
				pipeline = []byte{2, 1}
				pipeline = append(pipeline, le16(filterDeflate)...)
				pipeline = append(pipeline, le16(0)...)
				pipeline = append(pipeline, le16(1)...)
				pipeline = append(pipeline, le32(uint32(d.level))...)
			}
		}
		msgs := [][]byte{msg(msgDataspace, space), msg(msgDatatype, float32Type), msg(msgLayout, layout)}
		if pipeline != nil {
			msgs = append(msgs, msg(msgFilters, pipeline))
		}
		w.align()
		hdr := w.buf.Len()
		w.buf.Write(ohdr(msgs...))
		link := []byte{1, 0, byte(len(d.name))}
		link = append(link, d.name...)
		link = append(link, le64(uint64(hdr))...)
		links = append(links, msg(msgLink, link))
	}
	linkInfo := append([]byte{0, 0}, le64(undef)...)
	linkInfo = append(linkInfo, le64(undef)...)
	w.align()
	root := w.buf.Len()
	w.buf.Write(ohdr(append([][]byte{msg(msgLinkInfo, linkInfo), msg(msgGroupInfo, []byte{0, 0})}, links...)...))
	out := w.buf.Bytes()
	sb := []byte(signature)
	sb = append(sb, 2, 8, 8, 0)
	sb = append(sb, le64(0)...)
	sb = append(sb, le64(undef)...)
	sb = append(sb, le64(uint64(len(out)))...)
	sb = append(sb, le64(uint64(root))...)
	sb = append(sb, le32(lookup3(sb))...)
	copy(out, sb)
	return out
}
