package savedmodel

import (
	"github.com/rnnkit/rnnkit/internal/testutil"
	"os"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
)

// BenchmarkRead reads the largest real SavedModel (43: LSTM 400→100 and
// Dense, 2.4 MB of variables with Adam slots) end to end: metadata,
// config, index, object graph and every layer variable with its CRC.
func BenchmarkRead(b *testing.B) {
	dir := testutil.SharedDir(b, "realworld/43_sm_tf28_lstm_fakenews/lstm_model")
	fsys := os.DirFS(dir)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(fsys, ".", convert.ParseOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenBundle parses the fixture index (table, header, entries).
func BenchmarkOpenBundle(b *testing.B) {
	index, data := fixtureBundle(256)
	fsys := fixtureFS(func(f map[string][]byte) { f[indexFile], f[dataFile] = index, data })
	b.SetBytes(int64(len(index)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := OpenBundle(fsys, "variables/variables"); err != nil {
			b.Fatal(err)
		}
	}
}
