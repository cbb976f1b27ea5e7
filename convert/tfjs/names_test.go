package tfjs

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/internal/modeltest"
)

// renameWeights rewrites the fixture's weight names, in manifest order
// (LSTM kernel, recurrent kernel, bias; Dense kernel, bias).
func renameWeights(names ...string) func(files map[string][]byte) {
	return func(files map[string][]byte) {
		old := []string{"lstm_LSTM1/kernel", "lstm_LSTM1/recurrent_kernel", "lstm_LSTM1/bias", "dense_Dense1/kernel", "dense_Dense1/bias"}
		s := string(files["model.json"])
		for i, n := range names {
			s = strings.Replace(s, `"name": "`+old[i]+`"`, `"name": "`+n+`"`, 1)
		}
		files["model.json"] = []byte(s)
	}
}

// TestWeightNameForms reads the fixture with the weight names of every
// converter: tfjs-layers' "layer/weight", the Keras 3 converter's
// "model/layer/weight" (with the cell scope it adds), and names from an
// earlier build of the model ("lstm_1/..."), which pair with the layers
// by model order. Each must give the same weights to the same layers.
func TestWeightNameForms(t *testing.T) {
	want, err := Read(fixtureFS(nil), "model.json", convert.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantData := func(m *convert.Model) [][]float32 {
		var out [][]float32
		for _, w := range modeltest.Weights(m.Graph) {
			out = append(out, w.Data)
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		names []string
	}{
		{"keras3 model prefix", []string{"sequential_1/lstm_LSTM1/lstm_cell/kernel", "sequential_1/lstm_LSTM1/lstm_cell/recurrent_kernel", "sequential_1/lstm_LSTM1/lstm_cell/bias", "sequential_1/dense_Dense1/kernel", "sequential_1/dense_Dense1/bias"}},
		{"earlier build names", []string{"lstm_1/kernel", "lstm_1/recurrent_kernel", "lstm_1/bias", "dense_1/kernel", "dense_1/bias"}},
		{"earlier build names under the model", []string{"sequential_1/lstm_1/kernel", "sequential_1/lstm_1/recurrent_kernel", "sequential_1/lstm_1/bias", "sequential_1/dense_1/kernel", "sequential_1/dense_1/bias"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(fixtureFS(renameWeights(tc.names...)), "model.json", convert.ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(wantData(got), wantData(want)) {
				t.Error("weights differ from the fixture's")
			}
		})
	}
}

// TestWeightNamesUnmatched checks the error when neither names nor
// positions can pair weights with layers: it names the layers and the
// weights.
func TestWeightNamesUnmatched(t *testing.T) {
	edit := renameWeights("a/kernel", "b/recurrent_kernel", "c/bias", "d/kernel", "e/bias")
	_, err := Read(fixtureFS(edit), "model.json", convert.ParseOptions{})
	if !errors.Is(err, convert.ErrWeights) {
		t.Fatalf("got %v, want ErrWeights", err)
	}
	for _, part := range []string{"model.json", "lstm_LSTM1, dense_Dense1", "could not be matched", "a/kernel"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
}
