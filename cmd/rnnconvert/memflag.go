package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/rnnkit/rnnkit/keras"
)

// byteSize is a flag.Value for a memory size: a number of bytes with an
// optional unit, decimal (KB, MB, GB, TB) or binary (KiB, MiB, GiB, TiB),
// as in 512MiB, 2GB, 1.5GiB or 1073741824; "none" means no bound.
type byteSize struct {
	n   int64
	set bool
}

func (b *byteSize) String() string {
	switch {
	case b == nil || !b.set:
		return ""
	case b.n < 0:
		return "none"
	}
	return strconv.FormatInt(b.n, 10)
}

func (b *byteSize) Set(s string) error {
	n, err := parseByteSize(s)
	if err != nil {
		return err
	}
	b.n, b.set = n, true
	return nil
}

var byteUnits = []struct {
	suffix string
	mult   float64
}{
	// Longest first, so that "MiB" is not read as "B".
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// parseByteSize reads a size as byteSize takes it; "none" is -1.
func parseByteSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "none" {
		return -1, nil
	}
	mult := 1.0
	for _, u := range byteUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || !(f*mult >= 1 && f*mult < math.MaxInt64) {
		return 0, fmt.Errorf("want a positive size in bytes with an optional unit (512MiB, 2GB, 1073741824) or none, got %q", s)
	}
	return int64(f * mult), nil
}

// withMemory returns m's view with the --max-memory budget, or m when
// the flag was not given.
func withMemory(m *keras.Model, b *byteSize) *keras.Model {
	if !b.set {
		return m
	}
	o := m.CallOptions()
	o.MaxMemory = b.n
	return m.WithCallOptions(o)
}
