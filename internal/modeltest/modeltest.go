// Package modeltest holds test helpers over model descriptions (package
// convert), apart from internal/testutil so that the tests of the packages
// convert stands on (h5, convert itself) can use testutil.
package modeltest

import "github.com/rnnkit/rnnkit/convert"

// Weights lists every weight of g in graph order, innermost layers
// included, as the reference case files do.
func Weights(g *convert.Graph) []convert.Weight {
	var out []convert.Weight
	var visit func(l *convert.Layer)
	visit = func(l *convert.Layer) {
		if l.Inner != nil {
			for _, s := range l.Inner.Layers {
				visit(s)
			}
			return
		}
		out = append(out, l.Weights...)
		for _, k := range []string{"layer", "backward_layer", "cell"} {
			if s, ok := l.Config[k].(*convert.Layer); ok {
				visit(s)
			}
		}
		if cs, ok := l.Config["cells"].([]any); ok {
			for _, c := range cs {
				if s, ok := c.(*convert.Layer); ok {
					visit(s)
				}
			}
		}
	}
	for _, l := range g.Layers {
		visit(l)
	}
	return out
}
