package h5

import (
	"encoding/binary"
	"math"
	"math/rand"
	"testing"
)

// TestDecodeFastPaths checks the unrolled float32/float64/float16 loops
// against the generic bit-field decoder (standardIEEE off), on random bit
// patterns including NaN, infinities and subnormals, for lengths with odd
// tails.
func TestDecodeFastPaths(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for _, size := range []int{2, 4, 8} {
		var dt Datatype
		switch size {
		case 2:
			dt = Datatype{Class: ClassFloat, Size: 2, ByteOrder: binary.LittleEndian, Precision: 16, ExpLoc: 10, ExpSize: 5, MantSize: 10, ExpBias: 15, SignLoc: 15}
		case 4:
			dt = Datatype{Class: ClassFloat, Size: 4, ByteOrder: binary.LittleEndian, Precision: 32, ExpLoc: 23, ExpSize: 8, MantSize: 23, ExpBias: 127, SignLoc: 31}
		case 8:
			dt = Datatype{Class: ClassFloat, Size: 8, ByteOrder: binary.LittleEndian, Precision: 64, ExpLoc: 52, ExpSize: 11, MantSize: 52, ExpBias: 1023, SignLoc: 63}
		}
		dt.implicitMantissa = true
		slow := dt // generic path
		fast := dt
		fast.standardIEEE = true
		for _, n := range []int{0, 1, 3, 4, 5, 17, 1000} {
			raw := make([]byte, n*size)
			r.Read(raw)
			if n > 0 { // subnormal and zero patterns
				for i := 0; i < size-1; i++ {
					raw[i] = 0
				}
			}
			f32 := make([]float32, n)
			f64 := make([]float64, n)
			decodeFloat32(&fast, raw, f32)
			decodeFloat64(&fast, raw, f64)
			for i := 0; i < n; i++ {
				want := floatValue(&slow, raw[i*size:(i+1)*size])
				same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
				if !same(float64(f32[i]), float64(float32(want))) || !same(f64[i], want) {
					t.Fatalf("size %d n %d [%d]: fast %v / %v, reference %v", size, n, i, f32[i], f64[i], want)
				}
			}
		}
	}
}
