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
	// unmatched names the layers that needed weights when neither names
	// nor positions could pair them with the manifest's.
	unmatched []string
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
//
// Weight names are "<layer>/<weight>" from tfjs-layers and the Keras 2
// converter, and "<model>/<layer>/<weight>" from the Keras 3 converter
// ("sequential/dense/kernel"). Layers that no name matches get, in model
// order, the leftover weights grouped by their layer component, when the
// counts agree (files whose weights were named by an earlier build of the
// model, "lstm_1/..." for a layer now called "lstm"); the weights' shapes
// are then checked against each layer as usual.
func (a *assigner) layerGroups(g *convert.Graph) []convert.LayerWeights {
	prefixes := []string{""}
	if g.Name != "" {
		prefixes = append(prefixes, g.Name+"/")
	}
	var groups []convert.LayerWeights
	var missing []int
	for _, l := range g.Layers {
		if l.ClassName == "InputLayer" {
			continue
		}
		var ws []convert.Weight
		if l.Inner != nil {
			inner := make([]string, 0, len(prefixes)+1)
			for _, p := range prefixes {
				inner = append(inner, p+l.Name+"/")
			}
			ws = a.nested(l.Inner, append(inner, ""))
		} else {
			ws = a.take(prefixes, l.Name)
		}
		if len(ws) == 0 && convert.OwnsWeights(l) {
			missing = append(missing, len(groups))
		}
		groups = append(groups, convert.LayerWeights{Layer: l.Name, Weights: ws})
	}
	if len(missing) > 0 {
		rest := a.unusedByLayer(g.Name)
		if len(rest) == len(missing) {
			for i, gi := range missing {
				for _, w := range rest[i] {
					w.used = true
					groups[gi].Weights = append(groups[gi].Weights, w.Weight)
				}
			}
		} else if len(rest) > 0 {
			names := make([]string, len(missing))
			for i, gi := range missing {
				names[i] = groups[gi].Layer
			}
			a.unmatched = names
		}
	}
	return groups
}

// unusedByLayer groups the unused weights by their layer component (the
// first name component after an optional "<model>/"), in manifest order.
func (a *assigner) unusedByLayer(model string) [][]*manifestWeight {
	var out [][]*manifestWeight
	index := map[string]int{}
	for _, w := range a.weights {
		if w.used {
			continue
		}
		name := w.Name
		if model != "" {
			name = strings.TrimPrefix(name, model+"/")
		}
		key, _, ok := strings.Cut(name, "/")
		if !ok {
			key = ""
		}
		i, seen := index[key]
		if !seen {
			i = len(out)
			index[key] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], w)
	}
	return out
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
	if len(a.unmatched) > 0 {
		return &convert.Error{File: a.file, Path: "weightsManifest", Kind: convert.ErrWeights,
			Msg: fmt.Sprintf("weights could not be matched to layers: no manifest name matches layer(s) %s (tried \"<layer>/\" and \"<model>/<layer>/\"), and the %d unmatched weights (%s) do not group into as many layers to pair in model order",
				strings.Join(a.unmatched, ", "), len(names), shortList(names, 8))}
	}
	return &convert.Error{File: a.file, Path: "weightsManifest", Kind: convert.ErrWeights,
		Msg: fmt.Sprintf("%d weights match no layer of the model: %s", len(names), shortList(names, 8))}
}

// shortList joins up to n names and says how many more there are, so an
// error stays short however large the manifest.
func shortList(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}
