package keras_test

import (
	"fmt"
	"log"

	"github.com/rnnkit/rnnkit/keras"
)

// Build the encoder and decoder-step models of a trained seq2seq model
// (the Keras lstm_seq2seq example's training model, shared golden
// s2s_char_lstm_translate) from its layers, as the Keras example does:
//
//	encoder_model = Model(encoder_inputs, encoder_states)
//	decoder_outputs, h, c = decoder_lstm(decoder_inputs, initial_state=[h_in, c_in])
//	decoder_model = Model([decoder_inputs, h_in, c_in], [decoder_dense(decoder_outputs), h, c])
//
// and decode greedily from "go.": one decoder step per character on the
// carried states. The characters are the ones Keras decodes
// (decoded.json).
func ExampleFunctional() {
	dir := "../testdata/goldens-text/s2s_char_lstm_translate/"
	m, err := keras.Load(dir + "model.keras")
	if err != nil {
		log.Fatal(err)
	}
	f := keras.NewFunctional(m)

	// The encoder: the trained encoder_lstm's states (outputs 1 and 2 of
	// its first call), replayed from the trained model's encoder input.
	encIn, _ := f.Replay([]keras.TensorRef{{Layer: "encoder_inputs"}}, nil)
	states, err := f.Replay([]keras.TensorRef{{Layer: "encoder_lstm", Index: 1}, {Layer: "encoder_lstm", Index: 2}}, nil)
	if err != nil {
		log.Fatal(err)
	}
	encoder, err := f.Model("encoder", encIn, states)
	if err != nil {
		log.Fatal(err)
	}

	// The decoder step: new inputs, the trained layers called on them.
	tok, _ := f.Input("token", -1, 25)
	hIn, _ := f.Input("h_in", 12)
	cIn, _ := f.Input("c_in", 12)
	outs, err := f.Call("decoder_lstm", []*keras.KerasTensor{tok}, keras.InitialState(hIn, cIn))
	if err != nil {
		log.Fatal(err)
	}
	probs, err := f.Call("decoder_dense", outs[:1])
	if err != nil {
		log.Fatal(err)
	}
	decoder, err := f.Model("decoder", []*keras.KerasTensor{tok, hIn, cIn}, []*keras.KerasTensor{probs[0], outs[1], outs[2]})
	if err != nil {
		log.Fatal(err)
	}
	for _, in := range decoder.Inputs() {
		fmt.Println("decoder input", in.Name, in.Shape)
	}

	source := []string{" ", "!", ".", "?", "a", "e", "g", "h", "i", "k", "l", "n", "o", "p", "r", "s", "t", "u", "w"}
	target := []rune("\t\n !'.?abcdeijlmnoqrsuvàç")
	oneHot := func(chars []int, width int) *keras.Tensor {
		x := keras.NewTensor(1, len(chars), width)
		for t, c := range chars {
			x.Data[t*width+c] = 1
		}
		return x
	}
	index := map[string]int{}
	for i, c := range source {
		index[c] = i
	}
	var src []int
	for _, c := range "go." {
		src = append(src, index[string(c)])
	}
	st, err := encoder.Predict(oneHot(src, len(source)))
	if err != nil {
		log.Fatal(err)
	}
	sess := decoder.NewSession()
	next, decoded := 0, "" // 0 is "\t", the start character
	for len(decoded) < 14 {
		y, err := sess.Predict(oneHot([]int{next}, len(target)), st[0], st[1])
		if err != nil {
			log.Fatal(err)
		}
		next = keras.Argmax(y[0])[0]
		if target[next] == '\n' {
			break
		}
		decoded += string(target[next])
		st = y[1:]
	}
	fmt.Printf("%q\n", decoded)
	// Output:
	// decoder input token [-1 -1 25]
	// decoder input h_in [-1 12]
	// decoder input c_in [-1 12]
	// ".ee.rejjjjirrj"
}
