package convert

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrLimit means a model file exceeds one of the load limits (Limits): a
// configuration too large, too deeply nested, with too many layers or
// too large a size. The file may be valid; raise the limit (ParseOptions.
// Limits, keras.WithLoadLimits) to load it.
var ErrLimit = errors.New("load limit exceeded")

// Limits bound what a model configuration may ask for, so that a hostile
// or damaged file fails with ErrLimit before anything is allocated from
// its numbers. A zero field means the default (DefaultLimits); a negative
// one means no limit. The defaults are far above any real Keras model.
type Limits struct {
	// ConfigBytes bounds the size of a configuration JSON (default 64 MiB).
	ConfigBytes int64
	// Depth bounds the nesting of JSON objects and lists (default 256).
	Depth int
	// ListLength bounds the entries of any JSON list or object (default
	// 1,000,000).
	ListLength int
	// Rank bounds the dimensions of every shape in a configuration:
	// batch_shape, input_shape, target_shape, ... (default 32).
	Rank int
	// Dim bounds each fixed dimension of such a shape (default 1<<31 - 1).
	Dim int64
	// Layers bounds the layers of a model, nested models and wrapped
	// layers included (default 100,000).
	Layers int
	// Nodes bounds the calls of layers in a model, all layers together
	// (default 1,000,000).
	Nodes int
	// Units bounds the size options of a layer: units, filters,
	// input_dim, output_dim, key_dim, num_heads, ... (default 1<<26,
	// above the largest vocabularies). The weights present must agree
	// with them too.
	Units int64
	// Inflated bounds the size of a deflated .keras member once inflated
	// (default: 4 times the archive's size plus 256 MiB; Keras itself
	// stores members uncompressed), so that a zip bomb fails before its
	// output fills memory.
	Inflated int64
}

// DefaultLimits returns the limits that apply to zero fields. Inflated
// is 0 there: it depends on the archive's size.
func DefaultLimits() Limits {
	return Limits{
		ConfigBytes: 64 << 20,
		Depth:       256,
		ListLength:  1_000_000,
		Rank:        32,
		Dim:         1<<31 - 1,
		Layers:      100_000,
		Nodes:       1_000_000,
		Units:       1 << 26,
	}
}

// noLimit is a resolved field's value for "no limit".
const noLimit = 1<<63 - 1

// resolved returns l with zero fields set to the defaults and negative
// ones to "no limit".
func (l Limits) resolved() Limits {
	d := DefaultLimits()
	pick64 := func(v, def int64) int64 {
		switch {
		case v == 0:
			return def
		case v < 0:
			return noLimit
		}
		return v
	}
	pick := func(v, def int) int { return int(pick64(int64(v), int64(def))) }
	return Limits{
		ConfigBytes: pick64(l.ConfigBytes, d.ConfigBytes),
		Depth:       pick(l.Depth, d.Depth),
		ListLength:  pick(l.ListLength, d.ListLength),
		Rank:        pick(l.Rank, d.Rank),
		Dim:         pick64(l.Dim, d.Dim),
		Layers:      pick(l.Layers, d.Layers),
		Nodes:       pick(l.Nodes, d.Nodes),
		Units:       pick64(l.Units, d.Units),
		Inflated:    pick64(l.Inflated, d.Inflated),
	}
}

// limitErr is the ErrLimit error for path: what exceeded which field.
func (p *parser) limitErr(path, what string, got any, field string, lim any) error {
	return &Error{File: p.file, Path: path, Kind: ErrLimit,
		Msg: fmt.Sprintf("%s %v exceeds the limit of %v (Limits.%s)", what, got, lim, field)}
}

// sizeKeys are the layer options that size weights or activations.
var sizeKeys = []string{
	"units", "filters", "input_dim", "output_dim", "key_dim", "value_dim", "num_heads",
	"n", "depth_multiplier", "groups", "lora_rank", "num_tokens", "max_tokens", "input_length",
}

// shapeKeys are the layer options holding a shape or a per-axis size list.
var shapeKeys = []string{
	"batch_shape", "batch_input_shape", "input_shape", "target_shape", "output_shape", "noise_shape",
	"dims", "kernel_size", "pool_size", "strides", "dilation_rate", "size", "padding", "cropping",
	"output_padding", "build_input_shape",
}

// checkLayerLimits bounds l's size options and shapes.
func (p *parser) checkLayerLimits(l *Layer, path string) error {
	lim := p.lim
	for _, k := range sizeKeys {
		f, ok := l.Config[k].(float64)
		if ok && lim.Units != noLimit && (f > float64(lim.Units) || f < -float64(lim.Units)) {
			return p.limitErr(path, fmt.Sprintf("option %q:", k), clipNumber(f), "Units", lim.Units)
		}
	}
	for _, k := range shapeKeys {
		if err := p.checkShape(l.Config[k], path, k, 0); err != nil {
			return err
		}
	}
	return nil
}

// checkShape bounds the rank and dimensions of a shape option (nested
// lists, as in ZeroPadding2D's ((1, 1), (2, 2)) or a multi-input
// build_input_shape, are checked level by level).
func (p *parser) checkShape(v any, path, key string, depth int) error {
	lim := p.lim
	switch x := v.(type) {
	case float64:
		if lim.Dim != noLimit && (x > float64(lim.Dim) || x < -float64(lim.Dim)) {
			return p.limitErr(path, fmt.Sprintf("option %q: dimension", key), clipNumber(x), "Dim", lim.Dim)
		}
	case []any:
		if len(x) > lim.Rank {
			return p.limitErr(path, fmt.Sprintf("option %q: rank", key), len(x), "Rank", lim.Rank)
		}
		if depth > 4 {
			return nil
		}
		for _, e := range x {
			if err := p.checkShape(e, path, key, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		if depth > 4 {
			return nil
		}
		for _, e := range x {
			if err := p.checkShape(e, path, key, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// clipNumber prints a JSON number briefly (1e+300, not 300 digits).
func clipNumber(f float64) string { return fmt.Sprintf("%.6g", f) }

// Message lengths: every error of this package stays under maxErrorLen
// bytes however large the hostile input that caused it.
const (
	maxErrorLen = 4096
	maxPartLen  = 1024
)

// clipString shortens s to at most n bytes (at a rune boundary), marking
// the cut with "…" and the number of bytes dropped.
func clipString(s string, n int) string {
	n = max(n, 16)
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	var b strings.Builder
	b.Grow(cut + 32)
	b.WriteString(s[:cut])
	fmt.Fprintf(&b, "…(%d more bytes)", len(s)-cut)
	return b.String()
}

// ClipMessage shortens an error message to the fixed length every
// message of rnnkit stays under, for packages that wrap convert's errors.
func ClipMessage(s string) string { return clipString(s, maxErrorLen) }
