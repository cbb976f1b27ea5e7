package convert

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// committedKeras is a small golden .keras (every member stored), copied
// into the repository's testdata.
var committedKeras = filepath.Join("..", "testdata", "goldens", "lstm_seq", "model.keras")

// zipLayout locates the structures of a zip for the mutation tests.
type zipLayout struct {
	eocd, cd   int
	central    []int // offset of each central header
	local      []int
	data       []int
	names      []string
	compressed []int
}

func layoutOf(t *testing.T, b []byte) zipLayout {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var l zipLayout
	l.eocd = bytes.LastIndex(b, []byte("PK\x05\x06"))
	l.cd = int(binary.LittleEndian.Uint32(b[l.eocd+16:]))
	pos := l.cd
	for _, f := range zr.File {
		l.central = append(l.central, pos)
		n, e, c := binary.LittleEndian.Uint16(b[pos+28:]), binary.LittleEndian.Uint16(b[pos+30:]), binary.LittleEndian.Uint16(b[pos+32:])
		l.local = append(l.local, int(binary.LittleEndian.Uint32(b[pos+42:])))
		pos += 46 + int(n) + int(e) + int(c)
		off, err := f.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		l.data = append(l.data, int(off))
		l.names = append(l.names, f.Name)
		l.compressed = append(l.compressed, int(f.CompressedSize64))
	}
	return l
}

func member(l zipLayout, name string) int {
	for i, n := range l.names {
		if n == name {
			return i
		}
	}
	return -1
}

// TestKerasZipStructureErrors damages each zip structure of a committed
// golden: every error is ErrFormat, names the structure and its offset,
// and member damage (stored members too) is also ErrIntegrity.
func TestKerasZipStructureErrors(t *testing.T) {
	orig, err := os.ReadFile(committedKeras)
	if err != nil {
		t.Fatal(err)
	}
	deflated := rezip(t, committedKeras, nil, nil)
	lay, dlay := layoutOf(t, orig), layoutOf(t, deflated)
	w, c := member(lay, "model.weights.h5"), member(lay, "config.json")
	dw := member(dlay, "model.weights.h5")
	mut := func(src []byte, f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), src...))
	}
	flip := func(off int) func([]byte) []byte {
		return func(b []byte) []byte { b[off] ^= 0x10; return b }
	}
	put32 := func(off int, v uint32) func([]byte) []byte {
		return func(b []byte) []byte { binary.LittleEndian.PutUint32(b[off:], v); return b }
	}
	for _, tc := range []struct {
		name      string
		data      []byte
		want      []string
		integrity bool
	}{
		{"truncated", orig[:len(orig)-30], []string{"zip: end of central directory", "no end of central directory record"}, false},
		{"empty", nil, []string{"zip: end of central directory", "too short"}, false},
		{"cd offset", mut(orig, put32(lay.eocd+16, uint32(len(orig)))), []string{"zip: end of central directory", "does not fit", "(offset 0x"}, false},
		{"entries", mut(orig, func(b []byte) []byte { binary.LittleEndian.PutUint16(b[lay.eocd+10:], 9000); return b }),
			[]string{"zip: end of central directory", "9000 entries cannot fit"}, false},
		{"central sig", mut(orig, flip(lay.central[1])), []string{"zip: central header 1:", "bad signature", "(offset 0x"}, false},
		{"local offset", mut(orig, put32(lay.central[w]+42, uint32(len(orig)))), []string{`zip: central header 2 ("model.weights.h5")`, "local header offset"}, false},
		{"local sig", mut(orig, flip(lay.local[w])), []string{`zip: local header of member 2 ("model.weights.h5")`, "bad signature"}, false},
		{"local name", mut(orig, flip(lay.local[c]+30)), []string{`zip: local header of member 1 ("config.json")`, "differs from the central header"}, false},
		{"stored weights data", mut(orig, flip(lay.data[w]+lay.compressed[w]/2)), []string{`zip: data of member 2 ("model.weights.h5")`, "CRC-32", "damaged"}, true},
		{"stored weights last byte", mut(orig, flip(lay.data[w]+lay.compressed[w]-1)), []string{`data of member 2`, "CRC-32"}, true},
		{"stored config data", mut(orig, flip(lay.data[c]+100)), []string{`zip: data of member 1 ("config.json")`, "CRC-32"}, true},
		{"crc field", mut(orig, flip(lay.central[w]+16)), []string{`data of member 2`, "CRC-32"}, true},
		{"deflated weights data", mut(deflated, flip(dlay.data[dw]+dlay.compressed[dw]/2)), []string{`zip: data of member 2 ("model.weights.h5")`}, false},
		{"deflated size", mut(deflated, put32(dlay.central[dw]+24, 1<<31)), []string{`zip: central header 2 ("model.weights.h5")`, "more than deflate can expand"}, false},
		{"deflated size small", mut(deflated, put32(dlay.central[dw]+24, 1000)), []string{`zip: data of member 2`, "inflates to more than 1000 bytes"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadKerasZip(bytes.NewReader(tc.data), int64(len(tc.data)), "bad.keras")
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("got %v, want ErrFormat", err)
			}
			if errors.Is(err, ErrIntegrity) != tc.integrity {
				t.Errorf("errors.Is(err, ErrIntegrity) = %v, want %v: %v", !tc.integrity, tc.integrity, err)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.File != "bad.keras" {
				t.Errorf("errors.As *Error: %#v", ce)
			}
			for _, s := range append(tc.want, "bad.keras") {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%v: want %q in it", err, s)
				}
			}
		})
	}
}

// TestKerasZipStoredEqualsDeflated: the same archive, stored and
// deflated, gives the same weights.
func TestKerasZipStoredEqualsDeflated(t *testing.T) {
	orig, err := os.ReadFile(committedKeras)
	if err != nil {
		t.Fatal(err)
	}
	deflated := rezip(t, committedKeras, nil, nil)
	a, err := ReadKerasZip(bytes.NewReader(orig), int64(len(orig)), "a.keras")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadKerasZip(bytes.NewReader(deflated), int64(len(deflated)), "b.keras")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(weightData(collectWeights(a.Graph)), weightData(collectWeights(b.Graph))) {
		t.Error("weights differ")
	}
}

// TestKerasZipEveryByteFlip flips one bit in every byte of the committed
// golden's zip structures and config (the HDF5 body is sampled): each
// mutant fails or loads the same weights; none loads other weights.
func TestKerasZipEveryByteFlip(t *testing.T) {
	orig, err := os.ReadFile(committedKeras)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadKerasZip(bytes.NewReader(orig), int64(len(orig)), "a.keras")
	if err != nil {
		t.Fatal(err)
	}
	wantW := weightData(collectWeights(want.Graph))
	step := 1
	if testing.Short() {
		step = 7
	}
	b := append([]byte(nil), orig...)
	for off := 0; off < len(b); off += step {
		b[off] ^= 0x04
		m, err := ReadKerasZip(bytes.NewReader(b), int64(len(b)), "m.keras")
		if err == nil && !reflect.DeepEqual(weightData(collectWeights(m.Graph)), wantW) {
			t.Errorf("flip at 0x%x: loaded other weights silently", off)
		}
		b[off] ^= 0x04
	}
}

// TestKerasZipInflateLimit: a deflated member larger than
// Limits.Inflated fails with ErrLimit before it is inflated.
func TestKerasZipInflateLimit(t *testing.T) {
	deflated := rezip(t, committedKeras, nil, nil)
	_, err := ReadKerasZip(bytes.NewReader(deflated), int64(len(deflated)), "d.keras", ParseOptions{Limits: Limits{Inflated: 1000}})
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "exceeds the limit of 1000 (Limits.Inflated)") {
		t.Errorf("got %v", err)
	}
	if _, err := ReadKerasZip(bytes.NewReader(deflated), int64(len(deflated)), "d.keras", ParseOptions{Limits: Limits{Inflated: -1}}); err != nil {
		t.Errorf("no limit: %v", err)
	}
	if got := inflateLimit(Limits{}, 1<<20); got != 4<<20+256<<20 {
		t.Errorf("default limit for 1 MiB: %d", got)
	}
}
