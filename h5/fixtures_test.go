package h5

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"testing"
)

// Fixtures in ../testdata/h5 are written by gen_fixtures.py with h5py
// (libhdf5); expected.json holds what h5py reads back from them.

type expectedObject struct {
	Path       string         `json:"path"`
	Type       string         `json:"type"`
	Attrs      map[string]any `json:"attrs"`
	AttrOrder  []string       `json:"attr_order"`
	Members    []string       `json:"members"`
	Shape      []int          `json:"shape"`
	Dtype      string         `json:"dtype"`
	Layout     string         `json:"layout"`
	Chunks     []int          `json:"chunks"`
	Filters    []int          `json:"filters"`
	ChunkIndex string         `json:"chunk_index"`
	Data       []any          `json:"data"`
	// DataNonzero lists the only nonzero values of big sparse datasets.
	DataNonzero map[string]float64 `json:"data_nonzero"`
}

type expectedFile struct {
	Objects []expectedObject `json:"objects"`
}

const fixtureDir = "../testdata/h5"

func loadExpected(t testing.TB) map[string]expectedFile {
	b, err := os.ReadFile(filepath.Join(fixtureDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Files map[string]expectedFile `json:"files"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Files
}

// jsonish converts reader values to what encoding/json gives for the
// generator's JSON: numbers as float64, NaN and infinities as strings.
func jsonish(v any) any {
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
	case nil:
		return nil
	case string:
		return v
	case float64:
		return num(v)
	case int64:
		return float64(v)
	case []string:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	case []float64:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = num(x)
		}
		return out
	case []float32:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = num(float64(x))
		}
		return out
	case []int64:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	panic(fmt.Sprintf("jsonish: %T", v))
}

func sameValue(got, want any) bool {
	if reflect.DeepEqual(got, want) {
		return true
	}
	// Empty lists: nil vs [].
	g, gok := got.([]any)
	w, wok := want.([]any)
	return gok && wok && len(g) == 0 && len(w) == 0
}

func datasetValues(d *Dataset) (any, error) {
	t, _ := d.dtype.scalar()
	switch {
	case t.IsString:
		return d.ReadStrings()
	case t.Class == ClassInteger:
		return d.ReadInt64()
	default:
		return d.ReadFloat64()
	}
}

func TestFixtures(t *testing.T) {
	files := loadExpected(t)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		exp := files[name]
		t.Run(name, func(t *testing.T) {
			f, err := Open(filepath.Join(fixtureDir, name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			root := f.Root()
			for _, o := range exp.Objects {
				checkObject(t, root, o)
			}
			// Both visit each object once, through its first path.
			if n, err := walkAll(f); err != nil {
				t.Errorf("walk: %v", err)
			} else if n != len(exp.Objects) {
				t.Errorf("walked %d objects, h5py lists %d", n, len(exp.Objects))
			}
		})
	}
}

func checkObject(t *testing.T, root *Group, o expectedObject) {
	t.Helper()
	var attrs []*Attribute
	var err error
	switch o.Type {
	case "group":
		g, gerr := root.Group(o.Path)
		if gerr != nil {
			t.Errorf("%s: %v", o.Path, gerr)
			return
		}
		if g.Path() != o.Path {
			t.Errorf("%s: Path() = %q", o.Path, g.Path())
		}
		members, merr := g.Members()
		if merr != nil {
			t.Errorf("%s: Members: %v", o.Path, merr)
		} else if !reflect.DeepEqual(members, o.Members) && !(len(members) == 0 && len(o.Members) == 0) {
			t.Errorf("%s: Members = %v, want %v", o.Path, members, o.Members)
		}
		attrs, err = g.Attrs()
	case "dataset":
		d, derr := root.Dataset(o.Path)
		if derr != nil {
			t.Errorf("%s: %v", o.Path, derr)
			return
		}
		checkDataset(t, d, o)
		attrs, err = d.Attrs()
	}
	if err != nil {
		t.Errorf("%s: Attrs: %v", o.Path, err)
		return
	}
	got := map[string]any{}
	var order []string
	for _, a := range attrs {
		v, err := a.Value()
		if err != nil {
			t.Errorf("%s: attribute %s: %v", o.Path, a.Name, err)
			continue
		}
		got[a.Name] = jsonish(v)
		order = append(order, a.Name)
	}
	// h5py lists attributes by name unless creation order is tracked;
	// when its order is not sorted, ours must match it.
	if !sort.StringsAreSorted(o.AttrOrder) && !reflect.DeepEqual(order, o.AttrOrder) {
		t.Errorf("%s: attribute order %v, want %v", o.Path, order, o.AttrOrder)
	}
	if len(got) != len(o.Attrs) {
		t.Errorf("%s: %d attributes %v, want %d %v", o.Path, len(got), order, len(o.Attrs), o.AttrOrder)
	}
	for name, want := range o.Attrs {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: attribute %s missing", o.Path, name)
			continue
		}
		if !sameValue(g, want) {
			t.Errorf("%s: attribute %s = %v, want %v", o.Path, name, short(g), short(want))
		}
	}
}

func short(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func checkDataset(t *testing.T, d *Dataset, o expectedObject) {
	t.Helper()
	if o.Shape != nil && !reflect.DeepEqual(d.Shape(), o.Shape) {
		t.Errorf("%s: Shape = %v, want %v", o.Path, d.Shape(), o.Shape)
	}
	if got := d.Type().NumpyName(); got != o.Dtype {
		t.Errorf("%s: dtype %s, want %s", o.Path, got, o.Dtype)
	}
	if d.Layout() != o.Layout {
		t.Errorf("%s: layout %s, want %s", o.Path, d.Layout(), o.Layout)
	}
	if !reflect.DeepEqual(d.Chunks(), o.Chunks) {
		t.Errorf("%s: chunks %v, want %v", o.Path, d.Chunks(), o.Chunks)
	}
	var ids []int
	for _, flt := range d.Filters() {
		ids = append(ids, int(flt.ID))
	}
	if !(len(ids) == 0 && len(o.Filters) == 0) && !reflect.DeepEqual(ids, o.Filters) {
		t.Errorf("%s: filters %v, want %v", o.Path, ids, o.Filters)
	}
	if o.ChunkIndex != "" && d.ChunkIndex() != o.ChunkIndex {
		t.Errorf("%s: chunk index %q, want %q", o.Path, d.ChunkIndex(), o.ChunkIndex)
	}
	v, err := datasetValues(d)
	if err != nil {
		t.Errorf("%s: read: %v", o.Path, err)
		return
	}
	got := jsonish(v)
	if o.DataNonzero != nil {
		for i, x := range got.([]any) {
			want, ok := o.DataNonzero[strconv.Itoa(i)]
			if !ok && x != 0.0 || ok && x != want {
				t.Errorf("%s: value %d = %v, want %v", o.Path, i, x, want)
				return
			}
		}
		return
	}
	if o.Data == nil {
		return
	}
	if !sameValue(got, o.Data) {
		g := got.([]any)
		if len(g) != len(o.Data) {
			t.Errorf("%s: %d values, want %d", o.Path, len(g), len(o.Data))
			return
		}
		for i := range g {
			if !reflect.DeepEqual(g[i], o.Data[i]) {
				t.Errorf("%s: value %d = %v, want %v", o.Path, i, g[i], o.Data[i])
				return
			}
		}
	}
	// ReadFloat32 agrees with ReadFloat64 for numeric data.
	if s, _ := d.dtype.scalar(); s.Class == ClassFloat || s.Class == ClassInteger {
		f32, err := d.ReadFloat32()
		if err != nil {
			t.Errorf("%s: ReadFloat32: %v", o.Path, err)
			return
		}
		f64, _ := d.ReadFloat64()
		for i := range f32 {
			if float64(f32[i]) != float64(float32(f64[i])) && !(math.IsNaN(float64(f32[i])) && math.IsNaN(f64[i])) {
				t.Errorf("%s: ReadFloat32[%d] = %v, ReadFloat64 = %v", o.Path, i, f32[i], f64[i])
				return
			}
		}
	}
}
