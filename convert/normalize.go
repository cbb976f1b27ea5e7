package convert

import (
	"fmt"
	"strings"
)

// classAliases maps Keras 1/2 and tf.keras class names to the Keras 3
// class of the same computation. CuDNN classes are handled separately
// since their options change too.
var classAliases = map[string]string{
	"Convolution1D":   "Conv1D",
	"MaxPool1D":       "MaxPooling1D",
	"AvgPool1D":       "AveragePooling1D",
	"GlobalMaxPool1D": "GlobalMaxPooling1D",
	"GlobalAvgPool1D": "GlobalAveragePooling1D",
}

// keras1Renames maps Keras 1 option names to Keras 3 ones, per class.
var keras1Renames = map[string]map[string]string{
	"Dense":     {"output_dim": "units", "bias": "use_bias"},
	"SimpleRNN": {"output_dim": "units", "dropout_W": "dropout", "dropout_U": "recurrent_dropout", "bias": "use_bias"},
	"LSTM": {"output_dim": "units", "inner_activation": "recurrent_activation", "dropout_W": "dropout",
		"dropout_U": "recurrent_dropout", "bias": "use_bias"},
	"GRU": {"output_dim": "units", "inner_activation": "recurrent_activation", "dropout_W": "dropout",
		"dropout_U": "recurrent_dropout", "bias": "use_bias"},
	"Conv1D": {"nb_filter": "filters", "filter_length": "kernel_size", "border_mode": "padding",
		"subsample_length": "strides", "bias": "use_bias", "atrous_rate": "dilation_rate"},
	"MaxPooling1D":       {"pool_length": "pool_size", "stride": "strides", "border_mode": "padding"},
	"AveragePooling1D":   {"pool_length": "pool_size", "stride": "strides", "border_mode": "padding"},
	"Dropout":            {"p": "rate"},
	"SpatialDropout1D":   {"p": "rate"},
	"GaussianDropout":    {"p": "rate"},
	"GaussianNoise":      {"sigma": "stddev"},
	"BatchNormalization": {"mode": "keras1_mode"},
}

// keras1Merge maps the Keras 1 Merge layer's modes to Keras 2 merge layers.
var keras1Merge = map[string]string{
	"concat": "Concatenate", "sum": "Add", "mul": "Multiply", "ave": "Average", "max": "Maximum", "dot": "Dot",
}

// parseLayer turns one {class_name, config, ...} entry into a Layer with a
// normalized Config. Nodes are filled by the caller.
func (p *parser) parseLayer(e map[string]any, path string) (*Layer, error) {
	class, _ := e["class_name"].(string)
	if class == "" {
		return nil, p.errf(ErrFormat, path, "no \"class_name\"")
	}
	if p.layers++; p.layers > p.lim.Layers {
		return nil, p.limitErr(path, "layer count", fmt.Sprintf("over %d", p.lim.Layers), "Layers", p.lim.Layers)
	}
	l := &Layer{ClassName: class, origClass: class}
	l.Module, _ = e["module"].(string)
	// Keras 3 records a build_config for every layer it built; an entry
	// in the Keras 3 form without one was saved before it was built.
	_, hasModule := e["module"]
	_, built := e["build_config"]
	l.SavedUnbuilt = hasModule && !built
	cfgAny := e["config"]
	if n, ok := e["name"].(string); ok {
		l.Name = n
	} else if c, ok := cfgAny.(map[string]any); ok {
		l.Name, _ = c["name"].(string)
	}
	path = fmt.Sprintf("%s (%s)", path, l.Name)
	if isModelEntry(class, cfgAny) {
		inner, err := p.parseModel(e, path)
		if err != nil {
			return nil, err
		}
		l.Inner = inner
		if l.Name == "" {
			l.Name = inner.Name
		}
		l.Config = Config{"name": l.Name}
		if c, ok := cfgAny.(map[string]any); ok {
			if t, ok := c["trainable"]; ok {
				l.Config["trainable"] = t
			}
		}
		return l, nil
	}
	cfg := Config{}
	switch c := cfgAny.(type) {
	case map[string]any:
		for k, v := range c {
			cfg[k] = v
		}
	case nil:
	default:
		return nil, p.errf(ErrFormat, path, "config is %s, want an object", jsonKind(cfgAny))
	}
	if l.Name == "" {
		return nil, p.errf(ErrFormat, path, "layer %s has no name", class)
	}
	cfg["name"] = l.Name
	if err := p.normalize(l, cfg, path); err != nil {
		return nil, err
	}
	if err := p.checkLayerLimits(l, path); err != nil {
		return nil, err
	}
	return l, nil
}

// nestedLayer parses a nested {class_name, config} layer (Bidirectional's
// "layer", an RNN "cell").
func (p *parser) nestedLayer(v any, path string) (*Layer, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, p.errf(ErrFormat, path, "got %s, want a layer object", jsonKind(v))
	}
	return p.parseLayer(m, path)
}

// normalize renames options to Keras 3 names, fills the writer's defaults
// and turns nested layers into *Layer values.
func (p *parser) normalize(l *Layer, cfg Config, path string) error {
	class := l.ClassName
	if a, ok := classAliases[class]; ok {
		class = a
	}
	if class == "AtrousConvolution1D" {
		class = "Conv1D"
	}
	cudnn := false
	switch class {
	case "CuDNNLSTM":
		class, cudnn = "LSTM", true
	case "CuDNNGRU":
		class, cudnn = "GRU", true
	case "TimeDistributedDense":
		// Keras 1's deprecated layer is TimeDistributed(Dense) with the
		// same W, b weights.
		inner := Config{"name": l.Name + "_dense"}
		for _, k := range []string{"output_dim", "activation", "bias", "input_dim"} {
			if v, ok := cfg[k]; ok {
				inner[k] = v
			}
		}
		d := &Layer{Name: l.Name + "_dense", ClassName: "Dense", origClass: "Dense"}
		if err := p.normalize(d, inner, path+".layer"); err != nil {
			return err
		}
		for _, k := range []string{"output_dim", "activation", "bias", "input_dim"} {
			delete(cfg, k)
		}
		cfg["layer"] = d
		l.ClassName = "TimeDistributed"
		l.Config = cfg
		return nil
	case "Merge":
		if ls, ok := cfg["layers"].([]any); ok && len(ls) > 0 {
			return p.errf(ErrUnsupported, path, "Keras 1 Merge of Sequential branches")
		}
		mode, _ := cfg["mode"].(string)
		mc, ok := keras1Merge[mode]
		if !ok {
			return p.errf(ErrUnsupported, path, "Keras 1 Merge layer with mode %v", cfg["mode"])
		}
		class = mc
		switch mc {
		case "Concatenate":
			cfg["axis"] = cfg["concat_axis"]
			if cfg["axis"] == nil {
				cfg["axis"] = float64(-1)
			}
		case "Dot":
			cfg["axes"] = cfg["dot_axes"]
			if cfg["axes"] == nil {
				cfg["axes"] = float64(-1)
			}
		}
	}
	l.ClassName = class
	base := strings.TrimSuffix(class, "Cell")
	if r, ok := keras1Renames[base]; ok {
		for old, nw := range r {
			if v, ok := cfg[old]; ok {
				if _, has := cfg[nw]; !has {
					cfg[nw] = v
				}
				delete(cfg, old)
			}
		}
	}
	if d, ok := cfg["dtype"]; ok {
		cfg["dtype"] = dtypeName(d)
	}
	if d, ok := cfg["input_dtype"].(string); ok {
		if _, has := cfg["dtype"]; !has {
			cfg["dtype"] = d
		}
	}
	for _, k := range []string{"activation", "recurrent_activation"} {
		if v, ok := cfg[k]; ok && v != nil {
			a, err := p.activationName(v, path+"."+k)
			if err != nil {
				return err
			}
			cfg[k] = a
		}
	}
	switch base {
	case "LSTM", "GRU":
		if cudnn {
			cfg["activation"] = "tanh"
			cfg["recurrent_activation"] = "sigmoid"
			cfg["use_bias"] = true
			if base == "GRU" {
				cfg["reset_after"] = true
			}
		}
		if !cfg.Has("activation") {
			cfg["activation"] = "tanh"
		}
		if !cfg.Has("recurrent_activation") {
			cfg["recurrent_activation"] = p.ver.recurrentActivationDefault()
		}
		if !cfg.Has("use_bias") {
			cfg["use_bias"] = true
		}
		if base == "GRU" && !cfg.Has("reset_after") {
			cfg["reset_after"] = p.ver.gruResetAfterDefault()
			l.defaulted = append(l.defaulted, "reset_after")
		}
	case "SimpleRNN":
		if !cfg.Has("activation") {
			cfg["activation"] = "tanh"
		}
		if !cfg.Has("use_bias") {
			cfg["use_bias"] = true
		}
	case "Dense", "Conv1D":
		if !cfg.Has("activation") {
			cfg["activation"] = "linear"
		}
		if !cfg.Has("use_bias") {
			cfg["use_bias"] = true
		}
	case "BatchNormalization":
		if m, ok := cfg["keras1_mode"]; ok {
			if f, _ := m.(float64); f != 0 {
				return p.errf(ErrUnsupported, path, "Keras 1 BatchNormalization mode %v (only mode 0 is inference-equivalent)", m)
			}
			delete(cfg, "keras1_mode")
		}
	case "InputLayer":
		shape := cfg["batch_shape"]
		if shape == nil {
			shape = cfg["batch_input_shape"]
		}
		if shape == nil {
			if s, ok := cfg["shape"].([]any); ok {
				shape = append([]any{nil}, s...)
			}
		}
		if shape != nil {
			cfg["batch_shape"] = shape
			cfg["batch_input_shape"] = shape
		}
		if !cfg.Has("dtype") {
			cfg["dtype"] = "float32"
		}
	case "Bidirectional":
		fwd, err := p.nestedLayer(cfg["layer"], path+".layer")
		if err != nil {
			return err
		}
		cfg["layer"] = fwd
		if b, ok := cfg["backward_layer"]; ok && b != nil {
			bwd, err := p.nestedLayer(b, path+".backward_layer")
			if err != nil {
				return err
			}
			cfg["backward_layer"] = bwd
		} else {
			bwd := fwd.clone()
			bwd.Name = "backward_" + fwd.Name
			bwd.Config["name"] = bwd.Name
			gb, _ := bwd.Config["go_backwards"].(bool)
			bwd.Config["go_backwards"] = !gb
			cfg["backward_layer"] = bwd
		}
		if _, ok := cfg["merge_mode"]; !ok {
			cfg["merge_mode"] = "concat"
		}
	case "TimeDistributed":
		inner, err := p.nestedLayer(cfg["layer"], path+".layer")
		if err != nil {
			return err
		}
		cfg["layer"] = inner
	case "RNN":
		switch c := cfg["cell"].(type) {
		case []any:
			// A list of cells is a StackedRNNCells.
			st := &Layer{Name: l.Name + "_cells", ClassName: "StackedRNNCells", origClass: "StackedRNNCells",
				Config: Config{"name": l.Name + "_cells", "cells": c}}
			if err := p.normalize(st, st.Config, path+".cell"); err != nil {
				return err
			}
			cfg["cell"] = st
		default:
			cell, err := p.nestedLayer(c, path+".cell")
			if err != nil {
				return err
			}
			cfg["cell"] = cell
		}
	case "StackedRNNCells":
		list, ok := cfg["cells"].([]any)
		if !ok {
			return p.errf(ErrFormat, path+".cells", "got %s, want a list of cells", jsonKind(cfg["cells"]))
		}
		cells := make([]any, len(list))
		for i, c := range list {
			cell, err := p.nestedLayer(c, fmt.Sprintf("%s.cells[%d]", path, i))
			if err != nil {
				return err
			}
			cells[i] = cell
		}
		cfg["cells"] = cells
	}
	l.Config = cfg
	return nil
}

// dtypeName flattens a dtype policy ("float32", {"class_name": "Policy",
// "config": {"name": "mixed_float16"}}, Keras 3 DTypePolicy dicts) to its
// name.
func dtypeName(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if c, ok := m["config"].(map[string]any); ok {
		if n, ok := c["name"].(string); ok {
			return n
		}
	}
	if n, ok := m["name"].(string); ok {
		return n
	}
	return v
}

// activationName flattens an activation to its string name and applies
// the writer's definition of hard_sigmoid.
func (p *parser) activationName(v any, path string) (string, error) {
	var name string
	switch x := v.(type) {
	case string:
		name = x
	case map[string]any:
		// Keras 3: {"module": "keras.activations", "class_name": "function",
		// "config": "relu", "registered_name": "function"}.
		switch c := x["config"].(type) {
		case string:
			name = c
		case map[string]any:
			name, _ = c["name"].(string)
		}
		if name == "" {
			name, _ = x["class_name"].(string)
		}
	}
	if name == "" {
		return "", p.errf(ErrConfig, path, "activation %v: want a name", v)
	}
	if name == "hard_sigmoid" && p.ver.legacyActivations() {
		name = "hard_sigmoid_keras2"
	}
	return name, nil
}

// clone returns a deep copy of l's description (not its weights).
func (l *Layer) clone() *Layer {
	c := *l
	c.Config = cloneConfig(l.Config)
	c.defaulted = append([]string(nil), l.defaulted...)
	c.Weights = nil
	return &c
}

func cloneConfig(cfg Config) Config {
	out := make(Config, len(cfg))
	for k, v := range cfg {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case *Layer:
		return x.clone()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = cloneValue(e)
		}
		return out
	}
	return v
}
