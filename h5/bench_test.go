package h5

import (
	"bytes"
	"compress/zlib"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const benchFloats = 16 << 20 // 64 MiB of float32

// weightsLike returns n float32 values shaped like trained weights (normal,
// small), which deflate compresses only a little, as in real files.
func weightsLike(n int) []float32 {
	r := rand.New(rand.NewSource(1))
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * 0.05)
	}
	return v
}

func TestTestWriterRoundTrip(t *testing.T) {
	data := weightsLike(10007)
	sets := []*testDataset{{name: "c", data: data}, {name: "z", data: data, chunk: 1000, level: 4}, {name: "p", data: data, chunk: 333}}
	b := buildTestFile(sets)
	f, err := openBytes(b, "w.h5")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sets {
		d, err := f.Root().Dataset(s.name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.ReadFloat32()
		if err != nil {
			t.Fatal(err)
		}
		for i := range data {
			if got[i] != data[i] {
				t.Fatalf("%s[%d] = %v, want %v", s.name, i, got[i], data[i])
			}
		}
	}
}

func benchFile(b *testing.B, sets []*testDataset) *File {
	path := filepath.Join(b.TempDir(), "bench.h5")
	if err := os.WriteFile(path, buildTestFile(sets), 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}

// benchRead times reading ds (benchFloats values) from a file: into a
// fresh slice, or with into a reused buffer.
func benchRead(b *testing.B, ds *testDataset, into bool) {
	f := benchFile(b, []*testDataset{ds})
	d, err := f.Root().Dataset(ds.name)
	if err != nil {
		b.Fatal(err)
	}
	var dst []float32
	if into {
		dst = make([]float32, d.Len())
	}
	b.SetBytes(4 * benchFloats)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if into {
			if err := d.ReadFloat32Into(dst); err != nil || dst[12345] != ds.data[12345] {
				b.Fatal(err)
			}
			continue
		}
		v, err := d.ReadFloat32()
		if err != nil || len(v) != benchFloats || v[12345] != ds.data[12345] {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadContiguous reads a 64 MiB contiguous float32 dataset from a
// file (in the page cache after the first run).
func BenchmarkReadContiguous(b *testing.B) {
	benchRead(b, &testDataset{name: "x", data: weightsLike(benchFloats)}, false)
}

// BenchmarkReadContiguousInto is BenchmarkReadContiguous into a reused
// buffer: no fresh 64 MiB to page in and zero each time.
func BenchmarkReadContiguousInto(b *testing.B) {
	benchRead(b, &testDataset{name: "x", data: weightsLike(benchFloats)}, true)
}

// BenchmarkReadAtAlone reads the same 64 MiB with one os.File.ReadAt into
// a reused buffer: the floor for BenchmarkReadContiguous.
func BenchmarkReadAtAlone(b *testing.B) {
	data := weightsLike(benchFloats)
	path := filepath.Join(b.TempDir(), "raw.h5")
	if err := os.WriteFile(path, buildTestFile([]*testDataset{{name: "x", data: data}}), 0o644); err != nil {
		b.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer fh.Close()
	buf := make([]byte, 4*benchFloats)
	b.SetBytes(4 * benchFloats)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := fh.ReadAt(buf, 48); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadGzipChunked reads 64 MiB of float32 stored in 1 MiB deflated
// chunks; compare with BenchmarkFlateAlone, the decompression cost alone.
func BenchmarkReadGzipChunked(b *testing.B) {
	benchRead(b, &testDataset{name: "z", data: weightsLike(benchFloats), chunk: 1 << 18, level: 4}, false)
}

// BenchmarkReadGzipChunkedInto is BenchmarkReadGzipChunked into a reused
// buffer, like BenchmarkFlateAlone.
func BenchmarkReadGzipChunkedInto(b *testing.B) {
	benchRead(b, &testDataset{name: "z", data: weightsLike(benchFloats), chunk: 1 << 18, level: 4}, true)
}

// inflateChunks inflates each zlib chunk into out with compress/zlib.
func inflateChunks(b *testing.B, chunks [][]byte, out []byte) {
	for _, c := range chunks {
		zr, err := zlib.NewReader(bytes.NewReader(c))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(zr, out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFlateAlone inflates the same chunks with compress/zlib into one
// reused buffer: the floor for BenchmarkReadGzipChunked.
func BenchmarkFlateAlone(b *testing.B) {
	data := weightsLike(benchFloats)
	set := &testDataset{name: "z", data: data, chunk: 1 << 18, level: 4}
	buildTestFile([]*testDataset{set})
	out := make([]byte, 4<<18)
	b.SetBytes(4 * benchFloats)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		inflateChunks(b, set.chunks, out)
	}
}

// BenchmarkGzipOverFlate interleaves one flate-only pass and one
// ReadFloat32Into of the same chunks per iteration and reports the time
// ratio ("x-flate"), which stays meaningful on a machine whose load changes
// between separate benchmarks.
func BenchmarkGzipOverFlate(b *testing.B) {
	data := weightsLike(benchFloats)
	set := &testDataset{name: "z", data: data, chunk: 1 << 18, level: 4}
	f := benchFile(b, []*testDataset{set})
	d, err := f.Root().Dataset("z")
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float32, d.Len())
	out := make([]byte, 4<<18)
	var flate, read time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		inflateChunks(b, set.chunks, out)
		t1 := time.Now()
		if err := d.ReadFloat32Into(dst); err != nil {
			b.Fatal(err)
		}
		flate += t1.Sub(t0)
		read += time.Since(t1)
	}
	b.ReportMetric(float64(read)/float64(flate), "x-flate")
}
