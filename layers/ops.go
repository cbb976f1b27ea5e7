package layers

import (
	"fmt"
	"math"
	"strings"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// Keras 3 functional configs record some tensor operations as graph
// entries of their own, with a module under keras.src.ops (for example
// {"module": "keras.src.ops.numpy", "class_name": "NotEqual"} computing an
// Embedding's mask, keras-formats.md §3.5). They run here like layers.
// Their arguments are tensors or constants (NotEqual(tokens, 0)); their
// options, when they have any (ExpandDims' axis), are in the config.
// Booleans are 0/1 float32 values; outputs carry no mask, as Keras
// operations attach none.

func init() { builtins = append(builtins, registerOps) }

func registerOps(r *Registry) {
	for name, f := range binaryOps {
		r.RegisterOp(name, binaryOpBuilder(name, f))
	}
	for name, f := range unaryOps {
		r.RegisterOp(name, unaryOpBuilder(name, f))
	}
	for name, red := range reduceOps {
		r.RegisterOp(name, reduceOpBuilder(name, red))
	}
	r.RegisterOp("Cast", buildCastOp)
	r.RegisterOp("ExpandDims", buildExpandDimsOp)
	r.RegisterOp("Squeeze", buildSqueezeOp)
}

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// binaryOps are numpy element-wise operations with broadcasting.
var binaryOps = map[string]func(a, b float32) float32{
	"Add":          func(a, b float32) float32 { return a + b },
	"Subtract":     func(a, b float32) float32 { return a - b },
	"Multiply":     func(a, b float32) float32 { return a * b },
	"Divide":       func(a, b float32) float32 { return a / b },
	"TrueDivide":   func(a, b float32) float32 { return a / b },
	"Maximum":      func(a, b float32) float32 { return float32(math.Max(float64(a), float64(b))) },
	"Minimum":      func(a, b float32) float32 { return float32(math.Min(float64(a), float64(b))) },
	"Power":        func(a, b float32) float32 { return float32(math.Pow(float64(a), float64(b))) },
	"Equal":        func(a, b float32) float32 { return b2f(a == b) },
	"NotEqual":     func(a, b float32) float32 { return b2f(a != b) },
	"Greater":      func(a, b float32) float32 { return b2f(a > b) },
	"GreaterEqual": func(a, b float32) float32 { return b2f(a >= b) },
	"Less":         func(a, b float32) float32 { return b2f(a < b) },
	"LessEqual":    func(a, b float32) float32 { return b2f(a <= b) },
	"LogicalAnd":   func(a, b float32) float32 { return b2f(a != 0 && b != 0) },
	"LogicalOr":    func(a, b float32) float32 { return b2f(a != 0 || b != 0) },
	"LogicalXor":   func(a, b float32) float32 { return b2f((a != 0) != (b != 0)) },
}

// unaryOps are numpy element-wise functions of one tensor.
var unaryOps = map[string]func(a float32) float32{
	"LogicalNot": func(a float32) float32 { return b2f(a == 0) },
	"Negative":   func(a float32) float32 { return -a },
	"Abs":        func(a float32) float32 { return float32(math.Abs(float64(a))) },
	"Square":     func(a float32) float32 { return a * a },
	"Sqrt":       func(a float32) float32 { return float32(math.Sqrt(float64(a))) },
	"Exp":        func(a float32) float32 { return float32(math.Exp(float64(a))) },
	"Log":        func(a float32) float32 { return float32(math.Log(float64(a))) },
}

// reduction describes a numpy reduction over axes.
type reduction struct {
	init float64
	add  func(acc, v float64) float64
	mean bool
}

var reduceOps = map[string]reduction{
	"Sum":  {init: 0, add: func(a, v float64) float64 { return a + v }},
	"Mean": {init: 0, add: func(a, v float64) float64 { return a + v }, mean: true},
	"Max":  {init: math.Inf(-1), add: math.Max},
	"Min":  {init: math.Inf(1), add: math.Min},
	"Any": {init: 0, add: func(a, v float64) float64 {
		if a != 0 || v != 0 {
			return 1
		}
		return 0
	}},
	"All": {init: 1, add: func(a, v float64) float64 {
		if a != 0 && v != 0 {
			return 1
		}
		return 0
	}},
}

// OpLayer is a Keras 3 operation node bound to its options.
type OpLayer struct {
	layerID
	run func(l *OpLayer, call *runtime.Call) (*runtime.Tensor, error)
	// axes for ExpandDims, Squeeze and reductions (nil: all, or none).
	axes     []int
	keepDims bool
}

// Call evaluates the operation.
func (l *OpLayer) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	out, err := l.run(l, call)
	if err != nil {
		return nil, fmt.Errorf("op %q (%s): %w", l.name, l.className, err)
	}
	return []runtime.Value{{T: out}}, nil
}

// opOperand returns positional argument i as a tensor: a tensor argument,
// or a numeric or boolean constant as a scalar.
func opOperand(call *runtime.Call, i int) (*runtime.Tensor, error) {
	if i >= len(call.Args) {
		return nil, fmt.Errorf("got %d arguments, want at least %d", len(call.Args), i+1)
	}
	a := call.Args[i]
	if a.IsTensor() {
		if len(a.Values) != 1 || a.Values[0].T == nil {
			return nil, fmt.Errorf("argument %d: got %d tensors, want 1", i, len(a.Values))
		}
		return a.Values[0].T, nil
	}
	switch v := a.Const.(type) {
	case float64:
		return &runtime.Tensor{Shape: []int{}, Data: []float32{float32(v)}}, nil
	case bool:
		return &runtime.Tensor{Shape: []int{}, Data: []float32{b2f(v)}}, nil
	}
	return nil, fmt.Errorf("argument %d: got %v (%T), want a tensor or a number", i, a.Const, a.Const)
}

func binaryOpBuilder(class string, f func(a, b float32) float32) Builder {
	return func(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
		return &OpLayer{layerID: layerID{spec.Name, class}, run: func(_ *OpLayer, call *runtime.Call) (*runtime.Tensor, error) {
			a, err := opOperand(call, 0)
			if err != nil {
				return nil, err
			}
			b, err := opOperand(call, 1)
			if err != nil {
				return nil, err
			}
			return broadcast2(a, b, f)
		}}, nil
	}
}

// broadcast2 applies f element-wise under numpy broadcasting rules.
func broadcast2(a, b *runtime.Tensor, f func(a, b float32) float32) (*runtime.Tensor, error) {
	rank := max(a.Rank(), b.Rank())
	shape := make([]int, rank)
	for i := range rank {
		da, db := dimFromEnd(a, rank-1-i), dimFromEnd(b, rank-1-i)
		switch {
		case da == db, db == 1:
			shape[i] = da
		case da == 1:
			shape[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a.Shape, b.Shape)
		}
	}
	out := runtime.NewTensor(shape...)
	if a.Len() == out.Len() && b.Len() == out.Len() {
		for i := range out.Data {
			out.Data[i] = f(a.Data[i], b.Data[i])
		}
		return out, nil
	}
	sa, sb := broadcastStrides(a, shape), broadcastStrides(b, shape)
	idx := make([]int, rank)
	for i := range out.Data {
		ia, ib := 0, 0
		for d := range rank {
			ia += idx[d] * sa[d]
			ib += idx[d] * sb[d]
		}
		out.Data[i] = f(a.Data[ia], b.Data[ib])
		for d := rank - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out, nil
}

// dimFromEnd returns t's dimension k places from the last, 1 beyond its rank.
func dimFromEnd(t *runtime.Tensor, k int) int {
	if k >= t.Rank() {
		return 1
	}
	return t.Shape[t.Rank()-1-k]
}

// broadcastStrides returns t's element strides aligned to shape, 0 along
// broadcast dimensions.
func broadcastStrides(t *runtime.Tensor, shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for k := 0; k < len(shape); k++ {
		d := len(shape) - 1 - k
		if k < t.Rank() && t.Shape[t.Rank()-1-k] != 1 {
			st[d] = s
		}
		if k < t.Rank() {
			s *= t.Shape[t.Rank()-1-k]
		}
	}
	return st
}

func unaryOpBuilder(class string, f func(a float32) float32) Builder {
	return func(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
		return &OpLayer{layerID: layerID{spec.Name, class}, run: func(_ *OpLayer, call *runtime.Call) (*runtime.Tensor, error) {
			a, err := opOperand(call, 0)
			if err != nil {
				return nil, err
			}
			out := runtime.NewTensor(a.Shape...)
			for i, v := range a.Data {
				out.Data[i] = f(v)
			}
			return out, nil
		}}, nil
	}
}

func buildCastOp(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	r := spec.Config.Reader(spec.Name)
	dtype := r.String("dtype", "float32")
	if err := r.Err(); err != nil {
		return nil, err
	}
	var f func(float32) float32
	switch {
	case dtype == "bool":
		f = func(v float32) float32 { return b2f(v != 0) }
	case strings.HasPrefix(dtype, "int"), strings.HasPrefix(dtype, "uint"):
		f = func(v float32) float32 { return float32(math.Trunc(float64(v))) }
	case strings.HasPrefix(dtype, "float"), strings.HasPrefix(dtype, "bfloat"):
		f = func(v float32) float32 { return v } // computed in float32 throughout
	default:
		return nil, fmt.Errorf("op %q: cast to %q: %w", spec.Name, dtype, convert.ErrUnsupported)
	}
	return unaryOpBuilder("Cast", f)(spec, nil)
}

// opAxes reads the axis option: from the config, or else from the call's
// "axis" keyword or second positional argument. ok is false when absent.
func opAxes(cfg []int, call *runtime.Call) ([]int, bool, error) {
	if cfg != nil {
		return cfg, true, nil
	}
	var c any
	if a, ok := call.Kwarg("axis"); ok {
		c = a.Const
	} else if len(call.Args) > 1 && !call.Args[1].IsTensor() {
		c = call.Args[1].Const
	}
	switch v := c.(type) {
	case nil:
		return nil, false, nil
	case float64:
		return []int{int(v)}, true, nil
	case []any:
		out := make([]int, len(v))
		for i, e := range v {
			f, ok := e.(float64)
			if !ok {
				return nil, false, fmt.Errorf("axis %v: want integers", v)
			}
			out[i] = int(f)
		}
		return out, true, nil
	}
	return nil, false, fmt.Errorf("axis %v (%T): want an integer or a list", c, c)
}

// operandAxes returns the call's first operand and the op's axes (see
// opAxes; ok is false when none are given).
func (l *OpLayer) operandAxes(call *runtime.Call) (a *runtime.Tensor, axes []int, ok bool, err error) {
	if a, err = opOperand(call, 0); err != nil {
		return nil, nil, false, err
	}
	axes, ok, err = opAxes(l.axes, call)
	return a, axes, ok, err
}

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis, rank int) (int, error) {
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return axis, nil
}

func readOpAxes(spec *convert.Layer) ([]int, bool, error) {
	r := spec.Config.Reader(spec.Name)
	axes := r.Ints("axis", nil)
	keep := r.Bool("keepdims", false)
	return axes, keep, r.Err()
}

func buildExpandDimsOp(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	axes, _, err := readOpAxes(spec)
	if err != nil {
		return nil, err
	}
	return &OpLayer{layerID: layerID{spec.Name, "ExpandDims"}, axes: axes, run: func(l *OpLayer, call *runtime.Call) (*runtime.Tensor, error) {
		a, axes, ok, err := l.operandAxes(call)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("no axis given")
		}
		rank := a.Rank() + len(axes)
		insert := make([]bool, rank)
		for _, ax := range axes {
			n, err := normAxis(ax, rank)
			if err != nil {
				return nil, err
			}
			if insert[n] {
				return nil, fmt.Errorf("axis %d repeated in %v", ax, axes)
			}
			insert[n] = true
		}
		shape := make([]int, 0, rank)
		src := 0
		for d := range rank {
			if insert[d] {
				shape = append(shape, 1)
			} else {
				shape = append(shape, a.Shape[src])
				src++
			}
		}
		return &runtime.Tensor{Shape: shape, Data: append([]float32(nil), a.Data...)}, nil
	}}, nil
}

func buildSqueezeOp(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	axes, _, err := readOpAxes(spec)
	if err != nil {
		return nil, err
	}
	return &OpLayer{layerID: layerID{spec.Name, "Squeeze"}, axes: axes, run: func(l *OpLayer, call *runtime.Call) (*runtime.Tensor, error) {
		a, axes, ok, err := l.operandAxes(call)
		if err != nil {
			return nil, err
		}
		drop := make([]bool, a.Rank())
		for d, n := range a.Shape {
			drop[d] = !ok && n == 1
		}
		for _, ax := range axes {
			n, err := normAxis(ax, a.Rank())
			if err != nil {
				return nil, err
			}
			if a.Shape[n] != 1 {
				return nil, fmt.Errorf("cannot squeeze axis %d of shape %v", ax, a.Shape)
			}
			drop[n] = true
		}
		var shape []int
		for d, n := range a.Shape {
			if !drop[d] {
				shape = append(shape, n)
			}
		}
		return &runtime.Tensor{Shape: shape, Data: append([]float32(nil), a.Data...)}, nil
	}}, nil
}

func reduceOpBuilder(class string, red reduction) Builder {
	return func(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
		axes, keep, err := readOpAxes(spec)
		if err != nil {
			return nil, err
		}
		return &OpLayer{layerID: layerID{spec.Name, class}, axes: axes, keepDims: keep, run: func(l *OpLayer, call *runtime.Call) (*runtime.Tensor, error) {
			a, axes, ok, err := l.operandAxes(call)
			if err != nil {
				return nil, err
			}
			keep := l.keepDims
			if k, found := call.Kwarg("keepdims"); found {
				if b, isBool := k.Const.(bool); isBool {
					keep = b
				}
			}
			return reduce(a, axes, ok, keep, red)
		}}, nil
	}
}

// reduce applies red over axes (all axes when !some).
func reduce(a *runtime.Tensor, axes []int, some, keep bool, red reduction) (*runtime.Tensor, error) {
	rank := a.Rank()
	on := make([]bool, rank)
	for d := range on {
		on[d] = !some
	}
	for _, ax := range axes {
		n, err := normAxis(ax, rank)
		if err != nil {
			return nil, err
		}
		on[n] = true
	}
	var shape, keptShape []int
	count := 1
	for d, n := range a.Shape {
		if on[d] {
			count *= n
			keptShape = append(keptShape, 1)
		} else {
			shape = append(shape, n)
			keptShape = append(keptShape, n)
		}
	}
	outLen := 1
	for _, n := range shape {
		outLen *= n
	}
	acc := make([]float64, outLen)
	for i := range acc {
		acc[i] = red.init
	}
	idx := make([]int, rank)
	for _, v := range a.Data {
		o := 0
		for d := range rank {
			if !on[d] {
				o = o*a.Shape[d] + idx[d]
			}
		}
		acc[o] = red.add(acc[o], float64(v))
		for d := rank - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < a.Shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	if keep {
		shape = keptShape
	}
	out := &runtime.Tensor{Shape: shape, Data: make([]float32, outLen)}
	if shape == nil {
		out.Shape = []int{}
	}
	for i, v := range acc {
		if red.mean {
			v /= float64(count)
		}
		out.Data[i] = float32(v)
	}
	return out, nil
}
