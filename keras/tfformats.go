package keras

import (
	"fmt"

	"github.com/rnnkit/rnnkit/convert"
	"io/fs"

	"github.com/rnnkit/rnnkit/convert/savedmodel"
	"github.com/rnnkit/rnnkit/convert/tfjs"
)

// readSavedModel reads a TensorFlow SavedModel directory written by
// tf.keras (keras_metadata.pb + variables).
func readSavedModel(fsys fs.FS, dir, display string, o *options) (*convert.Model, error) {
	desc, err := savedmodel.Read(fsys, dir, o.parseOptions(display))
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	return desc, nil
}

// readTFJS reads a TF.js layers model (model.json + weight shards).
func readTFJS(fsys fs.FS, name, display string, o *options) (*convert.Model, error) {
	desc, err := tfjs.Read(fsys, name, o.parseOptions(display))
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	return desc, nil
}
