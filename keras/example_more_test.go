package keras_test

import (
	"bytes"
	"fmt"
	"log"
	"os"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/layers"
	"github.com/rnnkit/rnnkit/runtime"
)

// Load from any fs.FS, here the example folder.
func ExampleLoadFS() {
	m, err := keras.LoadFS(os.DirFS(exampleDir), "model.keras")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Format(), len(m.Inputs()), len(m.Outputs()))
	// Output:
	// keras-zip 1 1
}

// LoadConfigAndWeightsFS reads both files from one fs.FS.
func ExampleLoadConfigAndWeightsFS() {
	m, err := keras.LoadConfigAndWeightsFS(os.DirFS(exampleDir), "model.json", "model.weights.h5")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Summary().TotalParams)
	// Output:
	// 834
}

// Files that do not record their writer's version (Keras 1 weights,
// hand-written JSON) can be given one: Keras 2's hard_sigmoid, GRU and
// LSTM defaults then apply.
func ExampleWithKerasVersion() {
	m, err := keras.Load(exampleDir+"model.h5", keras.WithKerasVersion("3.16.0"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.KerasVersion())
	// Output:
	// 3.16.0
}

// countingLayer wraps a layer and counts its calls.
type countingLayer struct {
	runtime.Layer
	calls *int
}

func (c countingLayer) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	*c.calls++
	return c.Layer.Call(ctx, call)
}

// WithLayer registers a builder for a class: a custom layer, or (here) a
// wrapper around the built-in Dense.
func ExampleWithLayer() {
	dense, _ := layers.Standard().Lookup("Dense")
	calls := 0
	counting := func(spec *convert.Layer, env *layers.Env) (runtime.Layer, error) {
		l, err := dense(spec, env)
		if err != nil {
			return nil, err
		}
		return countingLayer{l, &calls}, nil
	}
	m, err := keras.Load(exampleDir+"model.keras", keras.WithLayer("Dense", counting))
	if err != nil {
		log.Fatal(err)
	}
	x := runtime.NewTensor(1, 4)
	for i := 0; i < 3; i++ {
		if _, err := m.Predict(x); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("Dense calls:", calls)
	// Output:
	// Dense calls: 3
}

// PredictValues returns the mask Keras attaches to each output: here an
// Embedding with mask_zero=True, whose mask is false where the input ids
// are 0 (post-padding).
func ExampleModel_PredictValues() {
	const dir = "../testdata/goldens/embedding_mask_zero_alone/"
	m, err := keras.Load(dir + "model.keras")
	if err != nil {
		log.Fatal(err)
	}
	x, err := keras.ReadNPYFile(dir + "x0.npy") // [3, 7], rows padded with 0
	if err != nil {
		log.Fatal(err)
	}
	out, err := m.PredictValues(runtime.Value{T: x})
	if err != nil {
		log.Fatal(err)
	}
	if out[0].Mask == nil {
		log.Fatal("no output mask")
	}
	fmt.Println("output", out[0].T.Shape, "mask", out[0].Mask.Shape)
	fmt.Println("row 1 ids: ", x.Data[7:14])
	fmt.Println("row 1 mask:", out[0].Mask.Data[7:14])
	// Output:
	// output [3 7 6] mask [3 7]
	// row 1 ids:  [22 10 3 0 0 0 0]
	// row 1 mask: [1 1 1 0 0 0 0]
}

// PredictShared skips the output copy, for allocation-free streaming: the
// outputs are valid until the next call on the session.
func ExampleSession_PredictShared() {
	m, err := keras.Load(exampleDir + "model.keras")
	if err != nil {
		log.Fatal(err)
	}
	s := m.NewStream()
	x := runtime.NewTensor(1, 1) // token id 0, one step
	var shape []int
	for step := 0; step < 3; step++ {
		out, err := s.PredictShared(x)
		if err != nil {
			log.Fatal(err)
		}
		shape = out[0].T.Shape
	}
	fmt.Println(shape)
	// Output:
	// [1 1 30]
}

// A golden case folder: its formats, calls and the comparison with Keras.
func ExampleReadCase() {
	c, err := keras.ReadCase(exampleDir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Name, c.Formats, c.Tolerance.Atol, c.Tolerance.Rtol)
	for _, f := range c.Formats {
		m, err := c.Load(f)
		if err != nil {
			log.Fatal(err)
		}
		results, err := c.Run(m)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(f, results[0].File, results[0].OK())
	}
	// Output:
	// char_gru_generator [keras h5 weights_h5+json] 1e-05 0.0001
	// keras y0.npy true
	// h5 y0.npy true
	// weights_h5+json y0.npy true
}

// Compare applies the golden tolerance |got - want| <= atol + rtol*|want|.
func ExampleCompare() {
	want, _ := runtime.FromData([]float32{1, 2, 3}, 3)
	got, _ := runtime.FromData([]float32{1, 2.0001, 3.1}, 3)
	r := keras.Compare(got, want, keras.DefaultAtol, keras.DefaultRtol)
	fmt.Println(r.OK(), r.Bad, r.FirstBad)
	// Output:
	// false 1 2
}

// WriteNPY and ReadNPY exchange tensors with NumPy.
func ExampleWriteNPY() {
	x, _ := runtime.FromData([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	var buf bytes.Buffer
	if err := keras.WriteNPY(&buf, x); err != nil {
		log.Fatal(err)
	}
	y, err := keras.ReadNPY(&buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(y.Shape, y.Data)
	// Output:
	// [2 3] [1 2 3 4 5 6]
}

// Describe reads a model without building it, for models with layers
// rnnkit lacks: names, classes and parameter counts, no output shapes.
func ExampleDescribe() {
	s, err := keras.Describe(exampleDir + "model.h5")
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range s.Layers {
		fmt.Println(l.Name, l.ClassName, l.Params)
	}
	// Output:
	// input_layer InputLayer 0
	// embedding Embedding 180
	// gru GRU 384
	// dense Dense 270
}
