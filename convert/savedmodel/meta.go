package savedmodel

import (
	"github.com/rnnkit/rnnkit/convert"

	"encoding/json"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// kerasNode is one Keras object of a SavedModel: a layer, model or metric
// with its object-graph path and its metadata JSON (keras-formats.md §4.2).
type kerasNode struct {
	path       string // "root", "root.layer_with_weights-0", "root.layer_with_weights-0.cell"
	identifier string // "_tf_keras_layer", "_tf_keras_sequential", ...
	metadata   []byte
	// name and className are read from metadata.
	name, className string
}

// parent is the path of the object holding n ("root" for a top-level layer).
func (n *kerasNode) parent() string {
	if i := strings.LastIndexByte(n.path, '.'); i >= 0 {
		return n.path[:i]
	}
	return ""
}

// edges returns the object-graph edge names from the root to n.
func (n *kerasNode) edges() []string {
	parts := strings.Split(n.path, ".")
	return parts[1:]
}

// parseKerasMetadata decodes keras_metadata.pb (SavedMetadata).
func parseKerasMetadata(b []byte, file string) ([]*kerasNode, error) {
	var nodes []*kerasNode
	err := walkProto(b, file, "SavedMetadata", 0, func(f pbField) error {
		if f.num != savedMetadataNodes || f.typ != protowire.BytesType {
			return nil
		}
		n := &kerasNode{}
		if err := walkProto(f.b, file, "SavedMetadata.nodes", int64(f.off), func(g pbField) error {
			if g.typ != protowire.BytesType {
				return nil
			}
			switch g.num {
			case metaNodePath:
				n.path = string(g.b)
			case metaIdentifier:
				n.identifier = string(g.b)
			case metaMetadata:
				n.metadata = g.b
			}
			return nil
		}); err != nil {
			return err
		}
		if err := n.decode(file); err != nil {
			return err
		}
		nodes = append(nodes, n)
		return nil
	})
	return nodes, err
}

func (n *kerasNode) decode(file string) error {
	if n.path != "root" && !strings.HasPrefix(n.path, "root.") {
		return formatErr(file, n.path, -1, "Keras object path does not start at root")
	}
	var m struct {
		Name      string `json:"name"`
		ClassName string `json:"class_name"`
	}
	if err := json.Unmarshal(n.metadata, &m); err != nil {
		e := convert.JSONDecodeError(file, n.path+": metadata", n.metadata, err)
		e.Reader = "savedmodel"
		return e
	}
	n.name, n.className = m.Name, m.ClassName
	return nil
}

// parseSavedModelKeras reads the Keras objects of saved_model.pb, where
// tf.keras before TF 2.5 kept their metadata (SavedUserObject.metadata).
// Paths are the first breadth-first paths from the root, as tf.keras
// computes node_path.
func parseSavedModelKeras(b []byte, file string) ([]*kerasNode, error) {
	var graph []byte
	err := walkProto(b, file, "SavedModel", 0, func(f pbField) error {
		if f.num != savedModelMetaGraphs || f.typ != protowire.BytesType || graph != nil {
			return nil
		}
		return walkProto(f.b, file, "SavedModel.meta_graphs[0]", int64(f.off), func(g pbField) error {
			if g.num == metaGraphObjectGraph && g.typ == protowire.BytesType {
				graph = g.b
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if graph == nil {
		return nil, nil
	}
	og := &objectGraph{file: file}
	err = walkProto(graph, file, "object_graph_def", -1, func(f pbField) error {
		if f.num != objectGraphNodes || f.typ != protowire.BytesType {
			return nil
		}
		var n objNode
		if err := walkProto(f.b, file, "object_graph_def.nodes", -1, func(g pbField) error {
			switch {
			case g.num == savedObjectChildren && g.typ == protowire.BytesType:
				r, err := parseObjRef(g.b, file, "object_graph_def.nodes")
				if err != nil {
					return err
				}
				n.children = append(n.children, r)
			case g.num == savedObjectUserObject && g.typ == protowire.BytesType:
				return walkProto(g.b, file, "user_object", -1, func(u pbField) error {
					if u.typ != protowire.BytesType {
						return nil
					}
					switch u.num {
					case userObjectIdentifier:
						n.userIdentifier = string(u.b)
					case userObjectMetadata:
						n.userMetadata = string(u.b)
					}
					return nil
				})
			}
			return nil
		}); err != nil {
			return err
		}
		og.nodes = append(og.nodes, n)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(og.nodes) == 0 {
		return nil, nil
	}
	if err := og.check(); err != nil {
		return nil, err
	}
	paths := og.bfsPaths(maxKerasDepth)
	var out []*kerasNode
	for id, n := range og.nodes {
		if !strings.HasPrefix(n.userIdentifier, "_tf_keras") || n.userMetadata == "" {
			continue
		}
		p, ok := paths(id)
		if !ok {
			continue
		}
		k := &kerasNode{path: p, identifier: n.userIdentifier, metadata: []byte(n.userMetadata)}
		if err := k.decode(file); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// maxKerasDepth bounds the depth of Keras object paths rebuilt from
// saved_model.pb. Real paths are a few edges deep (root.layer-0.cell,
// nested models a few more); the bound keeps a hostile chain of objects
// from building quadratically many path bytes.
const maxKerasDepth = 64

// bfsPaths returns a function giving each node's first breadth-first path
// from node 0 as "root.a.b", with ok false for unreachable nodes and
// those deeper than maxDepth. Only parents are stored, so the search is
// linear in the graph size.
func (g *objectGraph) bfsPaths(maxDepth int) func(id int) (string, bool) {
	type step struct {
		parent, depth int
		edge          string
	}
	steps := make([]step, len(g.nodes))
	for i := range steps {
		steps[i].parent = -2 // unreached
	}
	steps[0] = step{parent: -1}
	queue := []int{0}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, c := range g.nodes[id].children {
			if steps[c.node].parent == -2 {
				steps[c.node] = step{parent: id, depth: steps[id].depth + 1, edge: c.name}
				queue = append(queue, c.node)
			}
		}
	}
	return func(id int) (string, bool) {
		if steps[id].parent == -2 || steps[id].depth > maxDepth {
			return "", false
		}
		parts := make([]string, steps[id].depth+1)
		for i := steps[id].depth; i > 0; i-- {
			parts[i] = steps[id].edge
			id = steps[id].parent
		}
		parts[0] = "root"
		return strings.Join(parts, "."), true
	}
}
