package keras_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/rnnkit/rnnkit/keras"
)

// A model that takes raw strings (a Keras 3 .keras file: string
// InputLayer, TextVectorization with its vocabulary asset, Embedding,
// LSTM, Dense) answers sentences directly: the input's DType is "string",
// FromStrings builds the batch, and the layer lowers, strips punctuation,
// splits and looks the words up as Keras does. The rows are Keras' own
// outputs for these two texts (goldens-text y0.npy rows 0 and 4).
func ExampleFromStrings() {
	m, err := keras.Load("../testdata/goldens-text/textvectorization/tv_default_len12_lstm/model.keras")
	if err != nil {
		log.Fatal(err)
	}
	in := m.Inputs()[0]
	fmt.Println(in.Name, in.DType)
	x, err := keras.FromStrings([]string{"The movie was GREAT, truly great!", "Worst. Plot. Ever?"})
	if err != nil {
		log.Fatal(err)
	}
	ys, err := m.Predict(x)
	if err != nil {
		log.Fatal(err)
	}
	for i := range ys[0].Rows() {
		fmt.Printf("%.4f\n", ys[0].Row(i))
	}

	// Numbers fed to the string input are refused, naming the input.
	_, err = m.Predict(keras.NewTensor(2, 12))
	var ie *keras.InputError
	fmt.Println(errors.Is(err, keras.ErrInput), errors.As(err, &ie) && ie.Input == in.Name)
	// Output:
	// input_layer string
	// [0.2039 0.3811 0.4150]
	// [0.2036 0.3805 0.4159]
	// true true
}
