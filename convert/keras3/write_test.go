package keras3

import (
	"bytes"
	"errors"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
)

func TestUnknownClassRefused(t *testing.T) {
	g := &convert.Graph{Name: "m", ClassName: "Sequential", Layers: []*convert.Layer{
		{Name: "in", ClassName: "InputLayer", Config: convert.Config{"batch_shape": []any{nil, 3.0}}},
		{Name: "x", ClassName: "MyLayer", Config: convert.Config{}, Nodes: []convert.Node{{Args: []convert.Arg{{Tensors: []convert.TensorRef{{Layer: "in"}}}}}}},
	}, Inputs: []convert.TensorRef{{Layer: "in"}}, Outputs: []convert.TensorRef{{Layer: "x"}}}
	var buf bytes.Buffer
	_, err := WriteKeras(&buf, &convert.Model{Graph: g}, Options{})
	if !errors.Is(err, ErrCannotWrite) {
		t.Fatalf("got %v, want ErrCannotWrite", err)
	}
}

func TestScaleGates(t *testing.T) {
	l := &convert.Layer{Name: "lstm", ClassName: "LSTM", Weights: []convert.Weight{{Name: "b", Shape: []int{8}, Data: []float32{1, 1, 1, 1, 1, 1, 1, 1}}}}
	if err := scaleGates(l, []int{0, 1, 3}); err != nil {
		t.Fatal(err)
	}
	want := []float32{1.2, 1.2, 1.2, 1.2, 1, 1, 1.2, 1.2}
	for i, v := range l.Weights[0].Data {
		if v != want[i] {
			t.Fatalf("scaled bias %v, want %v", l.Weights[0].Data, want)
		}
	}
}
