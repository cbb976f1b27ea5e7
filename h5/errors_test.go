package h5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openBytes(b []byte, name string) (*File, error) {
	return OpenReaderAt(bytes.NewReader(b), int64(len(b)), name)
}

// patch returns a copy of b with the bytes at off replaced.
func patch(b []byte, off int, with ...byte) []byte {
	c := append([]byte(nil), b...)
	copy(c[off:], with)
	return c
}

// index finds the n-th occurrence (0-based) of sub in b, failing the test
// when there is none.
func index(t *testing.T, b []byte, sub string, n int) int {
	t.Helper()
	off := 0
	for i := 0; ; i++ {
		j := bytes.Index(b[off:], []byte(sub))
		if j < 0 {
			t.Fatalf("%q occurrence %d not found", sub, n)
		}
		if i == n {
			return off + j
		}
		off += j + 1
	}
}

// TestBadInput: each broken file gives an error of the right kind that names
// the object path and the structure.
func TestBadInput(t *testing.T) {
	early := fixture(t, "basic_earliest.h5")
	late := fixture(t, "basic_latest.h5")
	chunked := fixture(t, "chunked_latest.h5")
	chunkedEarly := fixture(t, "chunked_earliest.h5")
	groups := fixture(t, "groups_earliest.h5")
	cases := []struct {
		name string
		data func(t *testing.T) []byte
		want error
		msgs []string // substrings of the error text
	}{
		{"empty", func(*testing.T) []byte { return nil }, ErrFormat, []string{"signature not found"}},
		{"not hdf5", func(*testing.T) []byte { return []byte(strings.Repeat("PK\x03\x04 zip?", 100)) }, ErrFormat, []string{"superblock"}},
		{"truncated superblock", func(*testing.T) []byte { return early[:40] }, ErrFormat, []string{"superblock", "truncated"}},
		{"superblock version 9", func(*testing.T) []byte { return patch(early, 8, 9) }, ErrUnsupported, []string{"superblock version 9"}},
		{"offset size 16", func(*testing.T) []byte { return patch(early, 13, 16) }, ErrFormat, []string{"size of offsets 16"}},
		{"superblock checksum", func(*testing.T) []byte { return patch(late, 20, late[20]^0xff) }, ErrFormat, []string{"superblock", "checksum mismatch"}},
		{"truncated file", func(*testing.T) []byte { return early[:len(early)/3] }, ErrFormat, []string{"past the end of the file"}},
		{"object header checksum", func(t *testing.T) []byte {
			i := index(t, late, "OHDR", 1)
			return patch(late, i+8, late[i+8]^0x55)
		}, ErrFormat, []string{"object header", "checksum mismatch"}},
		{"symbol node count", func(t *testing.T) []byte {
			i := index(t, early, "SNOD", 0)
			return patch(early, i+6, 0xff, 0xff)
		}, ErrFormat, []string{"symbol table node", "past the end"}},
		{"B-tree node type", func(t *testing.T) []byte {
			i := index(t, early, "TREE", 0)
			return patch(early, i+4, 7)
		}, ErrFormat, []string{"v1 B-tree", "node type 7"}},
		{"B-tree cycle", func(t *testing.T) []byte {
			// The root node of /many claims level 1 and has itself as first child.
			i := index(t, groups, "TREE", 1)
			self := make([]byte, 8)
			binary.LittleEndian.PutUint64(self, uint64(i))
			b := patch(groups, i+5, 1)
			return patch(b, i+8+16+8, self...)
		}, ErrFormat, []string{"v1 B-tree", "visited twice"}},
		{"symbol node twice", func(t *testing.T) []byte {
			// Second child of a group B-tree leaf = its first child.
			for n := 0; ; n++ {
				i := index(t, groups, "TREE", n)
				if binary.LittleEndian.Uint16(groups[i+6:]) >= 2 {
					first := groups[i+8+16+8 : i+8+16+16]
					return patch(groups, i+8+16+8+8+8, first...)
				}
			}
		}, ErrFormat, []string{"symbol table node", "visited twice"}},
		{"unknown filter", func(t *testing.T) []byte {
			// Version 1 headers and pipelines: no checksum covers the id.
			i := index(t, chunkedEarly, "lzf\x00", 0)
			if binary.LittleEndian.Uint16(chunkedEarly[i-8:]) != 32000 {
				t.Fatal("lzf filter id not where expected")
			}
			return patch(chunkedEarly, i-8, 0x01, 0x7d) // 32001 (blosc)
		}, ErrUnsupported, []string{"/lzf", "filter 32001 (blosc)"}},
		{"fractal heap checksum", func(t *testing.T) []byte {
			g := fixture(t, "groups_latest.h5")
			i := index(t, g, "FRHP", 0)
			return patch(g, i+10, g[i+10]^1)
		}, ErrFormat, []string{"fractal heap header", "checksum mismatch"}},
		{"fixed array checksum", func(t *testing.T) []byte {
			i := index(t, chunked, "FADB", 0)
			return patch(chunked, i+14, chunked[i+14]^1) // first entry
		}, ErrFormat, []string{"fixed array data block", "checksum mismatch"}},
		{"extensible array checksum", func(t *testing.T) []byte {
			i := index(t, chunked, "EAHD", 0)
			return patch(chunked, i+6, chunked[i+6]^1)
		}, ErrFormat, []string{"extensible array header", "checksum mismatch"}},
		{"v2 B-tree checksum", func(t *testing.T) []byte {
			i := index(t, chunked, "BTHD", 0)
			return patch(chunked, i+6, chunked[i+6]^1)
		}, ErrFormat, []string{"v2 B-tree header", "checksum mismatch"}},
		{"global heap signature", func(t *testing.T) []byte {
			i := index(t, early, "GCOL", 0)
			return patch(early, i, 'X')
		}, ErrFormat, []string{"global heap", "bad signature"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.data(t)
			f, err := openBytes(data, "bad.h5")
			if err == nil {
				_, err = walkOpt(f, true)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v does not match %v", err, tc.want)
			}
			for _, m := range tc.msgs {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q lacks %q", err, m)
				}
			}
			if !strings.HasPrefix(err.Error(), "h5: bad.h5: ") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestFletcherMismatch(t *testing.T) {
	b := fixture(t, "chunked_earliest.h5")
	f, err := openBytes(b, "x.h5")
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.Root().Dataset("shuffle_gzip_fletcher")
	if err != nil {
		t.Fatal(err)
	}
	// Corrupt the stored checksum of the first chunk (its last 4 bytes).
	var first chunkEntry
	err = f.walkBTree1(d.layout.addr, 1, d.Path(), map[uint64]bool{}, maxDepth, 2, func(child uint64, key []byte) error {
		if first.addr == 0 {
			first = chunkEntry{addr: child, size: uint64(binary.LittleEndian.Uint32(key))}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	end := int(first.addr + first.size)
	bad := patch(b, end-1, b[end-1]^0xff)
	f2, _ := openBytes(bad, "x.h5")
	d2, err := f2.Root().Dataset("shuffle_gzip_fletcher")
	if err != nil {
		t.Fatal(err)
	}
	_, err = d2.ReadFloat32()
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "fletcher32 filter: checksum mismatch") ||
		!strings.Contains(err.Error(), "/shuffle_gzip_fletcher") {
		t.Errorf("got %v", err)
	}
}

func TestDataLimit(t *testing.T) {
	f, err := openBytes(fixture(t, "chunked_latest.h5"), "x.h5")
	if err != nil {
		t.Fatal(err)
	}
	f.SetDataLimit(100)
	d, err := f.Root().Dataset("plain")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadFloat32(); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "exceed the limit") {
		t.Errorf("got %v", err)
	}
	// 37x23 float32 (3404 bytes) fits, but its 25 chunks of 8x5 decode to
	// 4000 bytes: the decoding budget is the limit too.
	f.SetDataLimit(3500)
	if _, err := d.ReadFloat32(); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "chunks decode to more than the limit") {
		t.Errorf("got %v", err)
	}
	f.SetDataLimit(4000)
	if _, err := d.ReadFloat32(); err != nil {
		t.Error(err)
	}
}

func TestNotFoundAndKinds(t *testing.T) {
	f, err := Open(filepath.Join(fixtureDir, "basic_earliest.h5"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	root := f.Root()
	if _, err := root.Group("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Group(nope): %v", err)
	}
	if _, err := root.Dataset("data/nope"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "/data/nope") {
		t.Errorf("Dataset(data/nope): %v", err)
	}
	if _, err := root.Attr("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Attr(nope): %v", err)
	}
	if _, err := root.Group("data/dle_f4"); err == nil || !strings.Contains(err.Error(), "want a group") {
		t.Errorf("Group on a dataset: %v", err)
	}
	if _, err := root.Dataset("data"); err == nil || !strings.Contains(err.Error(), "want a dataset") {
		t.Errorf("Dataset on a group: %v", err)
	}
	if k, err := root.Kind("data/dle_f4"); err != nil || k != KindDataset {
		t.Errorf("Kind = %v, %v", k, err)
	}
	g, err := root.Group("data")
	if err != nil {
		t.Fatal(err)
	}
	if k, err := g.Kind("/a/b"); err != nil || k != KindGroup {
		t.Errorf("Kind(/a/b) = %v, %v", k, err)
	}
	// Soft links resolve, relative and absolute paths agree.
	d1, err := root.Dataset("links/soft/x")
	if err != nil {
		t.Fatal(err)
	}
	d2, err := g.Dataset("/links/target/x")
	if err != nil || d1.Addr() != d2.Addr() {
		t.Errorf("soft link: %v, %v", d2, err)
	}
	lf, err := Open(filepath.Join(fixtureDir, "softlinks.h5"))
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	for _, n := range []string{"dangling", "loop", "g"} {
		if _, err := lf.Root().Kind(n); !errors.Is(err, ErrNotFound) {
			t.Errorf("Kind(%s): %v", n, err)
		}
	}
	if d, err := lf.Root().Dataset("good"); err != nil || d.Path() != "/good" {
		t.Errorf("Dataset(good): %v", err)
	}
	// Conversions that cannot work say so.
	sd, _ := root.Dataset("data/vlen_strings")
	if _, err := sd.ReadFloat32(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ReadFloat32 on strings: %v", err)
	}
	fd, _ := root.Dataset("data/dle_f4")
	if err := fd.ReadFloat32Into(make([]float32, fd.Len()+1)); !errors.Is(err, ErrFormat) {
		t.Errorf("ReadFloat32Into with a wrong length: %v", err)
	}
	if _, err := fd.ReadInt64(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ReadInt64 on floats: %v", err)
	}
	if _, err := fd.ReadStrings(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ReadStrings on floats: %v", err)
	}
	a, err := root.Attr("keras_version")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := a.String(); err != nil || s != "2.15.0" {
		t.Errorf("keras_version = %q, %v", s, err)
	}
}

func TestOpenFS(t *testing.T) {
	b := fixture(t, "basic_latest.h5")
	// MapFS files do not implement io.ReaderAt: read into memory.
	fsys := fstest.MapFS{"m.h5": {Data: b}}
	f, err := OpenFS(fsys, "m.h5")
	if err != nil {
		t.Fatal(err)
	}
	if f.Name() != "m.h5" {
		t.Errorf("Name = %q", f.Name())
	}
	if _, err := walkAll(f); err != nil {
		t.Error(err)
	}
	f.Close()
	// os.DirFS files do: read in place.
	f, err = OpenFS(os.DirFS(fixtureDir), "basic_latest.h5")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := walkAll(f); err != nil {
		t.Error(err)
	}
	if _, err := OpenFS(fsys, "missing.h5"); err == nil {
		t.Error("missing file opened")
	}
}

// TestSuperblockV1 rewrites a version 0 superblock as version 1 (4 more
// bytes: the indexed storage K), moving the root object header to the end
// of the file; h5py cannot write version 1.
func TestSuperblockV1(t *testing.T) {
	b := fixture(t, "basic_earliest.h5")
	rootAddr := binary.LittleEndian.Uint64(b[56+8:])
	hdrSize := uint64(binary.LittleEndian.Uint32(b[rootAddr+8:]))
	hdr := b[rootAddr : rootAddr+16+hdrSize]
	out := append([]byte(nil), b...)
	for len(out)%8 != 0 {
		out = append(out, 0)
	}
	newRoot := uint64(len(out))
	out = append(out, hdr...)
	sb := make([]byte, 0, 100)
	sb = append(sb, b[:8]...)
	sb = append(sb, 1)           // version 1
	sb = append(sb, b[9:24]...)  // versions, sizes, K values, flags
	sb = append(sb, 32, 0, 0, 0) // indexed storage K, reserved
	sb = append(sb, b[24:56]...) // base, free space, EOF, driver addresses
	ste := append([]byte(nil), b[56:96]...)
	binary.LittleEndian.PutUint64(ste[8:], newRoot)
	sb = append(sb, ste...)
	copy(out, sb)
	f, err := openBytes(out, "v1.h5")
	if err != nil {
		t.Fatal(err)
	}
	if f.SuperblockVersion() != 1 {
		t.Errorf("version %d", f.SuperblockVersion())
	}
	n, err := walkAll(f)
	if err != nil || n < 10 {
		t.Errorf("walk: %d objects, %v", n, err)
	}
}

func TestChecksums(t *testing.T) {
	// Reference values of lookup3 hashlittle(…, 0) from Bob Jenkins' driver
	// (hashlittle("", 0, 0) = 0xdeadbeef; "Four score and seven years ago"
	// = 0x17770551).
	if got := lookup3(nil); got != 0xdeadbeef {
		t.Errorf("lookup3(\"\") = %#x", got)
	}
	if got := lookup3([]byte("Four score and seven years ago")); got != 0x17770551 {
		t.Errorf("lookup3(four score) = %#x", got)
	}
	// Fletcher-32 of "abcde" as 16-bit big-endian words: a reference loop.
	data := []byte("abcdefgh\x01")
	var s1, s2 uint32
	for i := 0; i+1 < len(data); i += 2 {
		s1 = (s1 + uint32(data[i])<<8 + uint32(data[i+1])) % 65535
		s2 = (s2 + s1) % 65535
	}
	s1 = (s1 + uint32(data[len(data)-1])<<8) % 65535
	s2 = (s2 + s1) % 65535
	if got := fletcher32(data); got != s2<<16|s1 {
		t.Errorf("fletcher32 = %#x, want %#x", got, s2<<16|s1)
	}
}
