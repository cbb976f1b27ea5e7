package keras

import (
	"fmt"
	"io/fs"
)

// loadSavedModel loads a TensorFlow SavedModel directory written by
// tf.keras (keras_metadata.pb + variables).
func loadSavedModel(fsys fs.FS, dir, display string, o *options) (*Model, error) {
	_, _, _ = fsys, dir, o
	return nil, fmt.Errorf("keras: %s: TensorFlow SavedModel: reader not built into this version: %w", display, ErrUnsupported)
}

// loadTFJS loads a TF.js layers model (model.json + weight shards).
func loadTFJS(fsys fs.FS, name, display string, o *options) (*Model, error) {
	_, _, _ = fsys, name, o
	return nil, fmt.Errorf("keras: %s: TF.js layers model: reader not built into this version: %w", display, ErrUnsupported)
}
