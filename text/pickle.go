package text

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// The pickle reader: gopickle runs the pickle machine; this file decides
// which Python classes a pickle may name (a Keras Tokenizer, the
// collections and numpy classes that hold its data, nothing else), checks
// the opcode stream before gopickle sees it (so a hostile length cannot
// make it allocate more than the file holds), and turns the result into
// plain Go values:
//
//	None -> nil, bool, int (int64-sized) or *big.Int, float64, str -> string,
//	bytes/bytearray -> []byte, list/tuple/numpy 1-D array -> []any,
//	dict/OrderedDict/defaultdict -> pyDict, Tokenizer -> *pyObject.

// maxPickleDepth bounds the nesting of containers when converting, so a
// list that contains itself cannot recurse forever.
const maxPickleDepth = 64

// maxPickleElements bounds the number of values a converted pickle holds in
// total (a memoized list referenced many times would otherwise multiply).
const maxPickleElements = 1 << 24

// tokenizerClasses are the modules whose Tokenizer class a pickle may name.
var tokenizerClasses = map[string]bool{
	"keras_preprocessing.text":                   true,
	"keras.preprocessing.text":                   true,
	"tensorflow.python.keras.preprocessing.text": true,
	"keras.src.legacy.preprocessing.text":        true,
	"keras.legacy.preprocessing.text":            true,
	"tf_keras.preprocessing.text":                true,
	"tf_keras.src.preprocessing.text":            true,
	"keras.src.preprocessing.text":               true,
}

// pyDict is a converted Python dict: keys in insertion order.
type pyDict struct {
	keys   []any
	values []any
}

// pyObject is an instance of an allowed class, with its __dict__.
type pyObject struct {
	module, name string
	attrs        map[string]any
}

func (o *pyObject) PyDictSet(key, value any) error {
	k, ok := key.(string)
	if !ok {
		return fmt.Errorf("%w: attribute name of %s.%s is %T, not str", ErrFormat, o.module, o.name, key)
	}
	o.attrs[k] = value
	return nil
}

type pyClass struct{ module, name string }

func (c *pyClass) PyNew(args ...any) (any, error) {
	return &pyObject{module: c.module, name: c.name, attrs: map[string]any{}}, nil
}

// defaultdictClass is collections.defaultdict: the factory is dropped, the
// items arrive by SETITEMS.
type defaultdictClass struct{}

func (defaultdictClass) Call(args ...any) (any, error) { return types.NewDict(), nil }

// builtinType is a builtin type named as a defaultdict factory (int, list...).
type builtinType struct{ name string }

// codecsEncode is _codecs.encode(str, "latin1"): how protocol 2 pickles
// bytes under Python 3.
type codecsEncode struct{}

func (codecsEncode) Call(args ...any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("%w: _codecs.encode takes 2 arguments, got %d", ErrFormat, len(args))
	}
	s, ok1 := args[0].(string)
	enc, ok2 := args[1].(string)
	if !ok1 || !ok2 || (enc != "latin1" && enc != "latin-1" && enc != "iso-8859-1") {
		return nil, fmt.Errorf("%w: _codecs.encode(%T, %v)", ErrUnsupported, args[0], args[1])
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, fmt.Errorf("%w: _codecs.encode: U+%04X is not latin-1", ErrFormat, r)
		}
		b = append(b, byte(r))
	}
	return b, nil
}

// bytesType is builtins.bytes, called without arguments for b"".
type bytesType struct{}

func (bytesType) Call(args ...any) (any, error) {
	if len(args) != 0 {
		return nil, fmt.Errorf("%w: bytes() with arguments", ErrUnsupported)
	}
	return []byte{}, nil
}

// numpy: ndarray via _reconstruct + BUILD, or _frombuffer (protocol 5);
// dtype via dtype(...) + BUILD; scalar(dtype, bytes).
type ndarrayClass struct{}

type ndarray struct {
	shape []int
	dtype *npDtype
	data  any // []byte for fixed-size dtypes, []any for object arrays
	set   bool
}

type reconstructFunc struct{}

func (reconstructFunc) Call(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("%w: numpy _reconstruct without arguments", ErrFormat)
	}
	if _, ok := args[0].(ndarrayClass); !ok {
		return nil, fmt.Errorf("%w: numpy _reconstruct of %T, not numpy.ndarray", ErrUnexpectedClass, args[0])
	}
	return &ndarray{}, nil
}

func (a *ndarray) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok {
		return fmt.Errorf("%w: numpy array state is %T, not a tuple", ErrFormat, state)
	}
	s := []any(*t)
	if len(s) == 5 { // (version, shape, dtype, is_fortran, data)
		s = s[1:]
	}
	if len(s) != 4 {
		return fmt.Errorf("%w: numpy array state has %d fields, want 4 or 5", ErrFormat, len(*t))
	}
	shape, err := pyShape(s[0])
	if err != nil {
		return err
	}
	dt, ok := s[1].(*npDtype)
	if !ok {
		return fmt.Errorf("%w: numpy array dtype is %T", ErrFormat, s[1])
	}
	if f, _ := s[2].(bool); f && len(shape) > 1 {
		return fmt.Errorf("%w: Fortran-ordered numpy arrays", ErrUnsupported)
	}
	a.shape, a.dtype, a.set = shape, dt, true
	switch d := s[3].(type) {
	case []byte:
		a.data = d
	case string: // Python 2 str
		a.data = []byte(d)
	case *types.ByteArray:
		a.data = []byte(*d)
	case *types.List:
		a.data = []any(*d)
	default:
		return fmt.Errorf("%w: numpy array data is %T", ErrFormat, s[3])
	}
	return nil
}

type frombufferFunc struct{}

func (frombufferFunc) Call(args ...any) (any, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("%w: numpy _frombuffer takes 4 arguments, got %d", ErrFormat, len(args))
	}
	var buf []byte
	switch b := args[0].(type) {
	case []byte:
		buf = b
	case *types.ByteArray:
		buf = []byte(*b)
	default:
		return nil, fmt.Errorf("%w: numpy _frombuffer buffer is %T", ErrFormat, args[0])
	}
	dt, ok := args[1].(*npDtype)
	if !ok {
		return nil, fmt.Errorf("%w: numpy _frombuffer dtype is %T", ErrFormat, args[1])
	}
	shape, err := pyShape(args[2])
	if err != nil {
		return nil, err
	}
	if o, _ := args[3].(string); o == "F" && len(shape) > 1 {
		return nil, fmt.Errorf("%w: Fortran-ordered numpy arrays", ErrUnsupported)
	}
	return &ndarray{shape: shape, dtype: dt, data: buf, set: true}, nil
}

func pyShape(v any) ([]int, error) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("%w: numpy shape is %T, not a tuple", ErrFormat, v)
	}
	shape := make([]int, len(*t))
	n := 1
	for i, d := range *t {
		k, ok := d.(int)
		if !ok || k < 0 || k > maxPickleElements {
			return nil, fmt.Errorf("%w: numpy shape entry %v", ErrFormat, d)
		}
		shape[i] = k
		n *= k
		if n > maxPickleElements {
			return nil, fmt.Errorf("%w: numpy array of more than %d elements", ErrFormat, maxPickleElements)
		}
	}
	return shape, nil
}

type npDtype struct {
	kind     byte // 'U', 'S', 'O', 'i', 'u', 'f', 'b'
	size     int  // item size in bytes
	big      bool // big-endian
	explicit bool // size came from the BUILD state
}

type dtypeClass struct{}

func (dtypeClass) Call(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("%w: numpy dtype without arguments", ErrFormat)
	}
	s, ok := args[0].(string)
	if !ok || s == "" {
		return nil, fmt.Errorf("%w: numpy dtype %v", ErrFormat, args[0])
	}
	d := &npDtype{kind: s[0]}
	switch d.kind {
	case 'U', 'S', 'O', 'i', 'u', 'f', 'b':
	default:
		return nil, fmt.Errorf("%w: numpy dtype %q", ErrUnsupported, s)
	}
	if len(s) > 1 {
		var n int
		if _, err := fmt.Sscanf(s[1:], "%d", &n); err != nil || n < 0 || n > 1<<20 {
			return nil, fmt.Errorf("%w: numpy dtype %q", ErrFormat, s)
		}
		d.size = n
		if d.kind == 'U' {
			d.size = 4 * n
		}
	} else if d.kind == 'O' {
		d.size = 8
	} else if d.kind == 'b' {
		d.size = 1
	}
	return d, nil
}

func (d *npDtype) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok || len(*t) < 6 {
		return fmt.Errorf("%w: numpy dtype state %T", ErrFormat, state)
	}
	if bo, ok := (*t)[1].(string); ok {
		d.big = bo == ">"
	}
	if n, ok := (*t)[5].(int); ok && n >= 0 && n <= 1<<22 {
		if d.kind == 'U' || d.kind == 'S' || n > 0 {
			d.size = n
		}
	}
	d.explicit = true
	return nil
}

type scalarFunc struct{}

func (scalarFunc) Call(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("%w: numpy scalar without arguments", ErrFormat)
	}
	dt, ok := args[0].(*npDtype)
	if !ok {
		return nil, fmt.Errorf("%w: numpy scalar dtype is %T", ErrFormat, args[0])
	}
	if dt.kind == 'O' {
		if len(args) < 2 {
			return nil, nil
		}
		return args[1], nil
	}
	if len(args) < 2 {
		return nil, fmt.Errorf("%w: numpy scalar without data", ErrFormat)
	}
	var b []byte
	switch v := args[1].(type) {
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return nil, fmt.Errorf("%w: numpy scalar data is %T", ErrFormat, args[1])
	}
	size := dt.size
	if dt.kind == 'U' || dt.kind == 'S' || size == 0 {
		size = len(b)
	}
	if len(b) < size {
		return nil, fmt.Errorf("%w: numpy scalar of %d bytes, dtype wants %d", ErrFormat, len(b), size)
	}
	return decodeItem(dt, b[:size])
}

// decodeItem decodes one fixed-size numpy item.
func decodeItem(dt *npDtype, b []byte) (any, error) {
	var order binary.ByteOrder = binary.LittleEndian
	if dt.big {
		order = binary.BigEndian
	}
	switch dt.kind {
	case 'U':
		if len(b)%4 != 0 {
			return nil, fmt.Errorf("%w: numpy unicode item of %d bytes", ErrFormat, len(b))
		}
		var sb strings.Builder
		n := len(b) / 4
		for n > 0 && order.Uint32(b[4*(n-1):]) == 0 { // numpy strips trailing NULs
			n--
		}
		for i := 0; i < n; i++ {
			r := rune(order.Uint32(b[4*i:]))
			if !utf8.ValidRune(r) || utf16.IsSurrogate(r) {
				r = utf8.RuneError
			}
			sb.WriteRune(r)
		}
		return sb.String(), nil
	case 'S':
		return string(bytes.TrimRight(b, "\x00")), nil
	case 'b':
		if len(b) < 1 {
			return nil, fmt.Errorf("%w: empty numpy bool", ErrFormat)
		}
		return b[0] != 0, nil
	case 'i', 'u':
		var u uint64
		switch len(b) {
		case 1:
			u = uint64(b[0])
			if dt.kind == 'i' {
				u = uint64(int64(int8(b[0])))
			}
		case 2:
			u = uint64(order.Uint16(b))
			if dt.kind == 'i' {
				u = uint64(int64(int16(u)))
			}
		case 4:
			u = uint64(order.Uint32(b))
			if dt.kind == 'i' {
				u = uint64(int64(int32(u)))
			}
		case 8:
			u = order.Uint64(b)
		default:
			return nil, fmt.Errorf("%w: numpy integer of %d bytes", ErrUnsupported, len(b))
		}
		if dt.kind == 'u' && u > math.MaxInt64 {
			return new(big.Int).SetUint64(u), nil
		}
		return int(int64(u)), nil
	case 'f':
		switch len(b) {
		case 4:
			return float64(math.Float32frombits(order.Uint32(b))), nil
		case 8:
			return math.Float64frombits(order.Uint64(b)), nil
		}
		return nil, fmt.Errorf("%w: numpy float of %d bytes", ErrUnsupported, len(b))
	}
	return nil, fmt.Errorf("%w: numpy dtype kind %q", ErrUnsupported, dt.kind)
}

// elements returns a 1-D (or flattened) array's items as Go values.
func (a *ndarray) elements(budget *int) ([]any, error) {
	if !a.set {
		return nil, fmt.Errorf("%w: numpy array without state", ErrFormat)
	}
	n := 1
	for _, d := range a.shape {
		n *= d
	}
	*budget -= n
	if *budget < 0 {
		return nil, fmt.Errorf("%w: pickle holds more than %d values", ErrFormat, maxPickleElements)
	}
	if a.dtype.kind == 'O' {
		items, ok := a.data.([]any)
		if !ok {
			return nil, fmt.Errorf("%w: numpy object array without a list of objects", ErrFormat)
		}
		if len(items) != n {
			return nil, fmt.Errorf("%w: numpy object array of shape %v holds %d objects", ErrFormat, a.shape, len(items))
		}
		return items, nil
	}
	b, ok := a.data.([]byte)
	if !ok {
		return nil, fmt.Errorf("%w: numpy %c array data is not bytes", ErrFormat, a.dtype.kind)
	}
	size := a.dtype.size
	if size <= 0 {
		if n == 0 {
			return []any{}, nil
		}
		return nil, fmt.Errorf("%w: numpy dtype of size 0", ErrFormat)
	}
	if len(b) != n*size {
		return nil, fmt.Errorf("%w: numpy array of shape %v and %d-byte items holds %d bytes", ErrFormat, a.shape, size, len(b))
	}
	out := make([]any, n)
	for i := range out {
		v, err := decodeItem(a.dtype, b[i*size:(i+1)*size])
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// findClass is the allow-list of Python globals a pickle may name.
func findClass(module, name string) (any, error) {
	switch {
	case name == "Tokenizer" && tokenizerClasses[module]:
		return &pyClass{module: module, name: name}, nil
	case module == "_codecs" && name == "encode":
		return codecsEncode{}, nil
	case (module == "builtins" || module == "__builtin__") && name == "bytes":
		return bytesType{}, nil
	case module == "collections" && name == "defaultdict":
		return defaultdictClass{}, nil
	case (module == "builtins" || module == "__builtin__") &&
		(name == "int" || name == "long" || name == "list" || name == "str" || name == "float" || name == "dict" || name == "set"):
		return builtinType{name}, nil
	case (module == "numpy.core.multiarray" || module == "numpy._core.multiarray") && name == "_reconstruct":
		return reconstructFunc{}, nil
	case (module == "numpy.core.multiarray" || module == "numpy._core.multiarray") && name == "scalar":
		return scalarFunc{}, nil
	case (module == "numpy.core.numeric" || module == "numpy._core.numeric") && name == "_frombuffer":
		return frombufferFunc{}, nil
	case module == "numpy" && name == "ndarray":
		return ndarrayClass{}, nil
	case module == "numpy" && name == "dtype":
		return dtypeClass{}, nil
	}
	return nil, fmt.Errorf("%w: %s.%s", ErrUnexpectedClass, module, name)
}

// loadPickle runs a pickle and converts its value to plain Go values.
func loadPickle(data []byte) (v any, err error) {
	if err := scanPickle(data); err != nil {
		return nil, err
	}
	defer func() {
		// gopickle is third-party code: whatever slips past scanPickle
		// becomes an error, never a crash.
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("%w: malformed pickle (%v)", ErrFormat, r)
		}
	}()
	u := pickle.NewUnpickler(bytes.NewReader(data))
	u.FindClass = findClass
	raw, err := u.Load()
	if err != nil {
		if errors.Is(err, ErrUnexpectedClass) || errors.Is(err, ErrFormat) || errors.Is(err, ErrUnsupported) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: pickle: %v", ErrFormat, err)
	}
	budget := maxPickleElements
	return convertPy(raw, 0, &budget)
}

func convertPy(v any, depth int, budget *int) (any, error) {
	if depth > maxPickleDepth {
		return nil, fmt.Errorf("%w: pickle nested deeper than %d", ErrFormat, maxPickleDepth)
	}
	*budget--
	if *budget < 0 {
		return nil, fmt.Errorf("%w: pickle holds more than %d values", ErrFormat, maxPickleElements)
	}
	switch x := v.(type) {
	case nil, bool, int, float64, string, *big.Int:
		return x, nil
	case []byte:
		return x, nil
	case *types.ByteArray:
		return []byte(*x), nil
	case *types.List:
		return convertSeq(*x, depth, budget)
	case *types.Tuple:
		return convertSeq(*x, depth, budget)
	case *ndarray:
		items, err := x.elements(budget)
		if err != nil {
			return nil, err
		}
		if len(x.shape) != 1 {
			return nil, fmt.Errorf("%w: numpy array of shape %v, want 1-D", ErrUnsupported, x.shape)
		}
		return convertSeq(items, depth, budget)
	case *types.Dict:
		d := &pyDict{}
		for _, e := range *x {
			k, err := convertPy(e.Key, depth+1, budget)
			if err != nil {
				return nil, err
			}
			val, err := convertPy(e.Value, depth+1, budget)
			if err != nil {
				return nil, err
			}
			d.keys = append(d.keys, k)
			d.values = append(d.values, val)
		}
		return d, nil
	case *types.OrderedDict:
		d := &pyDict{}
		for e := x.List.Front(); e != nil; e = e.Next() {
			entry, ok := e.Value.(*types.OrderedDictEntry)
			if !ok {
				return nil, fmt.Errorf("%w: OrderedDict entry", ErrFormat)
			}
			k, err := convertPy(entry.Key, depth+1, budget)
			if err != nil {
				return nil, err
			}
			val, err := convertPy(entry.Value, depth+1, budget)
			if err != nil {
				return nil, err
			}
			d.keys = append(d.keys, k)
			d.values = append(d.values, val)
		}
		return d, nil
	case *pyObject:
		o := &pyObject{module: x.module, name: x.name, attrs: make(map[string]any, len(x.attrs))}
		for k, a := range x.attrs {
			c, err := convertPy(a, depth+1, budget)
			if err != nil {
				return nil, fmt.Errorf("attribute %s: %w", k, err)
			}
			o.attrs[k] = c
		}
		return o, nil
	}
	return nil, fmt.Errorf("%w: pickled value of Go type %T", ErrUnexpectedClass, v)
}

func convertSeq(items []any, depth int, budget *int) ([]any, error) {
	out := make([]any, len(items))
	for i, it := range items {
		c, err := convertPy(it, depth+1, budget)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// scanPickle walks the opcode stream up to STOP and checks that every
// counted argument fits in the bytes that remain, that every opcode is
// known, and that the protocol is at most 5. gopickle allocates a
// counted argument's buffer before reading it, so without this a 30-byte
// file could ask for exabytes.
func scanPickle(data []byte) error {
	i := 0
	need := func(n uint64) error {
		if n > uint64(len(data)-i) {
			return fmt.Errorf("%w: pickle opcode at byte %d wants %d bytes, %d remain", ErrFormat, i, n, len(data)-i)
		}
		return nil
	}
	line := func() error {
		j := bytes.IndexByte(data[i:], '\n')
		if j < 0 {
			return fmt.Errorf("%w: pickle line at byte %d has no end", ErrFormat, i)
		}
		i += j + 1
		return nil
	}
	counted := func(width int) error {
		if err := need(uint64(width)); err != nil {
			return err
		}
		var n uint64
		switch width {
		case 1:
			n = uint64(data[i])
		case 4:
			n = uint64(binary.LittleEndian.Uint32(data[i:]))
		case 8:
			n = binary.LittleEndian.Uint64(data[i:])
		}
		i += width
		if err := need(n); err != nil {
			return err
		}
		i += int(n)
		return nil
	}
	for {
		if i >= len(data) {
			return fmt.Errorf("%w: pickle ends without STOP", ErrFormat)
		}
		op := data[i]
		i++
		var err error
		switch op {
		case '.': // STOP
			return nil
		case '(', '0', '1', '2', 'N', '\x88', '\x89', ')', ']', '}', 'a', 'e', 's', 'u', 'l', 't', 'd', 'b',
			'R', 'o', '\x81', '\x92', '\x93', '\x94', '\x85', '\x86', '\x87', '\x8f', '\x90', '\x91', 'Q', '\x98':
		case '\x97': // NEXT_BUFFER: out-of-band data is never supplied
			return fmt.Errorf("%w: pickle refers to out-of-band buffers", ErrUnsupported)
		case 'I', 'L', 'F', 'S', 'V', 'P', 'g', 'p':
			err = line()
		case 'c', 'i':
			if err = line(); err == nil {
				err = line()
			}
		case 'K', 'h', 'q', '\x82':
			err = need(1)
			i++
		case 'M', '\x83':
			err = need(2)
			i += 2
		case 'J', 'j', 'r', '\x84':
			err = need(4)
			i += 4
		case 'G':
			err = need(8)
			i += 8
		case '\x80': // PROTO
			if err = need(1); err == nil {
				if data[i] > 5 {
					err = fmt.Errorf("%w: pickle protocol %d", ErrUnsupported, data[i])
				}
				i++
			}
		case '\x95': // FRAME: its content is scanned as opcodes
			if err = need(8); err == nil {
				n := binary.LittleEndian.Uint64(data[i:])
				i += 8
				err = need(n)
			}
		case '\x8a', '\x8b': // LONG1, LONG4
			w := 1
			if op == '\x8b' {
				w = 4
			}
			if err = need(uint64(w)); err == nil {
				var n uint64
				if w == 1 {
					n = uint64(data[i])
				} else {
					n = uint64(binary.LittleEndian.Uint32(data[i:]))
				}
				if n == 0 { // gopickle cannot decode the empty (zero) long
					return fmt.Errorf("%w: pickle LONG of zero bytes", ErrUnsupported)
				}
				err = counted(w)
			}
		case 'U', 'C', '\x8c':
			err = counted(1)
		case 'T', 'B', 'X':
			err = counted(4)
		case '\x8d', '\x8e', '\x96':
			err = counted(8)
		default:
			return fmt.Errorf("%w: unknown pickle opcode 0x%02x at byte %d", ErrFormat, op, i-1)
		}
		if err != nil {
			return err
		}
		if i > len(data) {
			return fmt.Errorf("%w: pickle truncated", ErrFormat)
		}
	}
}

// isPickle reports whether data starts as a pickle of protocol 2 or later.
func isPickle(data []byte) bool {
	return len(data) >= 2 && data[0] == 0x80 && data[1] >= 2 && data[1] <= 5
}
