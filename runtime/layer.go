package runtime

// Value is a tensor on a graph edge together with the Keras mask it carries.
//
// Mask is nil when the tensor carries no mask. Otherwise it holds 0/1 values
// over the tensor's leading dimensions, as Keras' _keras_mask does: for a
// sequence [batch, time, features] the mask is [batch, time].
type Value struct {
	T    *Tensor
	Mask *Tensor
}

// Arg is one resolved argument of a layer call. It mirrors convert.Arg with
// tensor references replaced by the values they name.
type Arg struct {
	// Values holds the tensors: one for a single tensor argument, several
	// for a list argument (Concatenate's inputs, Attention's [query, value]).
	Values []Value
	// IsList reports that the argument was a list in the Keras call, even
	// when it holds a single tensor.
	IsList bool
	// Const is the argument's value when it is not a tensor (for example the
	// 0 in Keras 3's NotEqual(tokens, 0) op node, or training=False).
	// Numbers are float64, as in JSON.
	Const any
}

// IsTensor reports whether the argument carries tensors.
func (a Arg) IsTensor() bool { return len(a.Values) > 0 }

// Call is one invocation of a layer at a graph node: the Keras call's
// positional arguments and keyword arguments, resolved.
//
// Masks travel in two ways, as in Keras: implicitly on each Value (the mask
// the producing layer computed), and explicitly as a "mask" keyword argument
// (Keras 3 functional configs record it). An explicit mask wins.
type Call struct {
	Args   []Arg
	Kwargs map[string]Arg
}

// Inputs returns the tensors of the first positional argument, which is
// what Keras calls the layer's inputs.
func (c *Call) Inputs() []Value {
	if c == nil || len(c.Args) == 0 {
		return nil
	}
	return c.Args[0].Values
}

// Kwarg returns a keyword argument and whether it was given with a value
// other than None.
func (c *Call) Kwarg(name string) (Arg, bool) {
	if c == nil || c.Kwargs == nil {
		return Arg{}, false
	}
	a, ok := c.Kwargs[name]
	if !ok || (len(a.Values) == 0 && a.Const == nil) {
		return Arg{}, false
	}
	return a, true
}

// Layer is a Keras layer bound to its weights. Implementations are
// immutable after construction and safe for concurrent use: everything that
// changes during a call lives in the Workspace.
type Layer interface {
	// Name is the Keras layer name ("lstm_1").
	Name() string
	// ClassName is the Keras class name ("LSTM").
	ClassName() string
	// Call runs the layer for one graph node and returns its outputs in
	// Keras order (LSTM with return_state: output, h, c), each with the
	// mask Keras' compute_mask would attach.
	Call(ctx *Workspace, call *Call) ([]Value, error)
}

// Resetter is implemented by layers that keep state across calls in a
// Session (stateful RNNs, or any RNN when streaming).
type Resetter interface {
	// ResetState clears the layer's state held in ctx.
	ResetState(ctx *Workspace)
}
