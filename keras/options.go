package keras

import "github.com/rnnkit/rnnkit/layers"

// Option changes how Load and its variants read and build a model.
type Option func(*options)

type options struct {
	kerasVersion string
	custom       []customLayer
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
	for _, c := range o.custom {
		r.Register(c.className, c.builder)
	}
	return r
}
