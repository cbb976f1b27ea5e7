package keras

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// Summary describes a model the way Keras' model.summary() does.
type Summary struct {
	// Name and ClassName are the model's ("sequential", "Sequential").
	Name      string `json:"name"`
	ClassName string `json:"class_name"`
	// Format and KerasVersion say where the model came from; Backend is the
	// writer's backend when recorded.
	Format       string `json:"format"`
	KerasVersion string `json:"keras_version"`
	Backend      string `json:"backend,omitempty"`
	// Inputs and Outputs as Model.Inputs and Model.Outputs give them.
	Inputs  []TensorSpec `json:"inputs"`
	Outputs []TensorSpec `json:"outputs"`
	// Layers in Keras' order, InputLayers included.
	Layers []LayerSummary `json:"layers"`
	// TotalParams counts every weight value.
	TotalParams int `json:"total_params"`
	// ShapeError says why output shapes are missing, when they are.
	ShapeError string `json:"shape_error,omitempty"`
}

// LayerSummary is one row of a Summary.
type LayerSummary struct {
	Name      string `json:"name"`
	ClassName string `json:"class_name"`
	// OutputShapes holds the shapes of the layer's outputs for its first
	// call, -1 for dimensions that vary with the input (None). Empty when
	// the shapes could not be determined.
	OutputShapes [][]int `json:"output_shapes"`
	// Params counts the layer's weight values, wrapped layers included.
	Params int `json:"params"`
	// Inbound names the tensors feeding each call of the layer, Keras
	// style: "lstm_1[0][0]". Empty for InputLayers.
	Inbound [][]string `json:"inbound,omitempty"`
}

// shapeInfo holds what the trial runs found: output shapes per bound node
// and per model output.
type shapeInfo struct {
	nodes   [][][]int
	outputs [][]int
}

// Trial sizes: two runs differ in every open dimension, so that a
// dimension that changes between them is None. Sequence lengths are large
// enough for convolution and pooling windows and distinct after striding.
var trialSizes = [2]struct{ batch, other int }{{1, 16}, {2, 24}}

// shapeInfo runs the model twice on zeros, observing every node's outputs.
func (m *Model) shapeInfo() (*shapeInfo, error) {
	m.shapesOnce.Do(func() { m.shapes, m.shapesErr = m.trialShapes() })
	return m.shapes, m.shapesErr
}

func (m *Model) trialShapes() (*shapeInfo, error) {
	var runs [2]*shapeInfo
	for r, size := range trialSizes {
		inputs := make([]runtime.Value, len(m.inputs))
		for i, spec := range m.inputs {
			if spec.DType == "string" {
				inputs[i] = runtime.Value{T: trialStrings(spec, size.batch, size.other)}
				continue
			}
			if spec.Shape == nil {
				return nil, fmt.Errorf("input %q has no declared shape", spec.Name)
			}
			shape := make([]int, len(spec.Shape))
			for j, d := range spec.Shape {
				switch {
				case d >= 0:
					shape[j] = d
				case j == 0:
					shape[j] = size.batch
				default:
					shape[j] = size.other
				}
			}
			if err := checkTrialShape(spec.Name, shape); err != nil {
				return nil, err
			}
			inputs[i] = runtime.Value{T: runtime.NewTensor(shape...)}
		}
		si := &shapeInfo{nodes: make([][][]int, len(m.nodes))}
		ctx := runtime.NewWorkspace(false)
		// A file's fixed dimensions may ask for anything: the trials
		// stay small or fail.
		ctx.SetMemoryBudget(memTrialBudget)
		outs, err := m.graph.RunObserved(ctx, inputs, func(node int, outs []runtime.Value) {
			if node < 0 || node >= len(si.nodes) {
				return
			}
			shapes := make([][]int, len(outs))
			for i, v := range outs {
				if v.T != nil {
					shapes[i] = append([]int(nil), v.T.Shape...)
				}
			}
			si.nodes[node] = shapes
		})
		if err != nil {
			return nil, fmt.Errorf("trial run on zeros: %w", err)
		}
		for _, v := range outs {
			var s []int
			if v.T != nil {
				s = append([]int(nil), v.T.Shape...)
			}
			si.outputs = append(si.outputs, s)
		}
		runs[r] = si
	}
	merged := &shapeInfo{nodes: make([][][]int, len(m.nodes)), outputs: make([][]int, len(runs[0].outputs))}
	for i := range merged.nodes {
		a, b := runs[0].nodes[i], runs[1].nodes[i]
		if len(a) != len(b) {
			continue
		}
		merged.nodes[i] = make([][]int, len(a))
		for j := range a {
			merged.nodes[i][j] = mergeShapes(a[j], b[j])
		}
	}
	for i := range merged.outputs {
		merged.outputs[i] = mergeShapes(runs[0].outputs[i], runs[1].outputs[i])
	}
	return merged, nil
}

// mergeShapes keeps the dimensions two runs agree on and marks the others
// -1 (None).
func mergeShapes(a, b []int) []int {
	if a == nil || len(a) != len(b) {
		return nil
	}
	out := make([]int, len(a))
	for i := range a {
		if a[i] == b[i] {
			out[i] = a[i]
		} else {
			out[i] = -1
		}
	}
	return out
}

// Summary describes the model's layers, output shapes and parameter
// counts. Output shapes come from two trial runs on zero inputs of
// different batch sizes and sequence lengths (the first Summary or Outputs
// call pays for them); when those runs fail, ShapeError says why.
func (m *Model) Summary() *Summary {
	s := describe(m.desc)
	s.Outputs = m.Outputs()
	si, err := m.shapeInfo()
	if err != nil {
		s.ShapeError = err.Error()
		return s
	}
	first := make(map[string]int) // layer name -> bound node of its first call
	for i, n := range m.nodes {
		if n.index == 0 {
			first[n.layer.Name] = i
		}
	}
	for i := range s.Layers {
		l := &s.Layers[i]
		if n, ok := first[l.Name]; ok && si.nodes[n] != nil {
			l.OutputShapes = si.nodes[n]
		}
	}
	return s
}

// describe summarizes a model description without running it: layers,
// classes, inbound tensors, parameter counts, and the input shapes the
// InputLayers declare.
func describe(desc *convert.Model) *Summary {
	g := desc.Graph
	inputs, outputs := specs(g)
	s := &Summary{
		Name:         g.Name,
		ClassName:    g.ClassName,
		Format:       desc.Format,
		KerasVersion: desc.KerasVersion,
		Backend:      desc.Backend,
		Inputs:       inputs,
		Outputs:      outputs,
	}
	inputShape := make(map[string][]int)
	for _, in := range inputs {
		inputShape[in.Name] = in.Shape
	}
	for _, l := range g.Layers {
		ls := LayerSummary{Name: l.Name, ClassName: l.ClassName, Params: countParams(l)}
		if sh, ok := inputShape[l.Name]; ok && sh != nil && l.ClassName == "InputLayer" {
			ls.OutputShapes = [][]int{sh}
		}
		for _, n := range l.Nodes {
			var refs []string
			add := func(a convert.Arg) {
				for _, r := range a.Tensors {
					if r.Layer == "" {
						refs = append(refs, "None")
						continue
					}
					refs = append(refs, fmt.Sprintf("%s[%d][%d]", r.Layer, r.Node, r.Index))
				}
			}
			for _, a := range n.Args {
				add(a)
			}
			for _, k := range sortedKeys(n.Kwargs) {
				add(n.Kwargs[k])
			}
			ls.Inbound = append(ls.Inbound, refs)
		}
		s.TotalParams += ls.Params
		s.Layers = append(s.Layers, ls)
	}
	return s
}

// Describe reads a model like Load but stops before building its layers.
// Its Summary lists the layers, classes, inbound tensors and parameter
// counts, without output shapes; it works on models whose layers rnnkit
// cannot build, which is what rnnconvert inspect falls back on.
func Describe(path string, opts ...Option) (*Summary, error) {
	s, err := describePath(path, opts)
	return s, modelError(path, err)
}

func describePath(path string, opts []Option) (*Summary, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	desc, err := readPath(path, fi.IsDir(), collectOptions(opts))
	if err != nil {
		return nil, err
	}
	return describe(desc), nil
}

// DescribeConfigAndWeights is Describe for an architecture JSON with its
// weights file; see LoadConfigAndWeights.
func DescribeConfigAndWeights(configPath, weightsPath string, opts ...Option) (*Summary, error) {
	s, err := describeConfigAndWeights(configPath, weightsPath, opts)
	return s, modelError(configPath+" + "+weightsPath, err)
}

func describeConfigAndWeights(configPath, weightsPath string, opts []Option) (*Summary, error) {
	o := collectOptions(opts)
	cdir, cbase := filepath.Split(configPath)
	wdir, wbase := filepath.Split(weightsPath)
	cfg, err := readAllFS(os.DirFS(orDot(cdir)), cbase, configPath, maxJSONSize)
	if err != nil {
		return nil, err
	}
	desc, err := readConfigAndWeights(cfg, configPath, os.DirFS(orDot(wdir)), wbase, weightsPath, o)
	if err != nil {
		return nil, err
	}
	return describe(desc), nil
}

func orDot(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}

func sortedKeys(m map[string]convert.Arg) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// countParams counts a layer's weight values, including the layers it
// wraps (Bidirectional's forward and backward layers, an RNN's cells,
// TimeDistributed's layer) and a nested model's layers.
func countParams(l *convert.Layer) int {
	n := 0
	for _, w := range l.Weights {
		n += len(w.Data)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case *convert.Layer:
			n += countParams(v)
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	for _, v := range l.Config {
		walk(v)
	}
	if l.Inner != nil {
		for _, il := range l.Inner.Layers {
			n += countParams(il)
		}
	}
	return n
}

// String formats the summary as a table, like Keras' model.summary().
func (s *Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Model: %q (%s)\n", s.Name, s.ClassName)
	fmt.Fprintf(&b, "Format: %s, written by Keras %s", s.Format, orUnknown(s.KerasVersion))
	if s.Backend != "" {
		fmt.Fprintf(&b, " (%s backend)", s.Backend)
	}
	b.WriteString("\n")
	for _, in := range s.Inputs {
		fmt.Fprintf(&b, "Input %q: %s %s", in.Name, shapeString(in.Shape), in.DType)
		switch {
		case in.TokenIDs && in.VocabularySize > 0:
			fmt.Fprintf(&b, ", token ids in [0, %d)", in.VocabularySize)
		case in.TokenIDs:
			b.WriteString(", token ids")
		}
		b.WriteString("\n")
	}
	for _, out := range s.Outputs {
		fmt.Fprintf(&b, "Output %q: %s\n", out.Name, shapeString(out.Shape))
	}
	functional := false
	for _, l := range s.Layers {
		if len(l.Inbound) > 1 || (len(l.Inbound) == 1 && len(l.Inbound[0]) > 1) {
			functional = true
		}
	}
	functional = functional || s.ClassName != "Sequential"
	rows := [][]string{{"Layer (type)", "Output Shape", "Param #"}}
	if functional {
		rows[0] = append(rows[0], "Connected to")
	}
	for _, l := range s.Layers {
		var shapes []string
		for _, sh := range l.OutputShapes {
			shapes = append(shapes, shapeString(sh))
		}
		shape := strings.Join(shapes, ", ")
		if len(l.OutputShapes) == 0 {
			shape = "?"
		}
		if len(l.Inbound) > 1 {
			shape += " (first call)"
		}
		row := []string{fmt.Sprintf("%s (%s)", l.Name, l.ClassName), shape, fmt.Sprint(l.Params)}
		if functional {
			var calls []string
			for _, in := range l.Inbound {
				calls = append(calls, strings.Join(in, ", "))
			}
			row = append(row, strings.Join(calls, "; "))
		}
		rows = append(rows, row)
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	for ri, r := range rows {
		var line strings.Builder
		for i, c := range r {
			if i == len(r)-1 {
				line.WriteString(c)
			} else {
				fmt.Fprintf(&line, "%-*s  ", widths[i], c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteString("\n")
		if ri == 0 {
			total := 0
			for _, w := range widths {
				total += w + 2
			}
			b.WriteString(strings.Repeat("-", total-2) + "\n")
		}
	}
	fmt.Fprintf(&b, "Total params: %d\n", s.TotalParams)
	if s.ShapeError != "" {
		fmt.Fprintf(&b, "Output shapes unknown: %s\n", s.ShapeError)
	}
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown version)"
	}
	return s
}
