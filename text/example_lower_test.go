package text_test

import (
	"fmt"

	"github.com/rnnkit/rnnkit/text"
)

// The Keras Tokenizer lowers with Python's str.lower; TextVectorization
// lowers with tf.strings.lower, which touches ASCII A-Z only.
func ExampleASCIILower() {
	for _, s := range []string{"ΟΔΟΣ İstanbul Straße ÉTÉ"} {
		fmt.Printf("%q\n", text.PythonLower(s))
		fmt.Printf("%q\n", text.ASCIILower(s))
	}
	// Output:
	// "οδος i̇stanbul straße été"
	// "ΟΔΟΣ İstanbul straße ÉtÉ"
}
