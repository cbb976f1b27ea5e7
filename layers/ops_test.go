package layers

import (
	"errors"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

func buildOp(t *testing.T, class string, cfg convert.Config) runtime.Layer {
	t.Helper()
	l, err := Standard().Build(&convert.Layer{Name: "op", ClassName: class, Module: "keras.src.ops.numpy", Config: cfg}, &Env{})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func tensorArg(data []float32, shape ...int) runtime.Arg {
	x, err := runtime.FromData(data, shape...)
	if err != nil {
		panic(err)
	}
	return runtime.Arg{Values: []runtime.Value{{T: x}}}
}

func runOp(t *testing.T, l runtime.Layer, args ...runtime.Arg) *runtime.Tensor {
	t.Helper()
	out, err := l.Call(runtime.NewWorkspace(false), &runtime.Call{Args: args})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Mask != nil {
		t.Fatalf("got %d outputs (mask %v), want one without a mask", len(out), out[0].Mask)
	}
	return out[0].T
}

func wantTensor(t *testing.T, got *runtime.Tensor, shape []int, data []float32) {
	t.Helper()
	if len(got.Shape) != len(shape) {
		t.Fatalf("shape %v, want %v", got.Shape, shape)
	}
	for i := range shape {
		if got.Shape[i] != shape[i] {
			t.Fatalf("shape %v, want %v", got.Shape, shape)
		}
	}
	if err := closeTo(got.Data, data, 0, 0); err != nil {
		t.Fatal(err)
	}
}

// TestNotEqualMask is the op Keras 3 records for Embedding(mask_zero).
func TestNotEqualMask(t *testing.T) {
	l := buildOp(t, "NotEqual", convert.Config{"name": "not_equal"})
	got := runOp(t, l, tensorArg([]float32{3, 0, 5, 0, 0, 1}, 2, 3), runtime.Arg{Const: 0.0})
	wantTensor(t, got, []int{2, 3}, []float32{1, 0, 1, 0, 0, 1})
}

func TestBinaryOpBroadcast(t *testing.T) {
	l := buildOp(t, "Subtract", nil)
	got := runOp(t, l, tensorArg([]float32{1, 2, 3, 4, 5, 6}, 2, 3), tensorArg([]float32{10, 20}, 2, 1))
	wantTensor(t, got, []int{2, 3}, []float32{-9, -8, -7, -16, -15, -14})
	got = runOp(t, l, tensorArg([]float32{1, 2, 3}, 3), tensorArg([]float32{1, 2}, 2, 1))
	wantTensor(t, got, []int{2, 3}, []float32{0, 1, 2, -1, 0, 1})
	_, err := l.Call(runtime.NewWorkspace(false), &runtime.Call{Args: []runtime.Arg{
		tensorArg([]float32{1, 2, 3}, 3), tensorArg([]float32{1, 2}, 2)}})
	if err == nil {
		t.Error("shapes [3] and [2]: want an error")
	}
}

// TestOpNamespace checks that an op class sharing a layer's name is built
// as the op only under an ops module.
func TestOpNamespace(t *testing.T) {
	r := NewRegistry()
	registerOps(r)
	if _, err := r.Build(&convert.Layer{Name: "add", ClassName: "Add", Module: "keras.layers"}, &Env{Registry: r}); !errors.Is(err, convert.ErrUnsupported) {
		t.Errorf("keras.layers Add from the ops table: got %v", err)
	}
	if _, err := r.Build(&convert.Layer{Name: "add", ClassName: "Add", Module: "keras.src.ops.numpy"}, &Env{Registry: r}); err != nil {
		t.Error(err)
	}
}

func TestReduceOps(t *testing.T) {
	x := []float32{1, 0, 3, 0, 0, 0}
	got := runOp(t, buildOp(t, "Any", convert.Config{"axis": -1.0}), tensorArg(x, 2, 3))
	wantTensor(t, got, []int{2}, []float32{1, 0})
	got = runOp(t, buildOp(t, "Sum", convert.Config{"axis": 0.0, "keepdims": true}), tensorArg(x, 2, 3))
	wantTensor(t, got, []int{1, 3}, []float32{1, 0, 3})
	got = runOp(t, buildOp(t, "Mean", nil), tensorArg(x, 2, 3))
	wantTensor(t, got, []int{}, []float32{4.0 / 6})
	got = runOp(t, buildOp(t, "All", convert.Config{"axis": []any{1.0}}), tensorArg([]float32{1, 1, 1, 0}, 2, 2))
	wantTensor(t, got, []int{2}, []float32{1, 0})
}

func TestShapeOps(t *testing.T) {
	x := []float32{1, 2, 3, 4}
	got := runOp(t, buildOp(t, "ExpandDims", convert.Config{"axis": -1.0}), tensorArg(x, 2, 2))
	wantTensor(t, got, []int{2, 2, 1}, x)
	if _, err := buildOp(t, "ExpandDims", convert.Config{"axis": []any{0.0, 0.0}}).Call(runtime.NewWorkspace(false),
		&runtime.Call{Args: []runtime.Arg{tensorArg(x, 4)}}); err == nil {
		t.Error("repeated ExpandDims axis: want an error")
	}
	got = runOp(t, buildOp(t, "Squeeze", nil), tensorArg(x, 1, 4, 1))
	wantTensor(t, got, []int{4}, x)
	got = runOp(t, buildOp(t, "Squeeze", convert.Config{"axis": 0.0}), tensorArg(x, 1, 4, 1))
	wantTensor(t, got, []int{4, 1}, x)
	got = runOp(t, buildOp(t, "Cast", convert.Config{"dtype": "int32"}), tensorArg([]float32{1.7, -1.7}, 2))
	wantTensor(t, got, []int{2}, []float32{1, -1})
	got = runOp(t, buildOp(t, "LogicalNot", nil), tensorArg([]float32{0, 2}, 2))
	wantTensor(t, got, []int{2}, []float32{1, 0})
	if _, err := Standard().Build(&convert.Layer{Name: "c", ClassName: "Cast", Module: "keras.src.ops.core",
		Config: convert.Config{"dtype": "string"}}, &Env{}); !errors.Is(err, convert.ErrUnsupported) {
		t.Errorf("cast to string: got %v, want ErrUnsupported", err)
	}
}

// TestOpAxisFromCall reads the axis from the call when the config has none,
// as a positional constant or a keyword.
func TestOpAxisFromCall(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6}
	l := buildOp(t, "ExpandDims", nil)
	got := runOp(t, l, tensorArg(x, 2, 3), runtime.Arg{Const: 1.0})
	wantTensor(t, got, []int{2, 1, 3}, x)
	out, err := buildOp(t, "Sum", nil).Call(runtime.NewWorkspace(false), &runtime.Call{
		Args:   []runtime.Arg{tensorArg(x, 2, 3)},
		Kwargs: map[string]runtime.Arg{"axis": {Const: []any{-1.0}}, "keepdims": {Const: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantTensor(t, out[0].T, []int{2, 1}, []float32{6, 15})
	if _, err := l.Call(runtime.NewWorkspace(false), &runtime.Call{Args: []runtime.Arg{tensorArg(x, 2, 3)}}); err == nil {
		t.Error("ExpandDims without an axis: want an error")
	}
	if _, err := l.Call(runtime.NewWorkspace(false), &runtime.Call{Args: []runtime.Arg{tensorArg(x, 2, 3), {Const: "x"}}}); err == nil {
		t.Error("ExpandDims with a string axis: want an error")
	}
	if l.Name() != "op" || l.ClassName() != "ExpandDims" {
		t.Errorf("name %q class %q", l.Name(), l.ClassName())
	}
	if _, err := buildOp(t, "NotEqual", nil).Call(runtime.NewWorkspace(false), &runtime.Call{Args: []runtime.Arg{tensorArg(x, 6), {Const: "a"}}}); err == nil {
		t.Error("NotEqual with a string operand: want an error")
	}
}
