// Package layers implements Keras layers on the runtime: one file per Keras
// layer family, named as Keras names them (core.go, embedding.go,
// recurrent.go, wrappers.go, ...). Each layer is built from a normalized
// convert.Layer, which checks every weight's shape against the config and
// lays the weights out once for the kernels, and runs on runtime tensors.
package layers

import (
	"fmt"
	"sort"
	"strings"

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
		return nil, &UnsupportedLayerError{Name: spec.Name, ClassName: spec.ClassName}
	}
	l, err := b(spec, env)
	if err != nil {
		return nil, fmt.Errorf("layer %q (%s): %w", spec.Name, spec.ClassName, err)
	}
	return l, nil
}

// UnsupportedLayerError reports a layer class with no registered builder.
type UnsupportedLayerError struct {
	Name      string
	ClassName string
}

func (e *UnsupportedLayerError) Error() string {
	return fmt.Sprintf("unsupported layer %q of class %s", e.Name, e.ClassName)
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
