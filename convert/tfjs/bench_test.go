package tfjs

import (
	"github.com/rnnkit/rnnkit/internal/testutil"
	"os"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
)

// BenchmarkRead reads the tfjs-layers-written real model (61: Embedding
// 4103×32, LSTM, TimeDistributed Dense 32×4103; 1.1 MB of weights).
func BenchmarkRead(b *testing.B) {
	dir := testutil.SharedDir(b, "realworld/61_tfjs_layers_written_lstm")
	fsys := os.DirFS(dir)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(fsys, "model.json", convert.ParseOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadQuantized reads the quantized fixture.
func BenchmarkReadQuantized(b *testing.B) {
	fsys := fixtureFS(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(fsys, "model.json", convert.ParseOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
