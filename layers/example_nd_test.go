package layers_test

import (
	"fmt"
	"log"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/layers"
	"github.com/rnnkit/rnnkit/runtime"
)

// A ConvLSTM2D built from its normalized description: 4 filters, a 3×3
// kernel, "same" padding, returning the sequence and the final states.
// Weights are Keras' kernel [3, 3, channels, 4·filters], recurrent kernel
// [3, 3, filters, 4·filters] and bias [4·filters] (gates i, f, c, o).
func ExampleConvLSTM() {
	weight := func(name string, shape ...int) convert.Weight {
		n := 1
		for _, d := range shape {
			n *= d
		}
		w := convert.Weight{Name: name, Shape: shape, Data: make([]float32, n)}
		for i := range w.Data {
			w.Data[i] = float32(i%7-3) / 20
		}
		return w
	}
	spec := &convert.Layer{Name: "conv_lstm2d", ClassName: "ConvLSTM2D",
		Config: convert.Config{"filters": 4.0, "kernel_size": []any{3.0, 3.0}, "padding": "same",
			"return_sequences": true, "return_state": true},
		Weights: []convert.Weight{weight("kernel", 3, 3, 2, 16), weight("recurrent_kernel", 3, 3, 4, 16), weight("bias", 16)}}
	reg := layers.Standard()
	l, err := reg.Build(spec, &layers.Env{Registry: reg, KerasVersion: "3.16.0"})
	if err != nil {
		log.Fatal(err)
	}
	// A batch of one sequence of 3 frames of 5×6 pixels with 2 channels.
	x := runtime.NewTensor(1, 3, 5, 6, 2)
	for i := range x.Data {
		x.Data[i] = float32(i%5) / 5
	}
	out, err := l.Call(runtime.NewWorkspace(false), &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: x}}}}})
	if err != nil {
		log.Fatal(err)
	}
	for i, name := range []string{"sequence", "h", "c"} {
		fmt.Println(name, out[i].T.Shape)
	}
	// Output:
	// sequence [1 3 5 6 4]
	// h [1 5 6 4]
	// c [1 5 6 4]
}
