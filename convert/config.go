package convert

import (
	"fmt"
	"math"
	"sort"
)

// Config is a layer's options, decoded from the Keras JSON and renamed to
// Keras 3 keys. Values are float64, bool, string, nil, []any,
// map[string]any, or *Layer for nested layer configs (Bidirectional's
// "layer" and "backward_layer", TimeDistributed's "layer").
//
// Read it through a ConfigReader, which records the first type error.
type Config map[string]any

// Has reports whether key is present with a non-null value.
func (c Config) Has(key string) bool {
	v, ok := c[key]
	return ok && v != nil
}

// Keys returns the keys in sorted order.
func (c Config) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Reader returns a ConfigReader over c that names layer in its errors.
func (c Config) Reader(layer string) *ConfigReader {
	return &ConfigReader{cfg: c, layer: layer}
}

// ConfigReader reads typed options from a Config. The first option with a
// wrong type is recorded and returned by Err; later reads return defaults.
type ConfigReader struct {
	cfg   Config
	layer string
	err   error
}

// Err returns the first error recorded.
func (r *ConfigReader) Err() error { return r.err }

func (r *ConfigReader) fail(key string, v any, want string) {
	if r.err == nil {
		r.err = fmt.Errorf("layer %q: option %q: got %v (%T), want %s: %w", r.layer, key, v, v, want, ErrConfig)
	}
}

// Int returns an integer option, or def when it is absent or null.
func (r *ConfigReader) Int(key string, def int) int {
	v, ok := r.cfg[key]
	if !ok || v == nil {
		return def
	}
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		r.fail(key, v, "an integer")
		return def
	}
	return int(f)
}

// Float returns a number option, or def when it is absent or null.
func (r *ConfigReader) Float(key string, def float64) float64 {
	v, ok := r.cfg[key]
	if !ok || v == nil {
		return def
	}
	f, ok := v.(float64)
	if !ok {
		r.fail(key, v, "a number")
		return def
	}
	return f
}

// Bool returns a boolean option, or def when it is absent or null.
func (r *ConfigReader) Bool(key string, def bool) bool {
	v, ok := r.cfg[key]
	if !ok || v == nil {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		r.fail(key, v, "a boolean")
		return def
	}
	return b
}

// String returns a string option, or def when it is absent or null.
func (r *ConfigReader) String(key string, def string) string {
	v, ok := r.cfg[key]
	if !ok || v == nil {
		return def
	}
	s, ok := v.(string)
	if !ok {
		r.fail(key, v, "a string")
		return def
	}
	return s
}

// Ints returns a list of integers (a shape, an axis list). A null entry,
// as in a shape's batch dimension, reads as -1. A single integer reads as
// a one-element list, as Keras accepts for axes and pool sizes.
func (r *ConfigReader) Ints(key string, def []int) []int {
	v, ok := r.cfg[key]
	if !ok || v == nil {
		return def
	}
	if f, ok := v.(float64); ok && f == math.Trunc(f) {
		return []int{int(f)}
	}
	list, ok := v.([]any)
	if !ok {
		r.fail(key, v, "a list of integers")
		return def
	}
	out := make([]int, len(list))
	for i, e := range list {
		if e == nil {
			out[i] = -1
			continue
		}
		f, ok := e.(float64)
		if !ok || f != math.Trunc(f) {
			r.fail(key, v, "a list of integers")
			return def
		}
		out[i] = int(f)
	}
	return out
}

// Layer returns a nested layer option (Bidirectional's "layer"), or nil.
func (r *ConfigReader) Layer(key string) *Layer {
	v, ok := r.cfg[key]
	if !ok || v == nil {
		return nil
	}
	l, ok := v.(*Layer)
	if !ok {
		r.fail(key, v, "a layer")
		return nil
	}
	return l
}

// Raw returns the option's decoded value, or nil.
func (r *ConfigReader) Raw(key string) any { return r.cfg[key] }
