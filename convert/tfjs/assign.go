package tfjs

import (
	"fmt"
	"strings"

	"github.com/rnnkit/rnnkit/convert"
)

// assigner hands the manifest's weights to the layers of a graph.
type assigner struct {
	file    string
	weights []*manifestWeight
	// byDir maps every directory prefix of a weight name ("a/", "a/b/"
	// for "a/b/c") to the weights under it, in manifest order, so that
	// lookups stay linear in the manifest size.
	byDir map[string][]*manifestWeight
}

func newAssigner(file string, weights []*manifestWeight) *assigner {
	a := &assigner{file: file, weights: weights, byDir: map[string][]*manifestWeight{}}
	for _, w := range weights {
		for i := 0; i < len(w.Name); i++ {
			if w.Name[i] == '/' {
				dir := w.Name[:i+1]
				a.byDir[dir] = append(a.byDir[dir], w)
			}
		}
	}
	return a
}

// take returns, in manifest order, the unused weights named
// "<prefix><layer>/…" for the first of prefixes that names any, and marks
// them used.
func (a *assigner) take(prefixes []string, layer string) []convert.Weight {
	for _, p := range prefixes {
		var out []convert.Weight
		for _, w := range a.byDir[p+layer+"/"] {
			if !w.used {
				w.used = true
				out = append(out, w.Weight)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}

// layerGroups lists each top-level layer's weights in manifest order,
// which is Keras' weight order for the layer (layer.weights: Bidirectional
// forward then backward, a nested model its sublayers'). convert's legacy
// assignment then places them on the layers that own them.
func (a *assigner) layerGroups(g *convert.Graph) []convert.LayerWeights {
	var groups []convert.LayerWeights
	for _, l := range g.Layers {
		if l.ClassName == "InputLayer" {
			continue
		}
		var ws []convert.Weight
		if l.Inner != nil {
			ws = a.nested(l.Inner, []string{l.Name + "/", ""})
		} else {
			ws = a.take([]string{""}, l.Name)
		}
		groups = append(groups, convert.LayerWeights{Layer: l.Name, Weights: ws})
	}
	return groups
}

// nested collects a nested model's weights layer by layer. Its sublayers'
// weights are named under the model ("outer/inner/kernel", Keras 3) or
// unprefixed ("inner/kernel", Keras 2 and tfjs-layers).
func (a *assigner) nested(g *convert.Graph, prefixes []string) []convert.Weight {
	var out []convert.Weight
	for _, l := range g.Layers {
		if l.ClassName == "InputLayer" {
			continue
		}
		if l.Inner != nil {
			inner := make([]string, 0, len(prefixes)+1)
			for _, p := range prefixes {
				inner = append(inner, p+l.Name+"/")
			}
			out = append(out, a.nested(l.Inner, append(inner, ""))...)
			continue
		}
		out = append(out, a.take(prefixes, l.Name)...)
	}
	return out
}

// leftover reports manifest weights no layer took. tfjs loads layer
// models strictly and rejects such weights too.
func (a *assigner) leftover() error {
	var names []string
	for _, w := range a.weights {
		if !w.used {
			names = append(names, w.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return &convert.Error{File: a.file, Path: "weightsManifest", Kind: convert.ErrWeights,
		Msg: fmt.Sprintf("%d weights match no layer of the model: %s", len(names), strings.Join(names, ", "))}
}
