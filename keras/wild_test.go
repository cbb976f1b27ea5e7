package keras_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/internal/testutil"
	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/runtime"
)

// wildReference is testdata/goldens-wild-oracle/realfiles.json: Keras
// 3.16's outputs for the real files on the generated input (written by
// gen_wild_realfiles.py there).
type wildReference struct {
	Cases []struct {
		Dir    string    `json:"dir"`
		Output []float64 `json:"output"`
	} `json:"cases"`
}

// TestWildConvolutional loads the real ConvLSTM2D + MaxPooling3D models
// (232: Keras 3.7, 244: tf.keras 2.7 with Keras 2's hard_sigmoid) and the
// LRCN video classifier (235: TimeDistributed Conv2D/MaxPooling2D/Flatten
// before an LSTM, Keras 3.8), runs each on a generated input of batch 2
// and compares with Keras 3.16's outputs for the same input
// (realfiles.json); it also checks what the models' last layers promise
// (probabilities, softmax rows summing to 1) and that a row alone gives
// what it gives in the batch.
func TestWildConvolutional(t *testing.T) {
	// The real files (../shared/wild) are never copied into this
	// repository; SharedDir skips when the corpus is absent.
	wildDir := testutil.SharedDir(t, "wild")
	data, err := os.ReadFile("../testdata/goldens-wild-oracle/realfiles.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref wildReference
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	want := map[string][]float64{}
	for _, c := range ref.Cases {
		want[c.Dir] = c.Output
	}
	for _, c := range []struct {
		dir, file string
		out       []int
		softmax   bool
	}{
		{"232_OceanObservation_convlstm_model_h5", "convlstm_model.h5", []int{2, 1}, false},
		{"244_stp_models_convlstm_model_h5", "convlstm_model.h5", []int{2, 1}, false},
		{"235_human_activity_rec_LRCN_model_h5", "LRCN_model.h5", []int{2, 4}, true},
	} {
		t.Run(c.dir, func(t *testing.T) {
			m, err := keras.Load(filepath.Join(wildDir, c.dir, c.file))
			if err != nil {
				t.Fatal(err)
			}
			in := m.Inputs()
			if len(in) != 1 {
				t.Fatalf("inputs %v: want one", in)
			}
			shape := append([]int(nil), in[0].Shape...)
			shape[0] = 2
			x := runtime.NewTensor(shape...)
			for i := range x.Data {
				// A smooth deterministic pattern in [0, 1), different per row.
				x.Data[i] = float32(0.5 + 0.5*math.Sin(float64(i)*0.37+float64(i*i%7)))
			}
			outs, err := m.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			y := outs[0]
			if len(y.Shape) != len(c.out) || y.Shape[0] != c.out[0] || y.Shape[1] != c.out[1] {
				t.Fatalf("output shape %v, want %v", y.Shape, c.out)
			}
			if w := want[c.dir]; len(w) != len(y.Data) {
				t.Errorf("Keras reference has %d outputs, got %d", len(w), len(y.Data))
			} else {
				for i, v := range y.Data {
					if d := math.Abs(float64(v) - w[i]); d > 1e-5+1e-4*math.Abs(w[i]) {
						t.Errorf("output %d = %v, Keras %v (diff %.3g)", i, v, w[i], d)
					}
				}
			}
			for i, v := range y.Data {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || v < 0 || v > 1 {
					t.Errorf("output %d = %v, want a probability", i, v)
				}
			}
			if c.softmax {
				for r := 0; r < y.Shape[0]; r++ {
					var s float64
					for _, v := range y.Data[r*y.Shape[1] : (r+1)*y.Shape[1]] {
						s += float64(v)
					}
					if math.Abs(s-1) > 1e-5 {
						t.Errorf("softmax row %d sums to %v", r, s)
					}
				}
			}
			// Row 1 alone must give the batch's row 1.
			per := x.Len() / 2
			x1, err := runtime.FromData(append([]float32(nil), x.Data[per:]...), append([]int{1}, shape[1:]...)...)
			if err != nil {
				t.Fatal(err)
			}
			o1, err := m.Predict(x1)
			if err != nil {
				t.Fatal(err)
			}
			w := y.Shape[1]
			for j := 0; j < w; j++ {
				if got, want := o1[0].Data[j], y.Data[w+j]; math.Abs(float64(got-want)) > 1e-5+1e-4*math.Abs(float64(want)) {
					t.Errorf("row 1 alone: output %d = %v, in the batch %v", j, got, want)
				}
			}
		})
	}
}
