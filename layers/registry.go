// Package layers implements Keras layers on the runtime: one file per Keras
// layer family, named as Keras names them (core.go, embedding.go,
// recurrent.go, wrappers.go, ...). Each layer is built from a normalized
// convert.Layer, which checks every weight's shape against the config and
// lays the weights out once for the kernels, and runs on runtime tensors.
package layers

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// Builder constructs a runtime layer from its normalized description. It
// must check each weight's shape against the configuration and return an
// error naming the layer, the weight and both shapes when they differ.
type Builder func(spec *convert.Layer, env *Env) (runtime.Layer, error)

// Env is what a Builder may need beyond its own description: the registry,
// to build the layers a wrapper wraps, and the writer's Keras version.
type Env struct {
	Registry     *Registry
	KerasVersion string
}

// Build builds spec with the builder registered for its class.
func (e *Env) Build(spec *convert.Layer) (runtime.Layer, error) {
	return e.Registry.Build(spec, e)
}

// Registry maps Keras class names to Builders. It is a value, not a
// global: Standard returns one with every built-in layer, and a user adds
// custom layers to their own copy.
type Registry struct {
	builders map[string]Builder
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{builders: make(map[string]Builder)} }

// Register adds or replaces the builder for a Keras class name.
func (r *Registry) Register(className string, b Builder) { r.builders[className] = b }

// Lookup returns the builder for a class name.
func (r *Registry) Lookup(className string) (Builder, bool) {
	b, ok := r.builders[className]
	return b, ok
}

// Classes returns the registered class names in sorted order.
func (r *Registry) Classes() []string {
	names := make([]string, 0, len(r.builders))
	for n := range r.builders {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Clone returns a copy that can be extended without changing r.
func (r *Registry) Clone() *Registry {
	c := NewRegistry()
	for k, v := range r.builders {
		c.builders[k] = v
	}
	return c
}

// RegisterOp adds or replaces the builder for a Keras 3 operation class
// (a graph entry whose module is under keras.src.ops, such as NotEqual).
// Operations have their own namespace because some share a class name with
// a layer: ops.numpy Add is not keras.layers.Add.
func (r *Registry) RegisterOp(className string, b Builder) { r.builders[opKey(className)] = b }

// opKey is the registry key of an operation class.
func opKey(className string) string { return "keras.src.ops:" + className }

// IsOpModule reports whether a Keras 3 module names an operation rather
// than a layer ("keras.src.ops.numpy", "keras.ops").
func IsOpModule(module string) bool {
	return strings.HasPrefix(module, "keras.src.ops") || strings.HasPrefix(module, "keras.ops")
}

// Build builds spec with the builder registered for its class, or returns
// an UnsupportedLayerError. An entry whose module is an operation module
// uses the builders registered with RegisterOp.
func (r *Registry) Build(spec *convert.Layer, env *Env) (runtime.Layer, error) {
	key := spec.ClassName
	if IsOpModule(spec.Module) {
		key = opKey(spec.ClassName)
	}
	b, ok := r.builders[key]
	if !ok {
		// Keras 3 legacy HDF5 writes a registered class as "package>Class";
		// a builder registered for the bare class serves it.
		if i := strings.LastIndexByte(key, '>'); i >= 0 {
			b, ok = r.builders[key[i+1:]]
		}
	}
	if !ok {
		return nil, NewUnsupportedLayerError(spec)
	}
	l, err := b(spec, env)
	if err != nil {
		return nil, fmt.Errorf("layer %q (%s): %w", spec.Name, spec.ClassName, err)
	}
	return l, nil
}

// UnsupportedLayerError reports a layer class with no registered builder,
// with what a user needs to write one: its config keys and weights, and
// for a Lambda what the file records of its Python function.
type UnsupportedLayerError struct {
	Name      string
	ClassName string
	// ConfigKeys lists the layer's config keys, sorted.
	ConfigKeys []string
	// Weights lists the stored weights as "name (shape)".
	Weights []string
	// Python describes a Lambda's Python function (convert.DescribeLambda)
	// or names a TFOpLambda's TensorFlow op; "" otherwise.
	Python string
}

// NewUnsupportedLayerError describes spec for an UnsupportedLayerError.
func NewUnsupportedLayerError(spec *convert.Layer) *UnsupportedLayerError {
	e := &UnsupportedLayerError{Name: spec.Name, ClassName: spec.ClassName, ConfigKeys: spec.Config.Keys()}
	sort.Strings(e.ConfigKeys)
	for _, w := range spec.Weights {
		e.Weights = append(e.Weights, fmt.Sprintf("%s %s", weightBaseName(w.Name), shapeTuple(w.Shape)))
	}
	switch spec.ClassName {
	case "Lambda":
		e.Python = convert.DescribeLambda(spec.Config)
	case "TFOpLambda", "SlicingOpLambda":
		if f, ok := spec.Config["function"].(string); ok {
			e.Python = "the TensorFlow op tf." + f
		}
	}
	return e
}

// IsLambda reports whether the layer runs Python code (Lambda,
// TFOpLambda), which only a Go function can stand in for.
func (e *UnsupportedLayerError) IsLambda() bool {
	switch e.ClassName {
	case "Lambda", "TFOpLambda", "SlicingOpLambda":
		return true
	}
	return false
}

func (e *UnsupportedLayerError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unsupported layer %q (%s", e.Name, e.ClassName)
	e.WriteDetail(&b)
	b.WriteByte(')')
	return b.String()
}

// WriteDetail writes "; " and what the error knows of the layer, bounded
// in length however large the config: the Python function of a Lambda,
// else the config keys and weights.
func (e *UnsupportedLayerError) WriteDetail(b *strings.Builder) {
	if e.Python != "" {
		fmt.Fprintf(b, "; runs %s", clip(e.Python, 400))
		return
	}
	if len(e.ConfigKeys) > 0 {
		fmt.Fprintf(b, "; config keys: %s", clip(strings.Join(e.ConfigKeys, ", "), 300))
	}
	if len(e.Weights) > 0 {
		fmt.Fprintf(b, "; weights: %s", clip(strings.Join(e.Weights, ", "), 300))
	}
}

// clip shortens s to at most n bytes at a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// shapeTuple prints a shape as Keras does: (25, 1).
func shapeTuple(shape []int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}

// Unwrap lets errors.Is(err, convert.ErrUnsupported) match.
func (e *UnsupportedLayerError) Unwrap() error { return convert.ErrUnsupported }

// Standard returns a new registry holding every built-in layer.
func Standard() *Registry {
	r := NewRegistry()
	for _, reg := range builtins {
		reg(r)
	}
	return r
}

// builtins lists the functions that register each layer family. Each
// family's file appends its function in an init func, the way image formats
// register with package image; the table is never changed after init.
var builtins []func(*Registry)
