// Package runtime holds what executes a loaded model: float32 tensors, the
// Layer interface that layers implement, the graph executor for Sequential and
// Functional models, per-caller Sessions, and the numeric kernels.
//
// The runtime never reads files: it receives layers already bound to their
// weights (package layers) and a graph already normalized (package convert).
package runtime

import "fmt"

// Tensor is a dense row-major float32 array.
//
// Token ids travel as float32 too (exact up to 2^24), so one tensor type
// serves every Keras input; boolean masks are tensors holding 0 and 1.
type Tensor struct {
	Shape []int
	Data  []float32
}

// NewTensor returns a zero tensor of the given shape.
func NewTensor(shape ...int) *Tensor {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic("runtime: negative dimension")
		}
		n *= d
	}
	if len(shape) <= inlineRank {
		// One allocation for the tensor and its shape: layers make an
		// output tensor per call, and in a streaming step the
		// allocations showed in the profile.
		a := &tensorWithShape{}
		copy(a.shape[:], shape)
		a.t = Tensor{Shape: a.shape[:len(shape):len(shape)], Data: make([]float32, n)}
		return &a.t
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// inlineRank is the largest rank NewTensor stores inline.
const inlineRank = 4

type tensorWithShape struct {
	t     Tensor
	shape [inlineRank]int
}

// FromData wraps data as a tensor of the given shape. It returns an error
// when the element count does not match the shape.
func FromData(data []float32, shape ...int) (*Tensor, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("runtime: negative dimension in shape %v", shape)
		}
		n *= d
	}
	if n != len(data) {
		return nil, fmt.Errorf("runtime: %d values do not fill shape %v (%d)", len(data), shape, n)
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}, nil
}

// Len is the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Rank is the number of dimensions.
func (t *Tensor) Rank() int { return len(t.Shape) }

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// String describes the shape, for error messages.
func (t *Tensor) String() string { return fmt.Sprintf("Tensor%v", t.Shape) }
