package convert

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/h5"
)

// BenchmarkParseModelConfig parses the largest committed config seed.
func BenchmarkParseModelConfig(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(fixtureDir, "configs", "seq2seq_lstm.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseModelConfig(data, ParseOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadModel loads a golden case (Bidirectional LSTM classifier)
// in each format: config parse, HDF5 walk, weight reads and checks.
func BenchmarkReadModel(b *testing.B) {
	dir := shared(b, "goldens/sentiment_bilstm")
	if _, err := os.Stat(dir); err != nil {
		b.Skip("golden case absent")
	}
	b.Run("keras", func(b *testing.B) {
		f, err := os.Open(filepath.Join(dir, "model.keras"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		st, _ := f.Stat()
		b.SetBytes(st.Size())
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ReadKerasZip(f, st.Size(), "model.keras"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("h5", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			hf, err := h5.Open(filepath.Join(dir, "model.h5"))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ReadHDF5Model(hf); err != nil {
				b.Fatal(err)
			}
			hf.Close()
		}
	})
}

// BenchmarkReadKerasZipW4 reads the W4 workload's .keras (11 MB, the
// weights member stored): what the CRC-32 check of every member costs
// at load. Sub-benchmark "crc-only" times the check alone.
func BenchmarkReadKerasZipW4(b *testing.B) {
	p := filepath.Join(shared(b, "perf/W4_emb_bilstm_clf"), "model.keras")
	f, err := os.Open(p)
	if err != nil {
		b.Skip("W4 workload absent")
	}
	defer f.Close()
	st, _ := f.Stat()
	b.Run("load", func(b *testing.B) {
		b.SetBytes(st.Size())
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ReadKerasZip(f, st.Size(), "model.keras"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkKerasZipCRCW4 times the CRC-32 check of the W4 .keras
// members alone (open the central directory, check every member), the
// part of BenchmarkReadKerasZipW4 that the check adds.
func BenchmarkKerasZipCRCW4(b *testing.B) {
	p := filepath.Join(shared(b, "perf/W4_emb_bilstm_clf"), "model.keras")
	f, err := os.Open(p)
	if err != nil {
		b.Skip("W4 workload absent")
	}
	defer f.Close()
	st, _ := f.Stat()
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		a, err := openZip(f, st.Size(), "model.keras")
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range a.members {
			if _, _, err := a.open(m, maxZipMember); err != nil {
				b.Fatal(err)
			}
		}
	}
}
