// Package float16 converts IEEE 754 binary16 values, which HDF5
// datasets, TensorBundle checkpoints and TF.js weight shards may hold.
package float16

import "math"

// ToFloat32 converts the binary16 bits h to float32, exactly (every
// binary16 value is a float32): signed zeros, subnormals, infinities and
// NaN payloads included.
func ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0:
		// Zero or subnormal: frac·2^-24, negated for the sign (-0 included).
		v := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	}
	// Rebias the exponent from 15 to 127.
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}
