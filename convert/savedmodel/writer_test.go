package savedmodel

// A minimal writer for the formats this package reads, used to build the
// committed fixtures in testdata/savedmodel (go test -run TestFixtures
// -update) and the corrupt variants the error tests need. It follows the
// layouts of TensorFlow's lib/io/table_builder.cc and tensor_bundle.cc.

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"sort"

	"google.golang.org/protobuf/encoding/protowire"
)

// blockBuilder builds one table block with prefix-compressed keys.
type blockBuilder struct {
	buf      []byte
	restarts []uint32
	last     []byte
	n        int
	interval int
}

func (b *blockBuilder) add(key, value []byte) {
	shared := 0
	if b.n%b.interval == 0 {
		b.restarts = append(b.restarts, uint32(len(b.buf)))
	} else {
		for shared < len(key) && shared < len(b.last) && key[shared] == b.last[shared] {
			shared++
		}
	}
	b.buf = binary.AppendUvarint(b.buf, uint64(shared))
	b.buf = binary.AppendUvarint(b.buf, uint64(len(key)-shared))
	b.buf = binary.AppendUvarint(b.buf, uint64(len(value)))
	b.buf = append(b.buf, key[shared:]...)
	b.buf = append(b.buf, value...)
	b.last = append(b.last[:0], key...)
	b.n++
}

func (b *blockBuilder) finish() []byte {
	out := append([]byte(nil), b.buf...)
	if len(b.restarts) == 0 {
		b.restarts = []uint32{0}
	}
	for _, r := range b.restarts {
		out = binary.LittleEndian.AppendUint32(out, r)
	}
	return binary.LittleEndian.AppendUint32(out, uint32(len(b.restarts)))
}

// writeTable returns a LevelDB table holding kvs (sorted by key), with
// data blocks cut after blockSize bytes. dataCompression is the type byte
// written in data block trailers (the contents are never compressed; a
// non-zero value makes the corrupt fixtures the error tests need).
func writeTable(kvs []tableEntry, blockSize int, dataCompression byte) []byte {
	var out []byte
	writeBlockType := func(contents []byte, typ byte) []byte {
		h := binary.AppendUvarint(nil, uint64(len(out)))
		h = binary.AppendUvarint(h, uint64(len(contents)))
		out = append(out, contents...)
		out = append(out, typ)
		crc := crc32.Update(crc32.Checksum(contents, castagnoli), castagnoli, []byte{typ})
		out = binary.LittleEndian.AppendUint32(out, maskCRC(crc))
		return h
	}
	writeBlock := func(contents []byte) []byte { return writeBlockType(contents, noCompression) }
	index := &blockBuilder{interval: 1}
	data := &blockBuilder{interval: 16}
	flush := func() {
		if data.n == 0 {
			return
		}
		last := append([]byte(nil), data.last...)
		index.add(last, writeBlockType(data.finish(), dataCompression))
		data = &blockBuilder{interval: 16}
	}
	for _, kv := range kvs {
		data.add(kv.key, kv.value)
		if len(data.buf) >= blockSize {
			flush()
		}
	}
	flush()
	meta := writeBlock((&blockBuilder{interval: 16}).finish())
	idx := writeBlock(index.finish())
	footer := append(append([]byte(nil), meta...), idx...)
	footer = append(footer, make([]byte, 40-len(footer))...)
	footer = binary.LittleEndian.AppendUint64(footer, tableMagic)
	return append(out, footer...)
}

// bundleWriter accumulates tensors for a single-shard TensorBundle.
// pbVarint, pbBytes and pbString append one protobuf field: its tag and
// its value.
func pbVarint(b []byte, num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
}

func pbBytes(b []byte, num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
}

func pbString(b []byte, num protowire.Number, v string) []byte {
	return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), v)
}

type bundleWriter struct {
	data    []byte
	entries map[string][]byte
}

func newBundleWriter() *bundleWriter { return &bundleWriter{entries: map[string][]byte{}} }

func shapeProto(shape []int) []byte {
	var s []byte
	for _, d := range shape {
		dim := pbVarint(nil, dimSize, uint64(d))
		s = pbBytes(s, shapeDim, dim)
	}
	return s
}

func (w *bundleWriter) addRaw(key string, dtype DataType, shape []int, raw []byte, crc uint32) {
	e := pbVarint(nil, bundleEntryDType, uint64(dtype))
	e = pbBytes(e, bundleEntryShape, shapeProto(shape))
	// shard_id 0 is the proto3 default and is omitted, as TF does.
	if len(w.data) > 0 {
		e = pbVarint(e, bundleEntryOffset, uint64(len(w.data)))
	}
	e = pbVarint(e, bundleEntrySize, uint64(len(raw)))
	e = protowire.AppendTag(e, bundleEntryCRC32C, protowire.Fixed32Type)
	e = protowire.AppendFixed32(e, maskCRC(crc))
	w.entries[key] = e
	w.data = append(w.data, raw...)
}

func (w *bundleWriter) addFloat32(key string, shape []int, vals []float32) {
	raw := make([]byte, 0, 4*len(vals))
	for _, v := range vals {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	w.addRaw(key, DTFloat, shape, raw, crc32.Checksum(raw, castagnoli))
}

func (w *bundleWriter) addInt64(key string, v int64) {
	raw := binary.LittleEndian.AppendUint64(nil, uint64(v))
	w.addRaw(key, DTInt64, nil, raw, crc32.Checksum(raw, castagnoli))
}

// addString stores a scalar DT_STRING tensor the way WriteStringTensor does.
func (w *bundleWriter) addString(key string, s []byte) {
	raw := binary.AppendUvarint(nil, uint64(len(s)))
	lenBytes := binary.LittleEndian.AppendUint32(nil, uint32(len(s)))
	crc := crc32.Checksum(lenBytes, castagnoli)
	masked := binary.LittleEndian.AppendUint32(nil, maskCRC(crc))
	raw = append(raw, masked...)
	crc = crc32.Update(crc, castagnoli, masked)
	raw = append(raw, s...)
	crc = crc32.Update(crc, castagnoli, s)
	w.addRaw(key, DTString, nil, raw, crc)
}

// index returns the variables.index bytes.
func (w *bundleWriter) index(blockSize int) []byte { return w.indexWith(blockSize, noCompression) }

func (w *bundleWriter) indexWith(blockSize int, dataCompression byte) []byte {
	hdr := pbVarint(nil, bundleHeaderNumShards, 1)
	kvs := []tableEntry{{key: []byte{}, value: hdr}}
	keys := make([]string, 0, len(w.entries))
	for k := range w.entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kvs = append(kvs, tableEntry{key: []byte(k), value: w.entries[k]})
	}
	return writeTable(kvs, blockSize, dataCompression)
}

// objNodeSpec describes one object-graph node for the fixture writers.
type objNodeSpec struct {
	children []objRef
	varName  string // TF variable name when the node is a variable
	varKey   string // its checkpoint key
	// identifier and metadata make a SavedUserObject (saved_model.pb).
	identifier, metadata string
}

func objRefProto(r objRef) []byte {
	b := pbVarint(nil, objRefNodeID, uint64(r.node))
	return pbString(b, objRefLocalName, r.name)
}

// trackableGraphProto encodes a TrackableObjectGraph.
func trackableGraphProto(nodes []objNodeSpec) []byte {
	var g []byte
	for _, n := range nodes {
		var nb []byte
		for _, c := range n.children {
			nb = pbBytes(nb, trackableChildren, objRefProto(c))
		}
		if n.varKey != "" {
			a := pbString(nil, serializedName, "VARIABLE_VALUE")
			a = pbString(a, serializedFullName, n.varName)
			a = pbString(a, serializedCheckpoint, n.varKey)
			nb = pbBytes(nb, trackableAttributes, a)
		}
		g = pbBytes(g, trackableGraphNodes, nb)
	}
	return g
}

// savedModelProto encodes a SavedModel whose only content is the object
// graph with Keras user objects (what pre-2.5 tf.keras readers need).
func savedModelProto(nodes []objNodeSpec) []byte {
	var og []byte
	for _, n := range nodes {
		var nb []byte
		for _, c := range n.children {
			nb = pbBytes(nb, savedObjectChildren, objRefProto(c))
		}
		if n.identifier != "" {
			u := pbString(nil, userObjectIdentifier, n.identifier)
			u = pbString(u, userObjectMetadata, n.metadata)
			nb = pbBytes(nb, savedObjectUserObject, u)
		}
		og = pbBytes(og, objectGraphNodes, nb)
	}
	mg := pbBytes(nil, metaGraphObjectGraph, og)
	sm := pbVarint(nil, 1, 1) // saved_model_schema_version
	return pbBytes(sm, savedModelMetaGraphs, mg)
}

// metadataNodeSpec is one SavedMetadata node.
type metadataNodeSpec struct {
	nodeID               int
	path, ident, jsonDoc string
}

func kerasMetadataProto(nodes []metadataNodeSpec) []byte {
	var out []byte
	for _, n := range nodes {
		nb := pbVarint(nil, metaNodeID, uint64(n.nodeID))
		nb = pbString(nb, metaNodePath, n.path)
		nb = pbString(nb, metaIdentifier, n.ident)
		nb = pbString(nb, metaMetadata, n.jsonDoc)
		out = pbBytes(out, savedMetadataNodes, nb)
	}
	return out
}

// sealTable wraps raw data-block contents into a table with valid
// checksums, one index entry pointing at it and an empty metaindex, so
// fuzzing reaches the block and entry decoders past the CRC checks.
func sealTable(block []byte) []byte {
	var out []byte
	put := func(contents []byte) []byte {
		h := binary.AppendUvarint(nil, uint64(len(out)))
		h = binary.AppendUvarint(h, uint64(len(contents)))
		out = append(out, contents...)
		out = append(out, noCompression)
		crc := crc32.Update(crc32.Checksum(contents, castagnoli), castagnoli, []byte{noCompression})
		out = binary.LittleEndian.AppendUint32(out, maskCRC(crc))
		return h
	}
	dh := put(block)
	index := &blockBuilder{interval: 1}
	index.add([]byte("\xff"), dh)
	meta := put((&blockBuilder{interval: 16}).finish())
	idx := put(index.finish())
	footer := append(append([]byte(nil), meta...), idx...)
	footer = append(footer, make([]byte, 40-len(footer))...)
	footer = binary.LittleEndian.AppendUint64(footer, tableMagic)
	return append(out, footer...)
}

// fixtureDataBlock returns the first data block of the fixture index.
func fixtureDataBlock() []byte {
	w := newBundleWriter()
	w.addFixtureWeights()
	w.addString(objectGraphKey, trackableGraphProto(fixtureObjects()))
	index := w.index(1 << 20)
	footer := index[len(index)-footerLen:]
	_, n := decodeHandle(footer)
	ih, _ := decodeHandle(footer[n:])
	ib := index[ih.offset : ih.offset+ih.size]
	budget := 1 << 20
	handles, _ := parseBlock(ib, "", "", 0, &budget)
	dh, _ := decodeHandle(handles[0].value)
	return index[dh.offset : dh.offset+dh.size]
}
