package layers

import (
	"fmt"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// LambdaFunc stands in for the Python function of one Keras Lambda (or
// tf.keras TFOpLambda) layer, which a file can only carry as Python code.
// It receives the layer's input tensors in call order (one for a Lambda
// called on a tensor, several for one called on a list) and returns its
// outputs. It must not keep or modify its inputs, and must be safe for
// concurrent use: Predict calls it from many goroutines. Keras' Lambda
// computes no mask, so the outputs carry none.
type LambdaFunc func(inputs []*runtime.Tensor) ([]*runtime.Tensor, error)

// LambdaBuilder returns the builder for Lambda and TFOpLambda layers that
// gives each layer named in funcs its Go function. A layer without one is
// reported unsupported, with what its config says of the Python code.
func LambdaBuilder(funcs map[string]LambdaFunc) Builder {
	return func(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
		fn := funcs[spec.Name]
		if fn == nil {
			return nil, NewUnsupportedLayerError(spec)
		}
		if err := noWeights(spec); err != nil {
			return nil, err
		}
		return &Lambda{layerIdent: idOf(spec), fn: fn}, nil
	}
}

// Lambda is a Lambda layer bound to a user's Go function.
type Lambda struct {
	layerIdent
	fn LambdaFunc
}

// Call runs the function on the inputs' tensors.
func (l *Lambda) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in := call.Inputs()
	ts := make([]*runtime.Tensor, len(in))
	for i, v := range in {
		if v.T == nil {
			return nil, fmt.Errorf("layer %q: input %d is None", l.name, i)
		}
		ts[i] = v.T
	}
	outs, err := l.fn(ts)
	if err != nil {
		return nil, fmt.Errorf("layer %q: the Go function for this Lambda: %w", l.name, err)
	}
	if len(outs) == 0 {
		return nil, fmt.Errorf("layer %q: the Go function for this Lambda returned no tensor", l.name)
	}
	res := ctx.Values(l, 0, len(outs))
	for i, t := range outs {
		if t == nil || len(t.Data) != shapeSize(t.Shape) {
			return nil, fmt.Errorf("layer %q: the Go function for this Lambda returned a malformed tensor %d", l.name, i)
		}
		res[i] = runtime.Value{T: t}
	}
	return res, nil
}
