package savedmodel

import (
	"bytes"
	"errors"
	"io/fs"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/internal/testutil"
)

// fixtureFS returns the tf28 fixture as an in-memory file system rooted
// at the SavedModel directory, after edit changes it.
func fixtureFS(edit func(files map[string][]byte)) fstest.MapFS {
	files := map[string][]byte{}
	for name, data := range fixtureFiles() {
		if rest, ok := strings.CutPrefix(name, "lstm_dense_tf28/"); ok {
			files[rest] = append([]byte(nil), data...)
		}
	}
	if edit != nil {
		edit(files)
	}
	return testutil.MapFS(files)
}

const (
	indexFile = "variables/variables.index"
	dataFile  = "variables/variables.data-00000-of-00001"
	metaFile  = "keras_metadata.pb"
)

// withObjects replaces the bundle's object graph.
func withObjects(files map[string][]byte, objs []objNodeSpec) {
	w := newBundleWriter()
	w.addFixtureWeights()
	w.addString(objectGraphKey, trackableGraphProto(objs))
	files[indexFile] = w.index(256)
	files[dataFile] = w.data
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(files map[string][]byte)
		kind error
		msg  string
	}{
		{"truncated index", func(f map[string][]byte) { f[indexFile] = f[indexFile][:10] }, convert.ErrFormat, "shorter than the 48-byte table footer"},
		{"bad magic", func(f map[string][]byte) { f[indexFile][len(f[indexFile])-1] ^= 0xff }, convert.ErrFormat, "bad table magic"},
		{"corrupt block", func(f map[string][]byte) { f[indexFile][3] ^= 0x01 }, convert.ErrFormat, "block checksum"},
		{"snappy block", func(f map[string][]byte) {
			idx, data := fixtureBundleCompressed()
			f[indexFile], f[dataFile] = idx, data
		}, convert.ErrUnsupported, "snappy"},
		{"truncated shard", func(f map[string][]byte) { f[dataFile] = f[dataFile][:100] }, convert.ErrFormat, "runs past the end"},
		{"corrupt tensor", func(f map[string][]byte) { f[dataFile][5] ^= 0x10 }, convert.ErrFormat, "tensor checksum"},
		{"missing shard", func(f map[string][]byte) { delete(f, dataFile) }, fs.ErrNotExist, "variables.data-00000-of-00001"},
		{"size mismatch", func(f map[string][]byte) {
			w := newBundleWriter()
			w.addRaw("x", DTFloat, []int{2, 3}, make([]byte, 20), 0)
			f[indexFile] = w.index(256)
		}, convert.ErrFormat, "float32 tensor of shape [2 3] stored in 20 bytes"},
		{"no variables list", func(f map[string][]byte) {
			objs := fixtureObjects()
			objs[1].children = objs[1].children[:1]
			withObjects(f, objs)
		}, convert.ErrFormat, "object has no variables list"},
		{"edge out of range", func(f map[string][]byte) {
			objs := fixtureObjects()
			objs[2].children = append(objs[2].children, objRef{99, "x"})
			withObjects(f, objs)
		}, convert.ErrFormat, "points at node 99"},
		{"layer not in object graph", func(f map[string][]byte) {
			objs := fixtureObjects()
			objs[0].children = objs[0].children[1:]
			withObjects(f, objs)
		}, convert.ErrFormat, "root.layer_with_weights-0: layer \"lstm\": path not found"},
		{"no keras metadata", func(f map[string][]byte) { delete(f, metaFile) }, convert.ErrUnsupported, "not a Keras model: the SavedModel holds no Keras metadata"},
		{"no variables folder", func(f map[string][]byte) { delete(f, indexFile); delete(f, dataFile) }, convert.ErrWeights, "the variables/ folder is missing"},
		{"crlf metadata", func(f map[string][]byte) {
			f[metaFile] = bytes.ReplaceAll(f[metaFile], []byte("\n"), []byte("\r\n"))
		}, convert.ErrFormat, "keras_metadata.pb: damaged by a line-ending conversion"},
		{"bad metadata path", func(f map[string][]byte) {
			f[metaFile] = kerasMetadataProto([]metadataNodeSpec{{0, "model", "_tf_keras_sequential", fixtureRootMetadata("2.8.0")}})
		}, convert.ErrFormat, "does not start at root"},
		{"metadata not json", func(f map[string][]byte) {
			f[metaFile] = kerasMetadataProto([]metadataNodeSpec{{0, "root", "_tf_keras_sequential", "{oops"}})
		}, convert.ErrFormat, "root: metadata: invalid JSON at byte 1 (line 1, column 2): invalid character 'o'"},
		{"layer missing from metadata", func(f map[string][]byte) {
			f[metaFile] = kerasMetadataProto([]metadataNodeSpec{{0, "root", "_tf_keras_sequential", fixtureRootMetadata("2.8.0")}})
		}, convert.ErrFormat, "no Keras object for layer \"lstm\" (LSTM)"},
		{"bad protobuf", func(f map[string][]byte) { f[metaFile] = []byte{0x0a, 0xff} }, convert.ErrFormat, "keras_metadata.pb"},
		{"wrong weight shape", func(f map[string][]byte) {
			w := newBundleWriter()
			for i, fw := range fixtureWeights {
				shape := fw.shape
				if i == 0 {
					shape = []int{2, 6} // LSTM(2) needs 4*2 kernel columns
				}
				n := 1
				for _, d := range shape {
					n *= d
				}
				w.addFloat32(fw.key, shape, fixtureValues(i, n))
			}
			w.addString(objectGraphKey, trackableGraphProto(fixtureObjects()))
			f[indexFile], f[dataFile] = w.index(256), w.data
		}, convert.ErrWeights, "lstm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(fixtureFS(tc.edit), ".", convert.ParseOptions{File: "model_dir"})
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %v containing %q", err, tc.kind, tc.msg)
			}
			// Every error names the SavedModel directory.
			if !strings.Contains(err.Error(), "model_dir") {
				t.Errorf("%v: does not name the SavedModel directory model_dir", err)
			}
		})
	}
}

// fixtureBundleCompressed is the fixture bundle with data blocks marked
// snappy-compressed (checksums valid).
func fixtureBundleCompressed() (index, data []byte) {
	w := newBundleWriter()
	w.addFixtureWeights()
	return w.indexWith(256, snappyCompress), w.data
}

func TestErrorsNameFile(t *testing.T) {
	_, err := Read(fixtureFS(func(f map[string][]byte) { f[dataFile][5] ^= 0x10 }), ".", convert.ParseOptions{})
	if err == nil || !strings.Contains(err.Error(), path.Base(dataFile)) || !strings.Contains(err.Error(), fixtureWeights[0].key) {
		t.Fatalf("error %v does not name the shard and the key", err)
	}
}

// FuzzBundle feeds arbitrary index bytes to the table and bundle readers
// and reads every tensor they list from the fixture shard: errors are
// fine, panics and hangs are not.
func FuzzBundle(f *testing.F) {
	index, data := fixtureBundle(256)
	f.Add(index)
	f.Add(fixtureFiles()["lstm_dense_tf28/variables/variables.index"])
	idx, _ := fixtureBundleCompressed()
	f.Add(idx)
	f.Add(index[len(index)-footerLen:])
	f.Fuzz(func(t *testing.T, b []byte) {
		fsys := fstest.MapFS{dataFile: &fstest.MapFile{Data: data}}
		bundle, err := parseBundle(fsys, "variables/variables", indexFile, b)
		if err != nil {
			return
		}
		defer bundle.Close()
		readAll(bundle)
	})
}

// readAll reads every tensor of b in every way, and the object graph from
// any string tensor; the fuzzers only look for panics and hangs.
func readAll(b *Bundle) {
	for _, k := range b.Keys() {
		b.ReadRaw(k)
		b.ReadFloat32(k)
		if s, err := b.ReadStrings(k); err == nil && len(s) == 1 {
			parseTrackableGraph(s[0], indexFile)
		}
	}
}

// FuzzBlock feeds arbitrary data-block contents, sealed into a table with
// valid checksums, to the bundle reader, and reads every listed tensor
// from a shard made of the fixture's data.
func FuzzBlock(f *testing.F) {
	_, data := fixtureBundle(256)
	f.Add(fixtureDataBlock())
	f.Fuzz(func(t *testing.T, blk []byte) {
		fsys := fstest.MapFS{dataFile: &fstest.MapFile{Data: data}}
		bundle, err := parseBundle(fsys, "variables/variables", indexFile, sealTable(blk))
		if err != nil {
			return
		}
		defer bundle.Close()
		readAll(bundle)
	})
}

// FuzzMetadata feeds arbitrary bytes to the keras_metadata.pb,
// saved_model.pb and object-graph decoders.
func FuzzMetadata(f *testing.F) {
	files := fixtureFiles()
	f.Add(files["lstm_dense_tf28/keras_metadata.pb"])
	f.Add(files["lstm_dense_tf24/saved_model.pb"])
	f.Add(trackableGraphProto(fixtureObjects()))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseKerasMetadata(b, metaFile)
		if nodes, err := parseSavedModelKeras(b, "saved_model.pb"); err == nil {
			for _, n := range nodes {
				n.edges()
				n.parent()
			}
		}
		if g, err := parseTrackableGraph(b, indexFile); err == nil {
			paths := g.bfsPaths(maxKerasDepth)
			for id := range g.nodes {
				paths(id)
			}
			g.follow(0, []string{"layer_with_weights-0", "cell", "kernel"})
		}
	})
}
