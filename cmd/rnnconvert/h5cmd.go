package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/rnnkit/rnnkit/h5"
)

const h5Usage = `usage:
  rnnconvert h5 FILE [--json] [--data]

Lists every group and dataset of an HDF5 file with its attributes, like
h5ls -r, for debugging Keras files without Python.

flags:
  --json
      print {"objects":[...]} sorted by path instead of text (default false)
  --data
      add every dataset value (flat, row-major); NaN and infinities print as
      "nan", "inf", "-inf" (default false)

examples:
  rnnconvert h5 testdata/example/char_gru_generator/model.weights.h5
  rnnconvert h5 testdata/example/char_gru_generator/model.h5 --json --data
`

// runH5 implements "rnnconvert h5 FILE [--json] [--data]": an h5ls/h5dump
// for people debugging Keras files without Python.
func runH5(args []string, stdout, stderr io.Writer) int {
	var file string
	asJSON, withData := false, false
	for _, a := range args {
		switch a {
		case "--json", "-json":
			asJSON = true
		case "--data", "-data":
			withData = true
		case "-h", "--help", "-help":
			fmt.Fprint(stdout, h5Usage)
			return 0
		default:
			if strings.HasPrefix(a, "-") || file != "" {
				fmt.Fprintf(stderr, "rnnconvert h5: unexpected argument %q\n%s", a, h5Usage)
				return 2
			}
			file = a
		}
	}
	if file == "" {
		fmt.Fprint(stderr, h5Usage)
		return 2
	}
	f, err := h5.Open(file)
	if err != nil {
		fmt.Fprintln(stderr, "rnnconvert:", err)
		return 1
	}
	defer f.Close()
	objs, err := h5Objects(f, withData, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "rnnconvert:", err)
		return 1
	}
	w := bufio.NewWriter(stdout)
	if asJSON {
		err = writeH5JSON(w, objs)
	} else {
		writeH5Text(w, objs)
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintln(stderr, "rnnconvert:", err)
		return 1
	}
	return 0
}

// h5Object is one group or dataset of the listing.
type h5Object struct {
	Path   string
	Type   string // "group" or "dataset"
	Attrs  []h5Attr
	Shape  []int
	Dtype  string
	Detail string // datatype, layout, chunks, filters (text listing)
	Data   any    // with --data: []any of numbers/strings
	Links  []string
}

type h5Attr struct {
	Name  string
	Value any
	Type  string
	Shape []int
}

// h5Objects visits every object once, at the first path that reaches it in
// a depth-first walk in name order (as h5py's visititems and H5Ovisit do),
// and returns them sorted by path.
func h5Objects(f *h5.File, withData bool, warn io.Writer) ([]h5Object, error) {
	var out []h5Object
	seen := map[uint64]bool{}
	var walk func(g *h5.Group) error
	walk = func(g *h5.Group) error {
		seen[g.Addr()] = true
		attrs, err := g.Attrs()
		if err != nil {
			return err
		}
		o := h5Object{Path: g.Path(), Type: "group"}
		if o.Attrs, err = h5AttrValues(attrs); err != nil {
			return err
		}
		self := len(out) // children are appended after it
		out = append(out, o)
		links, err := g.Links()
		if err != nil {
			return err
		}
		sort.SliceStable(links, func(i, j int) bool { return links[i].Name < links[j].Name })
		for _, l := range links {
			n := l.Name
			if l.Soft || l.External {
				// Listed as links, like h5ls; their targets are listed at
				// their own (hard-link) paths.
				if l.Soft {
					out[self].Links = append(out[self].Links, n+" -> "+l.Target)
				} else {
					out[self].Links = append(out[self].Links, n+" -> (external link)")
				}
				continue
			}
			k, err := g.Kind(n)
			if errors.Is(err, h5.ErrNotFound) || errors.Is(err, h5.ErrUnsupported) {
				// Dangling or looping soft link, external link: not an object.
				fmt.Fprintf(warn, "rnnconvert: warning: %v\n", err)
				continue
			}
			if err != nil {
				return err
			}
			switch k {
			case h5.KindGroup:
				c, err := g.Group(n)
				if err != nil {
					return err
				}
				if !seen[c.Addr()] {
					if err := walk(c); err != nil {
						return err
					}
				}
			case h5.KindDataset:
				d, err := g.Dataset(n)
				if err != nil {
					return err
				}
				if seen[d.Addr()] {
					continue
				}
				seen[d.Addr()] = true
				o, err := h5DatasetObject(d, withData)
				if err != nil {
					return err
				}
				out = append(out, o)
			}
		}
		return nil
	}
	if err := walk(f.Root()); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func h5DatasetObject(d *h5.Dataset, withData bool) (h5Object, error) {
	attrs, err := d.Attrs()
	if err != nil {
		return h5Object{}, err
	}
	t := d.Type()
	o := h5Object{Path: d.Path(), Type: "dataset", Shape: d.Shape(), Dtype: t.NumpyName()}
	if o.Attrs, err = h5AttrValues(attrs); err != nil {
		return o, err
	}
	detail := []string{typeText(t), d.Layout()}
	if c := d.Chunks(); c != nil {
		detail = append(detail, fmt.Sprintf("chunks %s (%s)", dimsText(c), d.ChunkIndex()))
	}
	for _, flt := range d.Filters() {
		detail = append(detail, "filter "+flt.Name)
	}
	o.Detail = strings.Join(detail, ", ")
	if !withData {
		return o, nil
	}
	switch {
	case isStringType(t):
		s, err := d.ReadStrings()
		if err != nil {
			return o, err
		}
		o.Data = jsonValue(s)
	case baseClass(t) == h5.ClassInteger:
		v, err := d.ReadInt64()
		if err != nil {
			// uint64 beyond int64: read them exactly as uint64.
			u, uerr := d.ReadUint64()
			if uerr != nil {
				return o, err
			}
			o.Data = jsonValue(u)
			break
		}
		o.Data = jsonValue(v)
	case baseClass(t) == h5.ClassFloat:
		v, err := d.ReadFloat64()
		if err != nil {
			return o, err
		}
		o.Data = jsonValue(v)
	default:
		o.Data = nil // compound, opaque, ...: no flat value form
	}
	return o, nil
}

func baseClass(t h5.Datatype) h5.Class {
	for (t.Class == h5.ClassArray || t.Class == h5.ClassEnum) && t.Base != nil {
		t = *t.Base
	}
	return t.Class
}

func isStringType(t h5.Datatype) bool {
	for t.Class == h5.ClassArray && t.Base != nil {
		t = *t.Base
	}
	return t.IsString
}

func typeText(t h5.Datatype) string {
	switch {
	case t.VarLenString:
		return "vlen string"
	case t.Class == h5.ClassString:
		return fmt.Sprintf("string(%d)", t.Size)
	case t.Class == h5.ClassArray && t.Base != nil:
		return fmt.Sprintf("%s%v", typeText(*t.Base), t.ArrayDims)
	}
	return t.NumpyName()
}

func h5AttrValues(attrs []*h5.Attribute) ([]h5Attr, error) {
	out := make([]h5Attr, 0, len(attrs))
	for _, a := range attrs {
		v, err := attrValue(a)
		if err != nil {
			if !errors.Is(err, h5.ErrUnsupported) {
				return nil, err
			}
			v = nil // e.g. compound attributes: listed with their type only
		}
		out = append(out, h5Attr{Name: a.Name, Value: jsonValue(v), Type: typeText(a.Type), Shape: a.Shape})
	}
	return out, nil
}

// attrValue is a.Value, except that integer attributes holding uint64 values
// above MaxInt64 (which Value rounds to float64) come back exact, as uint64
// or []uint64.
func attrValue(a *h5.Attribute) (any, error) {
	v, err := a.Value()
	if err != nil || baseClass(a.Type) != h5.ClassInteger {
		return v, err
	}
	switch v.(type) {
	case float64, []float64:
		u, err := a.Uint64s()
		if err != nil {
			return nil, err
		}
		if a.IsScalar() && len(u) == 1 {
			return u[0], nil
		}
		return u, nil
	}
	return v, nil
}

// jsonValue maps reader values to JSON-ready ones: NaN and infinities become
// the strings "nan", "inf" and "-inf".
func jsonValue(v any) any {
	num := func(x float64) any {
		switch {
		case math.IsNaN(x):
			return "nan"
		case math.IsInf(x, 1):
			return "inf"
		case math.IsInf(x, -1):
			return "-inf"
		}
		return x
	}
	switch v := v.(type) {
	case float64:
		return num(v)
	case []float64:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = num(x)
		}
		return out
	case []int64:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = x
		}
		return out
	case []uint64:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = x
		}
		return out
	case []string:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = x
		}
		return out
	}
	return v
}

func writeH5JSON(w io.Writer, objs []h5Object) error {
	type attrMap = map[string]any
	type jsonObject struct {
		Path  string  `json:"path"`
		Type  string  `json:"type"`
		Attrs attrMap `json:"attrs"`
		Shape *[]int  `json:"shape,omitempty"`
		Dtype string  `json:"dtype,omitempty"`
		Data  *any    `json:"data,omitempty"`
	}
	doc := struct {
		Objects []jsonObject `json:"objects"`
	}{Objects: make([]jsonObject, 0, len(objs))}
	for i := range objs {
		o := &objs[i]
		j := jsonObject{Path: o.Path, Type: o.Type, Attrs: attrMap{}}
		for _, a := range o.Attrs {
			j.Attrs[a.Name] = a.Value
		}
		if o.Type == "dataset" {
			shape := o.Shape
			if shape == nil {
				shape = []int{}
			}
			j.Shape = &shape
			j.Dtype = o.Dtype
			if o.Data != nil {
				j.Data = &o.Data
			}
		}
		doc.Objects = append(doc.Objects, j)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}

func dimsText(d []int) string {
	s := make([]string, len(d))
	for i, x := range d {
		s[i] = fmt.Sprint(x)
	}
	return "{" + strings.Join(s, ", ") + "}"
}

func writeH5Text(w io.Writer, objs []h5Object) {
	for _, o := range objs {
		if o.Type == "group" {
			fmt.Fprintf(w, "%-40s Group\n", o.Path)
		} else {
			shape := "SCALAR"
			if o.Shape == nil {
				shape = "NULL"
			} else if len(o.Shape) > 0 {
				shape = dimsText(o.Shape)
			}
			fmt.Fprintf(w, "%-40s Dataset %s %s\n", o.Path, shape, o.Detail)
		}
		for _, a := range o.Attrs {
			b, _ := json.Marshal(a.Value)
			s := string(b)
			if len(s) > 200 {
				s = s[:200] + fmt.Sprintf("... (%d bytes)", len(b))
			}
			shape := "scalar"
			if a.Shape == nil {
				shape = "null"
			} else if len(a.Shape) > 0 {
				shape = dimsText(a.Shape)
			}
			fmt.Fprintf(w, "    Attribute: %s %s %s = %s\n", a.Name, a.Type, shape, s)
		}
		if o.Data != nil {
			b, _ := json.Marshal(o.Data)
			fmt.Fprintf(w, "    Data: %s\n", b)
		}
		for _, l := range o.Links {
			fmt.Fprintf(w, "    Link: %s\n", l)
		}
	}
}
