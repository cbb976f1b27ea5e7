// Package convert turns Keras model files into a model description that
// does not depend on the format or the Keras version that wrote them.
//
// Each source format has a reader (legacy HDF5 full models and weights,
// Keras 3 .keras zips and .weights.h5, architecture JSON, SavedModel,
// TF.js). All of them produce a *Model: a graph of layers whose options use
// Keras 3 names and whose weights come in Keras' per-class order. Every
// difference between Keras versions (Keras 1 per-gate LSTM weights, CuDNN
// layouts, GRU reset_after defaults, hard_sigmoid definitions, Keras 2 and
// 3 inbound node forms) is settled here, once, so layers see one schema.
//
// The formats are described in shared/docs/keras-formats.md: legacy HDF5
// (§1: root attributes, model_weights, split list attributes, weight order
// and Keras' legacy conversions §1.4-1.6), Keras 3 zips and .weights.h5
// (§2: object-tree paths), architecture JSON of every generation (§3).
//
// Normalized options, beyond Keras 3 names: activations are plain strings,
// and "hard_sigmoid" written by Keras < 3 becomes "hard_sigmoid_keras2"
// (clip(0.2x+0.5, 0, 1)); dtype policies are their names ("float32",
// "mixed_float16"); InputLayer carries its shape under both "batch_shape"
// and "batch_input_shape"; GRU always has "reset_after" and LSTM/GRU
// "recurrent_activation" (the writer's defaults, or what the weights
// prove); CuDNNLSTM/CuDNNGRU become LSTM/GRU with tanh/sigmoid and
// reset_after; Keras 1 Merge becomes the matching merge layer. Kwargs whose
// value is null (Keras 3 "mask": null) are dropped.
package convert

// Model is a loaded Keras model: its graph and where it came from.
type Model struct {
	// File names the file or directory the model was read from.
	File string
	// Format names the container: "keras-h5" (legacy HDF5 full model),
	// "keras-zip" (.keras), "json+weights", "savedmodel", "tfjs".
	Format string
	// KerasVersion is the Keras version whose semantics were applied: the
	// ParseOptions override, else the writer's version as the file records
	// it ("2.1.2", "2.2.4-tf", "3.16.0"), else the generation guessed from
	// the config's form ("1", "2" or "3").
	KerasVersion string
	// Backend is the writer's backend ("tensorflow", "theano", "numpy"), or "".
	Backend string
	// Graph is the top-level model.
	Graph *Graph
}

// Graph is a Sequential or Functional model: its layers and the calls
// that connect them. Sequential models are normalized to the functional
// form: an InputLayer followed by one call of each layer on the previous
// layer's output.
type Graph struct {
	Name string
	// ClassName is "Sequential", "Functional" or "Model" as written.
	ClassName string
	// Layers in config order, which Keras guarantees is topological.
	// InputLayer entries are included.
	Layers []*Layer
	// Inputs and Outputs are the model's input and output tensors in order.
	Inputs  []TensorRef
	Outputs []TensorRef
}

// Layer is one layer (or Keras 3 op node) of a Graph.
type Layer struct {
	Name string
	// ClassName is the Keras class ("LSTM", "Dense", "NotEqual"). Keras 1
	// and CuDNN classes are normalized to their standard equivalents, and
	// so are aliases.
	ClassName string
	// Module is the Keras 3 module ("keras.layers", "keras.src.ops.numpy"),
	// or "".
	Module string
	// Config holds the layer's options under Keras 3 names.
	Config Config
	// Weights in Keras' order for the class (Dense: kernel, bias; LSTM:
	// kernel, recurrent_kernel, bias), already converted to the standard
	// layout.
	Weights []Weight
	// Nodes holds one entry per call of the layer in the graph; a shared
	// layer has several. InputLayer has none.
	Nodes []Node
	// Inner is the model itself when this layer is a nested Sequential or
	// Functional model.
	Inner *Graph
	// Assets holds the files Keras saved for the layer outside its
	// weights, by path under the layer's asset folder: a .keras archive's
	// assets/<object path>/ members ("vocabulary.txt",
	// "_lookup_layer/vocabulary.txt"). nil when there are none.
	Assets map[string][]byte
	// Vocabulary is a lookup layer's vocabulary (TextVectorization,
	// StringLookup, IntegerLookup) in id order, as the file stored it
	// apart from the config: read from the .keras asset vocabulary.txt as
	// Keras' load_assets reads it, or from a tf.keras SavedModel's lookup
	// table (its keys ordered by their ids, or its asset file). nil when
	// the file keeps none (a Keras 3 legacy .h5 drops it).
	Vocabulary []string
	// SavedUnbuilt reports a Keras 3 config entry without a build_config:
	// Keras saved the layer before building it, so it has no weights.
	SavedUnbuilt bool

	// origClass is the class name as written, before aliases were
	// resolved: Keras 3 weight paths are derived from it.
	origClass string
	// defaulted lists options the config omitted and convert filled with
	// the writer's default; the weights may still settle them (GRU
	// reset_after from the bias rank).
	defaulted []string
}

// OriginalClassName returns the class name the file gave the layer before
// aliases and Keras 1/CuDNN classes were normalized ("CuDNNLSTM",
// "Convolution1D"), or ClassName when it was not changed.
func (l *Layer) OriginalClassName() string {
	if l.origClass == "" {
		return l.ClassName
	}
	return l.origClass
}

// TensorRef names a tensor as Keras does: the layer that produced it, which
// call of that layer (node index), and which of that call's outputs.
type TensorRef struct {
	Layer string
	Node  int
	Index int
}

// Node is one call of a layer: the Keras call's positional and keyword
// arguments. Keras 1/2 inbound nodes are normalized to this form (their
// tensor list becomes Args[0]; RNN initial states given as extra inputs
// become the "initial_state" keyword).
type Node struct {
	Args   []Arg
	Kwargs map[string]Arg
}

// Arg is one argument of a layer call: tensors or a constant.
type Arg struct {
	// Tensors is set for a tensor argument, one entry per tensor. In a
	// list argument an entry with an empty Layer stands for None (Keras 3
	// Attention called with mask=[None, value_mask]).
	Tensors []TensorRef
	// IsList reports that the argument was a list in the call.
	IsList bool
	// Const is the value of a non-tensor argument, decoded from JSON:
	// float64, bool, string, nil, []any or map[string]any.
	Const any
}

// Weight is one named weight tensor of a layer.
type Weight struct {
	// Name is the weight's name as the file gives it ("lstm/lstm_cell/kernel:0",
	// "vars/0"), for error messages.
	Name  string
	Shape []int
	Data  []float32
}

// AnyLayer reports whether f holds for a layer of g: its layers, nested
// models' layers and wrapped layers (a wrapper's "layer", a Bidirectional's
// "forward_layer" and "backward_layer", an RNN's "cell"), depth-first, to
// a nesting depth of 16.
func AnyLayer(g *Graph, f func(*Layer) bool) bool {
	var layer func(l *Layer, depth int) bool
	layer = func(l *Layer, depth int) bool {
		if depth > 16 {
			return false
		}
		if f(l) {
			return true
		}
		for _, k := range []string{"layer", "backward_layer", "forward_layer", "cell"} {
			if sub, ok := l.Config[k].(*Layer); ok && layer(sub, depth+1) {
				return true
			}
		}
		if l.Inner != nil {
			for _, sub := range l.Inner.Layers {
				if layer(sub, depth+1) {
					return true
				}
			}
		}
		return false
	}
	if g == nil {
		return false
	}
	for _, l := range g.Layers {
		if layer(l, 0) {
			return true
		}
	}
	return false
}
