package convert

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/rnnkit/rnnkit/h5"
)

// maxZipMember bounds a deflated .keras member read into memory.
const maxZipMember = 4 << 30

func firstOpt(opts []ParseOptions) ParseOptions {
	if len(opts) > 0 {
		return opts[0]
	}
	return ParseOptions{}
}

// attrGetter is an HDF5 group or dataset.
type attrGetter interface {
	Attr(name string) (*h5.Attribute, error)
}

// stringAttr reads a string attribute, "" when it is absent.
func stringAttr(o attrGetter, name string) (string, error) {
	a, err := o.Attr(name)
	if errors.Is(err, h5.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return a.String()
}

// stringListAttr reads a Keras list attribute (layer_names, weight_names):
// strings, an empty float64 array for an empty list, or split over
// name0, name1, ... when it exceeded the object header limit (Keras ≥ 2.1.5).
func stringListAttr(o attrGetter, name string) ([]string, bool, error) {
	a, err := o.Attr(name)
	if errors.Is(err, h5.ErrNotFound) {
		var out []string
		found := false
		for i := 0; ; i++ {
			a, err := o.Attr(name + strconv.Itoa(i))
			if errors.Is(err, h5.ErrNotFound) {
				return out, found, nil
			}
			if err != nil {
				return nil, false, err
			}
			found = true
			s, err := attrStrings(a)
			if err != nil {
				return nil, false, err
			}
			out = append(out, s...)
		}
	}
	if err != nil {
		return nil, false, err
	}
	s, err := attrStrings(a)
	return s, true, err
}

func attrStrings(a *h5.Attribute) ([]string, error) {
	if a.IsNull() || a.Len() == 0 {
		return nil, nil
	}
	return a.Strings()
}

// readDataset reads one weight as float32.
func readDataset(g *h5.Group, path, name string) (Weight, error) {
	d, err := g.Dataset(path)
	if err != nil {
		return Weight{}, err
	}
	data, err := d.ReadFloat32()
	if err != nil {
		return Weight{}, err
	}
	shape := append([]int{}, d.Shape()...)
	if n := shapeSize(shape); n != len(data) {
		return Weight{}, fmt.Errorf("dataset %s: shape %v holds %d values, read %d: %w", d.Path(), shape, n, len(data), ErrFormat)
	}
	return Weight{Name: name, Shape: shape, Data: data}, nil
}

// ReadHDF5Model reads a legacy Keras HDF5 full model (model.save('x.h5')
// by Keras 1, 2, tf.keras or Keras 3's legacy writer): the model_config
// root attribute and the weights under /model_weights. The first opts, if
// given, may override the Keras version whose semantics apply.
func ReadHDF5Model(f *h5.File, opts ...ParseOptions) (*Model, error) {
	opt := firstOpt(opts)
	if opt.File == "" {
		opt.File = f.Name()
	}
	root := f.Root()
	cfg, err := stringAttr(root, "model_config")
	if err != nil {
		return nil, &Error{File: f.Name(), Path: "/ attribute model_config", Kind: ErrFormat, Msg: "reading the model config", Err: err}
	}
	if cfg == "" {
		if _, ok, _ := stringListAttr(root, "layer_names"); ok {
			return nil, &Error{File: f.Name(), Kind: ErrFormat, Msg: "weights-only HDF5 file (no model_config): load it with the architecture JSON"}
		}
		return nil, &Error{File: f.Name(), Kind: ErrFormat, Msg: "not a Keras HDF5 model: no model_config attribute"}
	}
	m := &Model{File: f.Name(), Format: "keras-h5"}
	m.KerasVersion, _ = stringAttr(root, "keras_version")
	m.Backend, _ = stringAttr(root, "backend")
	wg, err := root.Group("model_weights")
	if err != nil {
		return nil, &Error{File: f.Name(), Path: "/model_weights", Kind: ErrFormat, Msg: "model has no weights group", Err: err}
	}
	if m.KerasVersion == "" {
		m.KerasVersion, _ = stringAttr(wg, "keras_version")
	}
	if m.Backend == "" {
		m.Backend, _ = stringAttr(wg, "backend")
	}
	opt.WriterVersion = m.KerasVersion
	g, ver, err := parseModelConfig([]byte(cfg), opt)
	if err != nil {
		return nil, err
	}
	m.Graph = g
	m.KerasVersion = effectiveVersion(opt, ver)
	if err := readLegacyWeights(f.Name(), wg, g); err != nil {
		return nil, err
	}
	if m.Backend == "theano" {
		flipConvKernels(g)
	}
	return m, nil
}

// flipConvKernels reverses the spatial axis of Conv1D kernels written by
// the Theano backend, which convolves where TensorFlow and Keras 3
// correlate; multi-backend Keras did the same when loading such files
// (conv_utils.convert_kernel).
func flipConvKernels(g *Graph) {
	var visit func(l *Layer)
	visit = func(l *Layer) {
		if l.Inner != nil {
			flipConvKernels(l.Inner)
			return
		}
		for _, s := range subLayers(l) {
			visit(s)
		}
		if l.ClassName != "Conv1D" || len(l.Weights) == 0 || len(l.Weights[0].Shape) != 3 {
			return
		}
		k := l.Weights[0]
		row := k.Shape[1] * k.Shape[2]
		out := make([]float32, len(k.Data))
		for a := 0; a < k.Shape[0]; a++ {
			b := k.Shape[0] - 1 - a
			copy(out[a*row:(a+1)*row], k.Data[b*row:(b+1)*row])
		}
		l.Weights[0].Data = out
	}
	for _, l := range g.Layers {
		visit(l)
	}
}

// effectiveVersion is the version reported in Model.KerasVersion: the
// override, else the recorded or guessed one.
func effectiveVersion(opt ParseOptions, v version) string {
	if opt.KerasVersion != "" {
		return opt.KerasVersion
	}
	return v.raw
}

// readLegacyWeights reads a legacy weights group (/model_weights, or the
// root of a weights-only file) and assigns it to g.
func readLegacyWeights(file string, wg *h5.Group, g *Graph) error {
	names, ok, err := stringListAttr(wg, "layer_names")
	if err != nil || !ok {
		if err == nil {
			err = errors.New("attribute layer_names absent")
		}
		return &Error{File: file, Path: wg.Path(), Kind: ErrFormat, Msg: "reading layer_names", Err: err}
	}
	var groups []LayerWeights
	for _, n := range names {
		lg, err := wg.Group(n)
		if err != nil {
			return &Error{File: file, Path: wg.Path(), Kind: ErrFormat, Msg: fmt.Sprintf("layer group %q listed in layer_names", n), Err: err}
		}
		wnames, _, err := stringListAttr(lg, "weight_names")
		if err != nil {
			return &Error{File: file, Path: lg.Path(), Kind: ErrFormat, Msg: "reading weight_names", Err: err}
		}
		lw := LayerWeights{Layer: n}
		for _, wn := range wnames {
			w, err := readDataset(lg, wn, wn)
			if err != nil {
				return &Error{File: file, Path: lg.Path(), Kind: ErrFormat, Msg: fmt.Sprintf("weight %q", wn), Err: err}
			}
			lw.Weights = append(lw.Weights, w)
		}
		groups = append(groups, lw)
	}
	return AssignModelWeights(g, groups, file)
}

// ReadKerasZip reads a Keras 3 .keras archive (also tf.keras 2.12-2.15):
// config.json, metadata.json's keras_version and model.weights.h5. Every
// member read is checked against the CRC-32 its central header records
// (a mismatch matches ErrIntegrity and ErrFormat); stored members are
// then read in place, deflated ones inflated into memory. Zip errors name
// the structure (end of central directory, central header N, local
// header or data of member M) and its offset.
func ReadKerasZip(r io.ReaderAt, size int64, name string, opts ...ParseOptions) (*Model, error) {
	opt := firstOpt(opts)
	if opt.File == "" {
		opt.File = name
	}
	zr, err := openZip(r, size, name)
	if err != nil {
		return nil, err
	}
	cfgFile := zr.byName["config.json"]
	if cfgFile == nil {
		return nil, &Error{File: name, Kind: ErrFormat, Msg: fmt.Sprintf("no config.json in the archive (%s)", memberList(zr))}
	}
	cfgLimit := uint64(opt.Limits.resolved().ConfigBytes)
	cfg, err := zr.readAll(cfgFile, cfgLimit, " (Limits.ConfigBytes)")
	if err != nil {
		return nil, err
	}
	m := &Model{File: name, Format: "keras-zip"}
	if mf := zr.byName["metadata.json"]; mf != nil {
		b, err := zr.readAll(mf, 1<<20, " bytes")
		if err != nil {
			return nil, err
		}
		var meta struct {
			KerasVersion string `json:"keras_version"`
		}
		if err := json.Unmarshal(b, &meta); err != nil {
			return nil, JSONDecodeError(name, "metadata.json", b, err)
		}
		m.KerasVersion = meta.KerasVersion
	}
	opt.WriterVersion = m.KerasVersion
	opt.File = name + ": config.json"
	g, ver, err := parseModelConfig(cfg, opt)
	if err != nil {
		return nil, err
	}
	m.Graph = g
	m.KerasVersion = effectiveVersion(opt, ver)
	wf := zr.byName["model.weights.h5"]
	if wf == nil {
		if zr.byName["model.weights.npz"] != nil {
			return nil, &Error{File: name, Path: "model.weights.npz", Kind: ErrUnsupported, Msg: "npz weights"}
		}
		for _, f := range zr.members {
			if strings.HasSuffix(f.name, ".weights.json") {
				return nil, &Error{File: name, Path: f.name, Kind: ErrUnsupported, Msg: "sharded weights"}
			}
		}
		return nil, &Error{File: name, Kind: ErrFormat, Msg: fmt.Sprintf("no model.weights.h5 in the archive (%s)", memberList(zr))}
	}
	wlimit, field := uint64(maxZipMember), " bytes"
	if wf.method != zipMethodStore {
		wlimit, field = inflateLimit(opt.Limits, size), " (Limits.Inflated)"
	}
	wr, wsize, err := zr.openNamed(wf, wlimit, field)
	if err != nil {
		return nil, err
	}
	hf, err := h5.OpenReaderAt(wr, wsize, name+"/model.weights.h5")
	if err != nil {
		return nil, &Error{File: name, Path: "model.weights.h5", Kind: ErrFormat, Msg: "opening", Err: err}
	}
	defer hf.Close()
	if err := readKeras3Weights(hf.Name(), hf.Root(), g); err != nil {
		return nil, err
	}
	if err := readZipAssets(zr, g, name); err != nil {
		return nil, err
	}
	return m, nil
}

// inflateLimit is the bound on a deflated member of an archive of size
// bytes: Limits.Inflated, by default 4 × size + 256 MiB.
func inflateLimit(l Limits, size int64) uint64 {
	switch {
	case l.Inflated < 0:
		return maxZipMember
	case l.Inflated > 0:
		return uint64(l.Inflated)
	}
	return min(uint64(maxZipMember), 4*uint64(max(size, 0))+256<<20)
}

// memberList names an archive's first members, for errors.
func memberList(a *zipArchive) string {
	if len(a.members) == 0 {
		return "it is empty"
	}
	var b strings.Builder
	b.WriteString("members: ")
	for i, m := range a.members {
		if i == 8 {
			fmt.Fprintf(&b, " and %d more", len(a.members)-8)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", clipString(m.name, 64))
	}
	return b.String()
}

// ReadConfigAndWeights reads an architecture JSON (model.to_json()) with a
// weights file: a Keras 3 .weights.h5 or a legacy weights-only HDF5
// (save_weights, layer_names at the root), told apart by content. A
// legacy full-model file given as weights is accepted too.
func ReadConfigAndWeights(configJSON []byte, weights *h5.File, opts ...ParseOptions) (*Model, error) {
	opt := firstOpt(opts)
	root := weights.Root()
	m := &Model{File: weights.Name(), Format: "json+weights"}
	if opt.File == "" {
		opt.File = weights.Name()
	}
	var legacy *h5.Group
	if _, ok, _ := stringListAttr(root, "layer_names"); ok {
		legacy = root
	} else if wg, err := root.Group("model_weights"); err == nil {
		legacy = wg
	}
	if legacy != nil {
		m.KerasVersion, _ = stringAttr(legacy, "keras_version")
		m.Backend, _ = stringAttr(legacy, "backend")
		if m.KerasVersion == "" && legacy != root {
			m.KerasVersion, _ = stringAttr(root, "keras_version")
		}
	}
	opt.WriterVersion = m.KerasVersion
	g, ver, err := parseModelConfig(configJSON, opt)
	if err != nil {
		return nil, err
	}
	m.Graph = g
	m.KerasVersion = effectiveVersion(opt, ver)
	if legacy != nil {
		err = readLegacyWeights(weights.Name(), legacy, g)
		if err == nil && m.Backend == "theano" {
			flipConvKernels(g)
		}
	} else {
		err = readKeras3Weights(weights.Name(), root, g)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// readKeras3Weights assigns a Keras 3 weights tree (.weights.h5,
// model.weights.h5 in a .keras) to g. Paths derive from class names and
// positions (keras-formats §2.2): layers/<snake_case(class)>[_k]/...
func readKeras3Weights(file string, root *h5.Group, g *Graph) error {
	r := &k3reader{file: file}
	if err := r.graph(g, root); err != nil {
		return err
	}
	return checkAllAssigned(g, file)
}

type k3reader struct{ file string }

func (r *k3reader) errf(path string, err error, format string, args ...any) error {
	return &Error{File: r.file, Path: path, Kind: ErrWeights, Msg: fmt.Sprintf(format, args...), Err: err}
}

// sub returns the child group name of g, or nil when g is nil or the
// child is absent (Keras writes no group for objects without variables in
// recent versions).
func (r *k3reader) sub(g *h5.Group, names ...string) (*h5.Group, error) {
	if g == nil {
		return nil, nil
	}
	for _, n := range names {
		c, err := g.Group(n)
		if errors.Is(err, h5.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, r.errf(g.Path()+"/"+n, err, "opening group")
		}
		return c, nil
	}
	return nil, nil
}

// graph reads the layers of a model from grp's "layers" group.
func (r *k3reader) graph(g *Graph, grp *h5.Group) error {
	lg, err := r.sub(grp, "layers", "_layer_checkpoint_dependencies")
	if err != nil {
		return err
	}
	used := map[string]int{}
	for _, l := range g.Layers {
		if isOpLayer(l) || (g.ClassName == "Sequential" && l.ClassName == "InputLayer") {
			continue
		}
		name := snakeCase(l.OriginalClassName())
		if l.Inner != nil {
			name = snakeCase(l.Inner.ClassName)
		}
		name = uniqueName(used, name)
		sg, err := r.sub(lg, name)
		if err != nil {
			return err
		}
		if err := r.layer(l, sg, pathOf(lg, name)); err != nil {
			return err
		}
	}
	return nil
}

func pathOf(g *h5.Group, name string) string {
	if g == nil {
		return name
	}
	return strings.TrimSuffix(g.Path(), "/") + "/" + name
}

// isOpLayer reports Keras 3 operation nodes (NotEqual...), which are not
// layers and own no weights group.
func isOpLayer(l *Layer) bool {
	return strings.HasPrefix(l.Module, "keras.src.ops") || strings.HasPrefix(l.Module, "keras.ops")
}

// layer reads one layer's weights from its group (nil when absent).
func (r *k3reader) layer(l *Layer, grp *h5.Group, path string) error {
	if l.Inner != nil {
		return r.graph(l.Inner, grp)
	}
	var ws []Weight
	switch l.ClassName {
	case "Bidirectional", "TimeDistributed":
		for _, k := range [][2]string{{"layer", "forward_layer"}, {"backward_layer", "backward_layer"}} {
			sub, ok := l.Config[k[0]].(*Layer)
			if !ok {
				continue
			}
			child := k[1]
			if l.ClassName == "TimeDistributed" {
				child = "layer"
			}
			sg, err := r.sub(grp, child)
			if err != nil {
				return err
			}
			if err := r.layer(sub, sg, path+"/"+child); err != nil {
				return err
			}
		}
		return nil
	case "RNN":
		cell, _ := l.Config["cell"].(*Layer)
		if cell == nil {
			return r.errf(path, nil, "RNN layer %q without a cell", l.Name)
		}
		sg, err := r.sub(grp, "cell")
		if err != nil {
			return err
		}
		return r.layer(cell, sg, path+"/cell")
	case "StackedRNNCells":
		cg, err := r.sub(grp, "cells")
		if err != nil {
			return err
		}
		used := map[string]int{}
		for _, c := range subLayers(l) {
			name := snakeCase(c.OriginalClassName())
			name = uniqueName(used, name)
			sg, err := r.sub(cg, name)
			if err != nil {
				return err
			}
			if err := r.layer(c, sg, path+"/cells/"+name); err != nil {
				return err
			}
		}
		return nil
	case "SimpleRNN", "LSTM", "GRU":
		cg, err := r.sub(grp, "cell")
		if err != nil {
			return err
		}
		if ws, err = r.vars(cg, path+"/cell"); err != nil {
			return err
		}
	case "MultiHeadAttention":
		for _, n := range []string{"query_dense", "key_dense", "value_dense", "output_dense"} {
			sg, err := r.sub(grp, n, "_"+n)
			if err != nil {
				return err
			}
			v, err := r.vars(sg, path+"/"+n)
			if err != nil {
				return err
			}
			ws = append(ws, v...)
		}
	case "TextVectorization", "StringLookup", "IntegerLookup":
		// save_own_variables stores tf_idf weights by name, not number.
		vg, err := r.sub(grp, "vars")
		if err != nil {
			return err
		}
		if vg != nil {
			w, err := readDataset(vg, "idf_weights", path+"/vars/idf_weights")
			if err != nil && !errors.Is(err, h5.ErrNotFound) {
				return r.errf(path, err, "layer %q: idf_weights", l.Name)
			}
			if err == nil {
				ws = []Weight{w}
			}
		}
	default:
		var err error
		if ws, err = r.walk(grp, path, 0); err != nil {
			return err
		}
	}
	if len(ws) == 0 && !ownsWeights(l) {
		return nil
	}
	if len(ws) == 0 && l.SavedUnbuilt {
		return r.errf(path, nil, "no weights: the model was saved before it was built (layer %q has no build_config and no variables); "+
			"build it in Keras (call it on data or model.build(input_shape)) before saving", l.Name)
	}
	std, err := standardize(l, ws)
	if err != nil {
		return r.errf(path, err, "layer %q", l.Name)
	}
	if err := checkShapes(l, std); err != nil {
		return r.errf(path, err, "layer %q", l.Name)
	}
	l.Weights = std
	return nil
}

// walk collects an object's variables in Keras' save order: its own
// vars, then child objects in sorted attribute order with "_"-prefixed
// names last.
func (r *k3reader) walk(grp *h5.Group, path string, depth int) ([]Weight, error) {
	if grp == nil {
		return nil, nil
	}
	if depth > 16 {
		return nil, r.errf(path, nil, "object tree nested too deeply")
	}
	vg, err := r.sub(grp, "vars")
	if err != nil {
		return nil, err
	}
	ws, err := r.vars(vg, path+"/vars")
	if err != nil {
		return nil, err
	}
	members, err := grp.Members()
	if err != nil {
		return nil, r.errf(path, err, "listing members")
	}
	var children []string
	for _, m := range members {
		if m == "vars" {
			continue
		}
		if k, err := grp.Kind(m); err == nil && k == h5.KindGroup {
			children = append(children, m)
		}
	}
	sort.Slice(children, func(i, j int) bool {
		a, b := children[i], children[j]
		if (a == "layers") != (b == "layers") {
			return a == "layers"
		}
		pa, pb := strings.HasPrefix(a, "_"), strings.HasPrefix(b, "_")
		if pa != pb {
			return !pa
		}
		return a < b
	})
	for _, c := range children {
		sg, err := r.sub(grp, c)
		if err != nil {
			return nil, err
		}
		sub, err := r.walk(sg, path+"/"+c, depth+1)
		if err != nil {
			return nil, err
		}
		ws = append(ws, sub...)
	}
	return ws, nil
}

// vars reads the datasets "0", "1", ... of a vars group in numeric order.
func (r *k3reader) vars(vg *h5.Group, path string) ([]Weight, error) {
	if vg == nil {
		return nil, nil
	}
	if !strings.HasSuffix(path, "/vars") {
		sub, err := r.sub(vg, "vars")
		if err != nil {
			return nil, err
		}
		vg, path = sub, path+"/vars"
		if vg == nil {
			return nil, nil
		}
	}
	members, err := vg.Members()
	if err != nil {
		return nil, r.errf(path, err, "listing variables")
	}
	idx := make([]int, 0, len(members))
	for _, m := range members {
		i, err := strconv.Atoi(m)
		if err != nil || i < 0 || i >= len(members) {
			return nil, r.errf(path, nil, "variable %q: want names 0..%d", m, len(members)-1)
		}
		idx = append(idx, i)
	}
	sort.Ints(idx)
	ws := make([]Weight, 0, len(idx))
	for k, i := range idx {
		if i != k {
			return nil, r.errf(path, nil, "variables are not numbered 0..%d", len(members)-1)
		}
		w, err := readDataset(vg, strconv.Itoa(i), path+"/"+strconv.Itoa(i))
		if err != nil {
			return nil, r.errf(path, err, "variable %d", i)
		}
		ws = append(ws, w)
	}
	return ws, nil
}

var (
	snakeNonWord = regexp.MustCompile(`\W+`)
	snakeCap     = regexp.MustCompile(`(.)([A-Z][a-z]+)`)
	snakeLower   = regexp.MustCompile(`([a-z])([A-Z])`)
)

// uniqueName is Keras 3's auto-naming of objects in one container: the
// first use of name keeps it, later ones get "_1", "_2", … (used counts).
func uniqueName(used map[string]int, name string) string {
	if n, ok := used[name]; ok {
		used[name] = n + 1
		return fmt.Sprintf("%s_%d", name, n+1)
	}
	used[name] = 0
	return name
}

// snakeCase is Keras' to_snake_case: LSTM→lstm, SimpleRNN→simple_rnn,
// Conv1D→conv1d, MultiHeadAttention→multi_head_attention.
func snakeCase(s string) string {
	s = snakeNonWord.ReplaceAllString(s, "")
	s = snakeCap.ReplaceAllString(s, "${1}_${2}")
	return strings.ToLower(snakeLower.ReplaceAllString(s, "${1}_${2}"))
}

// SnakeCase is Keras 3's to_snake_case, which names a layer's group in a
// .weights.h5 file after its class (LSTM→lstm, Conv1D→conv1d).
func SnakeCase(class string) string { return snakeCase(class) }

// IsOpLayer reports a Keras 3 operation node (NotEqual...): not a layer,
// with no group in a .weights.h5 file.
func IsOpLayer(l *Layer) bool { return isOpLayer(l) }
