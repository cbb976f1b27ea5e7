package keras

import (
	"fmt"
	"math"

	"github.com/rnnkit/rnnkit/runtime"
)

// Tensor is a dense row-major float32 array with a shape: what Predict
// takes and returns. It is runtime.Tensor, named here so that everyday use
// needs only this package.
//
// Token ids are stored as float32 values, which hold every integer up to
// 2^24 exactly; FromTokenIDs builds such a tensor from ints.
type Tensor = runtime.Tensor

// maxExactID is the largest integer magnitude float32 holds exactly.
const maxExactID = 1 << 24

// NewTensor returns a zero tensor of the given shape. It panics on a
// negative dimension or a shape whose element count overflows; check a
// shape that comes from outside with runtime.ShapeSize first.
func NewTensor(shape ...int) *Tensor { return runtime.NewTensor(shape...) }

// FromFloat32 wraps data (not copied) as a tensor of the given shape, for
// inputs of float features. The error, which wraps ErrInput, says when
// the element count does not fill the shape.
func FromFloat32(data []float32, shape ...int) (*Tensor, error) {
	if err := checkShape(len(data), shape); err != nil {
		return nil, err
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}, nil
}

// FromTokenIDs returns a tensor holding ids (copied) in the given shape,
// usually [batch, time], for an input that feeds an Embedding. Every id
// whose magnitude is at most 2^24 is accepted (float32 holds those
// exactly): whether an id is in the model's vocabulary is checked by
// Predict, which knows the vocabulary (TensorSpec.VocabularySize). Larger
// ids and a count that does not fill the shape are errors wrapping
// ErrInput.
func FromTokenIDs(ids []int, shape ...int) (*Tensor, error) {
	if err := checkShape(len(ids), shape); err != nil {
		return nil, err
	}
	data := make([]float32, len(ids))
	for i, id := range ids {
		if id > maxExactID || id < -maxExactID {
			return nil, fmt.Errorf("keras: token id %d at index %d exceeds 2^24, the largest id a float32 tensor holds exactly: %w", id, i, ErrInput)
		}
		data[i] = float32(id)
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}, nil
}

func checkShape(n int, shape []int) error {
	want, err := runtime.ShapeSize(shape)
	if err != nil {
		return fmt.Errorf("keras: %w", err)
	}
	if want != n {
		return fmt.Errorf("keras: %d values do not fill shape %v (%d values): %w", n, shape, want, ErrInput)
	}
	return nil
}

// Argmax returns, for every row of t along its last axis (Tensor.Rows),
// the index of the largest value: the predicted class of each sequence of
// a [batch, classes] output, or of each step of [batch, time, classes].
// The first index wins a tie; NaN values are never the largest, unless a
// row holds only NaN (then 0).
func Argmax(t *Tensor) []int {
	rows := t.Rows()
	out := make([]int, rows)
	for i := range rows {
		r := t.Row(i)
		best := 0
		for j := 1; j < len(r); j++ {
			if r[j] > r[best] || (r[best] != r[best] && r[j] == r[j]) {
				best = j
			}
		}
		out[i] = best
	}
	return out
}

// Softmax returns a new tensor holding the softmax of every row of t along
// its last axis, for turning a model's logits into probabilities (a model
// whose last layer is already a softmax needs none).
func Softmax(t *Tensor) *Tensor {
	out := t.Clone()
	for i := range out.Rows() {
		r := out.Row(i)
		if len(r) == 0 {
			continue
		}
		m := r[0]
		for _, v := range r[1:] {
			m = max(m, v)
		}
		var sum float64
		for j, v := range r {
			e := math.Exp(float64(v - m))
			r[j] = float32(e)
			sum += e
		}
		for j := range r {
			r[j] = float32(float64(r[j]) / sum)
		}
	}
	return out
}

// Value is a tensor with the Keras mask it carries (runtime.Value), for
// PredictValues.
type Value = runtime.Value
