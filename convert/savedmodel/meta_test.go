package savedmodel

import (
	"strconv"
	"strings"
	"testing"
)

// TestBFSPaths checks first-breadth-first paths (what tf.keras records as
// node_path), cycles, unreachable nodes and the depth bound.
func TestBFSPaths(t *testing.T) {
	g := &objectGraph{nodes: []objNode{
		{children: []objRef{{1, "layer_with_weights-0"}, {1, "layer-0"}, {2, "variables"}}},
		{children: []objRef{{3, "cell"}, {0, "back"}}},
		{children: []objRef{{3, "0"}}},
		{},
		{}, // unreachable
	}}
	paths := g.bfsPaths(maxKerasDepth)
	for id, want := range []string{"root", "root.layer_with_weights-0", "root.variables", "root.layer_with_weights-0.cell"} {
		if got, ok := paths(id); !ok || got != want {
			t.Errorf("node %d: %q %v, want %q", id, got, ok, want)
		}
	}
	if p, ok := paths(4); ok {
		t.Errorf("unreachable node has path %q", p)
	}

	const n = 5000
	chain := &objectGraph{nodes: make([]objNode, n)}
	for i := 0; i+1 < n; i++ {
		chain.nodes[i].children = []objRef{{i + 1, "c" + strconv.Itoa(i)}}
	}
	paths = chain.bfsPaths(maxKerasDepth)
	if p, ok := paths(maxKerasDepth); !ok || strings.Count(p, ".") != maxKerasDepth {
		t.Errorf("node at the depth bound: %q %v", p, ok)
	}
	if _, ok := paths(n - 1); ok {
		t.Error("a node deeper than the bound got a path")
	}
}
