package keras_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/rnnkit/rnnkit/keras"
)

// The example model is the golden case char_gru_generator: Embedding(30, 6)
// -> GRU(8, return_sequences) -> Dense(30, softmax), written by Keras 3.16.
const exampleDir = "../testdata/example/char_gru_generator/"

// Load a .keras file, predict on a batch of token ids and read the most
// likely next character at each step. The expected ids are the argmax of
// Keras' own output (y0.npy).
func ExampleLoad() {
	m, err := keras.Load(exampleDir + "model.keras")
	if err != nil {
		log.Fatal(err)
	}
	x, err := keras.ReadNPYFile(exampleDir + "x0.npy") // [3, 20] token ids
	if err != nil {
		log.Fatal(err)
	}
	out, err := m.Predict(x)
	if err != nil {
		log.Fatal(err)
	}
	y := out[0] // [3, 20, 30] probabilities
	fmt.Println("output shape:", y.Shape)
	// One argmax per row of the last axis: 3 sequences × 20 steps.
	next := keras.Argmax(y)[:20] // batch row 0
	fmt.Println("next ids:", next)
	// Output:
	// output shape: [3 20 30]
	// next ids: [3 27 3 3 27 14 27 3 1 14 3 3 3 3 3 1 1 1 14 3]
}

// Describe a model's inputs, outputs and layers.
func ExampleModel_Summary() {
	m, err := keras.Load(exampleDir + "model.h5")
	if err != nil {
		log.Fatal(err)
	}
	for _, in := range m.Inputs() {
		fmt.Println("input", in.Name, in.Shape, in.DType)
	}
	for _, out := range m.Outputs() {
		fmt.Println("output", out.Name, out.Shape)
	}
	s := m.Summary()
	for _, l := range s.Layers {
		fmt.Println(l.Name, l.ClassName, l.OutputShapes, l.Params)
	}
	fmt.Println("total params:", s.TotalParams)
	// Output:
	// input input_layer [-1 -1] int32
	// output dense [-1 -1 30]
	// input_layer InputLayer [[-1 -1]] 0
	// embedding Embedding [[-1 -1 6]] 180
	// gru GRU [[-1 -1 8]] 384
	// dense Dense [[-1 -1 30]] 270
	// total params: 834
}

// Load an architecture JSON with its Keras 3 weights file.
func ExampleLoadConfigAndWeights() {
	m, err := keras.LoadConfigAndWeights(exampleDir+"model.json", exampleDir+"model.weights.h5")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Format(), m.Inputs()[0].Name, len(m.Summary().Layers))
	// Output:
	// json+weights input_layer 4
}

// Greedy text generation one token at a time: a stream carries every
// recurrent state from one call to the next, so the model first reads the
// prime text, then each generated id. The expected ids come from an
// independent float64 reference of this model
// (testdata/example/greedy_reference.py).
func ExampleModel_NewStream() {
	m, err := keras.Load(exampleDir + "model.keras")
	if err != nil {
		log.Fatal(err)
	}
	stream := m.NewStream()
	prime := []int{22, 9, 13, 4, 20}
	x, _ := keras.FromTokenIDs(prime, 1, len(prime)) // [batch 1, time 5]
	out, err := stream.Predict(x)
	if err != nil {
		log.Fatal(err)
	}
	var generated []int
	for i := 0; i < 10; i++ {
		ids := keras.Argmax(out[0]) // [1, time, 30]: one id per step
		next := ids[len(ids)-1]     // the last step predicts the next id
		generated = append(generated, next)
		x, _ := keras.FromTokenIDs([]int{next}, 1, 1)
		if out, err = stream.Predict(x); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(generated)
	// Output:
	// [27 14 3 3 3 3 3 3 3 3]
}

// Stateful models keep their states across the calls of a Session until
// Reset, as Keras' predict does until reset_states.
func ExampleModel_NewSession() {
	c, err := keras.ReadCase("../testdata/goldens/char_gru_generator_stateful")
	if err != nil {
		log.Fatal(err)
	}
	m, err := c.Load("keras")
	if err != nil {
		log.Fatal(err)
	}
	// Case.Run feeds every call of the case to one Session.
	results, err := c.Run(m)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		fmt.Println(r.File, "call", r.Call, "ok:", r.OK())
	}
	// Output:
	// y0.npy call 0 ok: true
	// y1.npy call 1 ok: true
	// y2.npy call 2 ok: true
}

// Errors name what went wrong and can be tested with errors.Is.
func ExampleModel_Predict_badInput() {
	m, err := keras.Load(exampleDir + "model.keras")
	if err != nil {
		log.Fatal(err)
	}
	x := keras.NewTensor(2, 5, 3) // rank 3, the model wants [batch, time]
	_, err = m.Predict(x)
	fmt.Println(errors.Is(err, keras.ErrInput))
	// Output:
	// true
}

// A weights-only file cannot be loaded alone.
func ExampleLoad_weightsOnly() {
	_, err := keras.Load(exampleDir + "model.weights.h5")
	fmt.Println(errors.Is(err, keras.ErrNoArchitecture))
	// Output:
	// true
}
