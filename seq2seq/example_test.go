package seq2seq_test

import (
	"context"
	"fmt"
	"log"

	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/seq2seq"
)

// Translate with the training model of the Keras lstm_seq2seq example and
// its character dictionaries (the shared golden s2s_char_lstm_translate,
// whose weights are random: the translations are the ones Keras decodes,
// not French). New finds the encoder and decoder in the graph.
func Example() {
	dir := "../testdata/goldens-text/s2s_char_lstm_translate/"
	m, err := keras.Load(dir + "model.h5")
	if err != nil {
		log.Fatal(err)
	}
	s, err := seq2seq.New(m)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("encoder:", s.EncoderInput, s.StateSources, "decoder:", s.DecoderInput, s.DecoderRNNs, "->", s.OutputLayer)
	fmt.Println("states:", s.StateSizes)

	vocab, err := seq2seq.LoadCharVocab(dir + "vocab.json")
	if err != nil {
		log.Fatal(err)
	}
	tr, err := seq2seq.NewCharTranslator(s, vocab)
	if err != nil {
		log.Fatal(err)
	}
	for _, beam := range []int{1, 3} {
		tr.Beam = beam
		out, res, err := tr.Translate(context.Background(), "go.")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("beam %d: %q (log p %.3f)\n", beam, out, res.Score)
	}
	// Output:
	// encoder: encoder_inputs [encoder_lstm] decoder: decoder_inputs [decoder_lstm] -> decoder_dense
	// states: [12 12]
	// beam 1: ".ee.rejjjjirrj" (log p -28.572)
	// beam 3: ".e.rejjjjjjjji" (log p -27.496)
}
