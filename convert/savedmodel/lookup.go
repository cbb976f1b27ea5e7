package savedmodel

import (
	"encoding/binary"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/rnnkit/rnnkit/convert"
)

// lookupVocabulary reads the vocabulary of a tf.keras lookup layer
// (TextVectorization, StringLookup, IntegerLookup) whose object is node id
// of the checkpoint graph: tf.keras 2.x keeps its hash table in the
// checkpoint as two tensors, <table>-keys and <table>-values (the ids).
// It returns the keys in id order, or nil when the layer's objects hold
// no table.
func (a *assigner) lookupVocabulary(id int, where string) ([]string, error) {
	key, ok := a.findTable(id, 0)
	if !ok {
		return nil, nil
	}
	keys, err := a.bundle.ReadStrings(key + "-keys")
	if err != nil {
		return nil, err
	}
	e, ok := a.bundle.Entry(key + "-values")
	if !ok {
		return nil, formatErr(a.bundle.index, where, -1, "lookup table %s has keys but no values", key)
	}
	if e.DType.String() != "int64" {
		return nil, formatErr(a.bundle.index, where, -1, "lookup table %s holds %s values, want int64 ids (a table from ids to strings is an inverted lookup, not read)", key, e.DType)
	}
	raw, err := a.bundle.ReadRaw(key + "-values")
	if err != nil {
		return nil, err
	}
	if len(raw) != 8*len(keys) {
		return nil, formatErr(a.bundle.index, where, -1, "lookup table %s: %d keys but %d bytes of int64 values", key, len(keys), len(raw))
	}
	type entry struct {
		id  int64
		tok string
	}
	es := make([]entry, len(keys))
	for i, k := range keys {
		es[i] = entry{int64(binary.LittleEndian.Uint64(raw[8*i:])), string(k)}
	}
	sort.Slice(es, func(i, j int) bool { return es[i].id < es[j].id })
	vocab := make([]string, len(es))
	for i, e := range es {
		if e.id != int64(i) {
			return nil, formatErr(a.bundle.index, where, -1, "lookup table %s: ids are not 0..%d (id %d holds %q)", key, len(es)-1, e.id, e.tok)
		}
		vocab[i] = e.tok
	}
	return vocab, nil
}

// findTable looks for a lookup table's checkpoint attribute ("table")
// among node id and its children, a few levels down (the layer's
// _index_lookup_layer or _lookup_layer holds _table).
func (a *assigner) findTable(id, depth int) (string, bool) {
	if depth > 4 {
		return "", false
	}
	for _, at := range a.graph.nodes[id].attrs {
		if at.name == "table" {
			return at.checkpointKey, true
		}
	}
	for _, c := range a.graph.nodes[id].children {
		if c.name == "variables" || c.name == "trainable_variables" || c.name == "non_trainable_variables" || c.name == "keras_api" {
			continue
		}
		if k, ok := a.findTable(c.node, depth+1); ok {
			return k, true
		}
	}
	return "", false
}

// assetVocabulary reads a SavedModel's assets/ folder for a lookup layer
// that has no table in the checkpoint: when its config's vocabulary is a
// file path, tf.keras builds the table from that file and copies it into
// assets/. The file is found by the path's base name; else, with a single
// file in assets/, that file; else a file whose name holds "vocab" and the
// layer's name; no guess is made otherwise (nil). It is read as
// TensorFlow's TextFileInitializer reads it: one token a line, split on
// "\n", a final newline ending the last line.
func assetVocabulary(fsys fs.FS, dir string, l *convert.Layer) ([]string, error) {
	ents, err := fs.ReadDir(fsys, path.Join(dir, "assets"))
	if err != nil {
		return nil, nil
	}
	var files []string
	for _, e := range ents {
		if !e.IsDir() {
			files = append(files, e.Name())
		}
	}
	pick := ""
	if p, ok := l.Config["vocabulary"].(string); ok {
		base := p[strings.LastIndexAny(p, "/\\")+1:]
		for _, f := range files {
			if f == base {
				pick = f
			}
		}
	}
	if pick == "" && len(files) == 1 {
		pick = files[0]
	}
	if pick == "" {
		for _, f := range files {
			if strings.Contains(f, l.Name) && strings.Contains(strings.ToLower(f), "vocab") {
				pick = f
			}
		}
	}
	if pick == "" {
		return nil, nil
	}
	b, err := fs.ReadFile(fsys, path.Join(dir, "assets", pick))
	if err != nil {
		return nil, fmt.Errorf("savedmodel: assets/%s: %w", pick, err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return []string{}, nil
	}
	return strings.Split(s, "\n"), nil
}

// isLookup reports layers whose state is a vocabulary rather than
// variables.
func isLookup(l *convert.Layer) bool { return convert.IsLookupClass(l.ClassName) }
