package h5

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen opens arbitrary bytes as HDF5 and walks and reads everything: it
// must never panic, hang or allocate without bound. Seeds: the fixtures
// of testdata/h5 up to 8 KiB plus a small file from the test writer.
func FuzzOpen(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join(fixtureDir, "*.h5"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		// Large inputs make the fuzzer crawl (mutation and minimization
		// are per byte); the seed_* files cover the same structures small.
		if len(b) <= 8<<10 {
			f.Add(b)
		}
	}
	f.Add(buildTestFile([]*testDataset{{name: "c", data: weightsLike(40)}, {name: "z", data: weightsLike(50), chunk: 7, level: 1}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := OpenReaderAt(bytes.NewReader(data), int64(len(data)), "fuzz.h5")
		if err != nil {
			return
		}
		file.SetDataLimit(4 << 20)
		walkOpt(file, true)
	})
}
