package keras_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/layers"
	"github.com/rnnkit/rnnkit/runtime"
)

// maskedMeanPooling is a layer Keras does not ship, written in Go: the mean
// over time of the steps the mask keeps, [batch, time, features] ->
// [batch, features]. Its math is Keras' masked GlobalAveragePooling1D:
// sum(x * mask) / sum(mask), summed in time order.
type maskedMeanPooling struct{ name string }

func (p maskedMeanPooling) Name() string      { return p.name }
func (p maskedMeanPooling) ClassName() string { return "MaskedMeanPooling" }

func (p maskedMeanPooling) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in := call.Inputs()
	if len(in) != 1 || in[0].T == nil || len(in[0].T.Shape) != 3 {
		return nil, fmt.Errorf("%s: want one [batch, time, features] input", p.name)
	}
	x := in[0].T
	mask := in[0].Mask // the Embedding's mask_zero mask
	if m, ok := call.Kwarg("mask"); ok && len(m.Values) == 1 {
		mask = m.Values[0].T // Keras 3 functional configs pass it explicitly
	}
	batch, steps, features := x.Shape[0], x.Shape[1], x.Shape[2]
	if mask != nil && len(mask.Data) != batch*steps {
		return nil, fmt.Errorf("%s: mask shape %v, want [%d %d]", p.name, mask.Shape, batch, steps)
	}
	out := runtime.NewTensor(batch, features)
	for b := range batch {
		sum := out.Data[b*features : (b+1)*features]
		var kept float32
		for t := range steps {
			w := float32(1)
			if mask != nil {
				w = mask.Data[b*steps+t]
			}
			kept += w
			for f, v := range x.Data[(b*steps+t)*features : (b*steps+t+1)*features] {
				sum[f] += v * w
			}
		}
		for f := range sum {
			sum[f] /= kept
		}
	}
	return []runtime.Value{{T: out}}, nil // the mask stops here, as in Keras
}

// WithLayer plugs in a Go implementation of a custom class. The model in
// testdata/example/custom_layer is the golden case global_avg_pool1d_masked
// (Embedding with mask_zero -> GlobalAveragePooling1D) with the pooling
// layer's class renamed to MaskedMeanPooling; since the Go layer computes
// the same masked mean, the model reproduces Keras' own output y0.npy
// (ignoring the mask would not: the input rows are padded with 0).
func ExampleWithLayer_customClass() {
	const dir = "../testdata/example/custom_layer/"
	pooling := func(spec *convert.Layer, env *layers.Env) (runtime.Layer, error) {
		if len(spec.Weights) != 0 {
			return nil, fmt.Errorf("%s: MaskedMeanPooling has no weights, got %d", spec.Name, len(spec.Weights))
		}
		return maskedMeanPooling{name: spec.Name}, nil
	}
	m, err := keras.LoadConfigAndWeights(dir+"model.json", dir+"model.weights.h5",
		keras.WithLayer("MaskedMeanPooling", pooling))
	if err != nil {
		log.Fatal(err)
	}
	x, err := keras.ReadNPYFile(dir + "x0.npy") // [3, 7] token ids, 0 = padding
	if err != nil {
		log.Fatal(err)
	}
	out, err := m.Predict(x)
	if err != nil {
		log.Fatal(err)
	}
	want, err := keras.ReadNPYFile(dir + "y0.npy")
	if err != nil {
		log.Fatal(err)
	}
	r := keras.Compare(out[0], want, keras.DefaultAtol, keras.DefaultRtol)
	fmt.Println("output shape:", out[0].Shape)
	fmt.Println("matches Keras' y0:", r.OK())

	// Without the registration, Load names the missing class.
	_, err = keras.LoadConfigAndWeights(dir+"model.json", dir+"model.weights.h5")
	fmt.Println(errors.Is(err, keras.ErrUnsupported))
	// Output:
	// output shape: [3 6]
	// matches Keras' y0: true
	// true
}
