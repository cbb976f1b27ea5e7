package keras

import (
	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/convert/keras3"
)

// SaveOptions change how SaveKeras writes a model.
type SaveOptions struct {
	// Float16 stores the weights as IEEE float16.
	Float16 bool
	// WeightsOnly writes a Keras 3 .weights.h5 (model.save_weights)
	// instead of a .keras zip.
	WeightsOnly bool
}

// SaveReport says what SaveKeras wrote: layer and parameter counts and
// the options whose meaning Keras 3 cannot express (see
// keras3.Approximation), which the file holds in Keras 3's nearest form.
type SaveReport = keras3.Report

// SaveKeras writes the model as Keras 3 writes a .keras file (or a
// .weights.h5 with WeightsOnly), whatever format it was loaded from, so
// that Keras 3's keras.models.load_model reads it: Keras 3 class and option
// names, weights under Keras 3's paths and in its layouts (CuDNN and
// Keras 1 weights already converted at load). The file appears at path
// only once complete.
//
// The report lists the options written with another meaning (a Keras 1
// or 2 hard_sigmoid, which Keras 3 defines differently); callers that must
// not change a model's numbers refuse to use such a file, as rnnconvert
// convert does unless given --allow-approx.
func (m *Model) SaveKeras(path string, opt SaveOptions) (*SaveReport, error) {
	wopt := keras3.Options{Float16: opt.Float16, Shapes: m.tensorShapes()}
	return keras3.WriteFile(path, m.desc, wopt, opt.WeightsOnly)
}

// tensorShapes maps every top-level layer output to its shape from the
// trial runs (nil when they failed).
func (m *Model) tensorShapes() map[convert.TensorRef][]int {
	si, err := m.shapeInfo()
	if err != nil {
		return nil
	}
	out := make(map[convert.TensorRef][]int)
	for i, n := range m.nodes {
		if i >= len(si.nodes) || n.layer == nil {
			continue
		}
		for j, s := range si.nodes[i] {
			if s != nil {
				out[convert.TensorRef{Layer: n.layer.Name, Node: n.index, Index: j}] = s
			}
		}
	}
	return out
}

// Keras3ConfigJSON returns the config.json SaveKeras writes: the model's
// architecture as Keras 3's model.to_json() gives it.
func (m *Model) Keras3ConfigJSON() ([]byte, error) {
	b, _, err := keras3.ConfigJSON(m.desc, keras3.Options{Shapes: m.tensorShapes()})
	return b, err
}
