package tfjs

import (
	"encoding/binary"
	"flag"
	"math"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/internal/float16"
	"github.com/rnnkit/rnnkit/internal/modeltest"
	"github.com/rnnkit/rnnkit/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite testdata/tfjs fixtures")

const fixtureDir = "../../testdata/tfjs/quantized"

// fixtureModelJSON is a tfjs-layers style model.json for
// Sequential(LSTM(2) on [None, 3, 2], Dense(1)) whose single weight group
// is split over two shards (the split falls inside a weight) and mixes
// uint8, uint16 and float16 quantization with plain float32.
const fixtureModelJSON = `{
  "format": "layers-model",
  "generatedBy": "TensorFlow.js tfjs-layers v4.20.0",
  "convertedBy": null,
  "modelTopology": {
    "class_name": "Sequential",
    "config": {
      "name": "sequential_1",
      "layers": [
        {"class_name": "LSTM", "config": {"name": "lstm_LSTM1", "trainable": true, "units": 2, "activation": "tanh",
          "recurrent_activation": "hard_sigmoid", "use_bias": true, "unit_forget_bias": null, "dropout": 0,
          "recurrent_dropout": 0, "implementation": null, "return_sequences": false, "return_state": false,
          "go_backwards": false, "stateful": false, "unroll": false, "batch_input_shape": [null, 3, 2], "dtype": "float32"}},
        {"class_name": "Dense", "config": {"name": "dense_Dense1", "trainable": true, "units": 1, "activation": "linear", "use_bias": true}}
      ]
    },
    "keras_version": "tfjs-layers 4.20.0",
    "backend": "tensor_flow.js"
  },
  "weightsManifest": [
    {
      "paths": ["group1-shard1of2.bin", "group1-shard2of2.bin"],
      "weights": [
        {"name": "lstm_LSTM1/kernel", "shape": [2, 8], "dtype": "float32",
         "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1, "original_dtype": "float32"}},
        {"name": "lstm_LSTM1/recurrent_kernel", "shape": [2, 8], "dtype": "float32",
         "quantization": {"dtype": "uint16", "scale": 0.25, "min": 2, "original_dtype": "float32"}},
        {"name": "lstm_LSTM1/bias", "shape": [8], "dtype": "float32", "quantization": {"dtype": "float16"}},
        {"name": "dense_Dense1/kernel", "shape": [2, 1], "dtype": "float32"},
        {"name": "dense_Dense1/bias", "shape": [1], "dtype": "float32"}
      ]
    }
  ]
}
`

// float16 bit patterns stored for the LSTM bias and their exact values.
var (
	fixtureHalfBits   = []uint16{0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0x8000, 0x3800, 0x0400}
	fixtureHalfValues = []float32{1, -2, 0.333251953125, 5.9604644775390625e-08, 65504, float32(math.Copysign(0, -1)), 0.5, 6.103515625e-05}
)

// fixtureShards returns the weight bytes, split after 40 bytes.
func fixtureShards() (a, b []byte) {
	var buf []byte
	for i := 0; i < 16; i++ { // kernel: uint8 q = i
		buf = append(buf, byte(i))
	}
	for i := 0; i < 16; i++ { // recurrent_kernel: uint16 q = 4097*i
		buf = binary.LittleEndian.AppendUint16(buf, uint16(4097*i))
	}
	for _, h := range fixtureHalfBits {
		buf = binary.LittleEndian.AppendUint16(buf, h)
	}
	for _, v := range []float32{0.25, -0.75, 0.125} {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	return buf[:40], buf[40:]
}

func fixtureFiles() map[string][]byte {
	a, b := fixtureShards()
	return map[string][]byte{
		"model.json":           []byte(fixtureModelJSON),
		"group1-shard1of2.bin": a,
		"group1-shard2of2.bin": b,
	}
}

// TestFixtures checks the committed fixture against the writer above and
// rewrites it with -update.
func TestFixtures(t *testing.T) {
	testutil.CheckFixtures(t, fixtureDir, fixtureFiles(), *update)
}

// TestReadQuantized checks the dequantized values: uint8 q*0.5-1,
// uint16 q*0.25+2 with q = 4097*i (so 2 + 1024.25*i), and exact float16
// values including a subnormal, the largest finite half and -0.
func TestReadQuantized(t *testing.T) {
	m, err := ReadFile(filepath.Join(fixtureDir, "model.json"), convert.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Format != Format || m.KerasVersion != "tfjs-layers 4.20.0" || m.Backend != "tensor_flow.js" {
		t.Errorf("format %q version %q backend %q", m.Format, m.KerasVersion, m.Backend)
	}
	ws := modeltest.Weights(m.Graph)
	if len(ws) != 5 {
		t.Fatalf("%d weights, want 5", len(ws))
	}
	kernel := []float32{-1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5}
	recurrent := make([]float32, 16)
	for i := range recurrent {
		recurrent[i] = 2 + 1024.25*float32(i)
	}
	want := []convert.Weight{
		{Name: "lstm_LSTM1/kernel", Shape: []int{2, 8}, Data: kernel},
		{Name: "lstm_LSTM1/recurrent_kernel", Shape: []int{2, 8}, Data: recurrent},
		{Name: "lstm_LSTM1/bias", Shape: []int{8}, Data: fixtureHalfValues},
		{Name: "dense_Dense1/kernel", Shape: []int{2, 1}, Data: []float32{0.25, -0.75}},
		{Name: "dense_Dense1/bias", Shape: []int{1}, Data: []float32{0.125}},
	}
	for i := range want {
		if !reflect.DeepEqual(ws[i], want[i]) {
			t.Errorf("weight %d: %+v, want %+v", i, ws[i], want[i])
		}
	}
	if math.Signbit(float64(ws[2].Data[5])) != true {
		t.Error("float16 -0 lost its sign")
	}
	// TF.js semantics are Keras 2's: hard_sigmoid is the 0.2x+0.5 form.
	var lstm *convert.Layer
	for _, l := range m.Graph.Layers {
		if l.ClassName == "LSTM" {
			lstm = l
		}
	}
	if lstm == nil || lstm.Config["recurrent_activation"] != "hard_sigmoid_keras2" {
		t.Errorf("LSTM recurrent_activation %v, want hard_sigmoid_keras2", lstm.Config["recurrent_activation"])
	}
}

func TestHalfToFloat32(t *testing.T) {
	for i, h := range fixtureHalfBits {
		if got := float16.ToFloat32(h); got != fixtureHalfValues[i] || math.Signbit(float64(got)) != math.Signbit(float64(fixtureHalfValues[i])) {
			t.Errorf("half 0x%04x: %v, want %v", h, got, fixtureHalfValues[i])
		}
	}
	if got := float16.ToFloat32(0x7c00); !math.IsInf(float64(got), 1) {
		t.Errorf("half +Inf: %v", got)
	}
	if got := float16.ToFloat32(0xfe00); !math.IsNaN(float64(got)) {
		t.Errorf("half NaN: %v", got)
	}
}
