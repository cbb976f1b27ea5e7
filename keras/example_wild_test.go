package keras_test

import (
	"fmt"
	"log"
	"math"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/layers"
	"github.com/rnnkit/rnnkit/runtime"
)

// simpleAttention is the attention layer many public LSTM forecasters and
// classifiers define in Python (weights att_weight [features, 1] and
// att_bias [time, 1]), written in Go:
//
//	e = tanh(x·W + b); a = softmax(e, axis=1); out = sum(x * a, axis=1)
type simpleAttention struct {
	name     string
	w, b     []float32 // [features], [time]
	features int
}

func (l *simpleAttention) Name() string      { return l.name }
func (l *simpleAttention) ClassName() string { return "SimpleAttention" }

func (l *simpleAttention) Call(_ *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in := call.Inputs()
	if len(in) != 1 || in[0].T == nil || len(in[0].T.Shape) != 3 ||
		in[0].T.Shape[1] != len(l.b) || in[0].T.Shape[2] != l.features {
		return nil, fmt.Errorf("%s: want one [batch, %d, %d] input", l.name, len(l.b), l.features)
	}
	x := in[0].T
	batch, steps, f := x.Shape[0], x.Shape[1], x.Shape[2]
	out := runtime.NewTensor(batch, f)
	e := make([]float64, steps)
	for bi := range batch {
		maxE := math.Inf(-1)
		for t := range steps {
			var dot float32
			for k, v := range x.Data[(bi*steps+t)*f : (bi*steps+t+1)*f] {
				dot += v * l.w[k]
			}
			e[t] = math.Tanh(float64(dot + l.b[t]))
			maxE = math.Max(maxE, e[t])
		}
		var sum float64
		for t := range e {
			e[t] = math.Exp(e[t] - maxE)
			sum += e[t]
		}
		row := out.Data[bi*f : (bi+1)*f]
		for t := range steps {
			a := float32(e[t] / sum)
			for k, v := range x.Data[(bi*steps+t)*f : (bi*steps+t+1)*f] {
				row[k] += v * a
			}
		}
	}
	return []runtime.Value{{T: out}}, nil
}

// buildSimpleAttention checks the two weights' shapes and binds them.
func buildSimpleAttention(spec *convert.Layer, _ *layers.Env) (runtime.Layer, error) {
	if len(spec.Weights) != 2 {
		return nil, fmt.Errorf("%s: got %d weights, want att_weight and att_bias", spec.Name, len(spec.Weights))
	}
	w, b := spec.Weights[0], spec.Weights[1]
	if len(w.Shape) != 2 || w.Shape[1] != 1 || len(b.Shape) != 2 || b.Shape[1] != 1 {
		return nil, fmt.Errorf("%s: weight shapes %v and %v, want (features, 1) and (time, 1)", spec.Name, w.Shape, b.Shape)
	}
	return &simpleAttention{name: spec.Name, w: w.Data, b: b.Data, features: w.Shape[0]}, nil
}

// A project's own layer class runs once a Go implementation is registered
// for it. testdata/custom/simple_attention is LSTM -> SimpleAttention ->
// Dense saved by Keras 3 with Keras' own predictions (generate.py there).
func ExampleWithLayer_simpleAttention() {
	const dir = "../testdata/custom/simple_attention/"
	m, err := keras.Load(dir+"model.keras", keras.WithLayer("SimpleAttention", buildSimpleAttention))
	if err != nil {
		log.Fatal(err)
	}
	x, err := keras.ReadNPYFile(dir + "x0.npy")
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
	fmt.Println("matches Keras:", r.OK())
	// Output:
	// matches Keras: true
}

// Lambda layers hold Python code; WithLambda supplies the Go function for
// each by layer name. testdata/custom/lambda_layers has a named function
// on a list of tensors and a lambda on one (generate.py there).
func ExampleWithLambda() {
	const dir = "../testdata/custom/lambda_layers/"
	// repeat_first(xs): concatenate seq [B, T, F] with vec [B, V]
	// repeated over time, on the last axis.
	repeatFirst := func(in []*keras.Tensor) ([]*keras.Tensor, error) {
		vec, seq := in[0], in[1]
		b, t, f, v := seq.Shape[0], seq.Shape[1], seq.Shape[2], vec.Shape[1]
		out := keras.NewTensor(b, t, f+v)
		for i := range b * t {
			copy(out.Data[i*(f+v):], seq.Data[i*f:(i+1)*f])
			copy(out.Data[i*(f+v)+f:], vec.Data[(i/t)*v:(i/t+1)*v])
		}
		return []*keras.Tensor{out}, nil
	}
	// lambda t: t[:, -1, :] * 2.0 + 1.0
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
	m, err := keras.Load(dir+"model.keras",
		keras.WithLambda("repeat_first", repeatFirst), keras.WithLambda("last_step", lastStep))
	if err != nil {
		log.Fatal(err)
	}
	seq, _ := keras.ReadNPYFile(dir + "x0.npy")
	vec, _ := keras.ReadNPYFile(dir + "x1.npy")
	out, err := m.Predict(seq, vec)
	if err != nil {
		log.Fatal(err)
	}
	want, _ := keras.ReadNPYFile(dir + "y0.npy")
	r := keras.Compare(out[0], want, keras.DefaultAtol, keras.DefaultRtol)
	fmt.Println("matches Keras:", r.OK())
	// Output:
	// matches Keras: true
}
