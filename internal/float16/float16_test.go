package float16

import (
	"math"
	"testing"
)

// reference decodes binary16 from its definition in float64:
// (-1)^s · 2^(e-15) · (1 + f/1024), or 2^-14 · f/1024 for e = 0.
func reference(h uint16) float64 {
	s, e, f := h>>15, int(h>>10)&0x1f, float64(h&0x3ff)
	var v float64
	switch e {
	case 0:
		v = math.Ldexp(f/1024, -14)
	case 0x1f:
		if f != 0 {
			return math.NaN()
		}
		v = math.Inf(1)
	default:
		v = math.Ldexp(1+f/1024, e-15)
	}
	if s != 0 {
		v = -v
	}
	return v
}

// TestToFloat32 checks all 65536 values against the definition, signs
// of zero and NaN payloads included.
func TestToFloat32(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		got, want := ToFloat32(h), reference(h)
		if math.IsNaN(want) {
			// The 10 payload bits move to the top of float32's 23.
			if !math.IsNaN(float64(got)) || math.Float32bits(got)&0x7fffff != uint32(h&0x3ff)<<13 || math.Signbit(float64(got)) != (h>>15 != 0) {
				t.Fatalf("0x%04x: got %v (0x%08x), want NaN with the same sign and payload", h, got, math.Float32bits(got))
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != math.Signbit(want) {
			t.Fatalf("0x%04x: got %v, want %v", h, got, want)
		}
	}
}
