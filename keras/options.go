package keras

import (
	"fmt"
	"regexp"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/layers"
)

// Option changes how Load and its variants read and build a model.
type Option func(*options)

type options struct {
	kerasVersion string
	custom       []customLayer
	lambdas      map[string]layers.LambdaFunc
	call         CallOptions
	// vocabularies holds WithVocabulary's tokens by layer name.
	vocabularies map[string][]string
	loadLimits   convert.Limits
	integrity    integrityOptions
}

type customLayer struct {
	className string
	builder   layers.Builder
}

// WithKerasVersion sets the Keras version whose semantics apply ("2.1.2",
// "3.16.0"; Keras 1 to 3, MAJOR[.MINOR[.PATCH]] with an optional suffix
// such as "-tf"; anything else fails the load with ErrConfig): GRU reset_after and LSTM recurrent_activation defaults, the
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

// WithThreads caps the goroutines one call of the model may use
// (CallOptions.Threads); n <= 0 means GOMAXPROCS, the default.
func WithThreads(n int) Option {
	return func(o *options) { o.call.Threads = max(n, 0) }
}

// WithMaxSequenceLength makes calls whose inputs are longer than n time
// steps fail with ErrLimit before any work (CallOptions.MaxSequenceLength);
// 0 means DefaultMaxSequenceLength, a negative n no limit.
func WithMaxSequenceLength(n int) Option {
	return func(o *options) { o.call.MaxSequenceLength = n }
}

// DefaultMaxSequenceLength bounds the time steps of one call when no
// bound is set (2^20). Keras sets none, but a batch call over millions of
// steps is almost always a hostile or broken input that would hold a
// goroutine for minutes even when it fits the memory budget; streaming
// sessions take a step per call and never meet it. WithMaxSequenceLength
// (-1) lifts it.
const DefaultMaxSequenceLength = 1 << 20

// WithMaxBatch makes calls with more than n sequences in a batch fail with
// ErrLimit before any work (CallOptions.MaxBatch); n <= 0 means no limit,
// the default.
func WithMaxBatch(n int) Option {
	return func(o *options) { o.call.MaxBatch = max(n, 0) }
}

// CallOptions bound the work of each call of a model: Model.WithCallOptions
// returns a view of a model whose calls use them, and the load options
// WithThreads, WithMaxSequenceLength and WithMaxBatch set a model's
// defaults. Zero fields mean the default: no bound, except for
// MaxSequenceLength and MaxMemory, whose defaults are
// DefaultMaxSequenceLength and DefaultMemoryBudget.
type CallOptions struct {
	// Threads caps the goroutines one call may use; 0 means GOMAXPROCS.
	Threads int
	// MaxSequenceLength bounds the time dimension (dimension 1) of every
	// sequence input: inputs of rank 3 or more, and token-id inputs. A
	// longer input fails with ErrLimit before any work. 0 means
	// DefaultMaxSequenceLength, a negative value no bound.
	MaxSequenceLength int
	// MaxBatch bounds the batch dimension (dimension 0) of every input;
	// a larger batch fails with ErrLimit before any work.
	MaxBatch int
	// MaxMemory bounds the bytes one call may allocate: a call whose
	// estimated peak memory (from its input shapes and the model) goes
	// over it fails with ErrLimit before any work, and the workspace
	// refuses allocations beyond it should the estimate be short. 0 means
	// DefaultMemoryBudget (1 GiB), a negative value no bound. Set it with
	// WithMemoryBudget at load.
	MaxMemory int64
}

// kerasVersionRE matches the versions WithKerasVersion takes.
var kerasVersionRE = regexp.MustCompile(`^[123](\.[0-9]+){0,2}([-+][0-9A-Za-z.+-]*)?$`)

// validate reports options that cannot apply.
func (o *options) validate() error {
	if o.kerasVersion != "" && !kerasVersionRE.MatchString(o.kerasVersion) {
		return fmt.Errorf("keras: WithKerasVersion(%q): want a Keras version from 1 to 3 such as 2.1.6 or 3.16.0: %w", o.kerasVersion, ErrConfig)
	}
	return nil
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
	o.registerVocabularies(r)
	for _, c := range o.custom {
		r.Register(c.className, c.builder)
	}
	return r
}

// LoadLimits bound what a model file may ask for at load: configuration
// size and nesting, list lengths, shape ranks and dimensions, layer and
// node counts, layer sizes (units, filters, input_dim, ...). A file over
// a limit fails with ErrLimit before anything is allocated from its
// numbers. Zero fields mean the defaults (convert.DefaultLimits), which
// are far above any real Keras model; negative fields mean no limit.
type LoadLimits = convert.Limits

// WithLoadLimits replaces the load limits, for the rare model larger than
// the defaults (or a service that wants tighter ones).
func WithLoadLimits(l LoadLimits) Option {
	return func(o *options) { o.loadLimits = l }
}
