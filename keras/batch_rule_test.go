package keras_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
)

// The cases of testdata/batch_rule come from real Keras 3.16
// (testdata/batch_rule/generate.py; input_checks.txt records what Keras
// does with each mismatching input below).
const batchRuleDir = "../testdata/batch_rule/"

// TestFixedBatchRule checks Keras 3's batch rule: a batch fixed by the
// InputLayer is advisory for a stateless model (Keras predicts batch 2 of a
// batch_shape (32, 7) model, and so must rnnkit, with Keras' numbers) and
// binding for a stateful one.
func TestFixedBatchRule(t *testing.T) {
	for _, name := range []string{"fixed_batch_stateless", "fixed_batch_stateful"} {
		c, err := keras.ReadCase(batchRuleDir + name)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range c.Formats {
			m, err := c.Load(f)
			if err != nil {
				t.Fatalf("%s [%s]: %v", name, f, err)
			}
			results, err := c.Run(m)
			if err != nil {
				t.Fatalf("%s [%s]: %v", name, f, err)
			}
			for _, r := range results {
				if !r.OK() {
					t.Errorf("%s [%s]: %s", name, f, &r)
				}
			}
		}
	}
	m, err := keras.Load(batchRuleDir + "fixed_batch_stateful/model.keras")
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{2, 8} {
		_, err := m.Predict(keras.NewTensor(batch, 7))
		var ie *keras.InputError
		if !errors.Is(err, keras.ErrInput) || !errors.As(err, &ie) || ie.Input != "tokens" {
			t.Fatalf("stateful model, batch %d: %v, want an ErrInput InputError for input tokens", batch, err)
		}
		for _, want := range []string{"model.keras", "got batch", "want 4", "stateful", "(4, 7)"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("batch %d: message %q lacks %q", batch, err, want)
			}
		}
	}
}

// TestInputChecksAgainstKeras runs the inputs of input_checks.txt: where
// Keras 3 refuses an input rnnkit does too (ErrInput); where rnnkit is
// stricter the test says so.
func TestInputChecksAgainstKeras(t *testing.T) {
	m, err := keras.Load(batchRuleDir + "fixed_batch_stateless/model.keras")
	if err != nil {
		t.Fatal(err)
	}
	full := func(v float32, shape ...int) *keras.Tensor {
		x := keras.NewTensor(shape...)
		for i := range x.Data {
			x.Data[i] = v
		}
		return x
	}
	for _, tc := range []struct {
		name string
		x    *keras.Tensor
		ok   bool
		want string
	}{
		{"batch 2 (Keras runs)", keras.NewTensor(2, 7), true, ""},
		{"time 9 (Keras: expected shape=(None, 7))", keras.NewTensor(2, 9), false, "dimension 1 must be 7"},
		{"rank 1 (Keras refuses)", keras.NewTensor(7), false, "rank 1"},
		// Keras' Functional squeezes a trailing axis of 1; rnnkit does not.
		{"rank 3 (2, 7, 1) (Keras runs, rnnkit refuses)", keras.NewTensor(2, 7, 1), false, "rank 3"},
		{"id 20 (Keras: IndexError)", full(20, 2, 7), false, "token id 20 is outside [0, 20)"},
		// Keras' numpy backend wraps -1 around to the last row (numpy
		// indexing); TensorFlow refuses it on CPU. rnnkit refuses it.
		{"id -1 (numpy backend wraps, rnnkit refuses)", full(-1, 2, 7), false, "token id -1 is outside [0, 20)"},
		{"float id 2.7 (Keras truncates)", full(2.7, 2, 7), true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Predict(tc.x)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ie *keras.InputError
			if !errors.Is(err, keras.ErrInput) || !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want an ErrInput InputError containing %q", err, tc.want)
			}
		})
	}
}
