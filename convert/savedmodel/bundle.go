package savedmodel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/rnnkit/rnnkit/internal/float16"
)

// DataType is TensorFlow's tensor element type enum (types.proto).
type DataType int32

// The DataType values rnnkit reads.
const (
	DTFloat    DataType = 1
	DTDouble   DataType = 2
	DTInt32    DataType = 3
	DTUint8    DataType = 4
	DTInt16    DataType = 5
	DTInt8     DataType = 6
	DTString   DataType = 7
	DTComplex  DataType = 8
	DTInt64    DataType = 9
	DTBool     DataType = 10
	DTBfloat16 DataType = 14
	DTUint16   DataType = 17
	DTComplex2 DataType = 18
	DTHalf     DataType = 19
	DTUint32   DataType = 22
	DTUint64   DataType = 23
)

var dtypeNames = map[DataType]string{
	DTFloat: "float32", DTDouble: "float64", DTInt32: "int32", DTUint8: "uint8", DTInt16: "int16",
	DTInt8: "int8", DTString: "string", DTComplex: "complex64", DTInt64: "int64", DTBool: "bool",
	DTBfloat16: "bfloat16", DTUint16: "uint16", DTComplex2: "complex128", DTHalf: "float16",
	DTUint32: "uint32", DTUint64: "uint64",
}

func (d DataType) String() string {
	if s, ok := dtypeNames[d]; ok {
		return s
	}
	return fmt.Sprintf("DataType(%d)", int32(d))
}

// elemSize is the stored size of one element, or 0 for strings and types
// rnnkit does not know.
func (d DataType) elemSize() int {
	switch d {
	case DTUint8, DTInt8, DTBool:
		return 1
	case DTInt16, DTUint16, DTBfloat16, DTHalf:
		return 2
	case DTFloat, DTInt32, DTUint32:
		return 4
	case DTDouble, DTInt64, DTUint64, DTComplex:
		return 8
	case DTComplex2:
		return 16
	}
	return 0
}

// Entry describes one tensor of a TensorBundle (BundleEntryProto).
type Entry struct {
	Key    string
	DType  DataType
	Shape  []int
	Shard  int
	Offset int64
	Size   int64
	// CRC32C is the CRC32C of the stored bytes (unmasked).
	CRC32C uint32
	// Sliced reports a partitioned variable stored as slices, which rnnkit
	// does not read.
	Sliced bool
}

// Bundle is an open TensorBundle: the checkpoint format of TF SavedModel
// variables (variables/variables.index + variables.data-NNNNN-of-MMMMM)
// and of tf.keras save_weights without .h5. See keras-formats.md §4.4.
// A Bundle is not safe for concurrent use.
type Bundle struct {
	fsys      fs.FS
	prefix    string
	display   string // prefix as errors show it; "" means prefix
	index     string
	numShards int
	bigEndian bool
	entries   map[string]*Entry
	keys      []string
	shards    map[int]*shard
}

type shard struct {
	name string
	f    fs.File
	size int64
}

// OpenBundle opens the bundle whose files are prefix+".index" and
// prefix+".data-…" in fsys, e.g. "model/variables/variables". It reads and
// checks the whole index; data shards are opened when first read.
func OpenBundle(fsys fs.FS, prefix string) (*Bundle, error) {
	return openBundleAs(fsys, prefix, prefix)
}

// openBundleAs is OpenBundle naming the bundle's files display+".index"
// and display+".data-…" in errors (the SavedModel directory as the caller
// gave it, not the path inside fsys).
func openBundleAs(fsys fs.FS, prefix, display string) (*Bundle, error) {
	indexName := prefix + ".index"
	data, err := fs.ReadFile(fsys, indexName)
	if err != nil {
		return nil, fmt.Errorf("savedmodel: %s.index: reading bundle index: %w", display, err)
	}
	b, err := parseBundle(fsys, prefix, display+".index", data)
	if err != nil {
		return nil, err
	}
	b.display = display
	return b, nil
}

func parseBundle(fsys fs.FS, prefix, indexName string, data []byte) (*Bundle, error) {
	table, err := readTable(data, indexName)
	if err != nil {
		return nil, err
	}
	b := &Bundle{fsys: fsys, prefix: prefix, index: indexName, entries: make(map[string]*Entry, len(table)), shards: map[int]*shard{}}
	if len(table) == 0 || len(table[0].key) != 0 {
		return nil, formatErr(indexName, "header", -1, "table has no BundleHeaderProto under the empty key")
	}
	b.numShards = 1
	sawShards := false
	if err := walkProto(table[0].value, indexName, "header", -1, func(f pbField) error {
		switch {
		case f.num == bundleHeaderNumShards && f.typ == protowire.VarintType:
			b.numShards, sawShards = int(int32(f.u)), true
		case f.num == bundleHeaderEndianness && f.typ == protowire.VarintType:
			b.bigEndian = f.u == 1
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if !sawShards {
		// proto3 omits zero values; TensorFlow always writes at least one shard.
		b.numShards = 0
	}
	if b.numShards < 0 || b.numShards > 1<<16 {
		return nil, formatErr(indexName, "header", -1, "bad shard count %d", b.numShards)
	}
	for _, kv := range table[1:] {
		e, err := decodeEntry(string(kv.key), kv.value, indexName)
		if err != nil {
			return nil, err
		}
		if !e.Sliced && (e.Shard < 0 || e.Shard >= b.numShards) {
			return nil, formatErr(indexName, e.Key, -1, "shard %d out of range for %d shards", e.Shard, b.numShards)
		}
		b.entries[e.Key] = e
		b.keys = append(b.keys, e.Key)
	}
	return b, nil
}

func decodeEntry(key string, value []byte, file string) (*Entry, error) {
	e := &Entry{Key: key}
	err := walkProto(value, file, key, -1, func(f pbField) error {
		switch {
		case f.num == bundleEntryDType && f.typ == protowire.VarintType:
			e.DType = DataType(int32(f.u))
		case f.num == bundleEntryShape && f.typ == protowire.BytesType:
			s, err := tensorShape(f.b, file, key)
			if err != nil {
				return err
			}
			e.Shape = s
		case f.num == bundleEntryShard && f.typ == protowire.VarintType:
			e.Shard = int(int32(f.u))
		case f.num == bundleEntryOffset && f.typ == protowire.VarintType:
			e.Offset = int64(f.u)
		case f.num == bundleEntrySize && f.typ == protowire.VarintType:
			e.Size = int64(f.u)
		case f.num == bundleEntryCRC32C && f.typ == protowire.Fixed32Type:
			e.CRC32C = unmaskCRC(uint32(f.u))
		case f.num == bundleEntrySlices:
			e.Sliced = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if e.Offset < 0 || e.Size < 0 {
		return nil, formatErr(file, key, -1, "negative offset %d or size %d", e.Offset, e.Size)
	}
	if n := e.DType.elemSize(); n > 0 && !e.Sliced {
		count, ok := numElements(e.Shape)
		if !ok || count > math.MaxInt64/int64(n) || count*int64(n) != e.Size {
			return nil, formatErr(file, key, -1, "%s tensor of shape %v stored in %d bytes", e.DType, e.Shape, e.Size)
		}
	}
	return e, nil
}

// numElements is the product of dims, with ok false on overflow.
func numElements(dims []int) (int64, bool) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 || (d > 0 && n > math.MaxInt64/int64(d)) {
			return 0, false
		}
		n *= int64(d)
	}
	return n, true
}

// Keys returns the tensor keys in table order (sorted), without the
// header key.
func (b *Bundle) Keys() []string { return append([]string(nil), b.keys...) }

// Entry returns the description of the tensor stored under key.
func (b *Bundle) Entry(key string) (Entry, bool) {
	e, ok := b.entries[key]
	if !ok {
		return Entry{}, false
	}
	return *e, true
}

// Close closes the data shards opened so far.
func (b *Bundle) Close() error {
	var errs []error
	for id, s := range b.shards {
		errs = append(errs, s.f.Close())
		delete(b.shards, id)
	}
	return errors.Join(errs...)
}

func (b *Bundle) shardName(id int) string {
	return fmt.Sprintf("%s.data-%05d-of-%05d", b.prefix, id, b.numShards)
}

// shownShardName is shard id's name in errors.
func (b *Bundle) shownShardName(id int) string {
	if b.display == "" {
		return b.shardName(id)
	}
	return fmt.Sprintf("%s.data-%05d-of-%05d", b.display, id, b.numShards)
}

func (b *Bundle) openShard(id int) (*shard, error) {
	if s, ok := b.shards[id]; ok {
		return s, nil
	}
	name := b.shardName(id)
	shown := b.shownShardName(id)
	f, err := b.fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("savedmodel: %s: opening bundle data shard: %w", shown, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("savedmodel: %s: %w", shown, err)
	}
	s := &shard{name: shown, f: f, size: st.Size()}
	b.shards[id] = s
	return s, nil
}

// ReadRaw returns the stored bytes of key after checking their CRC32C.
// For DT_STRING tensors the checksum covers the lengths as uint32 rather
// than their stored varints (TensorFlow's WriteStringTensor), so they are
// checked by decoding them.
func (b *Bundle) ReadRaw(key string) ([]byte, error) {
	e, ok := b.entries[key]
	if !ok {
		return nil, formatErr(b.index, key, -1, "no such tensor in the bundle")
	}
	raw, err := b.readStored(e)
	if err != nil {
		return nil, err
	}
	if e.DType == DTString {
		if _, err := b.decodeStrings(e, raw); err != nil {
			return nil, err
		}
		return raw, nil
	}
	if got := crc32.Checksum(raw, castagnoli); got != e.CRC32C {
		return nil, formatErr(b.shownShardName(e.Shard), key, e.Offset, "tensor checksum 0x%08x, index says 0x%08x", got, e.CRC32C)
	}
	return raw, nil
}

// readStored reads an entry's bytes from its shard without checking them.
func (b *Bundle) readStored(e *Entry) ([]byte, error) {
	if e.Sliced {
		return nil, unsupportedErr(b.index, e.Key, "partitioned (sliced) variable")
	}
	s, err := b.openShard(e.Shard)
	if err != nil {
		return nil, err
	}
	if e.Offset > s.size || e.Size > s.size-e.Offset {
		return nil, formatErr(s.name, e.Key, e.Offset, "tensor of %d bytes runs past the end of the %d-byte shard", e.Size, s.size)
	}
	buf := make([]byte, e.Size)
	if err := readAt(s.f, buf, e.Offset); err != nil {
		return nil, fmt.Errorf("savedmodel: %s: %s: reading %d bytes at offset %d: %w", s.name, e.Key, e.Size, e.Offset, err)
	}
	return buf, nil
}

// readAt reads len(buf) bytes at off from f, through io.ReaderAt when f
// has it (os.DirFS, embed.FS files), else by seeking.
func readAt(f fs.File, buf []byte, off int64) error {
	if ra, ok := f.(io.ReaderAt); ok {
		_, err := ra.ReadAt(buf, off)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	sk, ok := f.(io.Seeker)
	if !ok {
		return errors.New("file supports neither ReadAt nor Seek")
	}
	if _, err := sk.Seek(off, io.SeekStart); err != nil {
		return err
	}
	_, err := io.ReadFull(f, buf)
	return err
}

// ReadFloat32 returns the tensor under key as float32 values, converting
// float64, float16 and bfloat16. Shape is the stored shape.
func (b *Bundle) ReadFloat32(key string) (shape []int, data []float32, err error) {
	e, ok := b.entries[key]
	if !ok {
		return nil, nil, formatErr(b.index, key, -1, "no such tensor in the bundle")
	}
	switch e.DType {
	case DTFloat, DTDouble, DTHalf, DTBfloat16:
	default:
		return nil, nil, unsupportedErr(b.index, key, fmt.Sprintf("%s tensor where a float weight was expected", e.DType))
	}
	raw, err := b.ReadRaw(key)
	if err != nil {
		return nil, nil, err
	}
	var order binary.ByteOrder = binary.LittleEndian
	if b.bigEndian {
		order = binary.BigEndian
	}
	n := len(raw) / e.DType.elemSize()
	out := make([]float32, n)
	switch e.DType {
	case DTFloat:
		for i := range out {
			out[i] = math.Float32frombits(order.Uint32(raw[4*i:]))
		}
	case DTDouble:
		for i := range out {
			out[i] = float32(math.Float64frombits(order.Uint64(raw[8*i:])))
		}
	case DTHalf:
		for i := range out {
			out[i] = float16.ToFloat32(order.Uint16(raw[2*i:]))
		}
	case DTBfloat16:
		for i := range out {
			out[i] = math.Float32frombits(uint32(order.Uint16(raw[2*i:])) << 16)
		}
	}
	return append([]int(nil), e.Shape...), out, nil
}

// ReadStrings returns the elements of a DT_STRING tensor, checked
// against both checksums TensorFlow stores for it.
func (b *Bundle) ReadStrings(key string) ([][]byte, error) {
	e, ok := b.entries[key]
	if !ok {
		return nil, formatErr(b.index, key, -1, "no such tensor in the bundle")
	}
	if e.DType != DTString {
		return nil, formatErr(b.index, key, -1, "%s tensor, want string", e.DType)
	}
	raw, err := b.readStored(e)
	if err != nil {
		return nil, err
	}
	return b.decodeStrings(e, raw)
}

// decodeStrings splits a stored DT_STRING tensor: varint64 lengths, the
// masked CRC32C of the lengths (each fed as uint32 LE), then the bytes.
// The entry CRC32C covers the lengths as uint32, the length checksum and
// the bytes.
func (b *Bundle) decodeStrings(e *Entry, raw []byte) ([][]byte, error) {
	file := b.shownShardName(e.Shard)
	count, ok := numElements(e.Shape)
	if !ok || count > int64(len(raw)) {
		return nil, formatErr(file, e.Key, e.Offset, "string tensor of shape %v in %d bytes", e.Shape, len(raw))
	}
	lens := make([]uint64, count)
	p := 0
	var crc uint32
	for i := range lens {
		v, n := binary.Uvarint(raw[p:])
		if n <= 0 {
			return nil, formatErr(file, e.Key, e.Offset+int64(p), "bad string length varint")
		}
		lens[i] = v
		p += n
		var tmp [8]byte
		if v <= math.MaxUint32 {
			binary.LittleEndian.PutUint32(tmp[:], uint32(v))
			crc = crc32.Update(crc, castagnoli, tmp[:4])
		} else {
			binary.LittleEndian.PutUint64(tmp[:], v)
			crc = crc32.Update(crc, castagnoli, tmp[:])
		}
	}
	if len(raw)-p < 4 {
		return nil, formatErr(file, e.Key, e.Offset+int64(p), "string tensor has no length checksum")
	}
	if got, want := crc, unmaskCRC(binary.LittleEndian.Uint32(raw[p:])); got != want {
		return nil, formatErr(file, e.Key, e.Offset+int64(p), "string length checksum 0x%08x, stored 0x%08x", got, want)
	}
	crc = crc32.Update(crc, castagnoli, raw[p:p+4])
	p += 4
	out := make([][]byte, count)
	for i, n := range lens {
		if n > uint64(len(raw)-p) {
			return nil, formatErr(file, e.Key, e.Offset+int64(p), "string %d of %d bytes overruns the tensor", i, n)
		}
		out[i] = raw[p : p+int(n)]
		p += int(n)
	}
	if p != len(raw) {
		return nil, formatErr(file, e.Key, e.Offset+int64(p), "%d bytes after the last string", len(raw)-p)
	}
	crc = crc32.Update(crc, castagnoli, raw[p-sumLens(lens):p])
	if crc != e.CRC32C {
		return nil, formatErr(file, e.Key, e.Offset, "tensor checksum 0x%08x, index says 0x%08x", crc, e.CRC32C)
	}
	return out, nil
}

func sumLens(lens []uint64) int {
	n := 0
	for _, l := range lens {
		n += int(l)
	}
	return n
}
