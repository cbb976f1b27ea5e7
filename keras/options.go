package keras

import "github.com/rnnkit/rnnkit/layers"

// Option changes how Load and its variants read and build a model.
type Option func(*options)

type options struct {
	kerasVersion string
	custom       []customLayer
	lambdas      map[string]layers.LambdaFunc
}

type customLayer struct {
	className string
	builder   layers.Builder
}

// WithKerasVersion sets the Keras version whose semantics apply ("2.1.2",
// "3.16.0"): GRU reset_after and LSTM recurrent_activation defaults, the
// hard_sigmoid formula, merge-layer mask rules. Files that do not record
// their writer's version (Keras 1 weights, hand-written JSON) need it; when
// given, it wins over the version the file records.
func WithKerasVersion(v string) Option {
	return func(o *options) { o.kerasVersion = v }
}

// WithLayer registers a builder for a custom layer class (or replaces a
// built-in one) for this load only; the standard registry is not changed.
func WithLayer(className string, b layers.Builder) Option {
	return func(o *options) { o.custom = append(o.custom, customLayer{className, b}) }
}

// LambdaFunc is the Go stand-in for a Lambda layer's Python function: it
// gets the layer's input tensors in call order and returns its outputs
// (see layers.LambdaFunc; it must be safe for concurrent use).
type LambdaFunc = layers.LambdaFunc

// WithLambda supplies fn for the Lambda (or tf.keras TFOpLambda) layer
// named layerName. Lambda layers hold Python code, which rnnkit cannot
// run; without a function for each, Load fails with an
// UnsupportedLayersError that shows what the file records of the code.
func WithLambda(layerName string, fn LambdaFunc) Option {
	return func(o *options) {
		if o.lambdas == nil {
			o.lambdas = map[string]layers.LambdaFunc{}
		}
		o.lambdas[layerName] = fn
	}
}

func collectOptions(opts []Option) *options {
	o := &options{}
	for _, f := range opts {
		if f != nil {
			f(o)
		}
	}
	return o
}

// registry returns the standard registry, cloned and extended when custom
// layers were given.
func (o *options) registry() *layers.Registry {
	r := layers.Standard()
	if len(o.lambdas) > 0 {
		lb := layers.LambdaBuilder(o.lambdas)
		for _, class := range []string{"Lambda", "TFOpLambda", "SlicingOpLambda"} {
			r.Register(class, lb)
		}
	}
	for _, c := range o.custom {
		r.Register(c.className, c.builder)
	}
	return r
}
