package convert

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
)

// DescribeLambda says what a Lambda layer's config records of its Python
// function, for errors that ask the user to supply a Go equivalent: the
// function's name and file, the global names and local variables its code
// uses, and its constants, read from the marshalled code object that
// Keras 2, tf.keras and Keras 3 store (base64 of marshal.dumps of the
// code); or the module and name of a function saved by reference. It
// returns "" when the config holds nothing readable. The code is never run.
func DescribeLambda(cfg Config) string {
	fn := cfg["function"]
	typ, _ := cfg["function_type"].(string)
	module, _ := cfg["module"].(string)
	switch f := fn.(type) {
	case string:
		if typ == "function" {
			return "the Python function " + qualify(module, f)
		}
		return describeMarshalled(f)
	case []any: // Keras 2 func_dump: [code, defaults, closure]
		if len(f) > 0 {
			if s, ok := f[0].(string); ok {
				return describeMarshalled(s)
			}
		}
	case map[string]any: // Keras 3: {"class_name": "__lambda__", "config": {"code": ...}}
		if name, ok := f["config"].(string); ok { // a named function, saved by reference
			m, _ := f["module"].(string)
			if m == "builtins" {
				m = "" // what Keras 3 writes for a function of the training script
			}
			return "the Python function " + qualify(m, name)
		}
		if c, ok := f["config"].(map[string]any); ok {
			if s, ok := c["code"].(string); ok {
				return describeMarshalled(s)
			}
			if v, ok := c["value"].(string); ok {
				m, _ := c["module"].(string)
				return "the Python function " + qualify(m, v)
			}
		}
		if s, ok := f["code"].(string); ok {
			return describeMarshalled(s)
		}
	}
	return ""
}

func qualify(module, name string) string {
	if module == "" {
		return name
	}
	return module + "." + name
}

// describeMarshalled decodes base64 marshal data of a code object.
func describeMarshalled(b64 string) string {
	raw, err := base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' {
			return -1
		}
		return r
	}, b64))
	if err != nil || len(raw) == 0 {
		return ""
	}
	code, ok := parseCode(raw)
	if !ok {
		return ""
	}
	var b strings.Builder
	name := code.name
	if name == "<lambda>" {
		name = "a lambda"
	} else {
		name = "the Python function " + name
	}
	b.WriteString(name)
	if code.file != "" {
		file := code.file
		if i := strings.LastIndexAny(file, `/\`); i >= 0 {
			file = file[i+1:]
		}
		fmt.Fprintf(&b, " (%s, line %d)", file, code.line)
	}
	if len(code.args) > 0 {
		fmt.Fprintf(&b, " of (%s)", strings.Join(limitNames(code.args, 8), ", "))
	}
	if len(code.names) > 0 {
		fmt.Fprintf(&b, "; its code uses %s", strings.Join(limitNames(code.names, 12), ", "))
	}
	if len(code.locals) > 0 {
		fmt.Fprintf(&b, "; locals %s", strings.Join(limitNames(code.locals, 8), ", "))
	}
	if len(code.consts) > 0 {
		fmt.Fprintf(&b, "; constants %s", strings.Join(limitNames(code.consts, 8), ", "))
	}
	return b.String()
}

func limitNames(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(append([]string(nil), s[:n]...), fmt.Sprintf("… %d more", len(s)-n))
}

// pyCode is what DescribeLambda shows of a code object.
type pyCode struct {
	name, file                  string
	line                        int
	args, names, locals, consts []string
}

// codeLayout is one CPython version family's code object field order:
// the number of int32 fields before co_code, and the objects after it up
// to co_firstlineno.
type codeLayout struct {
	ints int
	// names of the object fields between co_code and co_firstlineno
	objs []string
	// objects after co_firstlineno
	tail int
	// argcount fields: index of co_argcount, and of the counts added to
	// it (posonly is part of argcount; kwonly is added)
	kwonly int
}

// Code object layouts of the CPython versions Keras users ran: 3.11+,
// 3.8-3.10, and 3.0-3.7 (marshal's w_object for TYPE_CODE).
var codeLayouts = []codeLayout{
	{ints: 5, objs: []string{"consts", "names", "localsplusnames", "localspluskinds", "filename", "name", "qualname"}, tail: 2, kwonly: 2},
	{ints: 6, objs: []string{"consts", "names", "varnames", "freevars", "cellvars", "filename", "name"}, tail: 1, kwonly: 2},
	{ints: 5, objs: []string{"consts", "names", "varnames", "freevars", "cellvars", "filename", "name"}, tail: 1, kwonly: 1},
}

// parseCode reads the outermost code object of marshal data, trying each
// layout until one consumes the data exactly.
func parseCode(raw []byte) (*pyCode, bool) {
	for _, layout := range codeLayouts {
		m := &marshalReader{data: raw, layout: layout}
		v, err := m.object(0)
		if err != nil || m.off != len(raw) {
			continue
		}
		if c, ok := v.(*pyCode); ok {
			return c, true
		}
	}
	return nil, false
}

// marshalReader reads CPython's marshal format: just enough to walk a code
// object (every type marshal writes for one), with bounds on everything.
type marshalReader struct {
	data   []byte
	off    int
	refs   []any
	layout codeLayout
	// objects counts what was read, so hostile data cannot make the walk
	// long.
	objects int
}

var errMarshal = errors.New("bad marshal data")

func (m *marshalReader) bytes(n int) ([]byte, error) {
	if n < 0 || n > len(m.data)-m.off {
		return nil, errMarshal
	}
	b := m.data[m.off : m.off+n]
	m.off += n
	return b, nil
}

func (m *marshalReader) int32() (int, error) {
	b, err := m.bytes(4)
	if err != nil {
		return 0, err
	}
	return int(int32(binary.LittleEndian.Uint32(b))), nil
}

func (m *marshalReader) object(depth int) (any, error) {
	m.objects++
	if depth > 32 || m.objects > 100000 {
		return nil, errMarshal
	}
	tb, err := m.bytes(1)
	if err != nil {
		return nil, err
	}
	typ, flag := tb[0]&0x7f, tb[0]&0x80 != 0
	ref := -1
	if flag {
		ref = len(m.refs)
		m.refs = append(m.refs, nil)
	}
	v, err := m.value(typ, depth)
	if err != nil {
		return nil, err
	}
	if ref >= 0 {
		m.refs[ref] = v
	}
	return v, nil
}

// pyStr marks a decoded str, to tell it from bytes and numbers.
type pyStr string

func (m *marshalReader) value(typ byte, depth int) (any, error) {
	switch typ {
	case '0', 'N', 'F', 'T', 'S', '.':
		return map[byte]string{'0': "NULL", 'N': "None", 'F': "False", 'T': "True", 'S': "StopIteration", '.': "..."}[typ], nil
	case 'i':
		n, err := m.int32()
		return fmt.Sprint(n), err
	case 'l':
		n, err := m.int32()
		if err != nil {
			return nil, err
		}
		if n < 0 {
			n = -n
		}
		_, err = m.bytes(2 * n)
		return "<long>", err
	case 'g':
		b, err := m.bytes(8)
		if err != nil {
			return nil, err
		}
		return fmt.Sprint(math.Float64frombits(binary.LittleEndian.Uint64(b))), nil
	case 'y':
		_, err := m.bytes(16)
		return "<complex>", err
	case 's':
		n, err := m.int32()
		if err != nil {
			return nil, err
		}
		_, err = m.bytes(n)
		return "<bytes>", err
	case 't', 'u', 'a', 'A':
		n, err := m.int32()
		if err != nil {
			return nil, err
		}
		b, err := m.bytes(n)
		return pyStr(b), err
	case 'z', 'Z':
		nb, err := m.bytes(1)
		if err != nil {
			return nil, err
		}
		b, err := m.bytes(int(nb[0]))
		return pyStr(b), err
	case ')', '(', '[', '<', '>':
		var n int
		if typ == ')' {
			nb, err := m.bytes(1)
			if err != nil {
				return nil, err
			}
			n = int(nb[0])
		} else {
			var err error
			if n, err = m.int32(); err != nil {
				return nil, err
			}
		}
		if n < 0 || n > len(m.data)-m.off {
			return nil, errMarshal
		}
		items := make([]any, 0, n)
		for i := 0; i < n; i++ {
			v, err := m.object(depth + 1)
			if err != nil {
				return nil, err
			}
			items = append(items, v)
		}
		return items, nil
	case '{':
		for {
			if m.off < len(m.data) && m.data[m.off] == '0' {
				m.off++
				return "<dict>", nil
			}
			if _, err := m.object(depth + 1); err != nil {
				return nil, err
			}
			if _, err := m.object(depth + 1); err != nil {
				return nil, err
			}
		}
	case 'r':
		n, err := m.int32()
		if err != nil || n < 0 || n >= len(m.refs) {
			return nil, errMarshal
		}
		return m.refs[n], nil
	case 'c':
		return m.code(depth)
	}
	return nil, errMarshal
}

func (m *marshalReader) code(depth int) (any, error) {
	ints := make([]int, m.layout.ints)
	for i := range ints {
		var err error
		if ints[i], err = m.int32(); err != nil {
			return nil, err
		}
	}
	if _, err := m.object(depth + 1); err != nil { // co_code
		return nil, err
	}
	fields := map[string]any{}
	for _, name := range m.layout.objs {
		v, err := m.object(depth + 1)
		if err != nil {
			return nil, err
		}
		fields[name] = v
	}
	line, err := m.int32()
	if err != nil {
		return nil, err
	}
	for i := 0; i < m.layout.tail; i++ {
		if _, err := m.object(depth + 1); err != nil {
			return nil, err
		}
	}
	strs := func(v any) []string {
		items, _ := v.([]any)
		var out []string
		for _, it := range items {
			if s, ok := it.(pyStr); ok {
				out = append(out, string(s))
			}
		}
		return out
	}
	c := &pyCode{line: line, names: strs(fields["names"])}
	c.name, _ = fieldStr(fields["name"])
	c.file, _ = fieldStr(fields["filename"])
	vars := strs(fields["varnames"])
	if v, ok := fields["localsplusnames"]; ok {
		vars = strs(v)
	}
	nargs := min(max(ints[0], 0)+max(ints[m.layout.kwonly], 0), len(vars))
	c.args, c.locals = vars[:nargs], vars[nargs:]
	if items, ok := fields["consts"].([]any); ok {
		for _, it := range items {
			switch v := it.(type) {
			case pyStr:
				c.consts = append(c.consts, fmt.Sprintf("%q", string(v)))
			case string:
				if v != "None" && v != "NULL" {
					c.consts = append(c.consts, v)
				}
			}
		}
	}
	return c, nil
}

func fieldStr(v any) (string, bool) {
	s, ok := v.(pyStr)
	return string(s), ok
}
