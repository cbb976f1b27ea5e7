package runtime

import "testing"

// FuzzGraph builds graphs from arbitrary bytes, as a binder fed a hostile
// model file might: NewGraph must either reject them or return a graph
// that runs without panicking.
func FuzzGraph(f *testing.F) {
	f.Add([]byte{3, 1, 0, 1, 1, 0, 2, 2})
	f.Add([]byte{5, 2, 0, 1, 2, 2, 0, 1, 3, 1, 3, 4, 4})
	f.Add([]byte{2, 1, 0, 1, 1, 255, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		next := func() int {
			if len(data) == 0 {
				return 0
			}
			v := int(int8(data[0]))
			data = data[1:]
			return v
		}
		numSlots := next()
		inputs := make([]int, next()&3)
		for i := range inputs {
			inputs[i] = next()
		}
		var nodes []GraphNode
		for n := next() & 7; n > 0; n-- {
			node := GraphNode{Layer: fuzzLayer{}}
			for a := next() & 3; a > 0; a-- {
				ref := ArgRef{IsList: true}
				for s := next() & 3; s > 0; s-- {
					ref.Slots = append(ref.Slots, next())
				}
				node.Args = append(node.Args, ref)
			}
			for o := next() & 3; o > 0; o-- {
				node.Outputs = append(node.Outputs, next())
			}
			nodes = append(nodes, node)
		}
		outputs := make([]int, next()&3)
		for i := range outputs {
			outputs[i] = next()
		}
		g, err := NewGraph("fuzz", "Functional", numSlots, inputs, nodes, outputs)
		if err != nil {
			return
		}
		in := make([]Value, len(inputs))
		for i := range in {
			in[i] = vec(1, 2)
		}
		// Errors are fine (a layer given no inputs fails); panics are not.
		g.Run(NewWorkspace(false), in)
	})
}

// fuzzLayer returns as many outputs as it has positional arguments, each
// the first tensor of its argument; tensor-less (None) entries and
// constants are skipped.
type fuzzLayer struct{}

func (fuzzLayer) Name() string      { return "f" }
func (fuzzLayer) ClassName() string { return "Fuzz" }
func (fuzzLayer) Call(ctx *Workspace, call *Call) ([]Value, error) {
	outs := make([]Value, 0, 4)
	for _, a := range call.Args {
		v := Value{T: NewTensor(1)}
		for _, in := range a.Values {
			if in.T != nil {
				v.T = in.T
				break
			}
		}
		outs = append(outs, v)
	}
	for len(outs) < 4 {
		outs = append(outs, Value{T: NewTensor(1)})
	}
	return outs, nil
}
