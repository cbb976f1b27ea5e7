package seq2seq_test

import (
	"context"
	"fmt"
	"log"

	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/seq2seq"
	"github.com/rnnkit/rnnkit/text"
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

// Translate with a token-level model (Embedding inputs) and the Keras
// Tokenizers it was trained with (the oracle case s2s_token_lstm, random
// weights: the words are the ones Keras decodes). The start and stop
// tokens sos/eos are found in the target tokenizer.
func ExampleNewTextTranslator() {
	dir := "../testdata/goldens-s2s/s2s_token_lstm/"
	m, err := keras.Load(dir + "model.keras")
	if err != nil {
		log.Fatal(err)
	}
	s, err := seq2seq.New(m)
	if err != nil {
		log.Fatal(err)
	}
	src, err := text.LoadTokenizer(dir + "source_tokenizer.json")
	if err != nil {
		log.Fatal(err)
	}
	tgt, err := text.LoadTokenizer(dir + "target_tokenizer.json")
	if err != nil {
		log.Fatal(err)
	}
	tr, err := seq2seq.NewTextTranslator(s, src, tgt, "", "", 8)
	if err != nil {
		log.Fatal(err)
	}
	out, res, err := tr.Translate(context.Background(), "I am cold!")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q %v\n", out, res.IDs)
	// Output:
	// "tu j'ai sos j'ai sos tu j'ai sos" [16 4 1 4 1 16 4 1]
}
