package keras_test

import (
	"errors"
	"fmt"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/internal/testutil"
	"github.com/rnnkit/rnnkit/keras"
)

// lambdaLayersFuncs are the Go functions of testdata/custom/lambda_layers
// (see ExampleWithLambda).
func lambdaLayersFuncs() []keras.Option {
	repeatFirst := func(in []*keras.Tensor) ([]*keras.Tensor, error) {
		if len(in) != 2 {
			return nil, fmt.Errorf("want [vec, seq], got %d tensors", len(in))
		}
		vec, seq := in[0], in[1]
		b, t, f, v := seq.Shape[0], seq.Shape[1], seq.Shape[2], vec.Shape[1]
		out := keras.NewTensor(b, t, f+v)
		for i := range b * t {
			copy(out.Data[i*(f+v):], seq.Data[i*f:(i+1)*f])
			copy(out.Data[i*(f+v)+f:], vec.Data[(i/t)*v:(i/t+1)*v])
		}
		return []*keras.Tensor{out}, nil
	}
	lastStep := func(in []*keras.Tensor) ([]*keras.Tensor, error) {
		x := in[0]
		b, t, f := x.Shape[0], x.Shape[1], x.Shape[2]
		out := keras.NewTensor(b, f)
		for i := range b {
			for k, v := range x.Data[(i*t+t-1)*f : (i*t+t)*f] {
				out.Data[i*f+k] = v*2 + 1
			}
		}
		return []*keras.Tensor{out}, nil
	}
	return []keras.Option{keras.WithLambda("repeat_first", repeatFirst), keras.WithLambda("last_step", lastStep)}
}

// TestCustomCodeGoldens runs the Keras 3 goldens of testdata/custom
// (generate.py there) in both formats Keras wrote, with the Go code each
// needs.
func TestCustomCodeGoldens(t *testing.T) {
	cases := []struct {
		dir    string
		inputs int
		opts   []keras.Option
	}{
		{"simple_attention", 1, []keras.Option{keras.WithLayer("SimpleAttention", buildSimpleAttention)}},
		{"lambda_layers", 2, lambdaLayersFuncs()},
	}
	for _, tc := range cases {
		for _, file := range []string{"model.keras", "model.h5"} {
			t.Run(tc.dir+"/"+file, func(t *testing.T) {
				dir := filepath.Join("..", "testdata", "custom", tc.dir)
				m, err := keras.Load(filepath.Join(dir, file), tc.opts...)
				if err != nil {
					t.Fatal(err)
				}
				var xs []*keras.Tensor
				for i := range tc.inputs {
					x, err := keras.ReadNPYFile(filepath.Join(dir, fmt.Sprintf("x%d.npy", i)))
					if err != nil {
						t.Fatal(err)
					}
					xs = append(xs, x)
				}
				out, err := m.Predict(xs...)
				if err != nil {
					t.Fatal(err)
				}
				want, err := keras.ReadNPYFile(filepath.Join(dir, "y0.npy"))
				if err != nil {
					t.Fatal(err)
				}
				if r := keras.Compare(out[0], want, keras.DefaultAtol, keras.DefaultRtol); !r.OK() {
					t.Errorf("output differs from Keras: %+v", r)
				}
			})
		}
	}
}

// TestLambdaWithoutFunction checks the error for Lambda layers nobody
// supplied: every one is listed with what the file says of its Python
// code, and the message says how to supply it.
func TestLambdaWithoutFunction(t *testing.T) {
	for _, file := range []string{"model.keras", "model.h5"} {
		_, err := keras.Load(filepath.Join("..", "testdata", "custom", "lambda_layers", file), lambdaLayersFuncs()[:1]...)
		var ue *keras.UnsupportedLayersError
		if !errors.As(err, &ue) || !errors.Is(err, keras.ErrUnsupported) {
			t.Fatalf("%s: got %v, want an UnsupportedLayersError", file, err)
		}
		if len(ue.Layers) != 1 || ue.Layers[0].Name != "last_step" || !ue.Layers[0].IsLambda() {
			t.Fatalf("%s: unsupported %v, want only the last_step Lambda", file, ue.Layers)
		}
		for _, part := range []string{`"last_step" (Lambda; runs a lambda (generate.py, line `, "of (t)", "keras.WithLambda(name, fn)"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("%s: error %q lacks %q", file, err, part)
			}
		}
	}
	_, err := keras.Load(filepath.Join("..", "testdata", "custom", "lambda_layers", "model.keras"))
	if err == nil || !strings.Contains(err.Error(), `"repeat_first" (Lambda; runs the Python function repeat_first)`) {
		t.Errorf("named-function Lambda: error %v", err)
	}
}

// TestLambdaFunctionErrors checks what a faulty Go function gives:
// Predict errors naming the layer, never a panic.
func TestLambdaFunctionErrors(t *testing.T) {
	dir := filepath.Join("..", "testdata", "custom", "lambda_layers")
	seq, _ := keras.ReadNPYFile(filepath.Join(dir, "x0.npy"))
	vec, _ := keras.ReadNPYFile(filepath.Join(dir, "x1.npy"))
	ok := lambdaLayersFuncs()[0]
	for name, fn := range map[string]keras.LambdaFunc{
		"error":     func([]*keras.Tensor) ([]*keras.Tensor, error) { return nil, errors.New("boom") },
		"nothing":   func([]*keras.Tensor) ([]*keras.Tensor, error) { return nil, nil },
		"nil":       func([]*keras.Tensor) ([]*keras.Tensor, error) { return []*keras.Tensor{nil}, nil },
		"malformed": func([]*keras.Tensor) ([]*keras.Tensor, error) { return []*keras.Tensor{{Shape: []int{3, 9}}}, nil },
	} {
		m, err := keras.Load(filepath.Join(dir, "model.keras"), ok, keras.WithLambda("last_step", fn))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Predict(seq, vec); err == nil || !strings.Contains(err.Error(), "last_step") {
			t.Errorf("%s: Predict error %v, want one naming the layer", name, err)
		}
	}
}

// TestCustomClassError checks the error for a project's own class: its
// config keys and weights, and the pointer to WithLayer under the bare
// class name when Keras 3 wrote "package>Class".
func TestCustomClassError(t *testing.T) {
	for _, file := range []string{"model.keras", "model.h5"} {
		_, err := keras.Load(filepath.Join("..", "testdata", "custom", "simple_attention", file))
		var u *keras.UnsupportedLayerError
		if !errors.As(err, &u) || u.Name != "simple_attention" || len(u.Weights) != 2 {
			t.Fatalf("%s: got %v, want the simple_attention layer with its 2 weights", file, err)
		}
		for _, part := range []string{"config keys: ", "(5, 1)", "(6, 1)", `keras.WithLayer(class, builder) for "SimpleAttention"`} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("%s: error %q lacks %q", file, err, part)
			}
		}
	}
}

// TestSavedBeforeBuilt checks the error for a .keras file Keras saved
// before the model was built: it has no weights to load.
func TestSavedBeforeBuilt(t *testing.T) {
	_, err := keras.Load(filepath.Join("..", "testdata", "custom", "unbuilt", "model.keras"))
	if !errors.Is(err, keras.ErrWeights) || !strings.Contains(err.Error(), "the model was saved before it was built") {
		t.Fatalf("got %v, want ErrWeights saying the model was saved before it was built", err)
	}
}

// generatedInputs builds a batch of 2 from a model's input specs: token
// ids below the vocabulary size for token-id inputs, values in [-1, 1)
// otherwise, 7 steps for open time dimensions.
func generatedInputs(t *testing.T, m *keras.Model, rng *rand.Rand) []*keras.Tensor {
	t.Helper()
	var xs []*keras.Tensor
	for _, spec := range m.Inputs() {
		shape := append([]int(nil), spec.Shape...)
		if shape == nil {
			t.Fatalf("input %q has no shape", spec.Name)
		}
		n := 1
		for i, d := range shape {
			if d < 0 {
				shape[i] = 7
				if i == 0 {
					shape[i] = 2
				}
			}
			n *= shape[i]
		}
		if spec.TokenIDs {
			ids := make([]int, n)
			for i := range ids {
				ids[i] = rng.Intn(max(spec.VocabularySize, 1))
			}
			x, err := keras.FromTokenIDs(ids, shape...)
			if err != nil {
				t.Fatal(err)
			}
			xs = append(xs, x)
			continue
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = rng.Float32()*2 - 1
		}
		x, err := keras.FromFloat32(data, shape...)
		if err != nil {
			t.Fatal(err)
		}
		xs = append(xs, x)
	}
	return xs
}

// TestWildCustomCode loads the real files of ../shared/wild that need a
// layer or a Lambda from the user, or the CRF and TF.js name forms, and
// runs each on a generated input; 037 must fail saying why.
func TestWildCustomCode(t *testing.T) {
	wild := testutil.SharedDir(t, "wild")
	// repeat_emotion(x): tile the emotion vector [B, E] over the poem's
	// length, as the project's function (tf.tile of tf.expand_dims) does.
	repeatEmotion := func(in []*keras.Tensor) ([]*keras.Tensor, error) {
		if len(in) != 2 || len(in[0].Shape) != 2 || len(in[1].Shape) != 2 {
			return nil, fmt.Errorf("want [emotion [B, E], poem [B, T]]")
		}
		b, e, steps := in[0].Shape[0], in[0].Shape[1], in[1].Shape[1]
		out := keras.NewTensor(b, steps, e)
		for i := range b {
			for s := range steps {
				copy(out.Data[(i*steps+s)*e:], in[0].Data[i*e:(i+1)*e])
			}
		}
		return []*keras.Tensor{out}, nil
	}
	cases := []struct {
		dir, file string
		opts      []keras.Option
		check     func(t *testing.T, out []*keras.Tensor)
	}{
		{"019_poetry_sentiment_p_best_model_h5", "best_model.h5", []keras.Option{keras.WithLambda("lambda", repeatEmotion)}, nil},
		{"144_TF_Serving_example_crf_h5", "crf.h5", nil, checkOneHot},
		{"145_named_entity_recog_crf_h5", "crf.h5", nil, checkOneHot},
		{"172_latihan_tensorflow_model_json", "model.json", nil, nil},
		{"236_Dissolved_Oxygen_P_lstm_attention_model_h", "lstm_attention_model.h5", []keras.Option{keras.WithLayer("SimpleAttention", buildSimpleAttention)}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.dir, func(t *testing.T) {
			m, err := keras.Load(filepath.Join(wild, tc.dir, tc.file), tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			out, err := m.Predict(generatedInputs(t, m, rand.New(rand.NewSource(1)))...)
			if err != nil {
				t.Fatal(err)
			}
			for i, o := range out {
				for _, v := range o.Data {
					if v != v {
						t.Fatalf("output %d holds NaN", i)
					}
				}
			}
			if tc.check != nil {
				tc.check(t, out)
			}
		})
	}
	t.Run("037 saved before built", func(t *testing.T) {
		_, err := keras.Load(filepath.Join(wild, "037_Intelligent_Costum_sentiment_model_keras", "sentiment_model.keras"))
		if err == nil || !strings.Contains(err.Error(), "saved before it was built") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("019 without its function", func(t *testing.T) {
		_, err := keras.Load(filepath.Join(wild, "019_poetry_sentiment_p_best_model_h5", "best_model.h5"))
		if err == nil || !strings.Contains(err.Error(), "repeat_emotion") || !strings.Contains(err.Error(), "keras.WithLambda") {
			t.Fatalf("got %v", err)
		}
	})
}

// checkOneHot checks a Viterbi CRF's output: one 1 per step, zeros
// elsewhere, as keras-contrib's K.one_hot of the best path.
func checkOneHot(t *testing.T, out []*keras.Tensor) {
	t.Helper()
	o := out[0]
	tags := o.Shape[len(o.Shape)-1]
	for row := 0; row < len(o.Data)/tags; row++ {
		ones := 0
		for _, v := range o.Data[row*tags : (row+1)*tags] {
			switch v {
			case 1:
				ones++
			case 0:
			default:
				t.Fatalf("step %d: value %v in a one-hot output", row, v)
			}
		}
		if ones != 1 {
			t.Fatalf("step %d: %d ones, want 1", row, ones)
		}
	}
}
