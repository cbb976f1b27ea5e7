package convert

import (
	"fmt"
	"strings"
)

// LayerWeights is the list of weights a legacy file (HDF5 model_weights
// group, TF.js manifest, SavedModel) stores for one top-level layer, in
// Keras' legacy order for that layer: trainable then non-trainable
// weights; Bidirectional forward then backward; TimeDistributed the inner
// layer's; a nested model all its sublayers'.
type LayerWeights struct {
	// Layer is the layer name the file gives (HDF5 group name).
	Layer   string
	Weights []Weight
}

// AssignModelWeights distributes legacy per-layer weight lists to the
// layers of g, as Keras' load_weights does: groups are matched to layers
// by name when every non-empty group names a layer of g, otherwise paired
// by position with the layers that own weights. Each list is converted to
// the standard layout (Keras 1 per-gate LSTM/GRU weights, CuDNN kernels
// and biases) and checked against the layer's config. file is used in
// errors.
func AssignModelWeights(g *Graph, groups []LayerWeights, file string) error {
	var nonEmpty []LayerWeights
	for _, lw := range groups {
		if len(lw.Weights) == 0 {
			continue
		}
		if lw.Layer == "top_level_model_weights" {
			return &Error{File: file, Path: lw.Layer, Kind: ErrUnsupported,
				Msg: fmt.Sprintf("%d weights owned by the model object itself (subclassed model)", len(lw.Weights))}
		}
		nonEmpty = append(nonEmpty, lw)
	}
	byName := map[string]*Layer{}
	for _, l := range g.Layers {
		byName[l.Name] = l
	}
	allNamed := true
	for _, lw := range nonEmpty {
		if byName[lw.Layer] == nil {
			allNamed = false
			break
		}
	}
	if allNamed {
		for _, lw := range nonEmpty {
			if err := AssignWeights(byName[lw.Layer], lw.Weights); err != nil {
				return &Error{File: file, Path: lw.Layer, Kind: ErrWeights, Msg: "assigning weights", Err: err}
			}
		}
	} else {
		var owners []*Layer
		for _, l := range g.Layers {
			if ownsWeights(l) {
				owners = append(owners, l)
			}
		}
		if len(owners) != len(nonEmpty) {
			return &Error{File: file, Kind: ErrWeights,
				Msg: fmt.Sprintf("file has weights for %d layers, the model has %d layers with weights, and the layer names differ", len(nonEmpty), len(owners))}
		}
		for i, lw := range nonEmpty {
			if err := AssignWeights(owners[i], lw.Weights); err != nil {
				return &Error{File: file, Path: lw.Layer, Kind: ErrWeights, Msg: fmt.Sprintf("assigning weights to layer %q", owners[i].Name), Err: err}
			}
		}
	}
	return checkAllAssigned(g, file)
}

// checkAllAssigned reports layers that need weights but got none.
func checkAllAssigned(g *Graph, file string) error {
	for _, l := range g.Layers {
		if ownsWeights(l) && !hasWeightsDeep(l) {
			return &Error{File: file, Path: l.Name, Kind: ErrWeights, Msg: fmt.Sprintf("no weights in the file for layer %q (%s)", l.Name, l.ClassName)}
		}
	}
	return nil
}

// OwnsWeights reports whether a layer of this class and config has
// weights in Keras. Unknown classes report false.
func OwnsWeights(l *Layer) bool { return ownsWeights(l) }

func ownsWeights(l *Layer) bool {
	if l.Inner != nil {
		for _, s := range l.Inner.Layers {
			if ownsWeights(s) {
				return true
			}
		}
		return false
	}
	r := l.Config.Reader(l.Name)
	switch l.ClassName {
	case "Dense", "Embedding", "SimpleRNN", "LSTM", "GRU", "SimpleRNNCell", "LSTMCell", "GRUCell",
		"Conv1D", "Conv2D", "PReLU", "MultiHeadAttention", "EinsumDense", "Bidirectional", "RNN", "StackedRNNCells":
		return true
	case "Conv3D", "Convolution2D", "Convolution3D", "DepthwiseConv1D", "DepthwiseConv2D",
		"SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
		"Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
		"Convolution1DTranspose", "Convolution2DTranspose", "Convolution3DTranspose",
		"ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D":
		// The issue-11 layers (layers/convolutional_nd.go, convlstm.go).
		return true
	case "BatchNormalization":
		return true
	case "LayerNormalization":
		return r.Bool("scale", true) || r.Bool("center", true)
	case "TimeDistributed":
		if in := r.Layer("layer"); in != nil {
			return ownsWeights(in)
		}
	case "Attention":
		return r.Bool("use_scale", false) || r.String("score_mode", "dot") == "concat"
	case "AdditiveAttention":
		return r.Bool("use_scale", true)
	}
	return false
}

// hasWeightsDeep reports whether l or a layer inside it holds weights.
func hasWeightsDeep(l *Layer) bool {
	if len(l.Weights) > 0 {
		return true
	}
	if l.Inner != nil {
		for _, s := range l.Inner.Layers {
			if hasWeightsDeep(s) {
				return true
			}
		}
	}
	for _, sub := range subLayers(l) {
		if hasWeightsDeep(sub) {
			return true
		}
	}
	return false
}

// subLayers returns the layers nested in l's config: Bidirectional forward
// and backward, TimeDistributed inner, RNN cell, StackedRNNCells cells.
func subLayers(l *Layer) []*Layer {
	var out []*Layer
	for _, k := range []string{"layer", "backward_layer", "cell"} {
		if s, ok := l.Config[k].(*Layer); ok {
			out = append(out, s)
		}
	}
	if cells, ok := l.Config["cells"].([]any); ok {
		for _, c := range cells {
			if s, ok := c.(*Layer); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// AssignWeights gives l the weights ws, listed in Keras' legacy order for
// l (see LayerWeights), converting them to the standard layout and checking
// their shapes. Wrapper, RNN and nested-model weights go to the innermost
// layer that owns them.
func AssignWeights(l *Layer, ws []Weight) error {
	switch {
	case l.Inner != nil:
		return assignNested(l, ws)
	case l.ClassName == "Bidirectional":
		fwd, _ := l.Config["layer"].(*Layer)
		bwd, _ := l.Config["backward_layer"].(*Layer)
		if fwd == nil || bwd == nil {
			return fmt.Errorf("layer %q: Bidirectional without forward and backward layers: %w", l.Name, ErrConfig)
		}
		f, b, err := splitBidirectional(l, fwd, bwd, ws)
		if err != nil {
			return err
		}
		if err := AssignWeights(fwd, f); err != nil {
			return err
		}
		return AssignWeights(bwd, b)
	case l.ClassName == "TimeDistributed":
		in, _ := l.Config["layer"].(*Layer)
		if in == nil {
			return fmt.Errorf("layer %q: TimeDistributed without a layer: %w", l.Name, ErrConfig)
		}
		return AssignWeights(in, ws)
	case l.ClassName == "RNN":
		cell, _ := l.Config["cell"].(*Layer)
		if cell == nil {
			return fmt.Errorf("layer %q: RNN without a cell: %w", l.Name, ErrConfig)
		}
		return AssignWeights(cell, ws)
	case l.ClassName == "StackedRNNCells":
		cells := subLayers(l)
		for i, c := range cells {
			n := cellWeightCount(c)
			if i == len(cells)-1 {
				n = len(ws)
			}
			if n > len(ws) {
				return fmt.Errorf("layer %q: %d weights for %d cells: %w", l.Name, len(ws), len(cells), ErrWeights)
			}
			if err := AssignWeights(c, ws[:n]); err != nil {
				return err
			}
			ws = ws[n:]
		}
		return nil
	}
	std, err := standardize(l, ws)
	if err != nil {
		return err
	}
	if err := checkShapes(l, std); err != nil {
		return err
	}
	l.Weights = std
	return nil
}

// cellWeightCount is the number of weights of an RNN cell.
func cellWeightCount(c *Layer) int {
	if c.Config.Reader(c.Name).Bool("use_bias", true) {
		return 3
	}
	return 2
}

// splitBidirectional splits legacy Bidirectional weights into the forward
// and backward halves: by the forward/backward layer names in the weight
// names ("bidirectional_1/forward_lstm_1/kernel:0",
// "bi/backward_lstm/lstm_cell/kernel"), else in two equal halves (Keras
// lists forward weights first).
func splitBidirectional(l, fwd, bwd *Layer, ws []Weight) (f, b []Weight, err error) {
	base := strings.TrimPrefix(fwd.Name, "forward_")
	fset := map[string]bool{fwd.Name: true, "forward_" + base: true}
	bset := map[string]bool{bwd.Name: true, "backward_" + base: true}
	byName := true
	for _, w := range ws {
		parts := strings.Split(w.Name, "/")
		side := 0
		for i := len(parts) - 1; i >= 0 && side == 0; i-- {
			switch {
			case bset[parts[i]]:
				side = 2
			case fset[parts[i]]:
				side = 1
			}
		}
		switch side {
		case 1:
			f = append(f, w)
		case 2:
			b = append(b, w)
		default:
			byName = false
		}
	}
	if byName && len(f) > 0 && len(b) > 0 {
		return f, b, nil
	}
	if len(ws)%2 != 0 {
		return nil, nil, fmt.Errorf("layer %q: %d Bidirectional weights cannot be split into forward and backward halves: %w", l.Name, len(ws), ErrWeights)
	}
	return ws[:len(ws)/2], ws[len(ws)/2:], nil
}

// assignNested distributes a nested model's weights to its sublayers by
// the sublayer names inside each weight name ("subseq/dense/kernel",
// "dense_1/kernel:0"), falling back to layer order.
func assignNested(l *Layer, ws []Weight) error {
	g := l.Inner
	byName := map[string]*Layer{}
	for _, s := range g.Layers {
		byName[s.Name] = s
	}
	groups := map[*Layer][]Weight{}
	named := true
	for _, w := range ws {
		parts := strings.Split(strings.TrimSuffix(w.Name, ":0"), "/")
		var owner *Layer
		for i := len(parts) - 2; i >= 0; i-- {
			if s := byName[parts[i]]; s != nil {
				owner = s
				break
			}
		}
		if owner == nil {
			named = false
			break
		}
		groups[owner] = append(groups[owner], w)
	}
	if named {
		for _, s := range g.Layers {
			if len(groups[s]) == 0 {
				continue
			}
			if err := AssignWeights(s, groups[s]); err != nil {
				return err
			}
		}
	} else {
		// Keras lists every sublayer's trainable weights, then every
		// non-trainable one; only BatchNormalization has non-trainable
		// weights among the layers handled here.
		var trainable, frozen []Weight
		var owners []*Layer
		for _, s := range g.Layers {
			if ownsWeights(s) {
				owners = append(owners, s)
			}
		}
		counts := make([][2]int, len(owners))
		total := 0
		for i, s := range owners {
			t, f, ok := legacyCounts(s)
			if !ok {
				return fmt.Errorf("layer %q: cannot tell which weights belong to nested layer %q (%s): %w", l.Name, s.Name, s.ClassName, ErrWeights)
			}
			counts[i] = [2]int{t, f}
			total += t + f
		}
		if total != len(ws) {
			return fmt.Errorf("layer %q: %d weights, nested layers need %d: %w", l.Name, len(ws), total, ErrWeights)
		}
		nt := 0
		for _, c := range counts {
			nt += c[0]
		}
		trainable, frozen = ws[:nt], ws[nt:]
		for i, s := range owners {
			t, f := counts[i][0], counts[i][1]
			mine := append(append([]Weight(nil), trainable[:t]...), frozen[:f]...)
			trainable, frozen = trainable[t:], frozen[f:]
			if err := AssignWeights(s, mine); err != nil {
				return err
			}
		}
	}
	return checkAllAssigned(g, "")
}

// legacyCounts returns a layer's trainable and non-trainable weight
// counts, when convert knows them.
func legacyCounts(l *Layer) (trainable, frozen int, ok bool) {
	r := l.Config.Reader(l.Name)
	bias := 0
	if r.Bool("use_bias", true) {
		bias = 1
	}
	switch l.ClassName {
	case "Dense", "Conv1D", "Conv2D", "Conv3D", "Convolution2D", "Convolution3D", "DepthwiseConv1D", "DepthwiseConv2D",
		"Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
		"Convolution1DTranspose", "Convolution2DTranspose", "Convolution3DTranspose":
		trainable = 1 + bias
	case "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D", "SeparableConvolution2D",
		"ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D":
		trainable = 2 + bias // depthwise and pointwise kernels; kernel and recurrent kernel
	case "Embedding", "PReLU":
		trainable = 1
	case "SimpleRNN", "LSTM", "GRU":
		trainable = 2 + bias
	case "BatchNormalization":
		if r.Bool("scale", true) {
			trainable++
		}
		if r.Bool("center", true) {
			trainable++
		}
		frozen = 2
	case "LayerNormalization":
		if r.Bool("scale", true) {
			trainable++
		}
		if r.Bool("center", true) {
			trainable++
		}
	case "Bidirectional", "TimeDistributed":
		for _, k := range []string{"layer", "backward_layer"} {
			if s := r.Layer(k); s != nil {
				t, f, ok := legacyCounts(s)
				if !ok {
					return 0, 0, false
				}
				trainable += t
				frozen += f
			}
		}
	default:
		return 0, 0, false
	}
	if !r.Bool("trainable", true) {
		trainable, frozen = 0, trainable+frozen
	}
	return trainable, frozen, true
}

// weightErr builds the error for a weight whose shape does not match.
func weightErr(l *Layer, w Weight, what string, want []int) error {
	return fmt.Errorf("layer %q (%s): weight %s %q: got shape %v, want %v: %w", l.Name, l.ClassName, what, w.Name, w.Shape, fmtShape(want), ErrWeights)
}

func fmtShape(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		if d < 0 {
			parts[i] = "?"
		} else {
			parts[i] = fmt.Sprint(d)
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// standardize converts legacy layouts to the standard per-class layout:
// Keras 1 per-gate LSTM (12 arrays, gates i,c,f,o) and GRU (9 arrays,
// z,r,h) weights, CuDNN LSTM/GRU kernels and doubled biases, Keras 1
// Conv1D kernels.
func standardize(l *Layer, ws []Weight) ([]Weight, error) {
	base := strings.TrimSuffix(l.ClassName, "Cell")
	r := l.Config.Reader(l.Name)
	units := r.Int("units", -1)
	switch base {
	case "LSTM":
		if len(ws) == 12 {
			// Keras 1: W_i,U_i,b_i, W_c,U_c,b_c, W_f,U_f,b_f, W_o,U_o,b_o.
			k, err := concatLast(l, "kernel", ws[0], ws[6], ws[3], ws[9])
			if err != nil {
				return nil, err
			}
			u, err := concatLast(l, "recurrent_kernel", ws[1], ws[7], ws[4], ws[10])
			if err != nil {
				return nil, err
			}
			b, err := concatLast(l, "bias", ws[2], ws[8], ws[5], ws[11])
			if err != nil {
				return nil, err
			}
			ws = []Weight{k, u, b}
		}
		if len(ws) == 3 && units > 0 && len(ws[2].Shape) == 1 && ws[2].Shape[0] == 8*units {
			return fromCuDNN(l, ws, 4, units)
		}
	case "GRU":
		if len(ws) == 9 {
			// Keras 1: W_z,U_z,b_z, W_r,U_r,b_r, W_h,U_h,b_h.
			k, err := concatLast(l, "kernel", ws[0], ws[3], ws[6])
			if err != nil {
				return nil, err
			}
			u, err := concatLast(l, "recurrent_kernel", ws[1], ws[4], ws[7])
			if err != nil {
				return nil, err
			}
			b, err := concatLast(l, "bias", ws[2], ws[5], ws[8])
			if err != nil {
				return nil, err
			}
			ws = []Weight{k, u, b}
		}
		if len(ws) == 3 && units > 0 && len(ws[2].Shape) == 1 && ws[2].Shape[0] == 6*units {
			std, err := fromCuDNN(l, ws, 3, units)
			if err != nil {
				return nil, err
			}
			l.Config["reset_after"] = true
			return std, nil
		}
		if len(ws) == 3 && l.isDefaulted("reset_after") {
			// The config predates reset_after: the bias rank settles it.
			l.Config["reset_after"] = len(ws[2].Shape) == 2
		}
	case "Conv1D":
		if len(ws) >= 1 && len(ws[0].Shape) == 4 {
			k, err := keras1Conv1DKernel(l, ws[0])
			if err != nil {
				return nil, err
			}
			ws = append([]Weight{k}, ws[1:]...)
		}
	}
	return ws, nil
}

func (l *Layer) isDefaulted(key string) bool {
	for _, k := range l.defaulted {
		if k == key {
			return true
		}
	}
	return false
}

// concatLast joins weights along their last axis (Keras 1 gate blocks).
func concatLast(l *Layer, what string, parts ...Weight) (Weight, error) {
	first := parts[0]
	rank := len(first.Shape)
	if rank == 0 {
		return Weight{}, weightErr(l, first, what, []int{-1})
	}
	rows := 1
	for _, d := range first.Shape[:rank-1] {
		rows *= d
	}
	total := 0
	for _, p := range parts {
		if len(p.Shape) != rank || !equalInts(p.Shape[:rank-1], first.Shape[:rank-1]) || len(p.Data) != shapeSize(p.Shape) {
			return Weight{}, weightErr(l, p, what+" gate block", append(append([]int(nil), first.Shape[:rank-1]...), -1))
		}
		total += p.Shape[rank-1]
	}
	out := make([]float32, 0, rows*total)
	for r := 0; r < rows; r++ {
		for _, p := range parts {
			c := p.Shape[rank-1]
			out = append(out, p.Data[r*c:(r+1)*c]...)
		}
	}
	shape := append(append([]int(nil), first.Shape[:rank-1]...), total)
	names := make([]string, len(parts))
	for i, p := range parts {
		names[i] = p.Name
	}
	return Weight{Name: strings.Join(names, "+"), Shape: shape, Data: out}, nil
}

// fromCuDNN converts CuDNNLSTM/CuDNNGRU weights (gates blocks of raw cuDNN
// buffers reinterpreted with the Keras shape, bias [input | recurrent]) to
// the standard layout, as Keras' convert_lstm_weights/convert_gru_weights
// do: input block B (in×H) becomes reshape(flatC(B), (H, in))ᵀ, recurrent
// blocks are transposed, LSTM biases are summed and GRU biases become
// (2, 3H).
func fromCuDNN(l *Layer, ws []Weight, gates, units int) ([]Weight, error) {
	k, u, b := ws[0], ws[1], ws[2]
	if len(k.Shape) != 2 || k.Shape[1] != gates*units || len(k.Data) != shapeSize(k.Shape) {
		return nil, weightErr(l, k, "kernel", []int{-1, gates * units})
	}
	if len(u.Shape) != 2 || u.Shape[0] != units || u.Shape[1] != gates*units || len(u.Data) != shapeSize(u.Shape) {
		return nil, weightErr(l, u, "recurrent_kernel", []int{units, gates * units})
	}
	in := k.Shape[0]
	nk := make([]float32, len(k.Data))
	for g := 0; g < gates; g++ {
		// Block g, read column-major-flattened: flat[j*in+i] = B[i][j] read
		// in C order of B gives element (i', j') of B at flat index
		// i'*H + j'.
		flat := make([]float32, in*units)
		for i := 0; i < in; i++ {
			for j := 0; j < units; j++ {
				flat[i*units+j] = k.Data[i*gates*units+g*units+j]
			}
		}
		// K[i][j] = flat[j*in + i].
		for i := 0; i < in; i++ {
			for j := 0; j < units; j++ {
				nk[i*gates*units+g*units+j] = flat[j*in+i]
			}
		}
	}
	nu := make([]float32, len(u.Data))
	n := gates * units
	for g := 0; g < gates; g++ {
		for i := 0; i < units; i++ {
			for j := 0; j < units; j++ {
				nu[i*n+g*units+j] = u.Data[j*n+g*units+i]
			}
		}
	}
	if len(b.Data) != 2*n {
		return nil, weightErr(l, b, "bias", []int{2 * n})
	}
	var nb Weight
	if gates == 4 {
		sum := make([]float32, n)
		for i := range sum {
			sum[i] = b.Data[i] + b.Data[n+i]
		}
		nb = Weight{Name: b.Name, Shape: []int{n}, Data: sum}
	} else {
		nb = Weight{Name: b.Name, Shape: []int{2, n}, Data: append([]float32(nil), b.Data...)}
	}
	return []Weight{
		{Name: k.Name, Shape: []int{in, n}, Data: nk},
		{Name: u.Name, Shape: []int{units, n}, Data: nu},
		nb,
	}, nil
}

// keras1Conv1DKernel converts a Keras 1 Conv1D kernel (filter_length, 1,
// input_dim, nb_filter) — or the Keras 1.1 layout (nb_filter, input_dim,
// filter_length, 1) — to (kernel_size, input_dim, filters).
func keras1Conv1DKernel(l *Layer, w Weight) (Weight, error) {
	s := w.Shape
	if len(w.Data) != shapeSize(s) {
		return Weight{}, weightErr(l, w, "kernel", []int{-1, 1, -1, -1})
	}
	switch {
	case s[1] == 1:
		return Weight{Name: w.Name, Shape: []int{s[0], s[2], s[3]}, Data: w.Data}, nil
	case s[3] == 1:
		// (F, I, K, 1) → transpose (2,3,1,0) → (K, 1, I, F).
		f, in, k := s[0], s[1], s[2]
		out := make([]float32, len(w.Data))
		for a := 0; a < k; a++ {
			for i := 0; i < in; i++ {
				for o := 0; o < f; o++ {
					out[(a*in+i)*f+o] = w.Data[(o*in+i)*k+a]
				}
			}
		}
		return Weight{Name: w.Name, Shape: []int{k, in, f}, Data: out}, nil
	}
	return Weight{}, weightErr(l, w, "kernel", []int{-1, 1, -1, -1})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// shapeSize is the element count of a shape, or -1 on overflow or a
// negative dimension.
func shapeSize(s []int) int {
	n := 1
	for _, d := range s {
		if d < 0 || (d > 0 && n > (1<<62)/d) {
			return -1
		}
		n *= d
	}
	return n
}

// expectedShapes lists the weight shapes l's config implies, -1 for a
// dimension convert cannot know (the input size), or nil when convert
// does not know the class.
func expectedShapes(l *Layer) ([]string, [][]int) {
	r := l.Config.Reader(l.Name)
	units := r.Int("units", -1)
	bias := r.Bool("use_bias", true)
	var names []string
	var shapes [][]int
	add := func(n string, s ...int) {
		names = append(names, n)
		shapes = append(shapes, s)
	}
	switch strings.TrimSuffix(l.ClassName, "Cell") {
	case "Dense":
		add("kernel", -1, units)
		if bias {
			add("bias", units)
		}
	case "Embedding":
		add("embeddings", r.Int("input_dim", -1), r.Int("output_dim", -1))
	case "SimpleRNN":
		add("kernel", -1, units)
		add("recurrent_kernel", units, units)
		if bias {
			add("bias", units)
		}
	case "LSTM":
		add("kernel", -1, 4*units)
		add("recurrent_kernel", units, 4*units)
		if bias {
			add("bias", 4*units)
		}
	case "GRU":
		add("kernel", -1, 3*units)
		add("recurrent_kernel", units, 3*units)
		if bias {
			if r.Bool("reset_after", true) {
				add("bias", 2, 3*units)
			} else {
				add("bias", 3*units)
			}
		}
	case "Conv1D":
		ks := r.Ints("kernel_size", nil)
		k := -1
		if len(ks) == 1 {
			k = ks[0]
		}
		filters := r.Int("filters", -1)
		add("kernel", k, -1, filters)
		if bias {
			add("bias", filters)
		}
	case "BatchNormalization", "LayerNormalization":
		n := 0
		if r.Bool("scale", true) {
			n++
		}
		if r.Bool("center", true) {
			n++
		}
		if l.ClassName == "BatchNormalization" {
			n += 2
		}
		for i := 0; i < n; i++ {
			add(fmt.Sprintf("weight %d", i), -2) // any shape
		}
	default:
		return nil, nil
	}
	if r.Err() != nil {
		return nil, nil
	}
	return names, shapes
}

// checkShapes compares ws with the shapes l's config implies.
func checkShapes(l *Layer, ws []Weight) error {
	for _, w := range ws {
		if n := shapeSize(w.Shape); n < 0 || n != len(w.Data) {
			return fmt.Errorf("layer %q (%s): weight %q: shape %v holds %d values, data has %d: %w", l.Name, l.ClassName, w.Name, w.Shape, n, len(w.Data), ErrWeights)
		}
	}
	names, shapes := expectedShapes(l)
	if names == nil {
		return nil
	}
	if len(ws) != len(names) {
		return fmt.Errorf("layer %q (%s): got %d weights, want %d (%s): %w", l.Name, l.ClassName, len(ws), len(names), strings.Join(names, ", "), ErrWeights)
	}
	for i, want := range shapes {
		if len(want) == 1 && want[0] == -2 {
			continue
		}
		got := ws[i].Shape
		ok := len(got) == len(want)
		for j := 0; ok && j < len(want); j++ {
			ok = want[j] < 0 || got[j] == want[j]
		}
		if !ok {
			return weightErr(l, ws[i], names[i], want)
		}
	}
	return nil
}
