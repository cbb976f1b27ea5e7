// Package savedmodel reads Keras models saved by tf.keras as TensorFlow
// SavedModel directories (model.save("dir") in TF 2.x): the model config
// from keras_metadata.pb (or, before TF 2.5, from the Keras objects'
// metadata in saved_model.pb) and the variables from the TensorBundle
// checkpoint in variables/. The TensorFlow graph itself is not used.
//
// Spec: shared/docs/keras-formats.md §4 (§4.2 keras_metadata.pb, §4.3 the
// protos, §4.4 the TensorBundle/LevelDB table layout, §4.5 how variables
// are found by walking the checkpoint's object graph).
package savedmodel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/rnnkit/rnnkit/convert"
)

// Format is the convert.Model.Format of models read here.
const Format = "savedmodel"

// ReadDir reads the SavedModel directory at dirPath on the local disk.
func ReadDir(dirPath string, opt convert.ParseOptions) (*convert.Model, error) {
	if opt.File == "" {
		opt.File = dirPath
	}
	return Read(os.DirFS(filepath.Clean(dirPath)), ".", opt)
}

// Read reads the SavedModel directory dir of fsys ("." for its root):
// dir/keras_metadata.pb (or dir/saved_model.pb) and dir/variables/. Every
// layer gets its weights in Keras order (layer.weights), found by following
// the checkpoint's object graph from the layer's node path in the Keras
// metadata to its "variables" list; each variable's CRC32C is checked.
//
// Every error names the SavedModel directory (opt.File, else dir) and,
// for an error inside one of its files, that file under it
// ("models/sm/variables/variables.index").
func Read(fsys fs.FS, dir string, opt convert.ParseOptions) (*convert.Model, error) {
	file := opt.File
	if file == "" {
		file = dir
	}
	m, err := read(fsys, dir, file, opt)
	if err != nil {
		return nil, locate(err, file, dir)
	}
	return m, nil
}

// locate makes err name the SavedModel directory file: a *convert.Error
// about one of its files (named relative to fsys, under dir) gets the
// file's path under file; other errors are prefixed with file.
func locate(err error, file, dir string) error {
	var ce *convert.Error
	if errors.As(err, &ce) {
		switch {
		case ce.File == "":
			ce.File = file
		case ce.File == file || strings.HasPrefix(ce.File, file+"/") || strings.HasPrefix(ce.File, file+string(filepath.Separator)):
		default:
			rel := ce.File
			if dir != "." && dir != "" {
				rel = strings.TrimPrefix(strings.TrimPrefix(rel, dir), "/")
			}
			ce.File = filepath.Join(file, filepath.FromSlash(rel))
		}
		return err
	}
	if strings.Contains(err.Error(), file) {
		return err
	}
	return fmt.Errorf("savedmodel: %s: %w", file, err)
}

func read(fsys fs.FS, dir, file string, opt convert.ParseOptions) (*convert.Model, error) {
	nodes, err := readKerasNodes(fsys, dir, file)
	if err != nil {
		return nil, err
	}
	var root *kerasNode
	for _, n := range nodes {
		if n.path == "root" {
			root = n
		}
	}
	if root == nil {
		return nil, unsupportedErr(file, "", "not a Keras model: the SavedModel holds no Keras metadata (no keras_metadata.pb, and no Keras objects in saved_model.pb): "+
			"it is a TensorFlow graph (tf.saved_model.save, or Keras 3 model.export), whose architecture cannot be recovered; save the model with model.save to a .keras, .h5 or tf.keras SavedModel")
	}
	var info struct {
		KerasVersion string          `json:"keras_version"`
		Backend      string          `json:"backend"`
		ModelConfig  json.RawMessage `json:"model_config"`
	}
	if err := json.Unmarshal(root.metadata, &info); err != nil {
		e := convert.JSONDecodeError(file, "root: Keras metadata", root.metadata, err)
		e.Reader = "savedmodel"
		return nil, e
	}
	if len(info.ModelConfig) == 0 || string(info.ModelConfig) == "null" {
		return nil, unsupportedErr(file, "root", fmt.Sprintf("Keras object %s (%s) has no model_config: only models saved with model.save are readable", root.className, root.identifier))
	}
	popt := opt
	popt.File = file
	if popt.WriterVersion == "" {
		popt.WriterVersion = info.KerasVersion
	}
	graph, err := convert.ParseModelConfig(root.metadata, popt)
	if err != nil {
		return nil, err
	}
	b, err := openBundleAs(fsys, path.Join(dir, "variables", "variables"), filepath.Join(file, "variables", "variables"))
	if err != nil {
		if _, serr := fs.Stat(fsys, path.Join(dir, "variables")); errors.Is(serr, fs.ErrNotExist) {
			return nil, &convert.Error{File: file, Path: "variables", Kind: convert.ErrWeights,
				Msg: "the variables/ folder is missing: a SavedModel keeps its weights there (variables.index and variables.data-*); copy the whole SavedModel directory", Err: fs.ErrNotExist}
		}
		return nil, err
	}
	defer b.Close()
	strs, err := b.ReadStrings(objectGraphKey)
	if err != nil {
		return nil, err
	}
	if len(strs) != 1 {
		return nil, formatErr(b.index, objectGraphKey, -1, "object graph tensor has %d elements, want 1", len(strs))
	}
	og, err := parseTrackableGraph(strs[0], b.index)
	if err != nil {
		return nil, err
	}
	a := newAssigner(file, nodes, og, b)
	a.fsys, a.dir = fsys, dir
	groups, err := a.layerGroups(graph)
	if err != nil {
		return nil, err
	}
	if err := convert.AssignModelWeights(graph, groups, file); err != nil {
		return nil, err
	}
	kv := info.KerasVersion
	if opt.KerasVersion != "" {
		kv = opt.KerasVersion
	}
	return &convert.Model{File: file, Format: Format, KerasVersion: kv, Backend: info.Backend, Graph: graph}, nil
}

// readKerasNodes reads keras_metadata.pb, falling back to saved_model.pb
// for SavedModels written before TF 2.5.
func readKerasNodes(fsys fs.FS, dir, file string) ([]*kerasNode, error) {
	metaName := path.Join(dir, "keras_metadata.pb")
	data, err := fs.ReadFile(fsys, metaName)
	if err == nil {
		nodes, err := parseKerasMetadata(data, path.Join(file, "keras_metadata.pb"))
		if err != nil && crlfMangled(data, func(b []byte) error {
			_, err := parseKerasMetadata(b, "")
			return err
		}) {
			return nil, formatErr(path.Join(file, "keras_metadata.pb"), "", -1,
				"damaged by a line-ending conversion (every \\n became \\r\\n, as git or an FTP client in text mode does): "+
					"get the file again in binary mode (for git, mark *.pb binary in .gitattributes)")
		}
		return nodes, err
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("savedmodel: %s: %w", file, err)
	}
	data, err = fs.ReadFile(fsys, path.Join(dir, "saved_model.pb"))
	if err != nil {
		return nil, fmt.Errorf("savedmodel: %s: neither keras_metadata.pb nor saved_model.pb readable: %w", file, err)
	}
	return parseSavedModelKeras(data, path.Join(file, "saved_model.pb"))
}

// crlfMangled reports whether data, which parse rejects, parses once every
// "\r\n" is turned back into "\n": a binary file that a text-mode
// transfer rewrote.
func crlfMangled(data []byte, parse func([]byte) error) bool {
	if !bytes.Contains(data, []byte("\r\n")) {
		return false
	}
	return parse(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))) == nil
}

// assigner gives each layer of a parsed graph its variables.
type assigner struct {
	file   string
	graph  *objectGraph
	bundle *Bundle
	// layers maps a model path and a layer name to the layer's Keras object.
	layers map[[2]string]*kerasNode
	// fsys and dir locate the SavedModel, for its assets/ folder.
	fsys fs.FS
	dir  string
}

func newAssigner(file string, nodes []*kerasNode, og *objectGraph, b *Bundle) *assigner {
	a := &assigner{file: file, graph: og, bundle: b, layers: map[[2]string]*kerasNode{}}
	for _, n := range nodes {
		key := [2]string{n.parent(), n.name}
		if n.identifier == "_tf_keras_metric" || a.layers[key] != nil {
			continue
		}
		a.layers[key] = n
	}
	return a
}

// findLayer returns the Keras object for the layer named name directly
// under the model at modelPath.
func (a *assigner) findLayer(modelPath, name string) *kerasNode {
	return a.layers[[2]string{modelPath, name}]
}

// layerGroups lists, for each top-level layer of g, the variables of its
// object in Keras order; convert.AssignModelWeights then hands them to the
// innermost layers that own them (Bidirectional halves, RNN cells, nested
// models' sublayers) and converts and checks them as for legacy HDF5.
func (a *assigner) layerGroups(g *convert.Graph) ([]convert.LayerWeights, error) {
	var groups []convert.LayerWeights
	for _, l := range g.Layers {
		if l.ClassName == "InputLayer" {
			continue
		}
		kn := a.findLayer("root", l.Name)
		if kn == nil {
			return nil, formatErr(a.file, "root", -1, "no Keras object for layer %q (%s) in the SavedModel metadata", l.Name, l.ClassName)
		}
		id, ok := a.graph.follow(0, kn.edges())
		if !ok {
			return nil, formatErr(a.bundle.index, kn.path, -1, "layer %q: path not found in the checkpoint object graph", l.Name)
		}
		if isLookup(l) {
			v, err := a.lookupVocabulary(id, kn.path)
			if err != nil {
				return nil, fmt.Errorf("layer %q: %w", l.Name, err)
			}
			if v == nil && a.fsys != nil {
				if v, err = assetVocabulary(a.fsys, a.dir, l); err != nil {
					return nil, err
				}
			}
			l.Vocabulary = v
			if _, ok := a.graph.child(id, "variables"); !ok {
				continue
			}
		}
		ws, err := a.layerVariables(id, kn.path)
		if err != nil {
			return nil, fmt.Errorf("layer %q: %w", l.Name, err)
		}
		groups = append(groups, convert.LayerWeights{Layer: l.Name, Weights: ws})
	}
	return groups, nil
}

// layerVariables reads the variables listed under node id's "variables"
// edge: the layer's weights in Keras order (layer.weights), which the
// SavedModel writer records as children "0", "1", ….
func (a *assigner) layerVariables(id int, where string) ([]convert.Weight, error) {
	list, ok := a.graph.child(id, "variables")
	if !ok {
		return nil, formatErr(a.bundle.index, where, -1, "object has no variables list")
	}
	type item struct {
		idx  int
		node int
	}
	var items []item
	for _, c := range a.graph.nodes[list].children {
		i, err := strconv.Atoi(c.name)
		if err != nil || i < 0 {
			return nil, formatErr(a.bundle.index, where+".variables", -1, "unexpected entry %q in a variables list", c.name)
		}
		items = append(items, item{i, c.node})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].idx < items[j].idx })
	ws := make([]convert.Weight, 0, len(items))
	for k, it := range items {
		if it.idx != k {
			return nil, formatErr(a.bundle.index, where+".variables", -1, "variables list has no entry %d", k)
		}
		attr, ok := a.graph.variableKey(it.node)
		if !ok {
			return nil, formatErr(a.bundle.index, where+".variables."+strconv.Itoa(k), -1, "object holds no VARIABLE_VALUE")
		}
		shape, data, err := a.bundle.ReadFloat32(attr.checkpointKey)
		if err != nil {
			return nil, err
		}
		name := attr.fullName
		if name == "" {
			name = attr.checkpointKey
		}
		ws = append(ws, convert.Weight{Name: name, Shape: shape, Data: data})
	}
	return ws, nil
}
