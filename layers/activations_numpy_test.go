package layers

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPairwiseSum32Order pins numpy's summation order on 2^24 followed by
// fifteen ones. A sequential float32 sum stays 2^24 (each +1 is a tie that
// rounds to even). numpy's eight accumulators hold 2^24 (2^24+1 rounds
// back) and seven 2s, combined as ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)):
// 2^24 + 2 + 4 + 8.
func TestPairwiseSum32Order(t *testing.T) {
	a := []float32{1 << 24}
	for range 15 {
		a = append(a, 1)
	}
	if got := pairwiseSum32(a); got != 1<<24+14 {
		t.Fatalf("pairwiseSum32 = %v, want %v", got, float32(1<<24+14))
	}
	// Below 8 values numpy adds in order.
	if got := pairwiseSum32(a[:7]); got != 1<<24 {
		t.Fatalf("pairwiseSum32 of 7 = %v, want %v", got, float32(1<<24))
	}
}

// TestSoftmaxFloat32 checks the float32 softmax against a float64 one on
// rows of every length up to 300 (the pairwise sum splits above 128).
func TestSoftmaxFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for n := 1; n <= 300; n++ {
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(r.NormFloat64() * 4)
		}
		dst := make([]float32, n)
		actSoftmax(dst, src, n)
		m := math.Inf(-1)
		for _, v := range src {
			m = math.Max(m, float64(v))
		}
		var sum float64
		for _, v := range src {
			sum += math.Exp(float64(v) - m)
		}
		for i, v := range src {
			want := math.Exp(float64(v)-m) / sum
			if d := math.Abs(float64(dst[i]) - want); d > 1e-6*want+1e-9 {
				t.Fatalf("n=%d: softmax[%d] = %v, want %v", n, i, dst[i], want)
			}
		}
	}
	nan := []float32{1, float32(math.NaN()), 2}
	actSoftmax(nan, nan, 3)
	for i, v := range nan {
		if v == v {
			t.Fatalf("softmax with a NaN: [%d] = %v, want NaN as numpy gives", i, v)
		}
	}
}
