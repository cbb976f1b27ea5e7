package keras

import (
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// DefaultMemoryBudget is the memory budget of a call when neither
// WithMemoryBudget nor CallOptions.MaxMemory sets one: 1 GiB, well below
// the address space of a small container or a process run under a 4 GiB
// limit, and far above what ordinary calls need (the golden Embedding +
// bidirectional LSTM classifier takes about 10 MiB for 32 sequences of
// 1,000 steps).
const DefaultMemoryBudget int64 = 1 << 30

// WithMemoryBudget bounds the memory one call of the model may allocate
// (CallOptions.MaxMemory): a call whose estimated peak memory goes over
// bytes fails with ErrLimit before it allocates anything. bytes == 0
// keeps DefaultMemoryBudget; bytes < 0 removes the bound (a caller that
// trusts its inputs and wants calls of any size).
func WithMemoryBudget(bytes int64) Option {
	return func(o *options) { o.call.MaxMemory = bytes }
}

// memoryBudget is the budget of a call with these options, 0 for none.
func (o CallOptions) memoryBudget() int64 {
	switch {
	case o.MaxMemory < 0:
		return 0
	case o.MaxMemory == 0:
		return DefaultMemoryBudget
	}
	return o.MaxMemory
}

// How the memory estimate works
//
// A call's memory is what the layers allocate through its Workspace
// (outputs, scratch buffers, per-call tensors), which the Workspace counts.
// For the layers Keras has, that is a polynomial in the batch size B and
// the open (None) dimensions of the inputs, linear in B: f(T) + B·g(T),
// where T is the largest open non-batch dimension of the call's inputs.
// Trial runs on zeros at B = 1 and 2 and at several T (multiples of 48,
// so that strides and pool sizes divide them and the sizes are exactly
// polynomial) measure f and g at those points; their forward differences
// give the degree and, with the negative ones dropped, a polynomial that
// bounds them from above beyond the largest trial T. Below it, the
// largest trial measure is the bound. The bound is then widened by a
// margin for what the trials cannot see (masks, allocations outside the
// Workspace). The trials run once per model, at the first call that a
// quick bound from the layer widths (widthBound) does not clear, so that
// ordinary calls never run them (they run the model's layers, custom ones
// included, 6 to 12 times on zeros); each call then costs a few
// multiplications.

// memTrialStep is the spacing of the trial values of T; models with
// three or more open dimensions use memTrialStepND, to keep the trial
// inputs small.
const (
	memTrialStep   = 48
	memTrialStepND = 12
)

// memMaxDegree bounds the degree of the fitted polynomials: an input with
// more open dimensions than this (a 4-D volume of open size) is estimated
// as if it had this many.
const memMaxDegree = 4

// memTrialBudget bounds each trial run.
const memTrialBudget int64 = 256 << 20

// checkTrialShape refuses a trial input larger than a trial may take:
// the fixed dimensions come from the file, which may ask for anything.
func checkTrialShape(input string, shape []int) error {
	n, err := runtime.ShapeSize(shape)
	if err != nil {
		return fmt.Errorf("trial input %q: %w", input, err)
	}
	if need := 4 * int64(n); need > memTrialBudget/4 {
		return fmt.Errorf("trial input %q of shape %v: %w", input, shape,
			&runtime.MemoryError{Need: need, Budget: memTrialBudget / 4, Detail: "the trial runs' bound on an input"})
	}
	return nil
}

// memFit is the result of the trial runs: y(B, T) <= f(T) + B·g(T).
type memFit struct {
	// f and g hold the values at T = memTrialStep·(k+1) and their forward
	// differences up to the degree found (negative ones set to 0).
	f, g []float64
	// fmax and gmax are the largest trial values, the bound for T at or
	// below the largest trial T.
	fmax, gmax float64
	// points is the number of trial values of T and step their spacing.
	points, step int
	// batch is the fixed batch size of a stateful model (the trials run
	// at it only; g is then 0), 0 when the batch is open.
	batch int
}

// memState is what a model keeps of its trials.
type memState struct {
	once   sync.Once
	fit    *memFit
	err    error
	widths modelWidths
}

// memoryFit runs the trials once. m.mem lives in model.
func (m *model) memoryFit() (*memFit, error) {
	m.mem.once.Do(func() { m.mem.fit, m.mem.err = m.memTrials() })
	return m.mem.fit, m.mem.err
}

func (m *model) memTrials() (*memFit, error) {
	open, batch := 1, 0
	for _, spec := range m.inputs {
		if spec.Shape == nil && spec.DType != "string" {
			return nil, fmt.Errorf("input %q has no declared shape", spec.Name)
		}
		n := 0
		for j, d := range spec.Shape {
			switch {
			case j == 0 && d >= 0 && m.stateful:
				// Only a stateful model's batch binds; a stateless
				// one runs any batch, whatever its InputLayer says.
				batch = d
			case j > 0 && d < 0:
				n++
			}
		}
		open = max(open, n)
	}
	// Attention and its kin are quadratic in one open dimension.
	degree := min(max(2, open), memMaxDegree)
	points := degree + 2 // one more than the degree, to see it
	run := func(b, t int) (float64, error) {
		inputs := make([]runtime.Value, len(m.inputs))
		for i, spec := range m.inputs {
			if spec.DType == "string" {
				inputs[i] = runtime.Value{T: trialStrings(spec, b, t)}
				continue
			}
			shape := make([]int, len(spec.Shape))
			for j, d := range spec.Shape {
				switch {
				case j == 0:
					shape[j] = b
				case d >= 0:
					shape[j] = d
				default:
					shape[j] = t
				}
			}
			if err := checkTrialShape(spec.Name, shape); err != nil {
				return 0, err
			}
			inputs[i] = runtime.Value{T: runtime.NewTensor(shape...)}
		}
		ws := runtime.NewWorkspace(false)
		ws.SetMemoryBudget(memTrialBudget)
		outs, err := m.graph.Run(ws, inputs)
		if err != nil {
			return 0, err
		}
		used := ws.MemoryUsed()
		for _, v := range outs { // Predict copies the outputs
			if v.T != nil {
				used += 4 * int64(len(v.T.Data))
			}
			if v.Mask != nil {
				used += 4 * int64(len(v.Mask.Data))
			}
		}
		return float64(used), nil
	}
	step := memTrialStep
	if open >= 3 {
		step = memTrialStepND
	}
	fit := &memFit{batch: batch, points: points, step: step}
	y1 := make([]float64, points)
	y2 := make([]float64, points)
	for k := range points {
		t := step * (k + 1)
		var err error
		if batch > 0 {
			if y1[k], err = run(batch, t); err != nil {
				return nil, err
			}
			continue
		}
		if y1[k], err = run(1, t); err != nil {
			return nil, err
		}
		if y2[k], err = run(2, t); err != nil {
			return nil, err
		}
	}
	f := make([]float64, points)
	g := make([]float64, points)
	for k := range points {
		if batch > 0 {
			f[k] = y1[k]
			continue
		}
		// y(B) = f + B·g through B = 1 and 2; a negative part means the
		// other absorbs it.
		g[k] = max(y2[k]-y1[k], 0)
		f[k] = max(2*y1[k]-y2[k], 0)
	}
	fit.f, fit.fmax = differences(f)
	fit.g, fit.gmax = differences(g)
	return fit, nil
}

// differences turns values at equally spaced points into their forward
// differences (Newton's form of the interpolating polynomial), keeping
// those up to the last significant one and setting negative ones to 0,
// and returns them with the largest value.
func differences(y []float64) ([]float64, float64) {
	top := 0.0
	for _, v := range y {
		top = max(top, v)
	}
	d := append([]float64(nil), y...)
	out := make([]float64, len(y))
	for k := range y {
		out[k] = d[0]
		for i := 0; i+1 < len(d)-k; i++ {
			d[i] = d[i+1] - d[i]
		}
	}
	// A difference below 0.5% of the largest value is the rounding of a
	// stride or a buffer, not a higher degree.
	last := 0
	for k := range out {
		if k == 0 || math.Abs(out[k]) > 0.005*top+1024 {
			last = k
		}
	}
	out = out[:last+1]
	for k := 1; k < len(out); k++ {
		out[k] = max(out[k], 0)
	}
	out[0] = max(out[0], 0)
	return out, top
}

// eval bounds the polynomial of forward differences d (points spaced by
// step from step) at t, with top the bound at or below the trial points.
func eval(d []float64, top float64, t, points, step int) float64 {
	s := float64(t-step) / float64(step) // t in units of the spacing from the first point
	if s <= float64(points-1) {
		return top
	}
	v, c := 0.0, 1.0
	for k, dk := range d {
		if k > 0 {
			c *= (s - float64(k-1)) / float64(k)
		}
		v += dk * c
	}
	return max(v, top)
}

// memMargin widens the estimate for what the trials do not see: masks,
// token-id checks, allocations outside the Workspace.
const (
	memMarginFactor = 1.25
	memMarginBytes  = 256 << 10
)

// estimateMemory returns an upper bound on the bytes a call on inputs
// allocates, and the batch and T it was computed for: the width bound
// when that is within the budget, else the trials' bound (the width
// bound again when the trials fail).
func (m *Model) estimateMemory(inputs []runtime.Value) (bytes float64, b, t int) {
	cells := 1.0 // the largest product of an input's open non-batch dimensions
	for i, v := range inputs {
		if len(v.T.Shape) > 0 {
			b = max(b, v.T.Shape[0])
		}
		if v.T.IsString() {
			// A string's tokens are at most its code points.
			t = max(t, maxRunes(v.T.Strings))
			continue
		}
		var spec []int
		if i < len(m.inputs) {
			spec = m.inputs[i].Shape
		}
		c := 1.0
		for j := 1; j < len(v.T.Shape); j++ {
			if spec == nil || j >= len(spec) || spec[j] < 0 {
				t = max(t, v.T.Shape[j])
				// A zero dimension empties the input but not what a
				// layer sizes from the others ([B, T, 0] still has T
				// steps): count it as 1.
				c *= float64(max(v.T.Shape[j], 1))
			}
		}
		cells = max(cells, c)
	}
	wb := m.widthBound(inputs, b, t, cells)
	if budget := m.call.memoryBudget(); budget <= 0 || wb <= float64(budget) {
		return wb, b, t
	}
	fit, err := m.memoryFit()
	if err != nil {
		return wb, b, t
	}
	y := eval(fit.f, fit.fmax, t, fit.points, fit.step)
	if fit.batch == 0 {
		y += float64(b) * eval(fit.g, fit.gmax, t, fit.points, fit.step)
	}
	return y*memMarginFactor + memMarginBytes, b, t
}

// widthBound is a quick estimate that spares most calls the trial runs:
// every layer may make outputs and scratch as wide as the widest weight
// or input row, 8 times over (an LSTM's four gates for both directions of
// a Bidirectional), for every batch row and time step (every position of
// an input with several open dimensions: cells), and every
// attention layer a [batch, T, T] score tensor per head (8 heads).
// Calls under the budget by this bound run without trials; above it, the
// trials decide, and when they fail this bound does.
func (m *Model) widthBound(inputs []runtime.Value, b, t int, cells float64) float64 {
	w := m.widths()
	width := w.width
	for _, v := range inputs {
		if n := len(v.T.Shape); n > 0 {
			width = max(width, float64(v.T.Shape[n-1]))
		}
	}
	B, T := float64(max(b, 1)), float64(max(t, 1))
	return 4*(B*max(cells, 1)*width*8*w.layers+B*T*T*8*w.attention)*memMarginFactor + memMarginBytes
}

// modelWidths is what widthBound needs of the model.
type modelWidths struct {
	once sync.Once
	// width is the largest last dimension of any weight; layers and
	// attention count the layers, and the attention layers among them.
	width, layers, attention float64
}

func (m *model) widths() *modelWidths {
	w := &m.mem.widths
	w.once.Do(func() {
		w.width = 1
		var walk func(l *convert.Layer, depth int)
		walk = func(l *convert.Layer, depth int) {
			if depth > 16 {
				return
			}
			w.layers++
			if strings.Contains(l.ClassName, "Attention") {
				w.attention++
			}
			for _, wt := range l.Weights {
				if n := len(wt.Shape); n > 0 {
					w.width = max(w.width, float64(wt.Shape[n-1]))
				}
			}
			for _, k := range []string{"layer", "backward_layer", "forward_layer", "cell"} {
				if sub, ok := l.Config[k].(*convert.Layer); ok {
					walk(sub, depth+1)
				}
			}
			if l.Inner != nil {
				for _, sub := range l.Inner.Layers {
					walk(sub, depth+1)
				}
			}
		}
		for _, l := range m.desc.Graph.Layers {
			walk(l, 0)
		}
	})
	return w
}

// checkMemory compares the estimate of a call on inputs with the call's
// budget.
func (m *Model) checkMemory(inputs []runtime.Value) error {
	budget := m.call.memoryBudget()
	if budget <= 0 {
		return nil
	}
	need, b, t := m.estimateMemory(inputs)
	if need <= float64(budget) {
		return nil
	}
	me := &runtime.MemoryError{Need: saturate(need), Budget: budget, Estimate: true,
		Detail: fmt.Sprintf("batch %d, %d steps; raise it with keras.WithMemoryBudget or CallOptions.MaxMemory", b, t)}
	return &InputError{File: m.desc.File, Index: -1, Err: me, Reason: me.Error()}
}

func saturate(f float64) int64 {
	if f >= math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(f)
}
