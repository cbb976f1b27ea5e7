package convert

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/tidwall/gjson"
)

// ParseModelConfig parses a Keras model configuration: the JSON of
// model.to_json(), the legacy HDF5 model_config attribute, a .keras
// config.json, or an object holding one of these under "model_config"
// (TF.js modelTopology, tf.keras SavedModel metadata). Every Keras
// generation is accepted (Keras 1 and 2 list-form Sequential and
// 3-/4-element inbound refs, Keras 3 args/kwargs nodes) and normalized to
// one schema: Sequential models become functional graphs with an
// InputLayer, options carry Keras 3 names with the writer's defaults filled
// in, nested layers are *Layer values. The graph has no weights yet.
func ParseModelConfig(data []byte, opt ParseOptions) (*Graph, error) {
	g, _, err := parseModelConfig(data, opt)
	return g, err
}

// parseModelConfig also returns the version whose semantics were applied.
func parseModelConfig(data []byte, opt ParseOptions) (*Graph, version, error) {
	p := &parser{file: opt.File, lim: opt.Limits.resolved()}
	if int64(len(data)) > p.lim.ConfigBytes {
		return nil, version{}, p.limitErr("model config", "size of", fmt.Sprintf("%d bytes", len(data)), "ConfigBytes", p.lim.ConfigBytes)
	}
	// encoding/json's validator is iterative and refuses nesting past
	// 10,000 levels; gjson's recursive one would overflow the stack on a
	// long run of '['.
	if !json.Valid(data) {
		return nil, version{}, JSONError(opt.File, "model config", data)
	}
	root, err := p.decodeJSON(gjson.ParseBytes(data), 0)
	if err != nil {
		return nil, version{}, p.wrapDecode("model config", err)
	}
	top, ok := root.(map[string]any)
	if !ok {
		return nil, version{}, p.errf(ErrFormat, "model config", "got %s, want a JSON object", jsonKind(root))
	}
	// TF.js modelTopology and SavedModel metadata wrap the model config,
	// sometimes as a JSON string.
	for i := 0; i < 2; i++ {
		mc, ok := top["model_config"]
		if !ok {
			break
		}
		if s, ok := mc.(string); ok {
			if !json.Valid([]byte(s)) {
				return nil, version{}, JSONError(opt.File, "model_config (a JSON string)", []byte(s))
			}
			mc, err = p.decodeJSON(gjson.Parse(s), 0)
			if err != nil {
				return nil, version{}, p.wrapDecode("model_config", err)
			}
		}
		inner, ok := mc.(map[string]any)
		if !ok {
			return nil, version{}, p.errf(ErrFormat, "model_config", "got %s, want a JSON object", jsonKind(mc))
		}
		if kv, ok := top["keras_version"].(string); ok {
			if _, has := inner["keras_version"]; !has {
				inner["keras_version"] = kv
			}
		}
		top = inner
	}
	vs := opt.KerasVersion
	if vs == "" {
		vs = opt.WriterVersion
	}
	if vs == "" {
		vs, _ = top["keras_version"].(string)
	}
	if vs == "" {
		vs = guessVersion(data)
	}
	p.ver = parseVersion(vs)
	g, err := p.parseModel(top, "model")
	if err != nil {
		return nil, p.ver, err
	}
	return g, p.ver, nil
}

// guessVersion infers the Keras generation of a config that records no
// version from the keys only that generation writes.
func guessVersion(data []byte) string {
	s := string(data)
	switch {
	case strings.Contains(s, `"__keras_tensor__"`) || strings.Contains(s, `"batch_shape"`) ||
		strings.Contains(s, `"module": "keras`) || strings.Contains(s, `"module":"keras`):
		return "3"
	case strings.Contains(s, `"inner_activation"`) || strings.Contains(s, `"consume_less"`) ||
		strings.Contains(s, `"W_regularizer"`) || strings.Contains(s, `"input_dtype"`):
		return "1"
	}
	return "2"
}

type parser struct {
	file string
	ver  version
	lim  Limits
	// layers and nodes count what the configuration declared so far,
	// nested models included, against lim.
	layers, nodes int
}

// wrapDecode turns an error of decodeJSON into a located error: a limit
// error keeps its kind, anything else is ErrFormat.
func (p *parser) wrapDecode(path string, err error) error {
	var le *limitJSONError
	if errors.As(err, &le) {
		return &Error{File: p.file, Path: path, Kind: ErrLimit, Msg: le.msg}
	}
	return p.errf(ErrFormat, path, "%v", err)
}

// limitJSONError is a limit hit while decoding JSON.
type limitJSONError struct{ msg string }

func (e *limitJSONError) Error() string { return e.msg }

func (p *parser) errf(kind error, path, format string, args ...any) error {
	return &Error{File: p.file, Path: path, Msg: fmt.Sprintf(format, args...), Kind: kind}
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}

// decodeJSON turns a gjson value into float64, bool, string, nil, []any
// or map[string]any. tf.keras tuples ({"class_name": "__tuple__",
// "items": [...]}) become lists and "shared_object_id" keys are dropped:
// every occurrence carries the full config, so the id adds nothing.
func decodeJSON(r gjson.Result, depth int) (any, error) {
	p := &parser{lim: Limits{}.resolved()}
	return p.decodeJSON(r, depth)
}

func (p *parser) decodeJSON(r gjson.Result, depth int) (any, error) {
	if depth > p.lim.Depth {
		return nil, &limitJSONError{fmt.Sprintf("JSON nested deeper than %d levels (Limits.Depth)", p.lim.Depth)}
	}
	switch {
	case r.IsObject():
		m := make(map[string]any)
		var err error
		n := 0
		r.ForEach(func(k, v gjson.Result) bool {
			if n++; n > p.lim.ListLength {
				err = &limitJSONError{fmt.Sprintf("JSON object of more than %d keys (Limits.ListLength)", p.lim.ListLength)}
				return false
			}
			if k.Str == "shared_object_id" {
				return true
			}
			var d any
			d, err = p.decodeJSON(v, depth+1)
			m[k.Str] = d
			return err == nil
		})
		if err != nil {
			return nil, err
		}
		if m["class_name"] == "__tuple__" {
			if items, ok := m["items"].([]any); ok {
				return items, nil
			}
		}
		return m, nil
	case r.IsArray():
		// Count first: the limit is checked before anything is
		// allocated, and the list is allocated once (growing a list of
		// 10^5 interfaces costs more than the second pass).
		n := 0
		r.ForEach(func(_, _ gjson.Result) bool {
			n++
			return n <= p.lim.ListLength
		})
		if n > p.lim.ListLength {
			return nil, &limitJSONError{fmt.Sprintf("JSON list of more than %d entries (Limits.ListLength)", p.lim.ListLength)}
		}
		list := make([]any, 0, n)
		var err error
		r.ForEach(func(_, v gjson.Result) bool {
			var d any
			d, err = p.decodeJSON(v, depth+1)
			list = append(list, d)
			return err == nil
		})
		return list, err
	}
	switch r.Type {
	case gjson.Null:
		return nil, nil
	case gjson.False:
		return false, nil
	case gjson.True:
		return true, nil
	case gjson.Number:
		if f := r.Num; f >= 0 && f < float64(len(smallNumbers)) && f == float64(int(f)) {
			return smallNumbers[int(f)], nil
		}
		return r.Num, nil
	case gjson.String:
		return r.Str, nil
	}
	return nil, fmt.Errorf("unexpected JSON value %q", clipString(r.Raw, 64))
}

// smallNumbers holds the boxed float64 values 0 to 1023, read-only: the
// integers that fill configs (shapes, sizes) decode without allocating.
var smallNumbers = func() (t [1024]any) {
	for i := range t {
		t[i] = float64(i)
	}
	return t
}()

// modelClasses are the class names of Keras models usable as layers.
var modelClasses = map[string]bool{"Sequential": true, "Functional": true, "Model": true}

// isModelEntry reports whether a {class_name, config} entry is a model.
func isModelEntry(class string, cfg any) bool {
	if modelClasses[class] {
		return true
	}
	// Subclasses of Functional serialize as functional configs.
	m, ok := cfg.(map[string]any)
	if !ok {
		return false
	}
	_, hasLayers := m["layers"]
	_, hasInputs := m["input_layers"]
	return hasLayers && hasInputs
}

func (p *parser) parseModel(top map[string]any, path string) (*Graph, error) {
	class, _ := top["class_name"].(string)
	cfg, ok := top["config"]
	if !ok {
		return nil, p.errf(ErrFormat, path, "no \"config\" key")
	}
	switch {
	case class == "Sequential":
		return p.parseSequential(cfg, path)
	case isModelEntry(class, cfg):
		return p.parseFunctional(class, cfg, path)
	case class == "":
		return nil, p.errf(ErrFormat, path, "no \"class_name\" key")
	}
	return nil, p.errf(ErrUnsupported, path, "model class %q: want Sequential, Functional or Model", class)
}

// parseSequential reads the Keras 1/2.0-2.2.2 list form and the dict form
// {name, layers}. The InputLayer is the first entry when present (tf.keras,
// Keras 3) or synthesized from the first layer's batch_input_shape.
func (p *parser) parseSequential(cfg any, path string) (*Graph, error) {
	g := &Graph{ClassName: "Sequential", Name: "sequential"}
	var entries []any
	var buildShape any
	switch c := cfg.(type) {
	case []any:
		entries = c
	case map[string]any:
		if n, ok := c["name"].(string); ok {
			g.Name = n
		}
		list, ok := c["layers"].([]any)
		if !ok {
			return nil, p.errf(ErrFormat, path+".layers", "got %s, want a list of layers", jsonKind(c["layers"]))
		}
		entries = list
		buildShape = c["build_input_shape"]
	default:
		return nil, p.errf(ErrFormat, path, "Sequential config is %s, want a list or an object", jsonKind(cfg))
	}
	names := map[string]bool{}
	var layers []*Layer
	var firstRaw map[string]any
	for i, e := range entries {
		lpath := fmt.Sprintf("%s.layers[%d]", path, i)
		em, ok := e.(map[string]any)
		if !ok {
			return nil, p.errf(ErrFormat, lpath, "got %s, want a layer object", jsonKind(e))
		}
		l, err := p.parseLayer(em, lpath)
		if err != nil {
			return nil, err
		}
		if l.ClassName == "InputLayer" && i > 0 {
			continue // only the first InputLayer defines the input
		}
		if names[l.Name] {
			return nil, p.errf(ErrFormat, lpath, "duplicate layer name %q", l.Name)
		}
		names[l.Name] = true
		if i == 0 {
			firstRaw, _ = em["config"].(map[string]any)
		}
		layers = append(layers, l)
	}
	if len(layers) == 0 {
		return nil, p.errf(ErrFormat, path, "Sequential model has no layers")
	}
	if layers[0].ClassName != "InputLayer" {
		if inner := layers[0].Inner; inner != nil && len(inner.Inputs) == 1 && buildShape == nil {
			// A nested model first: its own input gives the shape.
			for _, l := range inner.Layers {
				if l.Name == inner.Inputs[0].Layer && l.ClassName == "InputLayer" {
					firstRaw = map[string]any{"batch_shape": l.Config["batch_shape"], "dtype": l.Config["dtype"]}
				}
			}
		}
		in := p.synthInput(layers[0].Name, firstRaw, buildShape, names)
		layers = append([]*Layer{in}, layers...)
	}
	in := layers[0]
	prev := TensorRef{Layer: in.Name}
	for _, l := range layers[1:] {
		l.Nodes = []Node{{Args: []Arg{{Tensors: []TensorRef{prev}}}}}
		prev = TensorRef{Layer: l.Name}
	}
	g.Layers = layers
	g.Inputs = []TensorRef{{Layer: in.Name}}
	g.Outputs = []TensorRef{prev}
	return g, nil
}

// synthInput builds the InputLayer a Sequential model without one implies,
// from the first layer's batch_input_shape (or Keras 1 input_dim and
// input_length) or the model's build_input_shape.
func (p *parser) synthInput(firstName string, first map[string]any, buildShape any, names map[string]bool) *Layer {
	// Keras 1/2 name the implicit input after the first layer.
	name := "input_layer"
	if p.ver.major < 3 && !names[firstName+"_input"] {
		name = firstName + "_input"
	}
	for i := 1; names[name]; i++ {
		name = fmt.Sprintf("input_layer_%d", i)
	}
	cfg := Config{"name": name, "dtype": "float32"}
	var shape any
	if first != nil {
		for _, k := range []string{"batch_input_shape", "batch_shape"} {
			if s, ok := first[k].([]any); ok {
				shape = s
				break
			}
		}
		if shape == nil {
			if s, ok := first["input_shape"].([]any); ok {
				shape = append([]any{nil}, s...)
			} else if d, ok := first["input_dim"].(float64); ok {
				if n, ok := first["input_length"]; ok {
					shape = []any{nil, n, d}
				} else {
					shape = []any{nil, d}
				}
			}
		}
		for _, k := range []string{"dtype", "input_dtype"} {
			if d, ok := first[k].(string); ok {
				cfg["dtype"] = d
				break
			}
		}
	}
	if shape == nil {
		if s, ok := buildShape.([]any); ok {
			shape = s
		}
	}
	if shape != nil {
		cfg["batch_shape"] = shape
		cfg["batch_input_shape"] = shape
	}
	return &Layer{Name: name, ClassName: "InputLayer", Config: cfg, origClass: "InputLayer"}
}

// parseFunctional reads {name, layers, input_layers, output_layers}.
func (p *parser) parseFunctional(class string, cfg any, path string) (*Graph, error) {
	c, ok := cfg.(map[string]any)
	if !ok {
		return nil, p.errf(ErrFormat, path, "%s config is %s, want an object", class, jsonKind(cfg))
	}
	g := &Graph{ClassName: class, Name: "model"}
	if n, ok := c["name"].(string); ok {
		g.Name = n
	}
	entries, ok := c["layers"].([]any)
	if !ok {
		return nil, p.errf(ErrFormat, path+".layers", "got %s, want a list of layers", jsonKind(c["layers"]))
	}
	byName := map[string]*Layer{}
	for i, e := range entries {
		lpath := fmt.Sprintf("%s.layers[%d]", path, i)
		em, ok := e.(map[string]any)
		if !ok {
			return nil, p.errf(ErrFormat, lpath, "got %s, want a layer object", jsonKind(e))
		}
		l, err := p.parseLayer(em, lpath)
		if err != nil {
			return nil, err
		}
		if byName[l.Name] != nil {
			return nil, p.errf(ErrFormat, lpath, "duplicate layer name %q", l.Name)
		}
		byName[l.Name] = l
		nodes, err := p.parseInboundNodes(l, em["inbound_nodes"], lpath+".inbound_nodes")
		if err != nil {
			return nil, err
		}
		l.Nodes = nodes
		g.Layers = append(g.Layers, l)
	}
	var err error
	if g.Inputs, err = p.parseRefList(c["input_layers"], path+".input_layers"); err != nil {
		return nil, err
	}
	if g.Outputs, err = p.parseRefList(c["output_layers"], path+".output_layers"); err != nil {
		return nil, err
	}
	if err := p.checkRefs(g, byName, path); err != nil {
		return nil, err
	}
	return g, nil
}

// checkRefs verifies that every tensor reference names a layer of g and
// one of its calls.
func (p *parser) checkRefs(g *Graph, byName map[string]*Layer, path string) error {
	check := func(t TensorRef, where string) error {
		if t.Layer == "" {
			return nil // None inside a list argument
		}
		l := byName[t.Layer]
		if l == nil {
			return p.errf(ErrFormat, where, "reference to unknown layer %q", t.Layer)
		}
		n := len(l.Nodes)
		if l.ClassName == "InputLayer" {
			n = 1
		}
		if t.Node < 0 || t.Node >= n || t.Index < 0 {
			return p.errf(ErrFormat, where, "reference to %q node %d tensor %d: layer has %d nodes", t.Layer, t.Node, t.Index, n)
		}
		return nil
	}
	for _, l := range g.Layers {
		for ni, n := range l.Nodes {
			where := fmt.Sprintf("%s: layer %q node %d", path, l.Name, ni)
			for _, a := range n.Args {
				for _, t := range a.Tensors {
					if err := check(t, where); err != nil {
						return err
					}
				}
			}
			for _, a := range n.Kwargs {
				for _, t := range a.Tensors {
					if err := check(t, where); err != nil {
						return err
					}
				}
			}
		}
	}
	if len(g.Inputs) == 0 || len(g.Outputs) == 0 {
		return p.errf(ErrFormat, path, "model has %d inputs and %d outputs, want at least one of each", len(g.Inputs), len(g.Outputs))
	}
	if len(g.Layers) == 0 {
		return p.errf(ErrFormat, path+".layers", "model has no layers, but names %d inputs and %d outputs", len(g.Inputs), len(g.Outputs))
	}
	for _, t := range g.Inputs {
		if t.Layer == "" {
			return p.errf(ErrFormat, path+".input_layers", "input reference without a layer name")
		}
		if err := check(t, path+".input_layers"); err != nil {
			return err
		}
	}
	for _, t := range g.Outputs {
		if t.Layer == "" {
			return p.errf(ErrFormat, path+".output_layers", "output reference without a layer name")
		}
		if err := check(t, path+".output_layers"); err != nil {
			return err
		}
	}
	return nil
}

// parseRefList reads input_layers/output_layers: a bare triple (Keras
// 3.9+ single tensor), a list of triples, or a dict of triples (ordered by
// key, as Keras flattens dicts).
func (p *parser) parseRefList(v any, path string) ([]TensorRef, error) {
	switch x := v.(type) {
	case []any:
		if t, ok := asRef(x); ok {
			return []TensorRef{t}, nil
		}
		var out []TensorRef
		for i, e := range x {
			el, ok := e.([]any)
			t, ok2 := asRef(el)
			if !ok || !ok2 {
				// Keras 3 nested structures: flatten lists of triples.
				sub, err := p.parseRefList(e, fmt.Sprintf("%s[%d]", path, i))
				if err != nil {
					return nil, err
				}
				out = append(out, sub...)
				continue
			}
			out = append(out, t)
		}
		return out, nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []TensorRef
		for _, k := range keys {
			sub, err := p.parseRefList(x[k], path+"."+k)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		}
		return out, nil
	}
	return nil, p.errf(ErrFormat, path, "got %s, want [layer_name, node_index, tensor_index] references", jsonKind(v))
}

// asRef reads a 3- or 4-element legacy reference [name, node, tensor, kwargs?].
func asRef(x []any) (TensorRef, bool) {
	if len(x) < 3 || len(x) > 4 {
		return TensorRef{}, false
	}
	name, ok := x[0].(string)
	if !ok {
		return TensorRef{}, false
	}
	node, ok1 := asInt(x[1])
	idx, ok2 := asInt(x[2])
	if !ok1 || !ok2 {
		return TensorRef{}, false
	}
	return TensorRef{Layer: name, Node: node, Index: idx}, true
}

func asInt(v any) (int, bool) {
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<31 {
		return 0, false
	}
	return int(f), true
}

// rnnClasses take initial states as extra inputs in Keras 1/2 inbound
// nodes.
var rnnClasses = map[string]bool{"SimpleRNN": true, "LSTM": true, "GRU": true, "RNN": true, "Bidirectional": true, "ConvLSTM1D": true}

// parseInboundNodes reads every inbound node form: Keras 3 {args, kwargs},
// Keras 1/2 lists of 3-/4-element refs, and a single ref as a node.
func (p *parser) parseInboundNodes(l *Layer, v any, path string) ([]Node, error) {
	if v == nil {
		return nil, nil
	}
	var list []any
	switch x := v.(type) {
	case []any:
		list = x
	case map[string]any:
		list = []any{x}
	default:
		return nil, p.errf(ErrFormat, path, "got %s, want a list of nodes", jsonKind(v))
	}
	if p.nodes += len(list); p.nodes > p.lim.Nodes {
		return nil, p.limitErr(path, "node count", fmt.Sprintf("over %d", p.lim.Nodes), "Nodes", p.lim.Nodes)
	}
	var nodes []Node
	for i, nv := range list {
		npath := fmt.Sprintf("%s[%d]", path, i)
		var n Node
		var err error
		switch x := nv.(type) {
		case map[string]any:
			n, err = p.parseKeras3Node(x, npath)
		case []any:
			if len(x) > 0 {
				if _, isStr := x[0].(string); isStr {
					x = []any{x} // a single ref written as the node
				}
			}
			n, err = p.parseLegacyNode(l, x, npath)
		default:
			err = p.errf(ErrFormat, npath, "got %s, want a node", jsonKind(nv))
		}
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// parseLegacyNode reads a Keras 1/2 node: a list of refs, all tensors of
// the call's first argument; the last ref's kwargs dict is the call's.
func (p *parser) parseLegacyNode(l *Layer, refs []any, path string) (Node, error) {
	var n Node
	var tensors []TensorRef
	var consts []any
	var kwargs map[string]any
	for i, rv := range refs {
		r, ok := rv.([]any)
		if !ok || len(r) < 3 {
			return n, p.errf(ErrFormat, fmt.Sprintf("%s[%d]", path, i), "got %s, want [layer_name, node_index, tensor_index(, kwargs)]", jsonKind(rv))
		}
		if len(r) == 4 {
			if kw, ok := r[3].(map[string]any); ok {
				kwargs = kw
			}
		}
		if r[0] == "_CONSTANT_VALUE" {
			consts = append(consts, r[2])
			continue
		}
		t, ok := asRef(r)
		if !ok {
			return n, p.errf(ErrFormat, fmt.Sprintf("%s[%d]", path, i), "malformed reference %s", clipString(fmt.Sprint(r), 200))
		}
		tensors = append(tensors, t)
	}
	switch {
	case len(consts) > 0 && len(tensors) > 0:
		return n, p.errf(ErrUnsupported, path, "call mixes tensors and constants in its first argument")
	case len(consts) == 1:
		n.Args = []Arg{{Const: consts[0]}}
	case len(consts) > 1:
		n.Args = []Arg{{Const: consts, IsList: true}}
	case len(tensors) == 1:
		n.Args = []Arg{{Tensors: tensors}}
	case len(tensors) > 1 && rnnClasses[l.ClassName]:
		// Keras 1/2 fold RNN initial states into the input list.
		n.Args = []Arg{{Tensors: tensors[:1]}}
		n.Kwargs = map[string]Arg{"initial_state": {Tensors: tensors[1:], IsList: true}}
	case len(tensors) > 1:
		n.Args = []Arg{{Tensors: tensors, IsList: true}}
	}
	for k, v := range kwargs {
		if v == nil {
			continue
		}
		a := legacyKwarg(v)
		if n.Kwargs == nil {
			n.Kwargs = map[string]Arg{}
		}
		if _, taken := n.Kwargs[k]; !taken {
			n.Kwargs[k] = a
		}
	}
	return n, nil
}

// legacyKwarg decodes a Keras 2 kwarg: a 3-element ref or a list of them
// is a tensor argument, anything else a constant.
func legacyKwarg(v any) Arg {
	x, ok := v.([]any)
	if !ok {
		return Arg{Const: v}
	}
	if len(x) == 3 {
		if t, ok := asRef(x); ok {
			return Arg{Tensors: []TensorRef{t}}
		}
	}
	var ts []TensorRef
	for _, e := range x {
		el, ok := e.([]any)
		if !ok || len(el) != 3 {
			return Arg{Const: v}
		}
		t, ok := asRef(el)
		if !ok {
			return Arg{Const: v}
		}
		ts = append(ts, t)
	}
	if len(ts) == 0 {
		return Arg{Const: v, IsList: true}
	}
	return Arg{Tensors: ts, IsList: true}
}

// parseKeras3Node reads {"args": [...], "kwargs": {...}}.
func (p *parser) parseKeras3Node(x map[string]any, path string) (Node, error) {
	var n Node
	args, _ := x["args"].([]any)
	for i, a := range args {
		arg, err := p.keras3Arg(a, fmt.Sprintf("%s.args[%d]", path, i))
		if err != nil {
			return n, err
		}
		n.Args = append(n.Args, arg)
	}
	kw, _ := x["kwargs"].(map[string]any)
	for k, v := range kw {
		if v == nil {
			continue // "mask": null means "no explicit mask"
		}
		arg, err := p.keras3Arg(v, path+".kwargs."+k)
		if err != nil {
			return n, err
		}
		if n.Kwargs == nil {
			n.Kwargs = map[string]Arg{}
		}
		n.Kwargs[k] = arg
	}
	return n, nil
}

// keras3Arg decodes one Keras 3 call argument.
func (p *parser) keras3Arg(v any, path string) (Arg, error) {
	if t, ok, err := p.keras3Tensor(v, path); ok || err != nil {
		return Arg{Tensors: []TensorRef{t}}, err
	}
	switch x := v.(type) {
	case []any:
		var ts []TensorRef
		nTensors, nNil := 0, 0
		if err := p.collectTensors(x, &ts, &nTensors, &nNil, path, 0); err != nil {
			return Arg{}, err
		}
		if nTensors == 0 {
			return Arg{Const: decodeSpecial(v), IsList: true}, nil
		}
		if nTensors+nNil != len(ts) {
			return Arg{}, p.errf(ErrUnsupported, path, "list argument mixes tensors and constants")
		}
		return Arg{Tensors: ts, IsList: true}, nil
	case map[string]any:
		if containsTensor(x, 0) {
			return Arg{}, p.errf(ErrUnsupported, path, "dict argument holding tensors")
		}
	}
	return Arg{Const: decodeSpecial(v)}, nil
}

// collectTensors flattens a (nested) list of tensors; null entries become
// empty TensorRefs so positions are kept (Attention mask=[None, m]).
func (p *parser) collectTensors(x []any, ts *[]TensorRef, nT, nNil *int, path string, depth int) error {
	if depth > 8 {
		return p.errf(ErrUnsupported, path, "argument nested too deeply")
	}
	for i, e := range x {
		epath := fmt.Sprintf("%s[%d]", path, i)
		if e == nil {
			*ts = append(*ts, TensorRef{})
			*nNil++
			continue
		}
		if t, ok, err := p.keras3Tensor(e, epath); err != nil {
			return err
		} else if ok {
			*ts = append(*ts, t)
			*nT++
			continue
		}
		if sub, ok := e.([]any); ok {
			if err := p.collectTensors(sub, ts, nT, nNil, epath, depth+1); err != nil {
				return err
			}
			continue
		}
		*ts = append(*ts, TensorRef{Layer: "\x00const"})
	}
	return nil
}

func containsTensor(v any, depth int) bool {
	if depth > 1024 {
		return false
	}
	switch x := v.(type) {
	case map[string]any:
		if x["class_name"] == "__keras_tensor__" {
			return true
		}
		for _, e := range x {
			if containsTensor(e, depth+1) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if containsTensor(e, depth+1) {
				return true
			}
		}
	}
	return false
}

// keras3Tensor reads {"class_name": "__keras_tensor__", "config":
// {"keras_history": [layer, node, index]}}.
func (p *parser) keras3Tensor(v any, path string) (TensorRef, bool, error) {
	m, ok := v.(map[string]any)
	if !ok || m["class_name"] != "__keras_tensor__" {
		return TensorRef{}, false, nil
	}
	cfg, _ := m["config"].(map[string]any)
	h, _ := cfg["keras_history"].([]any)
	t, ok := asRef(h)
	if !ok || len(h) != 3 {
		return TensorRef{}, true, p.errf(ErrFormat, path, "keras tensor without a valid keras_history")
	}
	return t, true, nil
}

// decodeSpecial unwraps Keras 3 value encodings (__tensor__, __numpy__:
// their value; __bytes__: the string) in a constant.
func decodeSpecial(v any) any {
	switch x := v.(type) {
	case map[string]any:
		switch x["class_name"] {
		case "__tensor__", "__numpy__":
			if c, ok := x["config"].(map[string]any); ok {
				return c["value"]
			}
		case "__bytes__":
			if c, ok := x["config"].(map[string]any); ok {
				return c["value"]
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = decodeSpecial(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = decodeSpecial(e)
		}
		return out
	}
	return v
}
