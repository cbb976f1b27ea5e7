package savedmodel

import (
	"google.golang.org/protobuf/encoding/protowire"
)

// objectGraphKey is the bundle key of the checkpoint's TrackableObjectGraph.
const objectGraphKey = "_CHECKPOINTABLE_OBJECT_GRAPH"

// objRef is an ObjectReference: an edge to another node, named.
type objRef struct {
	node int
	name string
}

// tensorAttr is a SerializedTensor: a variable saved for a node.
type tensorAttr struct {
	name, fullName, checkpointKey string
}

// objNode is one node of a TrackableObjectGraph or SavedObjectGraph.
type objNode struct {
	children []objRef
	attrs    []tensorAttr
	// userIdentifier and userMetadata come from SavedObject.user_object
	// (saved_model.pb only).
	userIdentifier string
	userMetadata   string
}

// objectGraph is a decoded object graph; node 0 is the root.
type objectGraph struct {
	file  string
	nodes []objNode
}

// parseTrackableGraph decodes a TrackableObjectGraph.
func parseTrackableGraph(b []byte, file string) (*objectGraph, error) {
	g := &objectGraph{file: file}
	err := walkProto(b, file, objectGraphKey, -1, func(f pbField) error {
		if f.num != trackableGraphNodes || f.typ != protowire.BytesType {
			return nil
		}
		var n objNode
		if err := walkProto(f.b, file, objectGraphKey, -1, func(f pbField) error {
			switch {
			case f.num == trackableChildren && f.typ == protowire.BytesType:
				r, err := parseObjRef(f.b, file, objectGraphKey)
				if err != nil {
					return err
				}
				n.children = append(n.children, r)
			case f.num == trackableAttributes && f.typ == protowire.BytesType:
				var a tensorAttr
				if err := walkProto(f.b, file, objectGraphKey, -1, func(f pbField) error {
					if f.typ != protowire.BytesType {
						return nil
					}
					switch f.num {
					case serializedName:
						a.name = string(f.b)
					case serializedFullName:
						a.fullName = string(f.b)
					case serializedCheckpoint:
						a.checkpointKey = string(f.b)
					}
					return nil
				}); err != nil {
					return err
				}
				n.attrs = append(n.attrs, a)
			}
			return nil
		}); err != nil {
			return err
		}
		g.nodes = append(g.nodes, n)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g, g.check()
}

func parseObjRef(b []byte, file, path string) (objRef, error) {
	var r objRef
	err := walkProto(b, file, path, -1, func(f pbField) error {
		switch {
		case f.num == objRefNodeID && f.typ == protowire.VarintType:
			r.node = int(int32(f.u))
		case f.num == objRefLocalName && f.typ == protowire.BytesType:
			r.name = string(f.b)
		}
		return nil
	})
	return r, err
}

// check verifies that every edge points at a node of the graph, so walks
// never index out of range.
func (g *objectGraph) check() error {
	if len(g.nodes) == 0 {
		return formatErr(g.file, objectGraphKey, -1, "object graph has no nodes")
	}
	for i, n := range g.nodes {
		for _, c := range n.children {
			if c.node < 0 || c.node >= len(g.nodes) {
				return formatErr(g.file, objectGraphKey, -1, "node %d: child %q points at node %d of %d", i, c.name, c.node, len(g.nodes))
			}
		}
	}
	return nil
}

// child returns the node reached from node id over the edge named name.
func (g *objectGraph) child(id int, name string) (int, bool) {
	for _, c := range g.nodes[id].children {
		if c.name == name {
			return c.node, true
		}
	}
	return 0, false
}

// follow walks the edges of names from node id.
func (g *objectGraph) follow(id int, names []string) (int, bool) {
	for _, n := range names {
		var ok bool
		if id, ok = g.child(id, n); !ok {
			return 0, false
		}
	}
	return id, true
}

// variableKey returns the checkpoint key and TF name of the variable held
// by node id (its VARIABLE_VALUE attribute).
func (g *objectGraph) variableKey(id int) (tensorAttr, bool) {
	for _, a := range g.nodes[id].attrs {
		if a.name == "VARIABLE_VALUE" {
			return a, true
		}
	}
	return tensorAttr{}, false
}
