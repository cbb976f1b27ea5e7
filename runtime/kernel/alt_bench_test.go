package kernel

import "testing"

// BenchmarkRecurrentStream streams a W2-sized recurrent kernel (LSTM
// 256×1024, 1 MiB) 100 times as a batch-1 sequence does, with VecMat and
// with VecMatAlternating (flipped every step).
func BenchmarkRecurrentStream(b *testing.B) {
	for _, sz := range [][2]int{{256, 1024}, {256, 768}} {
		k, n := sz[0], sz[1]
		x, w, y := randVec(k), randVec(k*n), make([]float32, n)
		b.Run(sizeName(k, n)+"/plain", func(b *testing.B) {
			for b.Loop() {
				for s := range 100 {
					VecMat(y, x, w, k, n, false)
					x[s%k] = y[s]
				}
			}
		})
		b.Run(sizeName(k, n)+"/alternating", func(b *testing.B) {
			for b.Loop() {
				for s := range 100 {
					VecMatAlternating(y, x, w, k, n, s%2 == 1)
					x[s%k] = y[s]
				}
			}
		})
	}
}

func sizeName(k, n int) string { return "k" + itoa(k) + "_n" + itoa(n) }

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for ; v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}
