package layers

import (
	"fmt"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
	"github.com/rnnkit/rnnkit/runtime/kernel"
)

func init() { builtins = append(builtins, registerCore) }

func registerCore(r *Registry) {
	r.Register(inputLayerClass, buildInputLayer)
	r.Register(denseClass, buildDense)
}

const (
	inputLayerClass = "InputLayer"
	denseClass      = "Dense"
)

// layerID holds what every layer reports about itself.
type layerID struct {
	name, className string
}

// Name is the Keras layer name.
func (b *layerID) Name() string { return b.name }

// ClassName is the Keras class name.
func (b *layerID) ClassName() string { return b.className }

// InputLayer is a model input. The executor feeds model inputs directly; as
// a layer it passes its argument through unchanged, mask included.
type InputLayer struct {
	layerID
	// BatchShape is the declared shape with -1 for unknown dimensions
	// (Keras 3 batch_shape, Keras 1/2 batch_input_shape), or nil.
	BatchShape []int
}

func buildInputLayer(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	r := spec.Config.Reader(spec.Name)
	shape := r.Ints("batch_shape", nil)
	if shape == nil {
		shape = r.Ints("batch_input_shape", nil)
	}
	if r.Err() != nil {
		return nil, r.Err()
	}
	if r.Bool("sparse", false) || r.Bool("ragged", false) {
		return nil, fmt.Errorf("sparse or ragged inputs: %w", convert.ErrUnsupported)
	}
	return &InputLayer{layerID: layerID{spec.Name, inputLayerClass}, BatchShape: shape}, nil
}

// Call returns its inputs unchanged.
func (l *InputLayer) Call(_ *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in := call.Inputs()
	if len(in) == 0 {
		return nil, fmt.Errorf("input layer %q: no input given", l.name)
	}
	return in, nil
}

// Dense is keras.layers.Dense: y = activation(x·kernel + bias) on the last
// axis of an input of any rank. It passes the input mask through.
type Dense struct {
	layerID
	Units      int
	InputDim   int
	Activation string
	// Kernel is [InputDim, Units] row-major, as Keras stores it and as
	// kernel.MatMul reads it.
	Kernel []float32
	// Bias is [Units], or nil when use_bias is false.
	Bias   []float32
	act    ActivationFunc
	outDim int
}

func buildDense(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	r := spec.Config.Reader(spec.Name)
	units := r.Int("units", 0)
	actName := r.String("activation", "linear")
	useBias := r.Bool("use_bias", true)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if spec.Config.Has("quantization_config") || r.Int("lora_rank", 0) != 0 {
		return nil, fmt.Errorf("layer %q: quantized or LoRA Dense: %w", spec.Name, convert.ErrUnsupported)
	}
	if units <= 0 {
		return nil, fmt.Errorf("layer %q: units %d: want a positive integer: %w", spec.Name, units, convert.ErrConfig)
	}
	act, err := Activation(actName)
	if err != nil {
		return nil, fmt.Errorf("layer %q: %w", spec.Name, err)
	}
	outDim, err := ActivationOutputDim(actName, units)
	if err != nil {
		return nil, fmt.Errorf("layer %q: %w", spec.Name, err)
	}
	want := 1
	if useBias {
		want = 2
	}
	if err := checkNWeights(spec, want); err != nil {
		return nil, err
	}
	k := spec.Weights[0]
	if len(k.Shape) != 2 || k.Shape[1] != units || k.Shape[0] <= 0 {
		return nil, errWeightShape(spec, k, fmt.Sprintf("(input_dim, %d)", units))
	}
	if err := checkWeightLen(spec, k); err != nil {
		return nil, err
	}
	d := &Dense{
		layerID:    layerID{spec.Name, denseClass},
		Units:      units,
		InputDim:   k.Shape[0],
		Activation: actName,
		Kernel:     k.Data,
		act:        act,
		outDim:     outDim,
	}
	if useBias {
		b := spec.Weights[1]
		if err := checkWeightShape(spec, b, units); err != nil {
			return nil, err
		}
		d.Bias = b.Data
	}
	return d, nil
}

// Call applies the layer. x: [..., InputDim] → [..., Units] (Units/2 for
// glu); the input mask passes through.
func (l *Dense) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	x, err := oneInput(l.name, call)
	if err != nil {
		return nil, err
	}
	if x.T.Rank() < 1 || x.T.Shape[x.T.Rank()-1] != l.InputDim {
		return nil, fmt.Errorf("layer %q: input shape %v: want last axis %d", l.name, x.T.Shape, l.InputDim)
	}
	rows := x.T.Len() / l.InputDim
	var buf [maxLayerResultRank]int
	shape := append(append(buf[:0], x.T.Shape[:x.T.Rank()-1]...), l.outDim)
	out, res := newLayerResult(ctx, l, shape...)
	pre := out.Data
	if l.outDim != l.Units {
		pre = ctx.Scratch(l, 0, rows*l.Units)
	}
	kernel.MatMul(rows, l.Units, l.InputDim, x.T.Data, l.InputDim, l.Kernel, l.Units, pre, l.Units, false)
	if l.Bias != nil {
		kernel.AddBias(pre, l.Bias)
	}
	l.act(out.Data, pre, l.Units)
	res[0].Mask = x.Mask
	return res, nil
}

// maxLayerResultRank bounds the rank of shapes layers build in a stack
// array before asking for their output.
const maxLayerResultRank = 6

// newLayerResult returns owner's zero output tensor of the given shape at
// the node being run and a one-Value result slice holding it, both reused
// by the next run of that node on ctx (runtime.Workspace.Output), so a
// streaming step allocates nothing for them.
func newLayerResult(ctx *runtime.Workspace, owner any, shape ...int) (*runtime.Tensor, []runtime.Value) {
	t := ctx.Output(owner, 0, shape...)
	res := ctx.Values(owner, 0, 1)
	res[0].T = t
	return t, res
}

// oneInput returns the one tensor a single-input layer is called on.
func oneInput(layer string, call *runtime.Call) (runtime.Value, error) {
	in := call.Inputs()
	if len(in) != 1 || in[0].T == nil {
		return runtime.Value{}, fmt.Errorf("layer %q: got %d input tensors, want 1", layer, len(in))
	}
	return in[0], nil
}

// checkNWeights checks that spec has exactly n weights.
func checkNWeights(spec *convert.Layer, n int) error {
	if len(spec.Weights) != n {
		names := make([]string, len(spec.Weights))
		for i, w := range spec.Weights {
			names[i] = w.Name
		}
		return fmt.Errorf("layer %q (%s): got %d weights %v, want %d: %w",
			spec.Name, spec.ClassName, len(spec.Weights), names, n, convert.ErrWeights)
	}
	return nil
}

// checkShape checks a weight's shape against want exactly.
func checkWeightShape(spec *convert.Layer, w convert.Weight, want ...int) error {
	ok := len(w.Shape) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = w.Shape[i] == want[i]
	}
	if !ok {
		return errWeightShape(spec, w, fmt.Sprint(want))
	}
	return checkWeightLen(spec, w)
}

// checkWeightLen checks that a weight holds as many values as its shape.
func checkWeightLen(spec *convert.Layer, w convert.Weight) error {
	n, err := runtime.ShapeSize(w.Shape)
	if err != nil {
		return errWeightShape(spec, w, "non-negative dimensions whose product fits in memory")
	}
	if n != len(w.Data) {
		return fmt.Errorf("layer %q (%s): weight %q: shape %v needs %d values, got %d: %w",
			spec.Name, spec.ClassName, w.Name, w.Shape, n, len(w.Data), convert.ErrWeights)
	}
	return nil
}

func errWeightShape(spec *convert.Layer, w convert.Weight, want string) error {
	return fmt.Errorf("layer %q (%s): weight %q: got shape %v, want %s: %w",
		spec.Name, spec.ClassName, w.Name, w.Shape, want, convert.ErrWeights)
}
