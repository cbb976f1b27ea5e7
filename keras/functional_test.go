package keras

import (
	"errors"
	"math"
	"sync"
	"testing"

	"github.com/rnnkit/rnnkit/layers"
	"github.com/rnnkit/rnnkit/runtime"
)

const s2sModel = "../testdata/goldens-text/s2s_char_lstm_translate/model.keras"

func loadS2S(t *testing.T) *Model {
	t.Helper()
	m, err := Load(s2sModel)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func randTensor(seed int, shape ...int) *runtime.Tensor {
	x := runtime.NewTensor(shape...)
	s := uint32(seed*2654435761 + 1)
	for i := range x.Data {
		s = s*1664525 + 1013904223
		x.Data[i] = float32(int32(s>>8)%2000)/1000 - 1
	}
	return x
}

func mustEqual(t *testing.T, what string, got, want *runtime.Tensor) {
	t.Helper()
	if len(got.Data) != len(want.Data) {
		t.Fatalf("%s: %v vs %v", what, got, want)
	}
	for i := range got.Data {
		if got.Data[i] != want.Data[i] {
			t.Fatalf("%s: value %d = %g, want %g", what, i, got.Data[i], want.Data[i])
		}
	}
}

// stepModels builds the Keras example's encoder and decoder-step models
// with new inputs and calls of the trained layers.
func stepModels(t *testing.T, m *Model) (enc, dec *Model) {
	t.Helper()
	f := NewFunctional(m)
	x, err := f.Input("src", -1, 19)
	if err != nil {
		t.Fatal(err)
	}
	eo, err := f.Call("encoder_lstm", []*KerasTensor{x})
	if err != nil {
		t.Fatal(err)
	}
	if len(eo) != 3 {
		t.Fatalf("encoder_lstm call gave %d outputs, want output, h, c", len(eo))
	}
	if enc, err = f.Model("enc", []*KerasTensor{x}, eo[1:]); err != nil {
		t.Fatal(err)
	}
	tok, _ := f.Input("tok", -1, 25)
	h, _ := f.Input("h", 12)
	c, _ := f.Input("c", 12)
	do, err := f.Call("decoder_lstm", []*KerasTensor{tok}, InitialState(h, c))
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Call("decoder_dense", do[:1])
	if err != nil {
		t.Fatal(err)
	}
	if dec, err = f.Model("dec", []*KerasTensor{tok, h, c}, []*KerasTensor{p[0], do[1], do[2]}); err != nil {
		t.Fatal(err)
	}
	return enc, dec
}

// TestFunctionalTeacherForced: the sub-models give the training model's
// outputs exactly when the decoder is fed its input one step at a time.
func TestFunctionalTeacherForced(t *testing.T) {
	m := loadS2S(t)
	enc, dec := stepModels(t, m)
	src, tgt := randTensor(1, 2, 7, 19), randTensor(2, 2, 5, 25)
	full, err := m.Predict(src, tgt)
	if err != nil {
		t.Fatal(err)
	}
	st, err := enc.Predict(src)
	if err != nil {
		t.Fatal(err)
	}
	sess := dec.NewSession()
	for step := range 5 {
		x := runtime.NewTensor(2, 1, 25)
		for b := range 2 {
			copy(x.Data[b*25:(b+1)*25], tgt.Data[(b*5+step)*25:(b*5+step+1)*25])
		}
		y, err := sess.Predict(x, st[0], st[1])
		if err != nil {
			t.Fatal(err)
		}
		for b := range 2 {
			for k := range 25 {
				got, want := y[0].Data[b*25+k], full[0].Data[(b*5+step)*25+k]
				if got != want {
					t.Fatalf("step %d batch %d class %d: %g, full model %g", step, b, k, got, want)
				}
			}
		}
		st = y[1:]
	}
}

// TestFunctionalReplayMatchesCall: replaying the trained graph's tensors
// builds the same encoder as calling the layer on a new input, and one
// input serves both replayed states.
func TestFunctionalReplayMatchesCall(t *testing.T) {
	m := loadS2S(t)
	enc, _ := stepModels(t, m)
	f := NewFunctional(m)
	st, err := f.Replay([]TensorRef{{Layer: "encoder_lstm", Index: 1}, {Layer: "encoder_lstm", Index: 2}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	in, err := f.Replay([]TensorRef{{Layer: "encoder_inputs"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st[0].node != st[1].node {
		t.Error("the two states of one call replayed as two calls")
	}
	rep, err := f.Model("enc2", in, st)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Inputs(); len(got) != 1 || got[0].Name != "encoder_inputs" || len(got[0].Shape) != 3 || got[0].Shape[2] != 19 {
		t.Errorf("replayed encoder inputs %+v", got)
	}
	src := randTensor(3, 1, 4, 19)
	a, err := enc.Predict(src)
	if err != nil {
		t.Fatal(err)
	}
	b, err := rep.Predict(src)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "h", a[0], b[0])
	mustEqual(t, "c", a[1], b[1])
	// The whole training model replayed is the training model.
	f2 := NewFunctional(m)
	ins, err := f2.Replay(m.desc.Graph.Inputs, nil)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := f2.Replay(m.desc.Graph.Outputs, nil)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := f2.Model("whole", ins, outs)
	if err != nil {
		t.Fatal(err)
	}
	tgt := randTensor(4, 1, 3, 25)
	y1, err := m.Predict(src, tgt)
	if err != nil {
		t.Fatal(err)
	}
	y2, err := whole.Predict(src, tgt)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "replayed training model", y2[0], y1[0])
}

// TestFunctionalSharesLayers: the sub-models run the trained model's own
// layer values (weights not copied).
func TestFunctionalSharesLayers(t *testing.T) {
	m := loadS2S(t)
	enc, dec := stepModels(t, m)
	own := map[runtime.Layer]bool{}
	for _, n := range m.graph.Nodes() {
		own[n.Layer] = true
	}
	for _, sub := range []*Model{enc, dec} {
		for _, n := range sub.graph.Nodes() {
			if !own[n.Layer] {
				t.Errorf("sub-model layer %q is not the trained model's", n.Layer.Name())
			}
		}
	}
	if got := len(dec.graph.Nodes()); got != 2 {
		t.Errorf("decoder step has %d nodes, want 2 (decoder_lstm, decoder_dense): the encoder must be pruned", got)
	}
	if s := dec.Summary(); s.TotalParams != 1824+325 {
		t.Errorf("decoder summary counts %d params, want %d", s.TotalParams, 1824+325)
	}
}

// TestFunctionalStream: a sub-model streams like a loaded model: the
// encoder fed in two pieces ends in the states of the whole sequence.
func TestFunctionalStream(t *testing.T) {
	m := loadS2S(t)
	f := NewFunctional(m)
	x, _ := f.Input("src", -1, 19)
	eo, err := f.Call("encoder_lstm", []*KerasTensor{x})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := f.Model("enc", []*KerasTensor{x}, eo[1:])
	if err != nil {
		t.Fatal(err)
	}
	src := randTensor(5, 1, 6, 19)
	whole, err := enc.Predict(src)
	if err != nil {
		t.Fatal(err)
	}
	stream := enc.NewStream()
	first := &runtime.Tensor{Shape: []int{1, 4, 19}, Data: src.Data[:4*19]}
	rest := &runtime.Tensor{Shape: []int{1, 2, 19}, Data: src.Data[4*19:]}
	if _, err := stream.Predict(first); err != nil {
		t.Fatal(err)
	}
	part, err := stream.Predict(rest)
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "streamed h", part[0], whole[0])
	mustEqual(t, "streamed c", part[1], whole[1])
}

// TestFunctionalConcurrent: sub-models are safe for concurrent Predict
// (run with -race).
func TestFunctionalConcurrent(t *testing.T) {
	m := loadS2S(t)
	enc, _ := stepModels(t, m)
	src := randTensor(6, 1, 5, 19)
	want, err := enc.Predict(src)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				got, err := enc.Predict(src)
				if err != nil {
					errs <- err
					return
				}
				for i := range got[0].Data {
					if math.Float32bits(got[0].Data[i]) != math.Float32bits(want[0].Data[i]) {
						errs <- errors.New("concurrent Predict differs")
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestFunctionalErrors(t *testing.T) {
	m := loadS2S(t)
	other := NewFunctional(m)
	foreign, _ := other.Input("foreign", 3)
	tests := []struct {
		name string
		run  func(f *Functional) error
		want error
	}{
		{"unknown layer", func(f *Functional) error {
			x, _ := f.Input("x", -1, 19)
			_, err := f.Call("no_such_lstm", []*KerasTensor{x})
			return err
		}, ErrNoLayer},
		{"call an InputLayer", func(f *Functional) error {
			x, _ := f.Input("x", -1, 19)
			_, err := f.Call("encoder_inputs", []*KerasTensor{x})
			return err
		}, ErrInput},
		{"no inputs", func(f *Functional) error {
			_, err := f.Call("encoder_lstm", nil)
			return err
		}, ErrInput},
		{"tensor of another builder", func(f *Functional) error {
			_, err := f.Call("decoder_dense", []*KerasTensor{foreign})
			return err
		}, ErrInput},
		{"initial_state count", func(f *Functional) error {
			x, _ := f.Input("x", -1, 25)
			h, _ := f.Input("h", 12)
			_, err := f.Call("decoder_lstm", []*KerasTensor{x}, InitialState(h))
			return err
		}, ErrInput},
		{"duplicate input name", func(f *Functional) error {
			f.Input("x", 3)
			_, err := f.Input("x", 3)
			return err
		}, ErrInput},
		{"disconnected", func(f *Functional) error {
			x, _ := f.Input("x", -1, 25)
			h, _ := f.Input("h", 12)
			c, _ := f.Input("c", 12)
			o, err := f.Call("decoder_lstm", []*KerasTensor{x}, InitialState(h, c))
			if err != nil {
				return err
			}
			_, err = f.Model("m", []*KerasTensor{x, h}, o[:1])
			return err
		}, ErrDisconnected},
		{"replayed decoder without the encoder input", func(f *Functional) error {
			dec, err := f.Replay([]TensorRef{{Layer: "decoder_inputs"}}, nil)
			if err != nil {
				return err
			}
			out, err := f.Replay([]TensorRef{{Layer: "decoder_dense"}}, nil)
			if err != nil {
				return err
			}
			_, err = f.Model("m", dec, out)
			return err
		}, ErrDisconnected},
		{"replay of a call that does not exist", func(f *Functional) error {
			_, err := f.Replay([]TensorRef{{Layer: "encoder_lstm", Node: 3}}, nil)
			return err
		}, ErrInput},
		{"input named like a layer", func(f *Functional) error {
			x, _ := f.Input("decoder_dense", -1, 12)
			o, err := f.Call("decoder_dense", []*KerasTensor{x})
			if err != nil {
				return err
			}
			_, err = f.Model("m", []*KerasTensor{x}, o)
			return err
		}, ErrInput},
		{"no outputs", func(f *Functional) error {
			x, _ := f.Input("x", 3)
			_, err := f.Model("m", []*KerasTensor{x}, nil)
			return err
		}, ErrInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run(NewFunctional(m))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
}

// TestFunctionalPredictShapes: a sub-model checks its inputs as a loaded
// model does.
func TestFunctionalPredictShapes(t *testing.T) {
	m := loadS2S(t)
	_, dec := stepModels(t, m)
	_, err := dec.Predict(runtime.NewTensor(1, 1, 25), runtime.NewTensor(1, 11), runtime.NewTensor(1, 12))
	if !errors.Is(err, ErrInput) {
		t.Fatalf("wrong state width: got %v, want ErrInput", err)
	}
}

// TestFunctionalBidirectionalOutputs: calling a Bidirectional LSTM with
// return_state gives the merged output and the forward and backward h, c.
func TestFunctionalBidirectionalOutputs(t *testing.T) {
	m, err := Load("../testdata/goldens-s2s/s2s_stacked_bilstm/model.keras")
	if err != nil {
		t.Fatal(err)
	}
	f := NewFunctional(m)
	x, _ := f.Input("x", -1, 23)
	outs, err := f.Call("enc_bi", []*KerasTensor{x})
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 5 {
		t.Fatalf("Bidirectional(LSTM, return_state) call gave %d outputs, want 5", len(outs))
	}
	sub, err := f.Model("bi", []*KerasTensor{x}, outs)
	if err != nil {
		t.Fatal(err)
	}
	ys, err := sub.Predict(randTensor(7, 1, 4, 23))
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]int{{1, 4, 10}, {1, 5}, {1, 5}, {1, 5}, {1, 5}} {
		if !slicesEqual(ys[i].Shape, want) {
			t.Errorf("output %d shape %v, want %v", i, ys[i].Shape, want)
		}
	}
}

func slicesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFunctionalReplayShares: two Replays without replacements reach the
// same call; with replacements they make their own.
func TestFunctionalReplayShares(t *testing.T) {
	m := loadS2S(t)
	f := NewFunctional(m)
	h, err := f.Replay([]TensorRef{{Layer: "encoder_lstm", Index: 1}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.Replay([]TensorRef{{Layer: "encoder_lstm", Index: 2}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h[0].node != c[0].node {
		t.Error("Replay(h) and Replay(c) made two encoder calls")
	}
	x, _ := f.Input("other", -1, 19)
	r, err := f.Replay([]TensorRef{{Layer: "encoder_lstm", Index: 1}}, map[TensorRef]*KerasTensor{{Layer: "encoder_inputs"}: x})
	if err != nil {
		t.Fatal(err)
	}
	if r[0].node == h[0].node {
		t.Error("a Replay with a replaced input reused the call on the original input")
	}
	if got := r[0].Name(); got != "encoder_lstm[1][1]" {
		t.Errorf("name %q, want encoder_lstm[1][1]", got)
	}
}

func TestFunctionalLayer(t *testing.T) {
	m := loadS2S(t)
	f := NewFunctional(m)
	l, err := f.Layer("decoder_lstm")
	if err != nil {
		t.Fatal(err)
	}
	rnn, ok := l.(*layers.RNN)
	if !ok || !rnn.ReturnState || !slicesEqual(rnn.StateSizes(), []int{12, 12}) {
		t.Errorf("decoder_lstm: %T %+v", l, l)
	}
	if _, err := f.Layer("nope"); !errors.Is(err, ErrNoLayer) {
		t.Errorf("unknown layer: %v", err)
	}
	if _, err := f.Layer("encoder_inputs"); !errors.Is(err, ErrInput) {
		t.Errorf("InputLayer: %v", err)
	}
}
