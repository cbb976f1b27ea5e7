package keras_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/runtime"
)

// A memory budget refuses a call before it runs when the estimate of its
// peak memory, from the input shapes and the model, goes over it; here a
// 1 MiB budget and a batch of 64 sequences of 2,000 token ids into an
// Embedding + bidirectional LSTM classifier. A call within the budget
// runs as usual.
func ExampleWithMemoryBudget() {
	m, err := keras.Load("../testdata/goldens/sentiment_bilstm/model.keras", keras.WithMemoryBudget(1<<20))
	if err != nil {
		log.Fatal(err)
	}
	big := keras.NewTensor(64, 2000) // token id 0 everywhere
	_, err = m.Predict(big)
	var me *runtime.MemoryError
	fmt.Println(errors.Is(err, keras.ErrLimit), errors.Is(err, keras.ErrInput), errors.As(err, &me) && me.Estimate)
	fmt.Println("budget:", runtime.FormatBytes(me.Budget))

	small, err := keras.FromTokenIDs([]int{3, 1, 4, 1, 5}, 1, 5)
	if err != nil {
		log.Fatal(err)
	}
	out, err := m.Predict(small)
	fmt.Println(out[0].Shape, err)
	// Output:
	// true true true
	// budget: 1 MiB
	// [1 1] <nil>
}
