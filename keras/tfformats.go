package keras

import (
	"fmt"
	"io/fs"

	"github.com/rnnkit/rnnkit/convert/savedmodel"
	"github.com/rnnkit/rnnkit/convert/tfjs"
)

// loadSavedModel loads a TensorFlow SavedModel directory written by
// tf.keras (keras_metadata.pb + variables).
func loadSavedModel(fsys fs.FS, dir, display string, o *options) (*Model, error) {
	desc, err := savedmodel.Read(fsys, dir, o.parseOptions(display))
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	return build(desc, o)
}

// loadTFJS loads a TF.js layers model (model.json + weight shards).
func loadTFJS(fsys fs.FS, name, display string, o *options) (*Model, error) {
	desc, err := tfjs.Read(fsys, name, o.parseOptions(display))
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	return build(desc, o)
}
