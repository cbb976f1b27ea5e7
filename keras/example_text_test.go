package keras_test

import (
	"fmt"
	"log"

	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/text"
)

// From text to a prediction: the Keras Tokenizer saved with the model
// (tokenizer.to_json()) turns texts into token ids, pad_sequences pads them
// to the 12 steps the model was trained on, and Predict scores them. The
// case is testdata/goldens-text/pipe_sentiment_lstm_en, whose y0.npy holds
// Keras' own scores for these texts (0.42373 and 0.4078711).
func ExampleLoad_fromText() {
	const dir = "../testdata/goldens-text/pipe_sentiment_lstm_en/"
	m, err := keras.Load(dir + "model.keras")
	if err != nil {
		log.Fatal(err)
	}
	tok, err := text.LoadTokenizer(dir + "tokenizer.json")
	if err != nil {
		log.Fatal(err)
	}
	seqs, _ := tok.TextsToSequences([]string{"The movie was great, truly GREAT!", "I hated it... never again."})
	padded, _ := text.PadSequences(seqs, text.PadOptions{MaxLen: text.MaxLen(12)})
	x, _ := keras.FromTokenIDs(padded.Ints(), padded.Rows, padded.Cols)
	out, err := m.Predict(x)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.5f\n", out[0].Data)
	// Output:
	// [0.42373 0.40787]
}
