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
//
// A string tensor (the input of a model whose InputLayer has dtype
// string, fed to TextVectorization, StringLookup or Hashing) holds its
// elements in Strings, row-major like Data, and has no Data. Numeric
// layers never see one: Predict checks each input's kind against the
// model's input dtype.
type Tensor struct {
	Shape []int
	Data  []float32
	// Strings holds the elements of a string tensor; nil otherwise.
	Strings []string
}

// IsString reports whether t is a string tensor.
func (t *Tensor) IsString() bool { return t.Strings != nil }

// NewTensor returns a zero tensor of the given shape. A negative
// dimension, or a shape whose element count overflows (see ShapeSize),
// panics with a value that Graph.Run recovers and returns as its
// *SizeError (errors.Is(err, ErrLimit)); callers outside a graph run
// check the shape with ShapeSize first.
func NewTensor(shape ...int) *Tensor {
	n := MustSize(shape...)
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
	n, err := ShapeSize(shape)
	if err != nil {
		return nil, err
	}
	if n != len(data) {
		return nil, fmt.Errorf("runtime: %d values do not fill shape %v (%d)", len(data), shape, n)
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}, nil
}

// Len is the number of elements.
func (t *Tensor) Len() int {
	if t.Strings != nil {
		return len(t.Strings)
	}
	return len(t.Data)
}

// Rank is the number of dimensions.
func (t *Tensor) Rank() int { return len(t.Shape) }

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	c := &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
	if t.Strings != nil {
		c.Strings = append([]string{}, t.Strings...)
	}
	return c
}

// String describes the shape, for error messages.
func (t *Tensor) String() string { return fmt.Sprintf("Tensor%v", t.Shape) }

// Rows is the number of rows of t seen as a matrix whose rows run along
// the last axis: the product of every dimension but the last (1 for a
// scalar or a vector).
func (t *Tensor) Rows() int {
	if len(t.Shape) < 2 {
		return 1
	}
	n, err := ShapeSize(t.Shape[:len(t.Shape)-1])
	if err != nil {
		return 0 // not a valid tensor: no row to give
	}
	return n
}

// Row returns row i of t seen as a matrix whose rows run along the last
// axis (see Rows): for a [batch, classes] output, the class scores of
// sequence i; for [batch, time, units], step i%time of sequence i/time.
// The slice shares t's memory. It panics when i is out of range, as an
// index expression does.
func (t *Tensor) Row(i int) []float32 {
	n := len(t.Data)
	if len(t.Shape) > 0 {
		n = t.Shape[len(t.Shape)-1]
	}
	if i < 0 || i >= t.Rows() {
		panic(fmt.Sprintf("runtime: row %d out of range [0,%d) of %v", i, t.Rows(), t))
	}
	return t.Data[i*n : (i+1)*n : (i+1)*n]
}
