package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"
)

// maxDepth bounds the nesting of JSON arrays in a request.
const maxDepth = 32

// maxIntID is the largest integer a float32 holds exactly: token ids
// beyond it cannot be told apart.
const maxIntID = 1 << 24

// v2Request is the JSON body of a v2 infer request.
type v2Request struct {
	ID         string         `json:"id"`
	Parameters map[string]any `json:"parameters"`
	Inputs     []struct {
		Name       string          `json:"name"`
		Shape      []int64         `json:"shape"`
		Datatype   string          `json:"datatype"`
		Parameters map[string]any  `json:"parameters"`
		Data       json.RawMessage `json:"data"`
	} `json:"inputs"`
	Outputs []struct {
		Name       string         `json:"name"`
		Parameters map[string]any `json:"parameters"`
	} `json:"outputs"`
}

// decodeV2 decodes a v2 infer request body. Shapes and values are
// checked against each other; the model checks them against its inputs.
func decodeV2(body []byte) (*inferRequest, error) {
	var r v2Request
	if err := strictUnmarshal(body, &r); err != nil {
		return nil, badRequest("malformed JSON: %v", err)
	}
	req := &inferRequest{id: r.ID}
	if err := applyParameters(req, r.Parameters); err != nil {
		return nil, err
	}
	if len(r.Inputs) == 0 {
		return nil, badRequest("no inputs: want {\"inputs\": [{\"name\", \"shape\", \"datatype\", \"data\"}]}")
	}
	for i, in := range r.Inputs {
		if in.Datatype == "" {
			return nil, badRequest("input %d (%q): no datatype", i, in.Name)
		}
		if in.Shape == nil {
			return nil, badRequest("input %d (%q): no shape", i, in.Name)
		}
		if len(in.Data) == 0 {
			return nil, badRequest("input %d (%q): no data", i, in.Name)
		}
		t := reqTensor{name: in.Name, datatype: in.Datatype}
		n := int64(1)
		for _, d := range in.Shape {
			if d < 0 || d > math.MaxInt32 {
				return nil, badRequest("input %q: shape %v: dimensions must be from 0 to 2^31", in.Name, in.Shape)
			}
			t.shape = append(t.shape, int(d))
			n *= d
			if n > int64(len(body)) {
				return nil, badRequest("input %q: shape %v holds more values than the body", in.Name, in.Shape)
			}
		}
		if err := decodeData(in.Data, &t); err != nil {
			return nil, fmt.Errorf("input %q: %w", in.Name, err)
		}
		got := len(t.nums)
		if t.datatype == "BYTES" {
			got = len(t.strs)
		}
		if int64(got) != n {
			return nil, badRequest("input %q: shape %v holds %d values, data has %d", in.Name, in.Shape, n, got)
		}
		req.inputs = append(req.inputs, t)
	}
	for _, o := range r.Outputs {
		if o.Name == "" {
			return nil, badRequest("an output without a name")
		}
		req.outputs = append(req.outputs, o.Name)
	}
	return req, nil
}

// strictUnmarshal decodes one JSON value and refuses trailing data.
func strictUnmarshal(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("data after the JSON value")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err == nil {
		return fmt.Errorf("data after the JSON value")
	}
	return nil
}

// applyParameters reads the request parameters rnnkit uses.
func applyParameters(req *inferRequest, ps map[string]any) error {
	keys := make([]string, 0, len(ps))
	for k := range ps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := ps[k]
		switch k {
		case "sequence_id":
			switch x := v.(type) {
			case string:
				req.streamID = x
			case float64:
				req.streamID = strconv.FormatFloat(x, 'f', -1, 64)
			default:
				return badRequest("parameters.sequence_id must be a string or a number")
			}
		case "sequence_start", "sequence_end":
			b, ok := v.(bool)
			if !ok {
				return badRequest("parameters.%s must be true or false", k)
			}
			if k == "sequence_start" {
				req.start = b
			} else {
				req.end = b
			}
		case "timeout":
			// Microseconds, as Triton's timeout parameter.
			x, ok := v.(float64)
			if !ok || x < 0 || x > 1e15 {
				return badRequest("parameters.timeout must be a number of microseconds")
			}
			req.timeout = time.Duration(x) * time.Microsecond
		}
	}
	return nil
}

// decodeData reads a v2 data array, flat or nested, into t by t's
// datatype.
func decodeData(raw json.RawMessage, t *reqTensor) error {
	switch t.datatype {
	case "BYTES":
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return badRequest("malformed data: %v", err)
		}
		return flatten(v, 0, func(e any) error {
			s, ok := e.(string)
			if !ok {
				return badRequest("BYTES data holds %s, want strings", jsonKind(e))
			}
			t.strs = append(t.strs, s)
			return nil
		})
	case "FP32", "FP64", "FP16":
		return decodeNumbers(raw, t, false)
	case "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64":
		return decodeNumbers(raw, t, true)
	case "BOOL":
		return badRequest("datatype BOOL is not supported: rnnkit models take FP32, FP64, INT32, INT64 or BYTES")
	}
	return badRequest("unknown datatype %q: want FP32, FP64, INT32, INT64 or BYTES", t.datatype)
}

// decodeNumbers reads flat or nested numbers; ints demands integers that
// a float32 holds exactly.
func decodeNumbers(raw json.RawMessage, t *reqTensor, ints bool) error {
	if nums, ok := scanNumbers(raw); ok {
		t.nums = make([]float32, 0, len(nums))
		for _, x := range nums {
			if err := appendNumber(t, x, ints); err != nil {
				return err
			}
		}
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return badRequest("malformed data: %v", err)
	}
	return flatten(v, 0, func(e any) error {
		x, ok := e.(float64)
		if !ok {
			return badRequest("%s data holds %s, want numbers", t.datatype, jsonKind(e))
		}
		return appendNumber(t, x, ints)
	})
}

func appendNumber(t *reqTensor, x float64, ints bool) error {
	if ints {
		if x != math.Trunc(x) {
			return badRequest("%s data holds %v, not an integer", t.datatype, x)
		}
		if math.Abs(x) > maxIntID {
			return badRequest("%s value %v exceeds 2^24, the largest token id rnnkit holds exactly", t.datatype, x)
		}
	}
	t.nums = append(t.nums, float32(x))
	return nil
}

// flatten calls f on every leaf of nested arrays, row-major.
func flatten(v any, depth int, f func(any) error) error {
	if depth > maxDepth {
		return badRequest("arrays nested deeper than %d", maxDepth)
	}
	a, ok := v.([]any)
	if !ok {
		return f(v)
	}
	for _, e := range a {
		if err := flatten(e, depth+1, f); err != nil {
			return err
		}
	}
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// tfRequest is a TF Serving :predict body, decoded without the model:
// one unnamed tensor, or tensors by input name.
type tfRequest struct {
	columnar bool
	unnamed  *reqTensor
	named    map[string]*reqTensor
	streamID string
}

// decodeTF decodes a TF Serving predict body: "instances" (row format, a
// list with one entry per batch row: a value, or an object of named
// inputs) or "inputs" (columnar: a value with the batch dimension, or an
// object of named inputs).
func decodeTF(body []byte) (*tfRequest, error) {
	var r map[string]json.RawMessage
	if err := strictUnmarshal(body, &r); err != nil {
		return nil, badRequest("malformed JSON: %v", err)
	}
	if r == nil {
		return nil, badRequest("want a JSON object with \"instances\" or \"inputs\"")
	}
	inst, hasInst := r["instances"]
	cols, hasCols := r["inputs"]
	if hasInst == hasCols {
		return nil, badRequest("want exactly one of \"instances\" (row format) and \"inputs\" (columnar format)")
	}
	out := &tfRequest{columnar: hasCols}
	if sid, ok := r["sequence_id"]; ok {
		var v any
		if err := json.Unmarshal(sid, &v); err != nil {
			return nil, badRequest("malformed sequence_id")
		}
		switch x := v.(type) {
		case string:
			out.streamID = x
		case float64:
			out.streamID = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			return nil, badRequest("sequence_id must be a string or a number")
		}
	}
	var v any
	raw := inst
	if hasCols {
		raw = cols
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, badRequest("malformed JSON: %v", err)
	}
	if hasCols {
		if obj, ok := v.(map[string]any); ok {
			out.named = map[string]*reqTensor{}
			for name, val := range obj {
				t, err := tensorFromJSON(val)
				if err != nil {
					return nil, fmt.Errorf("input %q: %w", name, err)
				}
				t.name = name
				out.named[name] = t
			}
			if len(out.named) == 0 {
				return nil, badRequest("\"inputs\" is an empty object")
			}
			return out, nil
		}
		t, err := tensorFromJSON(v)
		if err != nil {
			return nil, err
		}
		out.unnamed = t
		return out, nil
	}
	rows, ok := v.([]any)
	if !ok || len(rows) == 0 {
		return nil, badRequest("\"instances\" must be a non-empty list, one entry per batch row")
	}
	if _, isObj := rows[0].(map[string]any); isObj {
		cols := map[string][]any{}
		for i, row := range rows {
			obj, ok := row.(map[string]any)
			if !ok {
				return nil, badRequest("instance %d is %s: every instance must be an object of named inputs, as instance 0", i, jsonKind(row))
			}
			if i > 0 && len(obj) != len(cols) {
				return nil, badRequest("instance %d has %d inputs, instance 0 has %d", i, len(obj), len(cols))
			}
			for name, val := range obj {
				if i > 0 {
					if _, ok := cols[name]; !ok {
						return nil, badRequest("instance %d has input %q that instance 0 lacks", i, name)
					}
				}
				cols[name] = append(cols[name], val)
			}
		}
		out.named = map[string]*reqTensor{}
		for name, vals := range cols {
			t, err := tensorFromJSON(vals)
			if err != nil {
				return nil, fmt.Errorf("input %q: %w", name, err)
			}
			t.name = name
			out.named[name] = t
		}
		return out, nil
	}
	t, err := tensorFromJSON(rows)
	if err != nil {
		return nil, err
	}
	out.unnamed = t
	return out, nil
}

// tensorFromJSON reads a rectangular nested array of numbers (datatype
// "JSON": numbers whose type the model's input decides) or of strings
// (BYTES). A bare number or string is a tensor of shape [].
func tensorFromJSON(v any) (*reqTensor, error) {
	t := &reqTensor{}
	shape, err := jsonShape(v, 0)
	if err != nil {
		return nil, err
	}
	t.shape = shape
	kind := ""
	err = flatten(v, 0, func(e any) error {
		switch x := e.(type) {
		case float64:
			if kind == "s" {
				return badRequest("mixes numbers and strings")
			}
			kind = "n"
			t.nums = append(t.nums, float32(x))
			if math.Abs(x) > maxIntID && x == math.Trunc(x) {
				t.big = true
			}
		case string:
			if kind == "n" {
				return badRequest("mixes numbers and strings")
			}
			kind = "s"
			t.strs = append(t.strs, x)
		case map[string]any:
			if b64, ok := x["b64"]; ok && len(x) == 1 {
				_ = b64
				return badRequest("{\"b64\": ...} binary values are not supported: send text as strings")
			}
			return badRequest("holds an object where a number or string was expected")
		default:
			return badRequest("holds %s, want numbers or strings", jsonKind(e))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	t.datatype = "JSON"
	if kind == "s" {
		t.datatype = "BYTES"
	}
	return t, nil
}

// jsonShape returns the shape of a nested array, requiring every
// sub-array of a level to have the same length.
func jsonShape(v any, depth int) ([]int, error) {
	if depth > maxDepth {
		return nil, badRequest("arrays nested deeper than %d", maxDepth)
	}
	a, ok := v.([]any)
	if !ok {
		return nil, nil
	}
	if len(a) == 0 {
		return []int{0}, nil
	}
	inner, err := jsonShape(a[0], depth+1)
	if err != nil {
		return nil, err
	}
	for i := 1; i < len(a); i++ {
		s, err := jsonShape(a[i], depth+1)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(s, inner) {
			return nil, badRequest("ragged array: element %d has shape %v, element 0 has %v (pad sequences to one length)", i, s, inner)
		}
	}
	return append([]int{len(a)}, inner...), nil
}

// scanNumbers reads nested arrays of JSON numbers, flattened, without
// reflection: the fast path for large tensors. It reports false for
// anything else (strings, objects, malformed text), which the general
// decoder then reads or rejects with its message.
func scanNumbers(b []byte) ([]float64, bool) {
	out := make([]float64, 0, len(b)/4)
	depth := 0
	// expect: 'v' a value or ']' (after '['), ',' or ']' (after a value).
	expect := byte('v')
	i := 0
	skip := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	skip()
	if i >= len(b) || b[i] != '[' {
		return nil, false
	}
	for {
		skip()
		if i >= len(b) {
			return nil, false
		}
		c := b[i]
		switch {
		case c == '[':
			if expect != 'v' || depth >= maxDepth {
				return nil, false
			}
			depth++
			i++
			expect = '['
		case c == ']':
			if expect == 'v' && b[i-1] == ',' {
				return nil, false
			}
			if expect != ',' && expect != '[' {
				return nil, false
			}
			depth--
			i++
			expect = ','
			if depth == 0 {
				skip()
				return out, i == len(b)
			}
		case c == ',':
			if expect != ',' {
				return nil, false
			}
			i++
			expect = 'v'
		case c == '-' || (c >= '0' && c <= '9'):
			if expect != 'v' && expect != '[' {
				return nil, false
			}
			j := i
			for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '-' || b[j] == '+' || b[j] == '.' || b[j] == 'e' || b[j] == 'E') {
				j++
			}
			if !jsonNumber(b[i:j]) {
				return nil, false
			}
			x, err := strconv.ParseFloat(string(b[i:j]), 64)
			if err != nil {
				return nil, false
			}
			out = append(out, x)
			i = j
			expect = ','
		default:
			return nil, false
		}
	}
}

// jsonNumber reports whether s follows JSON's number grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func jsonNumber(s []byte) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
