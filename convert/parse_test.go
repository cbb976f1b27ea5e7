package convert

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

func mustParse(t *testing.T, js string, opt ParseOptions) *Graph {
	t.Helper()
	g, err := ParseModelConfig([]byte(js), opt)
	if err != nil {
		t.Fatalf("ParseModelConfig: %v", err)
	}
	return g
}

func layerByName(t *testing.T, g *Graph, name string) *Layer {
	t.Helper()
	for _, l := range g.Layers {
		if l.Name == name {
			return l
		}
	}
	t.Fatalf("no layer %q in %v", name, layerNames(g))
	return nil
}

func layerNames(g *Graph) []string {
	var out []string
	for _, l := range g.Layers {
		out = append(out, l.Name+":"+l.ClassName)
	}
	return out
}

func ref(name string, node, idx int) TensorRef { return TensorRef{Layer: name, Node: node, Index: idx} }

// Keras 1.2.2 to_json: list-form Sequential, Keras 1 option names.
const keras1Sequential = `{"class_name": "Sequential", "keras_version": "1.2.2", "config": [
 {"class_name": "LSTM", "config": {"inner_activation": "hard_sigmoid", "trainable": true, "output_dim": 50,
  "consume_less": "cpu", "init": "glorot_uniform", "dropout_U": 0.1, "input_dtype": "float32", "return_sequences": false,
  "dropout_W": 0.2, "batch_input_shape": [null, 10, 3], "activation": "tanh", "name": "lstm_1", "go_backwards": false}},
 {"class_name": "Dense", "config": {"W_constraint": null, "output_dim": 2, "bias": true, "activation": "linear", "name": "dense_1"}},
 {"class_name": "GRU", "config": {"output_dim": 4, "name": "gru_1", "inner_activation": "hard_sigmoid", "activation": "tanh"}},
 {"class_name": "Merge", "config": {"mode": "concat", "concat_axis": -1, "name": "merge_1"}}]}`

// Keras 2.1.2 functional model: 4-element refs, two inputs, shared layer,
// initial states folded into the input list, tensor-valued kwargs.
const keras2Model = `{"class_name": "Model", "keras_version": "2.1.2", "backend": "tensorflow", "config": {
 "name": "model_1",
 "layers": [
  {"name": "in_a", "class_name": "InputLayer", "config": {"batch_input_shape": [null, null, 4], "dtype": "float32", "sparse": false, "name": "in_a"}, "inbound_nodes": []},
  {"name": "in_h", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 6], "dtype": "float32", "name": "in_h"}, "inbound_nodes": []},
  {"name": "gru_1", "class_name": "GRU", "config": {"name": "gru_1", "units": 6, "activation": "tanh", "recurrent_activation": "hard_sigmoid", "use_bias": true, "return_sequences": true},
   "inbound_nodes": [[["in_a", 0, 0, {}], ["in_h", 0, 0, {}]], [["in_a", 0, 0, {}]]]},
  {"name": "mha", "class_name": "MultiHeadAttention", "config": {"name": "mha", "num_heads": 2, "key_dim": 3},
   "inbound_nodes": [[["gru_1", 0, 0, {"value": ["gru_1", 1, 0]}]]]},
  {"name": "cat", "class_name": "Concatenate", "config": {"name": "cat", "axis": -1},
   "inbound_nodes": [[["gru_1", 0, 0, {}], ["mha", 0, 0, {}]]]},
  {"name": "scale", "class_name": "TFOpLambda", "config": {"name": "scale", "function": "math.multiply"},
   "inbound_nodes": [["cat", 0, 0, {"y": 2.0, "name": null}]]}
 ],
 "input_layers": [["in_a", 0, 0], ["in_h", 0, 0]],
 "output_layers": [["scale", 0, 0], ["gru_1", 1, 0]]}}`

// Keras 3 functional: args/kwargs nodes, an op node feeding an explicit
// mask, a nested Sequential, DTypePolicy dicts, a bare output triple.
const keras3Functional = `{"module": "keras.src.models.functional", "class_name": "Functional", "config": {
 "name": "functional", "trainable": true,
 "layers": [
  {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, null], "dtype": "int32", "name": "tokens"}, "registered_name": null, "name": "tokens", "inbound_nodes": []},
  {"module": "keras.layers", "class_name": "Embedding", "config": {"name": "emb", "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "mixed_float16"}, "registered_name": null}, "input_dim": 50, "output_dim": 8, "mask_zero": true},
   "name": "emb", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, null], "dtype": "int32", "keras_history": ["tokens", 0, 0]}}], "kwargs": {}}]},
  {"module": "keras.src.ops.numpy", "class_name": "NotEqual", "config": {"name": "not_equal"}, "registered_name": "NotEqual", "name": "not_equal",
   "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["tokens", 0, 0]}}, 0], "kwargs": {}}]},
  {"module": "keras.layers", "class_name": "Bidirectional", "config": {"name": "bi", "merge_mode": "concat",
    "layer": {"module": "keras.layers", "class_name": "LSTM", "config": {"name": "forward_lstm", "units": 4, "activation": {"module": "keras.activations", "class_name": "function", "config": "tanh", "registered_name": "function"}, "recurrent_activation": "hard_sigmoid", "go_backwards": false}, "registered_name": null}},
   "name": "bi", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["emb", 0, 0]}}],
     "kwargs": {"mask": {"class_name": "__keras_tensor__", "config": {"keras_history": ["not_equal", 0, 0]}}, "training": false, "initial_state": null}}]},
  {"module": "keras", "class_name": "Sequential", "config": {"name": "subseq", "layers": [
     {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 8], "dtype": "float32", "name": "sub_in"}, "registered_name": null},
     {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "units": 3, "activation": "relu", "use_bias": true}, "registered_name": null}]},
   "registered_name": null, "name": "subseq", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["bi", 0, 0]}}], "kwargs": {"mask": null}}]}
 ],
 "input_layers": ["tokens", 0, 0],
 "output_layers": ["subseq", 0, 0]}}`

func TestParseKeras1Sequential(t *testing.T) {
	g := mustParse(t, keras1Sequential, ParseOptions{})
	if got := layerNames(g); !reflect.DeepEqual(got, []string{"lstm_1_input:InputLayer", "lstm_1:LSTM", "dense_1:Dense", "gru_1:GRU", "merge_1:Concatenate"}) {
		t.Fatalf("layers %v", got)
	}
	in := g.Layers[0]
	if !reflect.DeepEqual(in.Config["batch_shape"], []any{nil, 10.0, 3.0}) || in.Config["dtype"] != "float32" {
		t.Errorf("synthesized input config %v", in.Config)
	}
	lstm := layerByName(t, g, "lstm_1").Config
	r := lstm.Reader("lstm_1")
	if r.Int("units", 0) != 50 || r.String("recurrent_activation", "") != "hard_sigmoid_keras2" ||
		r.Float("dropout", 0) != 0.2 || r.Float("recurrent_dropout", 0) != 0.1 || !r.Bool("use_bias", false) {
		t.Errorf("LSTM config not normalized: %v", lstm)
	}
	if _, ok := lstm["output_dim"]; ok {
		t.Error("output_dim kept")
	}
	gru := layerByName(t, g, "gru_1").Config
	if gru["reset_after"] != false || gru["recurrent_activation"] != "hard_sigmoid_keras2" {
		t.Errorf("Keras 1 GRU defaults: %v", gru)
	}
	d := layerByName(t, g, "dense_1").Config
	if d["units"] != 2.0 || d["use_bias"] != true {
		t.Errorf("Dense config: %v", d)
	}
	if a := layerByName(t, g, "merge_1").Config["axis"]; a != -1.0 {
		t.Errorf("Merge concat axis %v", a)
	}
	if !reflect.DeepEqual(g.Outputs, []TensorRef{ref("merge_1", 0, 0)}) {
		t.Errorf("outputs %v", g.Outputs)
	}
	dense := layerByName(t, g, "dense_1")
	if !reflect.DeepEqual(dense.Nodes, []Node{{Args: []Arg{{Tensors: []TensorRef{ref("lstm_1", 0, 0)}}}}}) {
		t.Errorf("dense nodes %+v", dense.Nodes)
	}
}

func TestParseKeras2Model(t *testing.T) {
	g := mustParse(t, keras2Model, ParseOptions{})
	if !reflect.DeepEqual(g.Inputs, []TensorRef{ref("in_a", 0, 0), ref("in_h", 0, 0)}) ||
		!reflect.DeepEqual(g.Outputs, []TensorRef{ref("scale", 0, 0), ref("gru_1", 1, 0)}) {
		t.Fatalf("inputs %v outputs %v", g.Inputs, g.Outputs)
	}
	gru := layerByName(t, g, "gru_1")
	if len(gru.Nodes) != 2 {
		t.Fatalf("gru nodes %+v", gru.Nodes)
	}
	n0 := gru.Nodes[0]
	if !reflect.DeepEqual(n0.Args, []Arg{{Tensors: []TensorRef{ref("in_a", 0, 0)}}}) ||
		!reflect.DeepEqual(n0.Kwargs["initial_state"], Arg{Tensors: []TensorRef{ref("in_h", 0, 0)}, IsList: true}) {
		t.Errorf("initial state node %+v", n0)
	}
	// 2.1.2 GRU without reset_after: the pre-2.1.5 default (false).
	if gru.Config["reset_after"] != false || gru.Config["recurrent_activation"] != "hard_sigmoid_keras2" {
		t.Errorf("gru config %v", gru.Config)
	}
	mha := layerByName(t, g, "mha").Nodes[0]
	if !reflect.DeepEqual(mha.Kwargs["value"], Arg{Tensors: []TensorRef{ref("gru_1", 1, 0)}}) {
		t.Errorf("tensor kwarg %+v", mha.Kwargs)
	}
	cat := layerByName(t, g, "cat").Nodes[0]
	if !reflect.DeepEqual(cat.Args, []Arg{{Tensors: []TensorRef{ref("gru_1", 0, 0), ref("mha", 0, 0)}, IsList: true}}) {
		t.Errorf("concatenate args %+v", cat.Args)
	}
	sc := layerByName(t, g, "scale").Nodes[0]
	if sc.Kwargs["y"].Const != 2.0 {
		t.Errorf("single-ref node kwargs %+v", sc.Kwargs)
	}
	if _, ok := sc.Kwargs["name"]; ok {
		t.Error("null kwarg kept")
	}
}

func TestParseKeras3Functional(t *testing.T) {
	g := mustParse(t, keras3Functional, ParseOptions{})
	if !reflect.DeepEqual(g.Inputs, []TensorRef{ref("tokens", 0, 0)}) || !reflect.DeepEqual(g.Outputs, []TensorRef{ref("subseq", 0, 0)}) {
		t.Fatalf("inputs %v outputs %v", g.Inputs, g.Outputs)
	}
	if d := layerByName(t, g, "emb").Config["dtype"]; d != "mixed_float16" {
		t.Errorf("dtype policy %v", d)
	}
	ne := layerByName(t, g, "not_equal")
	if ne.Module != "keras.src.ops.numpy" || !reflect.DeepEqual(ne.Nodes[0].Args, []Arg{{Tensors: []TensorRef{ref("tokens", 0, 0)}}, {Const: 0.0}}) {
		t.Errorf("op node %+v", ne)
	}
	bi := layerByName(t, g, "bi")
	n := bi.Nodes[0]
	if !reflect.DeepEqual(n.Kwargs["mask"], Arg{Tensors: []TensorRef{ref("not_equal", 0, 0)}}) || n.Kwargs["training"].Const != false {
		t.Errorf("kwargs %+v", n.Kwargs)
	}
	if _, ok := n.Kwargs["initial_state"]; ok {
		t.Error("null initial_state kept")
	}
	fwd := bi.Config.Reader("bi").Layer("layer")
	bwd := bi.Config.Reader("bi").Layer("backward_layer")
	if fwd == nil || bwd == nil {
		t.Fatalf("Bidirectional sublayers %v", bi.Config)
	}
	// Keras 3 hard_sigmoid keeps its Keras 3 meaning.
	if fwd.Config["activation"] != "tanh" || fwd.Config["recurrent_activation"] != "hard_sigmoid" {
		t.Errorf("forward config %v", fwd.Config)
	}
	if bwd.Name != "backward_forward_lstm" || bwd.Config["go_backwards"] != true || fwd.Config["go_backwards"] != false {
		t.Errorf("synthesized backward layer %q %v", bwd.Name, bwd.Config)
	}
	sub := layerByName(t, g, "subseq")
	if sub.Inner == nil || sub.Inner.ClassName != "Sequential" || len(sub.Inner.Layers) != 2 {
		t.Fatalf("nested model %+v", sub)
	}
	if _, ok := sub.Nodes[0].Kwargs["mask"]; ok {
		t.Error("mask null kept")
	}
}

func TestParseRefForms(t *testing.T) {
	p := &parser{}
	for _, tc := range []struct {
		js   string
		want []TensorRef
	}{
		{`["a", 0, 0]`, []TensorRef{ref("a", 0, 0)}},
		{`[["a", 0, 0], ["b", 1, 2]]`, []TensorRef{ref("a", 0, 0), ref("b", 1, 2)}},
		{`{"y": ["b", 0, 0], "x": ["a", 0, 1]}`, []TensorRef{ref("a", 0, 1), ref("b", 0, 0)}},
		{`[[["a", 0, 0]], ["b", 0, 0]]`, []TensorRef{ref("a", 0, 0), ref("b", 0, 0)}},
	} {
		g := mustParseValue(t, tc.js)
		got, err := p.parseRefList(g, "refs")
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, %v; want %v", tc.js, got, err, tc.want)
		}
	}
}

func TestParseVersionSemantics(t *testing.T) {
	gru := `{"class_name": "Sequential", "config": {"name": "s", "layers": [
	  {"class_name": "GRU", "config": {"name": "g", "units": 2, "batch_input_shape": [null, 3, 1]}},
	  {"class_name": "LSTM", "config": {"name": "l", "units": 2}},
	  {"class_name": "Activation", "config": {"name": "a", "activation": "hard_sigmoid"}}]}}`
	for _, tc := range []struct {
		ver       string
		reset     bool
		ract, act string
	}{
		{"2.1.2", false, "hard_sigmoid_keras2", "hard_sigmoid_keras2"},
		{"2.2.4-tf", true, "sigmoid", "hard_sigmoid_keras2"},
		{"2.4.0", true, "sigmoid", "hard_sigmoid_keras2"},
		{"3.6.0", true, "sigmoid", "hard_sigmoid"},
		{"tfjs-layers 4.20.0", true, "sigmoid", "hard_sigmoid_keras2"},
	} {
		g := mustParse(t, gru, ParseOptions{WriterVersion: tc.ver})
		gc := layerByName(t, g, "g").Config
		lc := layerByName(t, g, "l").Config
		ac := layerByName(t, g, "a").Config
		if gc["reset_after"] != tc.reset || lc["recurrent_activation"] != tc.ract || ac["activation"] != tc.act {
			t.Errorf("%s: reset_after %v, LSTM recurrent_activation %v, activation %v", tc.ver, gc["reset_after"], lc["recurrent_activation"], ac["activation"])
		}
	}
	// The override wins over the recorded version.
	g := mustParse(t, gru, ParseOptions{WriterVersion: "3.1.0", KerasVersion: "2.0.0"})
	if layerByName(t, g, "a").Config["activation"] != "hard_sigmoid_keras2" {
		t.Error("KerasVersion override ignored")
	}
}

func TestParseSpecialEncodings(t *testing.T) {
	js := `{"class_name": "Sequential", "config": {"name": "s", "layers": [
	  {"class_name": "InputLayer", "config": {"name": "in", "batch_input_shape": {"class_name": "__tuple__", "items": [null, 5, 2]}, "dtype": "float32"}, "shared_object_id": 3},
	  {"class_name": "CuDNNLSTM", "config": {"name": "c", "units": 4, "return_sequences": true}},
	  {"class_name": "CuDNNGRU", "config": {"name": "cg", "units": 4}},
	  {"class_name": "RNN", "config": {"name": "r", "cell": [
	      {"class_name": "LSTMCell", "config": {"name": "c1", "units": 2}},
	      {"class_name": "GRUCell", "config": {"name": "c2", "units": 3, "reset_after": true}}]}},
	  {"class_name": "TimeDistributed", "config": {"name": "td", "layer": {"class_name": "Dense", "config": {"name": "d", "units": 1}}}}]},
	  "keras_version": "2.2.4", "backend": "tensorflow"}`
	g := mustParse(t, js, ParseOptions{})
	in := layerByName(t, g, "in").Config
	if !reflect.DeepEqual(in["batch_shape"], []any{nil, 5.0, 2.0}) {
		t.Errorf("__tuple__ shape %v", in["batch_shape"])
	}
	c := layerByName(t, g, "c")
	if c.ClassName != "LSTM" || c.OriginalClassName() != "CuDNNLSTM" || c.Config["recurrent_activation"] != "sigmoid" || c.Config["activation"] != "tanh" {
		t.Errorf("CuDNNLSTM %s %v", c.ClassName, c.Config)
	}
	cg := layerByName(t, g, "cg")
	if cg.ClassName != "GRU" || cg.Config["reset_after"] != true || cg.Config["recurrent_activation"] != "sigmoid" {
		t.Errorf("CuDNNGRU %s %v", cg.ClassName, cg.Config)
	}
	cell := layerByName(t, g, "r").Config.Reader("r").Layer("cell")
	if cell == nil || cell.ClassName != "StackedRNNCells" {
		t.Fatalf("RNN cell list: %+v", cell)
	}
	cells, _ := cell.Config["cells"].([]any)
	if len(cells) != 2 || cells[0].(*Layer).Config["recurrent_activation"] != "hard_sigmoid_keras2" {
		t.Errorf("cells %v", cells)
	}
	td := layerByName(t, g, "td").Config.Reader("td").Layer("layer")
	if td == nil || td.ClassName != "Dense" || td.Config["activation"] != "linear" {
		t.Errorf("TimeDistributed inner %+v", td)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		js   string
		kind error
		msg  string
	}{
		{`{"class_name": "Sequential", "config": [`, ErrFormat, "invalid JSON at byte 40 (line 1, column 41): unexpected end of JSON input"},
		{"{\"class_name\": \"Sequential\",\n \"config\": [}", ErrFormat, "invalid JSON at byte 41 (line 2, column 13): invalid character '}' looking for beginning of value"},
		{`[1, 2]`, ErrFormat, "want a JSON object"},
		{`{"class_name": "Sequential"}`, ErrFormat, `no "config"`},
		{`{"class_name": "MyNet", "config": {}}`, ErrUnsupported, "MyNet"},
		{`{"class_name": "Sequential", "config": []}`, ErrFormat, "no layers"},
		{`{"class_name": "Model", "config": {"layers": [{"class_name": "Dense", "name": "d", "config": {"name": "d"}, "inbound_nodes": [[["nope", 0, 0, {}]]]}], "input_layers": [], "output_layers": [["d", 0, 0]]}}`, ErrFormat, `unknown layer "nope"`},
		{`{"class_name": "Model", "config": {"layers": [{"class_name": "InputLayer", "name": "i", "config": {"name": "i"}}], "input_layers": [["i", 0, 0]], "output_layers": [["i", 3, 0]]}}`, ErrFormat, "node 3"},
		{`{"class_name": "Sequential", "config": [{"class_name": "Merge", "config": {"name": "m", "mode": "cos"}}]}`, ErrUnsupported, "Merge"},
		{`{"class_name": "Sequential", "config": [{"class_name": "Dense", "config": {"name": "d"}}, {"class_name": "Dense", "config": {"name": "d"}}]}`, ErrFormat, "duplicate"},
		{strings.Repeat("[", 400) + strings.Repeat("]", 400), ErrLimit, "deeper than 256 levels (Limits.Depth)"},
		{strings.Repeat("[", 20000) + strings.Repeat("]", 20000), ErrFormat, "exceeded max depth"},
	} {
		_, err := ParseModelConfig([]byte(tc.js), ParseOptions{File: "m.json"})
		if err == nil || !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "m.json") {
			t.Errorf("%.60s: got %v, want %v containing %q", tc.js, err, tc.kind, tc.msg)
		}
	}
}

func mustParseValue(t *testing.T, js string) any {
	t.Helper()
	v, err := decodeJSON(gjson.Parse(js), 0)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseSequentialStartingWithModel(t *testing.T) {
	g := mustParse(t, `{"class_name": "Sequential", "keras_version": "2.2.4", "config": {"name": "outer", "layers": [
	  {"class_name": "Sequential", "config": {"name": "inner", "layers": [
	     {"class_name": "Dense", "config": {"name": "d", "units": 2, "batch_input_shape": [null, 7], "dtype": "float16"}}]}},
	  {"class_name": "Dense", "config": {"name": "e", "units": 1}}]}}`, ParseOptions{})
	in := g.Layers[0]
	if in.Name != "inner_input" || !reflect.DeepEqual(in.Config["batch_shape"], []any{nil, 7.0}) || in.Config["dtype"] != "float16" {
		t.Errorf("input %s %v", in.Name, in.Config)
	}
	inner := layerByName(t, g, "inner")
	if inner.Inner == nil || len(inner.Inner.Layers) != 2 || inner.Inner.Layers[0].Name != "d_input" {
		t.Errorf("inner model %+v", inner.Inner)
	}
}

func TestParseKeras3ArgEncodings(t *testing.T) {
	kt := func(name string) string {
		return `{"class_name": "__keras_tensor__", "config": {"shape": [null, 3], "dtype": "float32", "keras_history": ["` + name + `", 0, 0]}}`
	}
	model := func(args, kwargs string) string {
		return `{"class_name": "Functional", "config": {"name": "f", "layers": [
		  {"class_name": "InputLayer", "name": "a", "config": {"name": "a", "batch_shape": [null, 3]}, "inbound_nodes": []},
		  {"class_name": "InputLayer", "name": "b", "config": {"name": "b", "batch_shape": [null, 3]}, "inbound_nodes": []},
		  {"class_name": "Attention", "name": "op", "config": {"name": "op"},
		   "inbound_nodes": [{"args": ` + args + `, "kwargs": ` + kwargs + `}]}],
		 "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["op", 0, 0]]}}`
	}
	g := mustParse(t, model(`[[`+kt("a")+`, `+kt("b")+`], {"class_name": "__numpy__", "config": {"value": [1, 2], "dtype": "int32"}}]`,
		`{"mask": [null, `+kt("b")+`], "scale": {"class_name": "__tensor__", "config": {"value": 0.5, "dtype": "float32"}}, "name": {"class_name": "__bytes__", "config": {"value": "x"}}}`), ParseOptions{})
	n := layerByName(t, g, "op").Nodes[0]
	want := Node{
		Args: []Arg{{Tensors: []TensorRef{ref("a", 0, 0), ref("b", 0, 0)}, IsList: true}, {Const: []any{1.0, 2.0}}},
		Kwargs: map[string]Arg{
			"mask":  {Tensors: []TensorRef{{}, ref("b", 0, 0)}, IsList: true},
			"scale": {Const: 0.5},
			"name":  {Const: "x"},
		},
	}
	if !reflect.DeepEqual(n, want) {
		t.Errorf("node\n got %+v\nwant %+v", n, want)
	}
	for _, tc := range []struct{ args, kwargs, msg string }{
		{`[[` + kt("a") + `, 3]]`, `{}`, "mixes tensors and constants"},
		{`[{"x": ` + kt("a") + `}]`, `{}`, "dict argument"},
		{`[{"class_name": "__keras_tensor__", "config": {"keras_history": ["a", 0]}}]`, `{}`, "keras_history"},
	} {
		_, err := ParseModelConfig([]byte(model(tc.args, tc.kwargs)), ParseOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: got %v, want %q", tc.args, err, tc.msg)
		}
	}
}

func TestParseLegacyKwargs(t *testing.T) {
	g := mustParse(t, `{"class_name": "Model", "keras_version": "2.6.0", "config": {"name": "m", "layers": [
	  {"class_name": "InputLayer", "name": "a", "config": {"name": "a", "batch_input_shape": [null, 3, 2]}, "inbound_nodes": []},
	  {"class_name": "InputLayer", "name": "h", "config": {"name": "h", "batch_input_shape": [null, 4]}, "inbound_nodes": []},
	  {"class_name": "SimpleRNN", "name": "r", "config": {"name": "r", "units": 4},
	   "inbound_nodes": [[["a", 0, 0, {"initial_state": [["h", 0, 0]], "training": false, "axes": [1, 2]}]]]},
	  {"class_name": "TFOpLambda", "name": "c", "config": {"name": "c", "function": "math.add"},
	   "inbound_nodes": [["_CONSTANT_VALUE", -1, 2.0, {"y": ["r", 0, 0]}]]}],
	 "input_layers": [["a", 0, 0], ["h", 0, 0]], "output_layers": [["c", 0, 0]]}}`, ParseOptions{})
	r := layerByName(t, g, "r").Nodes[0]
	if !reflect.DeepEqual(r.Kwargs["initial_state"], Arg{Tensors: []TensorRef{ref("h", 0, 0)}, IsList: true}) ||
		r.Kwargs["training"].Const != false || !reflect.DeepEqual(r.Kwargs["axes"].Const, []any{1.0, 2.0}) {
		t.Errorf("kwargs %+v", r.Kwargs)
	}
	c := layerByName(t, g, "c").Nodes[0]
	if !reflect.DeepEqual(c.Args, []Arg{{Const: 2.0}}) || !reflect.DeepEqual(c.Kwargs["y"], Arg{Tensors: []TensorRef{ref("r", 0, 0)}}) {
		t.Errorf("constant node %+v", c)
	}
}

func TestParseTimeDistributedDense(t *testing.T) {
	g := mustParse(t, `{"class_name": "Sequential", "keras_version": "1.2.2", "config": [
	  {"class_name": "TimeDistributedDense", "config": {"name": "tdd", "output_dim": 3, "activation": "softmax", "bias": true,
	   "batch_input_shape": [null, 4, 2], "input_dtype": "float32"}}]}`, ParseOptions{})
	l := layerByName(t, g, "tdd")
	in := l.Config.Reader(l.Name).Layer("layer")
	if l.ClassName != "TimeDistributed" || in == nil || in.ClassName != "Dense" || in.Config["units"] != 3.0 ||
		in.Config["activation"] != "softmax" || in.Config["use_bias"] != true {
		t.Fatalf("TimeDistributedDense: %s %v", l.ClassName, l.Config)
	}
	if !reflect.DeepEqual(g.Layers[0].Config["batch_shape"], []any{nil, 4.0, 2.0}) {
		t.Errorf("input %v", g.Layers[0].Config)
	}
	w := func(shape ...int) Weight {
		return Weight{Name: "w", Shape: shape, Data: make([]float32, shapeSize(shape))}
	}
	if err := AssignWeights(l, []Weight{w(2, 3), w(3)}); err != nil || len(in.Weights) != 2 {
		t.Errorf("weights: %v", err)
	}
}
