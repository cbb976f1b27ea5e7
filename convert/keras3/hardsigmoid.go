package keras3

import (
	"fmt"

	"github.com/rnnkit/rnnkit/convert"
)

// Keras 1 and 2 define hard_sigmoid(x) as clip(0.2x + 0.5, 0, 1); Keras 3
// as relu6(x + 3) / 6 = clip(x/6 + 0.5, 0, 1). The two agree when Keras 3's
// is given 1.2x, so a layer whose pre-activation is a weighted sum (x·W +
// h·U + b) keeps its numbers in Keras 3 once the weights that feed
// hard_sigmoid are multiplied by 1.2: LSTM's i, f, o gates and GRU's z, r
// gates under recurrent_activation, the whole pre-activation of Dense,
// SimpleRNN and convolutions under activation. What cannot be rescaled
// (an Activation layer, LSTM's cell activation, which also applies to the
// cell state) is reported as an approximation.
const keras2HardSigmoidScale = 1.2

const keras2HardSigmoid = "hard_sigmoid_keras2"

// rewriteHardSigmoid returns g with every rescalable Keras 1/2
// hard_sigmoid turned into Keras 3's on rescaled weights. g is not
// changed: layers that change are copied.
func (w *configWriter) rewriteHardSigmoid(g *convert.Graph) *convert.Graph {
	out := *g
	out.Layers = make([]*convert.Layer, len(g.Layers))
	for i, l := range g.Layers {
		out.Layers[i] = w.rewriteLayer(l)
	}
	return &out
}

func (w *configWriter) rewriteLayer(l *convert.Layer) *convert.Layer {
	if l.Inner != nil {
		c := *l
		c.Inner = w.rewriteHardSigmoid(l.Inner)
		return &c
	}
	var c *convert.Layer
	copyOnce := func() {
		if c == nil {
			cp := *l
			cp.Config = make(convert.Config, len(l.Config))
			for k, v := range l.Config {
				cp.Config[k] = v
			}
			cp.Weights = append([]convert.Weight(nil), l.Weights...)
			c = &cp
		}
	}
	for _, key := range []string{"layer", "backward_layer", "cell"} {
		if sub, ok := l.Config[key].(*convert.Layer); ok {
			if r := w.rewriteLayer(sub); r != sub {
				copyOnce()
				c.Config[key] = r
			}
		}
	}
	if cells, ok := l.Config["cells"].([]any); ok {
		var nc []any
		for i, cl := range cells {
			if sub, ok := cl.(*convert.Layer); ok {
				if r := w.rewriteLayer(sub); r != sub {
					if nc == nil {
						nc = append([]any(nil), cells...)
					}
					nc[i] = r
				}
			}
		}
		if nc != nil {
			copyOnce()
			c.Config["cells"] = nc
		}
	}
	for _, key := range []string{"activation", "recurrent_activation"} {
		if s, _ := l.Config[key].(string); s != keras2HardSigmoid {
			continue
		}
		cur := l
		if c != nil {
			cur = c
		}
		gates, ok := hardSigmoidGates(cur, key)
		if !ok || len(cur.Weights) == 0 {
			continue // written as an approximation by plainLayer
		}
		copyOnce()
		if err := scaleGates(c, gates); err != nil {
			continue
		}
		c.Config[key] = "hard_sigmoid"
		w.rep.Rescaled = append(w.rep.Rescaled, fmt.Sprintf("layer %q %s: Keras 1/2 hard_sigmoid kept exact by scaling its inputs' weights by 1.2", l.Name, key))
	}
	if c == nil {
		return l
	}
	return c
}

// hardSigmoidGates says which parts of the last weight axis feed the
// activation: gate indexes out of n equal parts. ok is false when the
// activation's input is not a weighted sum of the layer's own weights.
func hardSigmoidGates(l *convert.Layer, key string) (gates []int, ok bool) {
	switch l.ClassName {
	case "LSTM", "LSTMCell", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D":
		if key == "recurrent_activation" {
			return []int{0, 1, 3}, true // i, f, (c), o
		}
	case "GRU", "GRUCell":
		if key == "recurrent_activation" {
			return []int{0, 1}, true // z, r, (h)
		}
	case "Dense", "SimpleRNN", "SimpleRNNCell", "Conv1D", "Conv2D", "Conv3D":
		if key == "activation" {
			return nil, true // everything
		}
	}
	return nil, false
}

// scaleGates multiplies the weights feeding the given gates (or all, for
// nil gates) by 1.2, on copies. LSTM/ConvLSTM weights have 4 gates on the
// last axis, GRU 3; biases of reset_after GRUs are (2, 3u).
func scaleGates(l *convert.Layer, gates []int) error {
	n := 4
	if l.ClassName == "GRU" || l.ClassName == "GRUCell" {
		n = 3
	}
	for i, w := range l.Weights {
		if len(w.Shape) == 0 {
			return fmt.Errorf("scalar weight")
		}
		last := w.Shape[len(w.Shape)-1]
		data := make([]float32, len(w.Data))
		copy(data, w.Data)
		for j := range data {
			col := j % last
			if gates == nil {
				data[j] *= keras2HardSigmoidScale
				continue
			}
			if last%n != 0 {
				return fmt.Errorf("weight %q: last axis %d not %d gates", w.Name, last, n)
			}
			g := col / (last / n)
			for _, want := range gates {
				if g == want {
					data[j] *= keras2HardSigmoidScale
				}
			}
		}
		l.Weights[i] = convert.Weight{Name: w.Name, Shape: w.Shape, Data: data}
	}
	return nil
}
