package layers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
	"github.com/rnnkit/rnnkit/runtime/kernel"
)

// ---- float64 reference, written straight from the Keras equations ----

type refCell struct {
	class      string // SimpleRNN, LSTM, GRU
	units, dim int
	act, ract  func(float64) float64
	useBias    bool
	resetAfter bool
	k, r, b    []float64 // Keras layouts: (dim, G*U), (U, G*U), (G*U) or (2, 3U)
}

func sigm(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func refAct(name string) func(float64) float64 {
	switch name {
	case "tanh":
		return math.Tanh
	case "sigmoid":
		return sigm
	case "relu":
		return func(x float64) float64 { return math.Max(x, 0) }
	case "hard_sigmoid":
		return func(x float64) float64 { return math.Min(math.Max(x/6+0.5, 0), 1) }
	case "hard_sigmoid_keras2":
		return func(x float64) float64 { return math.Min(math.Max(0.2*x+0.5, 0), 1) }
	case "softsign":
		return func(x float64) float64 { return x / (1 + math.Abs(x)) }
	case "relu6":
		return func(x float64) float64 { return math.Min(math.Max(x, 0), 6) }
	case "linear", "":
		return func(x float64) float64 { return x }
	}
	panic("refAct: " + name)
}

// matvec returns x·W[:, col0:col0+n] for W of width ld.
func matvec(x []float64, w []float64, ld, col0, n int) []float64 {
	out := make([]float64, n)
	for j := range n {
		for p, xv := range x {
			out[j] += xv * w[p*ld+col0+j]
		}
	}
	return out
}

// step computes one cell step: new states from x and states.
func (c *refCell) step(x []float64, st [][]float64) [][]float64 {
	u := c.units
	bias := func(i int) float64 {
		if !c.useBias {
			return 0
		}
		return c.b[i]
	}
	switch c.class {
	case "SimpleRNN":
		xk := matvec(x, c.k, u, 0, u)
		hr := matvec(st[0], c.r, u, 0, u)
		h := make([]float64, u)
		for j := range u {
			h[j] = c.act(xk[j] + bias(j) + hr[j])
		}
		return [][]float64{h}
	case "LSTM":
		g := 4 * u
		xk := matvec(x, c.k, g, 0, g)
		hr := matvec(st[0], c.r, g, 0, g)
		h, cc := make([]float64, u), make([]float64, u)
		for j := range u {
			i := c.ract(xk[j] + hr[j] + bias(j))
			f := c.ract(xk[u+j] + hr[u+j] + bias(u+j))
			gg := c.act(xk[2*u+j] + hr[2*u+j] + bias(2*u+j))
			o := c.ract(xk[3*u+j] + hr[3*u+j] + bias(3*u+j))
			cc[j] = f*st[1][j] + i*gg
			h[j] = o * c.act(cc[j])
		}
		return [][]float64{h, cc}
	case "GRU":
		g := 3 * u
		hPrev := st[0]
		xk := matvec(x, c.k, g, 0, g)
		var bi, br [3][]float64
		for gi := range 3 {
			bi[gi], br[gi] = make([]float64, u), make([]float64, u)
			if c.useBias {
				for j := range u {
					bi[gi][j] = c.b[gi*u+j]
					if c.resetAfter {
						br[gi][j] = c.b[g+gi*u+j]
					}
				}
			}
		}
		rz := matvec(hPrev, c.r, g, 0, u)
		rr := matvec(hPrev, c.r, g, u, u)
		z, r := make([]float64, u), make([]float64, u)
		for j := range u {
			z[j] = c.ract(xk[j] + bi[0][j] + rz[j] + br[0][j])
			r[j] = c.ract(xk[u+j] + bi[1][j] + rr[j] + br[1][j])
		}
		hh := make([]float64, u)
		if c.resetAfter {
			rh := matvec(hPrev, c.r, g, 2*u, u)
			for j := range u {
				hh[j] = c.act(xk[2*u+j] + bi[2][j] + r[j]*(rh[j]+br[2][j]))
			}
		} else {
			rhPrev := make([]float64, u)
			for j := range u {
				rhPrev[j] = r[j] * hPrev[j]
			}
			rh := matvec(rhPrev, c.r, g, 2*u, u)
			for j := range u {
				hh[j] = c.act(xk[2*u+j] + bi[2][j] + rh[j])
			}
		}
		h := make([]float64, u)
		for j := range u {
			h[j] = z[j]*hPrev[j] + (1-z[j])*hh[j]
		}
		return [][]float64{h}
	}
	panic(c.class)
}

type refOpts struct {
	goBackwards, unroll, zeroOut bool
}

// refRun follows keras/src/backend/numpy/rnn.py for stacked cells (each
// cell's output feeds the next at the same step). It returns outputs in
// processing order [B][T][U] and final flattened states.
func refRun(cells []*refCell, x [][][]float64, mask [][]bool, init [][][]float64, o refOpts) ([][][]float64, [][][]float64) {
	B, T := len(x), len(x[0])
	outs := make([][][]float64, B)
	var finals [][][]float64
	for b := range B {
		var st [][][]float64 // per cell
		si := 0
		for _, c := range cells {
			n := 1
			if c.class == "LSTM" {
				n = 2
			}
			var s [][]float64
			for k := range n {
				v := make([]float64, c.units)
				if init != nil {
					copy(v, init[si+k][b])
				}
				s = append(s, v)
			}
			si += n
			st = append(st, s)
		}
		U := cells[len(cells)-1].units
		prevOut := make([]float64, U)
		for s := range T {
			t := s
			if o.goBackwards {
				t = T - 1 - s
			}
			in := x[b][t]
			newSt := make([][][]float64, len(cells))
			for ci, c := range cells {
				newSt[ci] = c.step(in, st[ci])
				in = newSt[ci][0]
			}
			out := in
			if mask != nil && !mask[b][t] {
				switch {
				case o.unroll:
					out = prevOut
				case o.zeroOut:
					out = make([]float64, U)
				default:
					out = st[len(cells)-1][0]
				}
				newSt = st
			}
			st = newSt
			prevOut = out
			outs[b] = append(outs[b], out)
		}
		if b == 0 {
			for ci := range cells {
				for range st[ci] {
					finals = append(finals, make([][]float64, B))
				}
			}
		}
		k := 0
		for ci := range cells {
			for _, v := range st[ci] {
				finals[k][b] = v
				k++
			}
		}
	}
	return outs, finals
}

// ---- building specs with random weights ----

type cellCfg struct {
	class      string
	units, dim int
	act, ract  string
	useBias    bool
	resetAfter bool
}

func gatesOf(class string) int {
	switch class {
	case "LSTM":
		return 4
	case "GRU":
		return 3
	}
	return 1
}

func randWeights(rng *rand.Rand, n int, scale float64) ([]float32, []float64) {
	f32 := make([]float32, n)
	f64 := make([]float64, n)
	for i := range n {
		v := float32((rng.Float64()*2 - 1) * scale)
		f32[i], f64[i] = v, float64(v)
	}
	return f32, f64
}

// makeCell returns the cell's weights for a convert.Layer and a reference.
func makeCell(rng *rand.Rand, c cellCfg) ([]convert.Weight, *refCell) {
	g := gatesOf(c.class) * c.units
	ref := &refCell{class: c.class, units: c.units, dim: c.dim, act: refAct(c.act), ract: refAct(c.ract),
		useBias: c.useBias, resetAfter: c.resetAfter}
	k32, k64 := randWeights(rng, c.dim*g, 0.6)
	r32, r64 := randWeights(rng, c.units*g, 0.6)
	ref.k, ref.r = k64, r64
	ws := []convert.Weight{
		{Name: "kernel", Shape: []int{c.dim, g}, Data: k32},
		{Name: "recurrent_kernel", Shape: []int{c.units, g}, Data: r32},
	}
	if c.useBias {
		shape := []int{g}
		if c.class == "GRU" && c.resetAfter {
			shape = []int{2, g}
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		b32, b64 := randWeights(rng, n, 0.5)
		ref.b = b64
		ws = append(ws, convert.Weight{Name: "bias", Shape: shape, Data: b32})
	}
	return ws, ref
}

func cellConfig(c cellCfg) convert.Config {
	return convert.Config{
		"units": float64(c.units), "activation": c.act, "recurrent_activation": c.ract,
		"use_bias": c.useBias, "reset_after": c.resetAfter,
	}
}

func buildRNNLayer(t testing.TB, rng *rand.Rand, c cellCfg, layerOpts convert.Config) (*RNN, *refCell) {
	t.Helper()
	ws, ref := makeCell(rng, c)
	cfg := cellConfig(c)
	for k, v := range layerOpts {
		cfg[k] = v
	}
	spec := &convert.Layer{Name: strings.ToLower(c.class), ClassName: c.class, Config: cfg, Weights: ws}
	l, err := Standard().Build(spec, &Env{KerasVersion: "3.16.0"})
	if err != nil {
		t.Fatal(err)
	}
	return l.(*RNN), ref
}

func randSeq(rng *rand.Rand, B, T, D int) (*runtime.Tensor, [][][]float64) {
	x := runtime.NewTensor(B, T, D)
	ref := make([][][]float64, B)
	for b := range B {
		ref[b] = make([][]float64, T)
		for t := range T {
			ref[b][t] = make([]float64, D)
			for d := range D {
				v := float32(rng.Float64()*2 - 1)
				x.Data[(b*T+t)*D+d] = v
				ref[b][t][d] = float64(v)
			}
		}
	}
	return x, ref
}

func maskTensor(m [][]bool) *runtime.Tensor {
	if m == nil {
		return nil
	}
	t := runtime.NewTensor(len(m), len(m[0]))
	for b := range m {
		for i, v := range m[b] {
			if v {
				t.Data[b*len(m[0])+i] = 1
			}
		}
	}
	return t
}

func flat3(v [][][]float64) []float32 {
	var out []float32
	for _, a := range v {
		for _, b := range a {
			for _, c := range b {
				out = append(out, float32(c))
			}
		}
	}
	return out
}

func flat2(v [][]float64) []float32 {
	var out []float32
	for _, a := range v {
		for _, c := range a {
			out = append(out, float32(c))
		}
	}
	return out
}

// masks used by the tests: B = 3, T = 6.
var testMasks = map[string][][]bool{
	"none": nil,
	"post": {{true, true, true, true, false, false}, {true, true, true, true, true, true}, {true, true, false, false, false, false}},
	"pre":  {{false, false, true, true, true, true}, {true, true, true, true, true, true}, {false, false, false, false, true, true}},
	"mid":  {{true, false, true, false, false, true}, {false, false, false, false, false, false}, {true, true, false, true, true, true}},
}

var testCells = []cellCfg{
	{class: "SimpleRNN", units: 5, dim: 4, act: "tanh", useBias: true},
	{class: "SimpleRNN", units: 3, dim: 4, act: "relu", useBias: false},
	{class: "LSTM", units: 5, dim: 4, act: "tanh", ract: "sigmoid", useBias: true},
	{class: "LSTM", units: 4, dim: 3, act: "softsign", ract: "hard_sigmoid", useBias: false},
	{class: "GRU", units: 5, dim: 4, act: "tanh", ract: "sigmoid", useBias: true, resetAfter: true},
	{class: "GRU", units: 5, dim: 4, act: "tanh", ract: "sigmoid", useBias: true, resetAfter: false},
	{class: "GRU", units: 4, dim: 3, act: "relu", ract: "hard_sigmoid_keras2", useBias: false, resetAfter: true},
	{class: "GRU", units: 4, dim: 3, act: "tanh", ract: "relu6", useBias: false, resetAfter: false},
}

func cellName(c cellCfg) string {
	return fmt.Sprintf("%s_u%d_%s_%s_bias%v_ra%v", c.class, c.units, c.act, c.ract, c.useBias, c.resetAfter)
}

// TestRNNAgainstReference runs every cell kind through the combinations of
// options that change the time loop and compares with the float64
// reference.
func TestRNNAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, cc := range testCells {
		for _, batch := range []int{1, 3} {
			for maskName, m := range testMasks {
				for _, opt := range []refOpts{{}, {goBackwards: true}, {unroll: true}, {zeroOut: true}, {goBackwards: true, zeroOut: true}} {
					for _, seq := range []bool{true, false} {
						name := fmt.Sprintf("%s/b%d/%s/%+v/seq%v", cellName(cc), batch, maskName, opt, seq)
						t.Run(name, func(t *testing.T) {
							l, ref := buildRNNLayer(t, rng, cc, convert.Config{
								"return_sequences": seq, "return_state": true, "go_backwards": opt.goBackwards,
								"unroll": opt.unroll, "zero_output_for_mask": opt.zeroOut,
							})
							const T = 6
							x, xr := randSeq(rng, batch, T, cc.dim)
							if m != nil {
								m = m[:batch]
							}
							call := &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: x, Mask: maskTensor(m)}}}}}
							got, err := l.Call(runtime.NewWorkspace(false), call)
							if err != nil {
								t.Fatal(err)
							}
							wantSeq, wantStates := refRun([]*refCell{ref}, xr, m, nil, opt)
							checkRNNOutputs(t, got, wantSeq, wantStates, seq)
							if got[0].Mask != nil {
								t.Error("a Keras 3 RNN output carries a mask")
							}
						})
					}
				}
			}
		}
	}
}

func checkRNNOutputs(t *testing.T, got []runtime.Value, wantSeq [][][]float64, wantStates [][][]float64, seq bool) {
	t.Helper()
	if len(got) != 1+len(wantStates) {
		t.Fatalf("got %d outputs, want %d", len(got), 1+len(wantStates))
	}
	var want []float32
	if seq {
		want = flat3(wantSeq)
	} else {
		last := make([][]float64, len(wantSeq))
		for b := range wantSeq {
			last[b] = wantSeq[b][len(wantSeq[b])-1]
		}
		want = flat2(last)
	}
	if err := closeTo(got[0].T.Data, want, 1e-5, 1e-4); err != nil {
		t.Errorf("output %v: %v", got[0].T.Shape, err)
	}
	for i, ws := range wantStates {
		if err := closeTo(got[1+i].T.Data, flat2(ws), 1e-5, 1e-4); err != nil {
			t.Errorf("state %d: %v", i, err)
		}
	}
}

// TestRNNInitialState checks initial_state given as a keyword and that a
// Keras 3 RNN called with initial_state ignores its input's implicit mask
// while a Keras 2 one uses it.
func TestRNNInitialState(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, cc := range testCells {
		for _, version := range []string{"3.16.0", "2.15.0"} {
			for _, unroll := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/unroll%v", cellName(cc), version, unroll), func(t *testing.T) {
					ws, ref := makeCell(rng, cc)
					cfg := cellConfig(cc)
					cfg["return_sequences"] = true
					cfg["unroll"] = unroll
					spec := &convert.Layer{Name: "rnn", ClassName: cc.class, Config: cfg, Weights: ws}
					rl, err := Standard().Build(spec, &Env{KerasVersion: version})
					if err != nil {
						t.Fatal(err)
					}
					const B, T = 3, 6
					x, xr := randSeq(rng, B, T, cc.dim)
					n := 1
					if cc.class == "LSTM" {
						n = 2
					}
					var init []runtime.Value
					var initRef [][][]float64
					for range n {
						s, sr := randSeq(rng, B, 1, cc.units)
						init = append(init, runtime.Value{T: &runtime.Tensor{Shape: []int{B, cc.units}, Data: s.Data}})
						r := make([][]float64, B)
						for b := range B {
							r[b] = sr[b][0]
						}
						initRef = append(initRef, r)
					}
					m := testMasks["pre"]
					call := &runtime.Call{
						Args:   []runtime.Arg{{Values: []runtime.Value{{T: x, Mask: maskTensor(m)}}}},
						Kwargs: map[string]runtime.Arg{"initial_state": {Values: init, IsList: true}},
					}
					got, err := rl.Call(runtime.NewWorkspace(false), call)
					if err != nil {
						t.Fatal(err)
					}
					useMask := m
					if version[0] == '3' {
						useMask = nil
					}
					if (got[0].Mask != nil) != (useMask != nil) {
						t.Errorf("output mask %v with input mask used %v: Keras 2 passes it on, Keras 3 does not", got[0].Mask, useMask != nil)
					}
					wantSeq, _ := refRun([]*refCell{ref}, xr, useMask, initRef, refOpts{unroll: unroll})
					if err := closeTo(got[0].T.Data, flat3(wantSeq), 1e-5, 1e-4); err != nil {
						t.Error(err)
					}
				})
			}
		}
	}
}

// TestStackedRNNCells checks keras.layers.RNN over StackedRNNCells (and a
// single cell) against the reference stepping cells per time step.
func TestStackedRNNCells(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cfgs := []cellCfg{
		{class: "LSTM", units: 5, dim: 4, act: "tanh", ract: "sigmoid", useBias: true},
		{class: "GRU", units: 3, dim: 5, act: "tanh", ract: "sigmoid", useBias: true, resetAfter: true},
		{class: "SimpleRNN", units: 4, dim: 3, act: "tanh", useBias: true},
	}
	cellClass := map[string]string{"LSTM": "LSTMCell", "GRU": "GRUCell", "SimpleRNN": "SimpleRNNCell"}
	var cells []any
	var refs []*refCell
	for i, c := range cfgs {
		ws, ref := makeCell(rng, c)
		cells = append(cells, &convert.Layer{Name: fmt.Sprintf("cell%d", i), ClassName: cellClass[c.class], Config: cellConfig(c), Weights: ws})
		refs = append(refs, ref)
	}
	for _, opt := range []refOpts{{}, {goBackwards: true}, {unroll: true}} {
		for maskName, m := range testMasks {
			t.Run(fmt.Sprintf("%+v/%s", opt, maskName), func(t *testing.T) {
				spec := &convert.Layer{Name: "rnn", ClassName: "RNN", Config: convert.Config{
					"return_sequences": true, "return_state": true, "go_backwards": opt.goBackwards, "unroll": opt.unroll,
					"cell": &convert.Layer{Name: "stacked", ClassName: "StackedRNNCells", Config: convert.Config{"cells": cells}},
				}}
				l, err := Standard().Build(spec, &Env{})
				if err != nil {
					t.Fatal(err)
				}
				if s := l.(*RNN).StateSizes(); fmt.Sprint(s) != "[5 5 3 4]" {
					t.Errorf("state sizes %v, want [5 5 3 4] (LSTM h, c; GRU h; SimpleRNN h)", s)
				}
				x, xr := randSeq(rng, 3, 6, 4)
				call := &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: x}}}}}
				if m != nil {
					call.Kwargs = map[string]runtime.Arg{"mask": {Values: []runtime.Value{{T: maskTensor(m)}}}}
				}
				got, err := l.Call(runtime.NewWorkspace(false), call)
				if err != nil {
					t.Fatal(err)
				}
				wantSeq, wantStates := refRun(refs, xr, m, nil, opt)
				checkRNNOutputs(t, got, wantSeq, wantStates, true)
			})
		}
	}
}

// TestRNNStatefulContinuation checks that two calls of a stateful layer
// (and of any layer in a streaming context) equal one long call, and that
// ResetState starts again from zeros.
func TestRNNStatefulContinuation(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, cc := range testCells {
		for _, streaming := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/streaming%v", cellName(cc), streaming), func(t *testing.T) {
				l, _ := buildRNNLayer(t, rng, cc, convert.Config{"return_sequences": true, "stateful": !streaming})
				const B = 2
				x, _ := randSeq(rng, B, 9, cc.dim)
				whole, err := l.Call(runtime.NewWorkspace(false), oneArg(x))
				if err != nil {
					t.Fatal(err)
				}
				ctx := runtime.NewWorkspace(streaming)
				var parts []float32
				for _, span := range [][2]int{{0, 4}, {4, 5}, {5, 9}} {
					out, err := l.Call(ctx, oneArg(sliceTime(x, span[0], span[1])))
					if err != nil {
						t.Fatal(err)
					}
					parts = append(parts, out[0].T.Data...)
				}
				// parts is [chunk][B][t][U]; regroup to [B][T][U].
				U := cc.units
				regrouped := make([]float32, 0, len(parts))
				for b := range B {
					off := 0
					for _, n := range []int{4, 1, 4} {
						regrouped = append(regrouped, parts[off+b*n*U:off+(b+1)*n*U]...)
						off += B * n * U
					}
				}
				if err := closeTo(regrouped, whole[0].T.Data, 1e-6, 1e-5); err != nil {
					t.Errorf("chunked vs whole: %v", err)
				}
				l.ResetState(ctx)
				again, err := l.Call(ctx, oneArg(sliceTime(x, 0, 4)))
				if err != nil {
					t.Fatal(err)
				}
				if err := closeTo(again[0].T.Data, parts[:B*4*U], 0, 0); err != nil {
					t.Errorf("after ResetState: %v", err)
				}
				if _, err := l.Call(ctx, oneArg(sliceTime(runtime.NewTensor(B+1, 9, cc.dim), 0, 2))); err == nil {
					t.Error("a different batch size with stored state: want an error")
				}
			})
		}
	}
}

// TestRNNPredictIsFresh checks that a non-stateful layer in a
// non-streaming context starts from zeros on every call.
func TestRNNPredictIsFresh(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	l, _ := buildRNNLayer(t, rng, testCells[2], nil)
	x, _ := randSeq(rng, 2, 5, 4)
	ctx := runtime.NewWorkspace(false)
	a, err := l.Call(ctx, oneArg(x))
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Call(ctx, oneArg(x))
	if err != nil {
		t.Fatal(err)
	}
	if err := closeTo(a[0].T.Data, b[0].T.Data, 0, 0); err != nil {
		t.Error(err)
	}
}

func oneArg(x *runtime.Tensor) *runtime.Call {
	return &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: x}}}}}
}

func sliceTime(x *runtime.Tensor, from, to int) *runtime.Tensor {
	B, T, D := x.Shape[0], x.Shape[1], x.Shape[2]
	out := runtime.NewTensor(B, to-from, D)
	for b := range B {
		copy(out.Data[b*(to-from)*D:(b+1)*(to-from)*D], x.Data[(b*T+from)*D:(b*T+to)*D])
	}
	return out
}

// TestRNNBuildErrors checks that bad configs and weights are reported with
// the layer, weight and shapes.
func TestRNNBuildErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	ws, _ := makeCell(rng, cellCfg{class: "GRU", units: 4, dim: 3, act: "tanh", ract: "sigmoid", useBias: true, resetAfter: true})
	cases := []struct {
		name string
		spec *convert.Layer
		is   error
		text string
	}{
		{"gru bias rank for reset_after=false", &convert.Layer{Name: "g", ClassName: "GRU",
			Config: convert.Config{"units": 4.0, "reset_after": false}, Weights: ws}, convert.ErrWeights, "[2 12]"},
		{"wrong units", &convert.Layer{Name: "g", ClassName: "GRU",
			Config: convert.Config{"units": 5.0}, Weights: ws}, convert.ErrWeights, "kernel"},
		{"missing bias", &convert.Layer{Name: "g", ClassName: "GRU",
			Config: convert.Config{"units": 4.0}, Weights: ws[:2]}, convert.ErrWeights, "got 2 weights"},
		{"unknown activation", &convert.Layer{Name: "g", ClassName: "GRU",
			Config: convert.Config{"units": 4.0, "activation": "nope"}, Weights: ws}, convert.ErrUnsupported, "nope"},
		{"glu in a cell", &convert.Layer{Name: "g", ClassName: "GRU",
			Config: convert.Config{"units": 4.0, "activation": "glu"}, Weights: ws}, convert.ErrUnsupported, "glu"},
		{"units type", &convert.Layer{Name: "g", ClassName: "GRU",
			Config: convert.Config{"units": "4"}, Weights: ws}, convert.ErrConfig, "units"},
		{"short data", &convert.Layer{Name: "g", ClassName: "GRU", Config: convert.Config{"units": 4.0},
			Weights: []convert.Weight{ws[0], {Name: "recurrent_kernel", Shape: []int{4, 12}, Data: make([]float32, 3)}, ws[2]}},
			convert.ErrWeights, "recurrent_kernel"},
		{"rnn without cell", &convert.Layer{Name: "r", ClassName: "RNN", Config: convert.Config{}}, convert.ErrConfig, "cell"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Standard().Build(c.spec, &Env{})
			if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.text) || !strings.Contains(err.Error(), c.spec.Name) {
				t.Errorf("got %v, want %v mentioning %q", err, c.is, c.text)
			}
		})
	}
}

// TestRNNCallErrors checks run-time shape errors.
func TestRNNCallErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	l, _ := buildRNNLayer(t, rng, testCells[2], nil)
	ctx := runtime.NewWorkspace(false)
	bad := []*runtime.Call{
		oneArg(runtime.NewTensor(2, 3)),
		oneArg(runtime.NewTensor(2, 3, 5)),
		oneArg(runtime.NewTensor(2, 0, 4)),
		{Args: []runtime.Arg{{Values: []runtime.Value{{T: runtime.NewTensor(2, 3, 4), Mask: runtime.NewTensor(2, 4)}}}}},
		{Args: []runtime.Arg{{Values: []runtime.Value{{T: runtime.NewTensor(2, 3, 4)}}}},
			Kwargs: map[string]runtime.Arg{"initial_state": {Values: []runtime.Value{{T: runtime.NewTensor(2, 5)}}}}},
	}
	for i, c := range bad {
		if _, err := l.Call(ctx, c); err == nil || !strings.Contains(err.Error(), "lstm") {
			t.Errorf("call %d: got %v, want an error naming the layer", i, err)
		}
	}
}

// TestRNNConcurrent runs one layer from several goroutines, each with its
// own Workspace, as concurrent Predict calls do (meaningful under -race).
func TestRNNConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	l, _ := buildRNNLayer(t, rng, testCells[4], convert.Config{"return_sequences": true})
	x, _ := randSeq(rng, 2, 7, testCells[4].dim)
	want, err := l.Call(runtime.NewWorkspace(false), oneArg(x))
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			ctx := runtime.NewWorkspace(false)
			for range 20 {
				got, err := l.Call(ctx, oneArg(x))
				if err == nil {
					err = closeTo(got[0].T.Data, want[0].T.Data, 0, 0)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestHostileSpecsDoNotPanic builds layers from random, mostly
// inconsistent configs and weights (as a damaged file would give) and
// calls the ones that build on random inputs: every path must return an
// error or a result, never panic.
func TestHostileSpecsDoNotPanic(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	classes := []string{"SimpleRNN", "LSTM", "GRU", "Dense", "Embedding"}
	dim := func() int { return rng.IntN(5) - 1 }
	reg := Standard()
	built := 0
	for i := range 3000 {
		class := classes[rng.IntN(len(classes))]
		cfg := convert.Config{
			"units": float64(rng.IntN(5) - 1), "input_dim": float64(rng.IntN(5) - 1), "output_dim": float64(rng.IntN(4)),
			"use_bias": rng.IntN(2) == 0, "reset_after": rng.IntN(2) == 0, "return_sequences": rng.IntN(2) == 0,
			"return_state": rng.IntN(2) == 0, "go_backwards": rng.IntN(2) == 0, "unroll": rng.IntN(2) == 0,
		}
		u, d := rng.IntN(3)+1, rng.IntN(3)+1
		cfg["units"], cfg["input_dim"], cfg["output_dim"] = float64(u), float64(d), float64(u)
		var ws []convert.Weight
		add := func(shape ...int) {
			n := 1
			for _, v := range shape {
				n *= v
			}
			ws = append(ws, convert.Weight{Name: "w", Shape: shape, Data: make([]float32, n)})
		}
		g := map[string]int{"SimpleRNN": 1, "LSTM": 4, "GRU": 3, "Dense": 1, "Embedding": 1}[class]
		switch class {
		case "Embedding":
			add(d, u)
		case "Dense":
			add(d, u)
			if cfg["use_bias"] == true {
				add(u)
			}
		default:
			add(d, g*u)
			add(u, g*u)
			if cfg["use_bias"] == true {
				if class == "GRU" && cfg["reset_after"] == true {
					add(2, g*u)
				} else {
					add(g * u)
				}
			}
		}
		// Damage it the way a broken file could.
		switch rng.IntN(6) {
		case 0:
			if len(ws) > 0 {
				w := &ws[rng.IntN(len(ws))]
				w.Shape[rng.IntN(len(w.Shape))] = dim()
			}
		case 1:
			if len(ws) > 0 {
				w := &ws[rng.IntN(len(ws))]
				w.Data = w.Data[:rng.IntN(len(w.Data)+1)]
			}
		case 2:
			ws = ws[:rng.IntN(len(ws)+1)]
		case 3:
			cfg["units"] = float64(dim())
		}
		spec := &convert.Layer{Name: fmt.Sprintf("l%d", i), ClassName: class, Config: cfg, Weights: ws}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("%s %v weights %v: panic %v", class, cfg, ws, r)
				}
			}()
			l, err := reg.Build(spec, &Env{})
			if err != nil {
				return
			}
			built++
			for range 5 {
				shape := make([]int, rng.IntN(4))
				for k := range shape {
					shape[k] = rng.IntN(4)
				}
				x := runtime.NewTensor(shape...)
				for k := range x.Data {
					x.Data[k] = float32(rng.IntN(6) - 1)
				}
				var mask *runtime.Tensor
				if len(shape) >= 2 && rng.IntN(2) == 0 {
					mask = runtime.NewTensor(shape[:2]...)
				}
				l.Call(runtime.NewWorkspace(rng.IntN(2) == 0), &runtime.Call{Args: []runtime.Arg{{Values: []runtime.Value{{T: x, Mask: mask}}}}})
			}
		}()
	}
	if built < 30 {
		t.Errorf("only %d of 3000 random specs built; the test exercises too little", built)
	}
}

// ---- float32 reference in the order of Keras 3's numpy backend ----

// fmaExact returns a*b + c rounded once to float32 (an FMA instruction).
func fmaExact(a, b, c float32) float32 {
	x := new(big.Float).SetPrec(100).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetPrec(100).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetPrec(100).SetFloat64(float64(c)))
	f, _ := x.Float32()
	return f
}

// mm32 is x[rows, k]·w[:, col0:col0+n] (w of width ld) as OpenBLAS sgemm
// sums under numpy: each output from zero over k in order, with FMAs.
func mm32(x []float32, rows, k int, w []float32, ld, col0, n int) []float32 {
	out := make([]float32, rows*n)
	for i := range rows {
		for j := range n {
			var s float32
			for p := range k {
				s = fmaExact(x[i*k+p], w[p*ld+col0+j], s)
			}
			out[i*n+j] = s
		}
	}
	return out
}

func add32(a, b []float32) []float32 {
	out := make([]float32, len(a))
	for i := range a {
		out[i] = a[i] + b[i%len(b)]
	}
	return out
}

func mul32(a, b []float32) []float32 {
	out := make([]float32, len(a))
	for i := range a {
		out[i] = a[i] * b[i]
	}
	return out
}

// cols returns columns [c0, c0+n) of the rows×width matrix m.
func cols(m []float32, rows, width, c0, n int) []float32 {
	out := make([]float32, 0, rows*n)
	for i := range rows {
		out = append(out, m[i*width+c0:i*width+c0+n]...)
	}
	return out
}

func act32(name string, v []float32) []float32 {
	out := make([]float32, len(v))
	switch name {
	case "tanh":
		kernel.Tanh(out, v)
	case "sigmoid":
		kernel.Sigmoid(out, v)
	case "hard_sigmoid_keras2":
		for i, x := range v {
			out[i] = float32(math.Min(math.Max(float64(float32(0.2*x)+0.5), 0), 1))
		}
	default:
		panic(name)
	}
	return out
}

// numpyStep is one step of a Keras 3 cell (implementation 2) on the numpy
// backend, every float32 operation in Keras' order.
func numpyStep(c cellCfg, w []convert.Weight, x, h, cs []float32, B int) (hNew, cNew []float32) {
	U, D := c.units, c.dim
	g := gatesOf(c.class) * U
	k, r := w[0].Data, w[1].Data
	switch c.class {
	case "SimpleRNN":
		hx := mm32(x, B, D, k, g, 0, U)
		if c.useBias {
			hx = add32(hx, w[2].Data)
		}
		return act32(c.act, add32(hx, mm32(h, B, U, r, g, 0, U))), nil
	case "LSTM":
		z := add32(mm32(x, B, D, k, g, 0, g), mm32(h, B, U, r, g, 0, g))
		if c.useBias {
			z = add32(z, w[2].Data)
		}
		i := act32(c.ract, cols(z, B, g, 0, U))
		f := act32(c.ract, cols(z, B, g, U, U))
		cc := add32(mul32(f, cs), mul32(i, act32(c.act, cols(z, B, g, 2*U, U))))
		o := act32(c.ract, cols(z, B, g, 3*U, U))
		return mul32(o, act32(c.act, cc)), cc
	}
	mx := mm32(x, B, D, k, g, 0, g)
	var inner []float32
	if c.useBias {
		mx = add32(mx, w[2].Data[:g])
	}
	if c.resetAfter {
		inner = mm32(h, B, U, r, g, 0, g)
		if c.useBias {
			inner = add32(inner, w[2].Data[g:])
		}
	} else {
		inner = mm32(h, B, U, r, g, 0, 2*U)
	}
	iw := 2 * U
	if c.resetAfter {
		iw = g
	}
	z := act32(c.ract, add32(cols(mx, B, g, 0, U), cols(inner, B, iw, 0, U)))
	rg := act32(c.ract, add32(cols(mx, B, g, U, U), cols(inner, B, iw, U, U)))
	var rh []float32
	if c.resetAfter {
		rh = mul32(rg, cols(inner, B, iw, 2*U, U))
	} else {
		rh = mm32(mul32(rg, h), B, U, r, g, 2*U, U)
	}
	hh := act32(c.act, add32(cols(mx, B, g, 2*U, U), rh))
	oneMinus := make([]float32, len(z))
	for i, v := range z {
		oneMinus[i] = 1 - v
	}
	return add32(mul32(z, h), mul32(oneMinus, hh)), nil
}

// TestRNNNumpyOrder checks that the cells perform Keras 3's numpy-backend
// float32 operations in the same order, bit for bit: matrix products
// summed from zero and then added, biases where Keras adds them, every
// product of the gate math rounded on its own. Chaotic recurrent models
// amplify any last-bit difference (realworld 31 drifted by 1.9e-4).
func TestRNNNumpyOrder(t *testing.T) {
	if !kernel.Accelerated() {
		// The Go matrix products (noasm, RNNKIT_KERNEL=generic) sum in
		// another order; their results stay within tolerance (TestRNN*).
		t.Skipf("kernel set %s does not sum in numpy's (OpenBLAS') order", kernel.Name())
	}
	rng := rand.New(rand.NewPCG(5, 6))
	cells := []cellCfg{
		{class: "SimpleRNN", units: 20, dim: 9, act: "tanh", useBias: true},
		{class: "LSTM", units: 20, dim: 9, act: "tanh", ract: "sigmoid", useBias: true},
		{class: "LSTM", units: 12, dim: 9, act: "tanh", ract: "hard_sigmoid_keras2", useBias: true},
		{class: "GRU", units: 20, dim: 9, act: "tanh", ract: "sigmoid", useBias: true, resetAfter: true},
		{class: "GRU", units: 20, dim: 9, act: "tanh", ract: "sigmoid", useBias: true, resetAfter: false},
	}
	const T = 5
	for _, cc := range cells {
		for _, B := range []int{1, 3, 12} {
			t.Run(fmt.Sprintf("%s/b%d", cellName(cc), B), func(t *testing.T) {
				ws, _ := makeCell(rng, cc)
				spec := &convert.Layer{Name: "rnn", ClassName: cc.class, Config: cellConfig(cc), Weights: ws}
				cfg := spec.Config
				cfg["return_sequences"] = true
				l, err := Standard().Build(spec, &Env{KerasVersion: "3.16.0"})
				if err != nil {
					t.Fatal(err)
				}
				x, _ := randSeq(rng, B, T, cc.dim)
				x.Data[0] = 3 // some gate inputs beyond the hard sigmoid's linear part
				got, err := l.Call(runtime.NewWorkspace(false), oneArg(x))
				if err != nil {
					t.Fatal(err)
				}
				U := cc.units
				h := make([]float32, B*U)
				cs := make([]float32, B*U)
				for s := range T {
					xt := make([]float32, 0, B*cc.dim)
					for b := range B {
						xt = append(xt, x.Data[(b*T+s)*cc.dim:(b*T+s+1)*cc.dim]...)
					}
					h, cs = numpyStep(cc, ws, xt, h, cs, B)
					for b := range B {
						for j := range U {
							g := got[0].T.Data[(b*T+s)*U+j]
							if math.Float32bits(g) != math.Float32bits(h[b*U+j]) {
								t.Fatalf("step %d, sequence %d, unit %d: got %v, numpy order gives %v", s, b, j, g, h[b*U+j])
							}
						}
					}
				}
			})
		}
	}
}

// TestRNNStopsWhenCancelled checks that the time loop polls the call's
// context: an already cancelled context stops a 20-step sequence (the loop
// polls every cancelEvery steps) with the context's error, and the stored
// state of a stateful layer is left as it was.
func TestRNNStopsWhenCancelled(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, c := range testCells[:1] {
		l, _ := buildRNNLayer(t, rng, c, convert.Config{"stateful": true})
		x, _ := randSeq(rng, 1, 20, c.dim)
		ws := runtime.NewWorkspace(false)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ws.SetContext(ctx)
		out := l.NewOutput(1, 20)
		err := l.RunInto(ws, x, RNNOptions{}, out, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: RunInto under a cancelled context: %v, want context.Canceled", cellName(c), err)
		}
		for _, s := range ws.State(l) {
			for _, v := range s.Data {
				if v != 0 {
					t.Fatalf("%s: a cancelled run changed the stored state", cellName(c))
				}
			}
		}
		ws.ClearContext()
		if err := l.RunInto(ws, x, RNNOptions{}, out, nil); err != nil {
			t.Fatalf("%s: after SetContext(nil): %v", cellName(c), err)
		}
	}
}
