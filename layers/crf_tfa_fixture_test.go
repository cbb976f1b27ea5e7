package layers_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/internal/npy"
	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/layers"
	"github.com/rnnkit/rnnkit/runtime"
)

// TestTFACRFTaggerFile loads testdata/tfacrf's tf.keras 2.x legacy HDF5
// taggers (Input → Embedding(mask_zero) → BiLSTM → tfa CRF, written by
// generate.py with h5py in the layout tf.keras writes; TensorFlow and
// tensorflow-addons are not installable here) through keras.Load. The
// expected CRF outputs come from the float64 reference of tfa's
// published equations (crf_tfa_test.go), not from tfa itself: probe.h5
// also outputs the BiLSTM, whose values are the reference's input, with
// the mask of the ids != 0 as Embedding(mask_zero) gives it.
func TestTFACRFTaggerFile(t *testing.T) {
	dir := filepath.Join("..", "testdata", "tfacrf")
	f, err := os.Open(filepath.Join(dir, "ids.npy"))
	if err != nil {
		t.Fatal(err)
	}
	h, ids, err := npy.Read(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	B, T := h.Shape[0], h.Shape[1]
	mask := make([]float32, len(ids))
	intIDs := make([]int, len(ids))
	for i, v := range ids {
		intIDs[i] = int(v)
		if v != 0 {
			mask[i] = 1
		}
	}
	in, err := keras.FromTokenIDs(intIDs, B, T)
	if err != nil {
		t.Fatal(err)
	}
	tagger, err := keras.Load(filepath.Join(dir, "tagger.h5"))
	if err != nil {
		t.Fatal(err)
	}
	probe, err := keras.Load(filepath.Join(dir, "probe.h5"))
	if err != nil {
		t.Fatal(err)
	}
	var spec = probe.Description().Graph.Layers[3]
	if spec.Name != "crf" {
		t.Fatalf("layer 3 is %q", spec.Name)
	}
	l, err := layers.Standard().Build(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	crf, ok := l.(*layers.TFACRF)
	if !ok {
		t.Fatalf("crf built as %T", l)
	}
	pouts, err := probe.PredictValues(runtime.Value{T: in})
	if err != nil {
		t.Fatal(err)
	}
	if len(pouts) != 5 {
		t.Fatalf("probe: %d outputs, want 5", len(pouts))
	}
	x := pouts[0].T
	if x.Rank() != 3 || x.Shape[2] != crf.InputDim {
		t.Fatalf("BiLSTM output shape %v", x.Shape)
	}
	layers.CheckTFACRF(t, crf, pouts[1:], x.Data, mask, B, T)
	for b, want := range []float32{6, 3, 1, 0} {
		if got := pouts[3].T.Data[b]; got != want {
			t.Errorf("sequence_length[%d] = %v, want %v", b, got, want)
		}
	}

	outs, err := tagger.Predict(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 4 {
		t.Fatalf("tagger: %d outputs, want 4", len(outs))
	}
	for i, o := range outs {
		p := pouts[i+1].T
		if len(o.Data) != len(p.Data) {
			t.Fatalf("output %d: shape %v, probe's %v", i, o.Shape, p.Shape)
		}
		for j := range o.Data {
			if o.Data[j] != p.Data[j] {
				t.Fatalf("output %d [%d]: tagger %v, probe %v", i, j, o.Data[j], p.Data[j])
			}
		}
	}
	if specs := tagger.Outputs(); len(specs) != 4 {
		t.Errorf("tagger.Outputs(): %d specs, want 4", len(specs))
	}
	into := make([]*keras.Tensor, 4)
	if err := tagger.PredictInto(context.Background(), into, in); err != nil {
		t.Fatal(err)
	}
	for i := range into {
		if len(into[i].Data) != len(outs[i].Data) {
			t.Errorf("PredictInto output %d: shape %v, Predict's %v", i, into[i].Shape, outs[i].Shape)
		}
	}
	t.Logf("decoded tags %v", outs[0].Data)
}
