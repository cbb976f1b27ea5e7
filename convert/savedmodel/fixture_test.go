package savedmodel

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/internal/modeltest"
	"github.com/rnnkit/rnnkit/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite testdata/savedmodel fixtures")

const fixtureRoot = "../../testdata/savedmodel"

// fixtureValues are the stored values of fixture tensor t: exact in
// float32, distinct across tensors.
func fixtureValues(t, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(t*100+i) / 64
	}
	return v
}

// fixtureWeight is one variable of the fixture model, in Keras order.
type fixtureWeight struct {
	name, key string
	shape     []int
}

// The fixture is Sequential(InputLayer [None,3,2], LSTM(2), Dense(1)) as
// tf.keras 2.8 saves it: the LSTM cell's variables reachable first through
// the model's "variables" alias (keys variables/N), the Dense's through
// layer_with_weights-1.
var fixtureWeights = []fixtureWeight{
	{"lstm/lstm_cell/kernel", "variables/0/.ATTRIBUTES/VARIABLE_VALUE", []int{2, 8}},
	{"lstm/lstm_cell/recurrent_kernel", "variables/1/.ATTRIBUTES/VARIABLE_VALUE", []int{2, 8}},
	{"lstm/lstm_cell/bias", "variables/2/.ATTRIBUTES/VARIABLE_VALUE", []int{8}},
	{"dense/kernel", "layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE", []int{2, 1}},
	{"dense/bias", "layer_with_weights-1/bias/.ATTRIBUTES/VARIABLE_VALUE", []int{1}},
}

const fixtureModelConfig = `{"class_name": "Sequential", "config": {"name": "sequential", "layers": [` +
	`{"class_name": "InputLayer", "config": {"batch_input_shape": {"class_name": "__tuple__", "items": [null, 3, 2]}, "dtype": "float32", "sparse": false, "ragged": false, "name": "input_1"}},` +
	`{"class_name": "LSTM", "config": {"name": "lstm", "trainable": true, "dtype": "float32", "return_sequences": false, "return_state": false, "go_backwards": false, "stateful": false, "unroll": false, "time_major": false, "units": 2, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": true, "unit_forget_bias": true, "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 2}},` +
	`{"class_name": "Dense", "config": {"name": "dense", "trainable": true, "dtype": "float32", "units": 1, "activation": "linear", "use_bias": true}}]}}`

func fixtureRootMetadata(version string) string {
	return `{"name": "sequential", "trainable": true, "class_name": "Sequential", "keras_version": "` + version +
		`", "backend": "tensorflow", "model_config": ` + fixtureModelConfig + `}`
}

// fixtureObjects is the checkpoint object graph (node ids as listed).
func fixtureObjects() []objNodeSpec {
	n := make([]objNodeSpec, 15)
	n[0].children = []objRef{{1, "layer_with_weights-0"}, {1, "layer-0"}, {2, "layer_with_weights-1"}, {2, "layer-1"}, {14, "optimizer"}, {3, "variables"}, {3, "trainable_variables"}}
	n[1].children = []objRef{{4, "cell"}, {5, "variables"}, {5, "trainable_variables"}}
	n[2].children = []objRef{{6, "kernel"}, {7, "bias"}, {8, "variables"}}
	n[3].children = []objRef{{9, "0"}, {10, "1"}, {11, "2"}, {6, "3"}, {7, "4"}}
	n[4].children = []objRef{{9, "kernel"}, {10, "recurrent_kernel"}, {11, "bias"}, {12, "variables"}}
	n[5].children = []objRef{{9, "0"}, {10, "1"}, {11, "2"}}
	n[8].children = []objRef{{6, "0"}, {7, "1"}}
	n[12].children = []objRef{{9, "0"}, {10, "1"}, {11, "2"}}
	for i, node := range []int{9, 10, 11, 6, 7} {
		n[node].varName, n[node].varKey = fixtureWeights[i].name, fixtureWeights[i].key
	}
	n[13].varName, n[13].varKey = "Adam/iter", "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE"
	n[14].children = []objRef{{13, "iter"}}
	return n
}

// addFixtureWeights adds the fixture model's float weights.
func (w *bundleWriter) addFixtureWeights() {
	for i, fw := range fixtureWeights {
		n := 1
		for _, d := range fw.shape {
			n *= d
		}
		w.addFloat32(fw.key, fw.shape, fixtureValues(i, n))
	}
}

// fixtureBundle writes the variables of the fixture model.
func fixtureBundle(blockSize int) (index, data []byte) {
	w := newBundleWriter()
	w.addFixtureWeights()
	w.addInt64("optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE", 7)
	w.addString(objectGraphKey, trackableGraphProto(fixtureObjects()))
	return w.index(blockSize), w.data
}

// fixtureFiles returns the files of both fixture directories: tf28 (with
// keras_metadata.pb, as TF ≥ 2.5 writes) and tf24 (Keras metadata only in
// saved_model.pb).
func fixtureFiles() map[string][]byte {
	index, data := fixtureBundle(256)
	meta := kerasMetadataProto([]metadataNodeSpec{
		{0, "root", "_tf_keras_sequential", fixtureRootMetadata("2.8.0")},
		{1, "root.layer_with_weights-0", "_tf_keras_rnn_layer", `{"name": "lstm", "class_name": "LSTM"}`},
		{2, "root.layer_with_weights-1", "_tf_keras_layer", `{"name": "dense", "class_name": "Dense"}`},
		{4, "root.layer_with_weights-0.cell", "_tf_keras_layer", `{"name": "lstm_cell", "class_name": "LSTMCell"}`},
	})
	// saved_model.pb object graph: same paths, Keras metadata in user objects.
	sm := []objNodeSpec{
		{children: []objRef{{1, "layer_with_weights-0"}, {2, "layer_with_weights-1"}, {1, "layer-0"}}, identifier: "_tf_keras_sequential", metadata: fixtureRootMetadata("2.4.0")},
		{children: []objRef{{3, "cell"}}, identifier: "_tf_keras_rnn_layer", metadata: `{"name": "lstm", "class_name": "LSTM"}`},
		{identifier: "_tf_keras_layer", metadata: `{"name": "dense", "class_name": "Dense"}`},
		{identifier: "_tf_keras_layer", metadata: `{"name": "lstm_cell", "class_name": "LSTMCell"}`},
	}
	return map[string][]byte{
		"lstm_dense_tf28/keras_metadata.pb":                       meta,
		"lstm_dense_tf28/saved_model.pb":                          savedModelProto(nil),
		"lstm_dense_tf28/variables/variables.index":               index,
		"lstm_dense_tf28/variables/variables.data-00000-of-00001": data,
		"lstm_dense_tf24/saved_model.pb":                          savedModelProto(sm),
		"lstm_dense_tf24/variables/variables.index":               index,
		"lstm_dense_tf24/variables/variables.data-00000-of-00001": data,
	}
}

// TestFixtures checks that the committed fixtures are what the writer
// produces (so they stay reproducible), and rewrites them with -update.
func TestFixtures(t *testing.T) {
	testutil.CheckFixtures(t, fixtureRoot, fixtureFiles(), *update)
}

// TestReadFixture reads both fixture directories and checks every weight
// value against what the writer stored.
func TestReadFixture(t *testing.T) {
	for _, tc := range []struct{ dir, version string }{
		{"lstm_dense_tf28", "2.8.0"},
		{"lstm_dense_tf24", "2.4.0"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			m, err := ReadDir(filepath.Join(fixtureRoot, tc.dir), convert.ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if m.KerasVersion != tc.version || m.Backend != "tensorflow" || m.Format != Format {
				t.Errorf("version %q backend %q format %q", m.KerasVersion, m.Backend, m.Format)
			}
			var names []string
			for _, l := range m.Graph.Layers {
				names = append(names, l.Name+":"+l.ClassName)
			}
			if want := []string{"input_1:InputLayer", "lstm:LSTM", "dense:Dense"}; !reflect.DeepEqual(names, want) {
				t.Fatalf("layers %v, want %v", names, want)
			}
			got := modeltest.Weights(m.Graph)
			if len(got) != len(fixtureWeights) {
				t.Fatalf("%d weights, want %d", len(got), len(fixtureWeights))
			}
			for i, w := range got {
				fw := fixtureWeights[i]
				if w.Name != fw.name || !reflect.DeepEqual(w.Shape, fw.shape) || !reflect.DeepEqual(w.Data, fixtureValues(i, len(w.Data))) {
					t.Errorf("weight %d: %s %v %v, want %s %v", i, w.Name, w.Shape, w.Data, fw.name, fw.shape)
				}
			}
		})
	}
}

// TestBundleFixture reads the fixture bundle directly, including the
// int64 optimizer variable and the string object graph.
func TestBundleFixture(t *testing.T) {
	b, err := OpenBundle(os.DirFS(filepath.Join(fixtureRoot, "lstm_dense_tf28")), "variables/variables")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if len(b.Keys()) != len(fixtureWeights)+2 {
		t.Errorf("%d keys: %v", len(b.Keys()), b.Keys())
	}
	raw, err := b.ReadRaw("optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE")
	if err != nil || !bytes.Equal(raw, []byte{7, 0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("iter: %v %v", raw, err)
	}
	if _, _, err := b.ReadFloat32("optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE"); err == nil {
		t.Error("ReadFloat32 of an int64 tensor succeeded")
	}
	// The writer cut several data blocks so that the index walk is tested.
	index, err := os.ReadFile(filepath.Join(fixtureRoot, "lstm_dense_tf28", "variables", "variables.index"))
	if err != nil {
		t.Fatal(err)
	}
	footer := index[len(index)-footerLen:]
	_, n := decodeHandle(footer)
	ih, _ := decodeHandle(footer[n:])
	blk, err := readBlock(index, ih, "index", "index block", len(index)-footerLen)
	if err != nil {
		t.Fatal(err)
	}
	budget := 1 << 20
	if handles, err := parseBlock(blk, "index", "index block", 0, &budget); err != nil || len(handles) < 2 {
		t.Errorf("fixture index has %d data blocks (%v), want several", len(handles), err)
	}
	s, err := b.ReadStrings(objectGraphKey)
	if err != nil || len(s) != 1 || !bytes.Equal(s[0], trackableGraphProto(fixtureObjects())) {
		t.Errorf("object graph: %v", err)
	}
}
