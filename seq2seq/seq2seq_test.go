package seq2seq

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/keras"
)

func loadModel(t testing.TB, path string, opts ...Option) (*Model, error) {
	t.Helper()
	m, err := keras.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return New(m, opts...)
}

func TestNewFinds(t *testing.T) {
	s, err := loadModel(t, filepath.Join(sharedCase, "model.keras"))
	if err != nil {
		t.Fatal(err)
	}
	if s.EncoderInput != "encoder_inputs" || s.DecoderInput != "decoder_inputs" ||
		!slices.Equal(s.StateSources, []string{"encoder_lstm"}) || !slices.Equal(s.DecoderRNNs, []string{"decoder_lstm"}) ||
		s.OutputLayer != "decoder_dense" || !slices.Equal(s.StateSizes, []int{12, 12}) ||
		s.SourceKind != OneHot || s.SourceDim != 19 || s.TargetDim != 25 || s.VocabSize != 25 {
		t.Errorf("found %+v", s)
	}
	if got := len(s.Decoder.Inputs()); got != 3 {
		t.Errorf("decoder step has %d inputs, want token, h, c", got)
	}
}

func TestNewErrors(t *testing.T) {
	two := "../testdata/goldens-s2s/s2s_two_decoders/model.keras"
	tests := []struct {
		name  string
		model string
		opts  []Option
		want  error
	}{
		{"not seq2seq", "../testdata/example/char_gru_generator/model.keras", nil, ErrNoEncoder},
		{"ambiguous", two, nil, ErrAmbiguous},
		{"unknown input", two, []Option{WithDecoderInput("dec_c")}, ErrNoEncoder},
		{"same input twice", two, []Option{WithEncoderInput("dec_a"), WithDecoderInput("dec_a")}, ErrAmbiguous},
		{"swapped", filepath.Join(sharedCase, "model.keras"), []Option{WithEncoderInput("decoder_inputs")}, ErrNoEncoder},
		{"attention", "../testdata/goldens-s2s/s2s_attention/model.keras", nil, ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadModel(t, tc.model, tc.opts...)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
	// Named, the two-decoder model decodes through the one asked for.
	for _, dec := range []string{"dec_a", "dec_b"} {
		s, err := loadModel(t, two, WithDecoderInput(dec))
		if err != nil {
			t.Fatal(err)
		}
		if s.DecoderInput != dec || s.OutputLayer != "out_"+dec[4:] {
			t.Errorf("%s: found %+v", dec, s)
		}
	}
}

// TestBeamWidthOneIsGreedy: a beam of one keeps the argmax at every step.
func TestBeamWidthOneIsGreedy(t *testing.T) {
	for _, dir := range []string{sharedCase, "../testdata/goldens-s2s/s2s_char_gru"} {
		tr := loadCharTranslator(t, filepath.Join(dir, "model.keras"), filepath.Join(dir, "vocab.json"))
		for _, text := range []string{"go.", "hello.", "a", "who?"} {
			x, _, err := tr.Vocab.EncodeSource(text)
			if err != nil {
				t.Fatal(err)
			}
			g, err := tr.Model.Greedy(context.Background(), x, tr.Vocab.Decoding())
			if err != nil {
				t.Fatal(err)
			}
			b, err := tr.Model.BeamSearch(context.Background(), x, tr.Vocab.Decoding(), 1)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(g.IDs, b.IDs) || !closeTo(g.Score, b.Score) {
				t.Errorf("%s %q: greedy %v %g, beam 1 %v %g", dir, text, g.IDs, g.Score, b.IDs, b.Score)
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tr := loadCharTranslator(t, filepath.Join(sharedCase, "model.keras"), filepath.Join(sharedCase, "vocab.json"))
	x, _, _ := tr.Vocab.EncodeSource("go.")
	d := tr.Vocab.Decoding()
	ctx := context.Background()
	if _, err := tr.Model.Greedy(ctx, x, Decoding{Start: 0, Stop: 1, MaxLen: 0}); !errors.Is(err, keras.ErrInput) {
		t.Errorf("max len 0: %v", err)
	}
	if _, err := tr.Model.Greedy(ctx, x, Decoding{Start: 99, Stop: 1, MaxLen: 3}); !errors.Is(err, ErrVocab) {
		t.Errorf("start outside the vocabulary: %v", err)
	}
	if _, err := tr.Model.BeamSearch(ctx, x, d, 0); !errors.Is(err, keras.ErrInput) {
		t.Errorf("beam 0: %v", err)
	}
	two, _, _ := tr.Vocab.EncodeSource("go.")
	two.Shape[0], two.Shape[1] = 3, 1
	if _, err := tr.Model.Greedy(ctx, two, d); !errors.Is(err, keras.ErrInput) {
		t.Errorf("batch of 3: %v", err)
	}
	wrong, _, _ := tr.Vocab.EncodeSource("go.")
	wrong.Shape[2], wrong.Shape[1] = 3, 19
	if _, err := tr.Model.Greedy(ctx, wrong, d); !errors.Is(err, keras.ErrInput) {
		t.Errorf("wrong width: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := tr.Model.BeamSearch(cancelled, x, d, 3); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, _, err := tr.Vocab.EncodeSource("\xff"); !errors.Is(err, keras.ErrInput) {
		t.Errorf("invalid UTF-8: %v", err)
	}
	if _, err := tr.Vocab.TargetText([]int{99}); !errors.Is(err, ErrVocab) {
		t.Errorf("id outside target_chars: %v", err)
	}
}

func TestEncodeSourceUnknown(t *testing.T) {
	v, err := ParseCharVocab([]byte(`{"source_chars": ["a", "b", "é"], "target_chars": ["\t", "\n", "x"], "start": "\t", "stop": "\n", "max_decoder_len": 4}`))
	if err != nil {
		t.Fatal(err)
	}
	x, unknown, err := v.EncodeSource("aéZbZ!")
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}
	if !slices.Equal(x.Shape, []int{1, 6, 3}) || !slices.Equal(x.Data, want) {
		t.Errorf("one-hot %v %v", x.Shape, x.Data)
	}
	if !slices.Equal(unknown, []string{"Z", "!"}) {
		t.Errorf("unknown %q", unknown)
	}
	if d := v.Decoding(); d != (Decoding{Start: 0, Stop: 1, MaxLen: 4}) {
		t.Errorf("decoding %+v", d)
	}
}

func TestParseCharVocabErrors(t *testing.T) {
	for name, js := range map[string]string{
		"not JSON":              `{`,
		"no source":             `{"target_chars": ["\t", "\n"], "start": "\t", "stop": "\n", "max_decoder_len": 3}`,
		"two-char entry":        `{"source_chars": ["ab"], "target_chars": ["\t", "\n"], "start": "\t", "stop": "\n", "max_decoder_len": 3}`,
		"duplicate":             `{"source_chars": ["a"], "target_chars": ["\t", "\t", "\n"], "start": "\t", "stop": "\n", "max_decoder_len": 3}`,
		"stop missing":          `{"source_chars": ["a"], "target_chars": ["\t"], "start": "\t", "stop": "\n", "max_decoder_len": 3}`,
		"start two chars":       `{"source_chars": ["a"], "target_chars": ["\t", "\n"], "start": "\t\t", "stop": "\n", "max_decoder_len": 3}`,
		"max len 0":             `{"source_chars": ["a"], "target_chars": ["\t", "\n"], "start": "\t", "stop": "\n"}`,
		"pad not a source char": `{"source_chars": ["a"], "target_chars": ["\t", "\n"], "start": "\t", "stop": "\n", "max_decoder_len": 3, "max_encoder_len": 4, "source_pad": " "}`,
		"pad without length":    `{"source_chars": ["a", " "], "target_chars": ["\t", "\n"], "start": "\t", "stop": "\n", "max_decoder_len": 3, "source_pad": " "}`,
		"negative encoder len":  `{"source_chars": ["a"], "target_chars": ["\t", "\n"], "start": "\t", "stop": "\n", "max_decoder_len": 3, "max_encoder_len": -1}`,
	} {
		if _, err := ParseCharVocab([]byte(js)); !errors.Is(err, ErrVocab) {
			t.Errorf("%s: got %v, want ErrVocab", name, err)
		}
	}
}

// TestFixedSourceLength: a training model whose encoder input fixes the
// length (here rebuilt with the functional API from the shared model)
// gets the one-hot rows padded with zero rows, as the Keras example's
// zero-filled array is; the same as feeding the padded array to the
// variable-length model.
func TestFixedSourceLength(t *testing.T) {
	m, err := keras.Load(filepath.Join(sharedCase, "model.keras"))
	if err != nil {
		t.Fatal(err)
	}
	f := keras.NewFunctional(m)
	src, _ := f.Input("src", 8, 19)
	dec, err := f.Replay([]keras.TensorRef{{Layer: "decoder_inputs"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Replay([]keras.TensorRef{{Layer: "decoder_dense"}}, map[keras.TensorRef]*keras.KerasTensor{{Layer: "encoder_inputs"}: src})
	if err != nil {
		t.Fatal(err)
	}
	fixed, err := f.Model("fixed", append([]*keras.KerasTensor{src}, dec...), out)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(fixed)
	if err != nil {
		t.Fatal(err)
	}
	v, err := LoadCharVocab(filepath.Join(sharedCase, "vocab.json"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewCharTranslator(s, v)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := tr.Translate(context.Background(), "go.")
	if err != nil {
		t.Fatal(err)
	}
	ref := loadCharTranslator(t, filepath.Join(sharedCase, "model.keras"), filepath.Join(sharedCase, "vocab.json"))
	x, _, _ := v.EncodeSource("go.")
	padded := keras.NewTensor(1, 8, 19)
	copy(padded.Data, x.Data)
	res, err := ref.Model.Greedy(context.Background(), padded, v.Decoding())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := v.TargetText(res.IDs)
	if got != want {
		t.Errorf("fixed-length model: %q, padded input to the open model: %q", got, want)
	}
	if _, _, err := tr.Translate(context.Background(), "much too long"); !errors.Is(err, keras.ErrInput) {
		t.Errorf("text longer than the fixed length: %v", err)
	}
}

func TestUnitsOfState(t *testing.T) {
	lstm := &convert.Layer{Name: "dec_lstm", ClassName: "LSTM", Config: convert.Config{"units": 7.0}}
	gru := &convert.Layer{Name: "dec_gru", ClassName: "GRU", Config: convert.Config{"units": 3.0}}
	calls := []decoderCall{{layer: lstm, init: make([]convert.TensorRef, 2)}, {layer: gru, init: make([]convert.TensorRef, 1)}}
	for i, want := range []int{7, 7, 3, -1} {
		if got := unitsOfState(calls, i); got != want {
			t.Errorf("state %d: %d units, want %d", i, got, want)
		}
	}
}
