// Package text is Keras' text preprocessing in Go: the legacy Tokenizer
// (keras.preprocessing.text.Tokenizer, identical in tf.keras 2.x,
// keras_preprocessing and Keras 3's keras.src.legacy.preprocessing.text),
// keras.utils.pad_sequences, and vocabulary files for lookup layers.
//
// It turns strings into the token ids a model takes and ids back into
// strings. It reads the files projects ship beside their models: a
// Tokenizer's to_json() output (also JSON-encoded twice), a word-index
// JSON, and pickles of a Tokenizer or word-index dict (read with
// github.com/nlpodyssey/gopickle under an allow-list of classes; nothing in
// a pickle runs). Text is lowered as Python's str.lower lowers it
// (PythonLower), so ids match Keras' exactly.
//
// The package imports no model reader, layer or runtime.
package text
