package keras_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/layers"
	"github.com/rnnkit/rnnkit/runtime"
)

// Token ids go in as ints: FromTokenIDs builds the [batch, time] tensor an
// Embedding input takes, and Predict checks every id against the
// vocabulary (here 30 characters). The ids are the first 5 steps of the
// first two rows of x0.npy; the predictions are the argmax of Keras' own
// outputs for them (y0.npy).
func ExampleFromTokenIDs() {
	m, err := keras.Load(exampleDir + "model.keras")
	if err != nil {
		log.Fatal(err)
	}
	ids := []int{
		22, 9, 13, 4, 20, // sequence 0
		19, 20, 21, 25, 11, // sequence 1
	}
	x, err := keras.FromTokenIDs(ids, 2, 5) // [batch 2, time 5]
	if err != nil {
		log.Fatal(err)
	}
	out, err := m.Predict(x)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("output:", out[0].Shape)
	fmt.Println("most likely next ids:", keras.Argmax(out[0]))

	bad, _ := keras.FromTokenIDs([]int{22, 9, 30, 4, 20}, 1, 5)
	_, err = m.Predict(bad)
	fmt.Println(err)
	var ie *keras.InputError
	fmt.Println(errors.Is(err, keras.ErrInput), errors.As(err, &ie) && ie.Input == "input_layer", ie.Position)
	// Output:
	// output: [2 5 30]
	// most likely next ids: [3 27 3 3 27 14 27 14 14 1]
	// keras: model.keras: input "input_layer" at [0, 2]: token id 30 is outside [0, 30), the vocabulary of Embedding "embedding" (input_dim 30)
	// true true [0 2]
}

// Reading the input specs tells a program what to feed: here a token-id
// input with open batch and time dimensions and a vocabulary of 30.
func ExampleModel_Inputs() {
	m, err := keras.Load(exampleDir + "model.keras")
	if err != nil {
		log.Fatal(err)
	}
	var inputs []*keras.Tensor
	for _, spec := range m.Inputs() {
		fmt.Printf("%s: shape %v, token ids %v, vocabulary %d\n", spec.Name, spec.Shape, spec.TokenIDs, spec.VocabularySize)
		// Fill the open (None = -1) dimensions: batch 1, 4 steps.
		shape := append([]int(nil), spec.Shape...)
		for i, d := range shape {
			if d < 0 {
				shape[i] = map[bool]int{true: 1, false: 4}[i == 0]
			}
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		ids := make([]int, n)
		for i := range ids {
			ids[i] = (i * 7) % spec.VocabularySize
		}
		x, err := keras.FromTokenIDs(ids, shape...)
		if err != nil {
			log.Fatal(err)
		}
		inputs = append(inputs, x)
	}
	out, err := m.Predict(inputs...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("input", inputs[0].Data, "output", out[0].Shape)
	// Output:
	// input_layer: shape [-1 -1], token ids true, vocabulary 30
	// input [0 7 14 21] output [1 4 30]
}

// Argmax gives the index of the largest value of each row along the last
// axis; Row reads one of those rows.
func ExampleArgmax() {
	scores, _ := keras.FromFloat32([]float32{
		0.1, 0.7, 0.2, // sequence 0
		2.5, -1, 0.3, // sequence 1
	}, 2, 3)
	fmt.Println(keras.Argmax(scores))
	fmt.Println(scores.Row(1))
	p := keras.Softmax(scores) // logits to probabilities
	fmt.Printf("%.3f\n", p.Row(1))
	// Output:
	// [1 0]
	// [2.5 -1 0.3]
	// [0.876 0.026 0.097]
}

// A context bounds a call's time: once it is done, Predict stops at the
// next layer, or within a few time steps inside a recurrent layer, instead
// of running a 100,000-step input to its end.
func ExampleModel_PredictContext() {
	m, err := keras.Load(exampleDir + "model.keras")
	if err != nil {
		log.Fatal(err)
	}
	long := keras.NewTensor(1, 100_000) // token id 0 at every step
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	out, err := m.PredictContext(ctx, long)
	fmt.Println(out == nil, errors.Is(err, context.DeadlineExceeded))

	// A limit fails before any work, with an error that is also ErrInput.
	bounded := m.WithCallOptions(keras.CallOptions{MaxSequenceLength: 1000})
	_, err = bounded.Predict(long)
	fmt.Println(err)
	fmt.Println(errors.Is(err, keras.ErrLimit), errors.Is(err, keras.ErrInput))
	// Output:
	// true true
	// keras: model.keras: input "input_layer": sequence of 100000 steps exceeds the limit of 1000 (MaxSequenceLength)
	// true true
}

// threadProbe wraps a layer and records the thread budget its calls get,
// which is what rnnkit's parallel kernels read.
type threadProbe struct {
	runtime.Layer
	seen *int
}

func (p threadProbe) Call(ws *runtime.Workspace, c *runtime.Call) ([]runtime.Value, error) {
	*p.seen = ws.Threads()
	return p.Layer.Call(ws, c)
}

// WithThreads caps the goroutines one call may use, for services that run
// many calls at once; WithCallOptions changes the cap for one view of the
// model (weights shared). The probe, a Dense builder wrapping the
// standard one, shows the budget reaching the layers.
func ExampleWithThreads() {
	seen := 0
	probe := func(spec *convert.Layer, env *layers.Env) (runtime.Layer, error) {
		b, _ := layers.Standard().Lookup("Dense")
		l, err := b(spec, env)
		return threadProbe{l, &seen}, err
	}
	m, err := keras.Load(exampleDir+"model.keras", keras.WithThreads(2), keras.WithLayer("Dense", probe))
	if err != nil {
		log.Fatal(err)
	}
	x, _ := keras.FromTokenIDs([]int{1, 2, 3}, 1, 3)
	if _, err := m.Predict(x); err != nil {
		log.Fatal(err)
	}
	fmt.Println("model:", m.CallOptions().Threads, "threads, layers saw", seen)

	single := m.WithCallOptions(keras.CallOptions{Threads: 1})
	if _, err := single.Predict(x); err != nil {
		log.Fatal(err)
	}
	fmt.Println("view:", single.CallOptions().Threads, "thread, layers saw", seen)
	// Output:
	// model: 2 threads, layers saw 2
	// view: 1 thread, layers saw 1
}
