package keras

import (
	"errors"
	"os"
	goruntime "runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rnnkit/rnnkit/runtime"
)

// hostileShape makes an input of shape whose data is sized as the shape
// says, or (overflowing shapes) holds none.
func hostileTensor(shape []int, data int) *Tensor {
	return &Tensor{Shape: shape, Data: make([]float32, data)}
}

// TestHostileCalls feeds calls that would take far more memory than any
// machine has, or whose sizes overflow, to an Embedding + BiLSTM
// classifier and a self-attention model: each must fail with ErrLimit
// (and ErrInput) before allocating, and the model must still serve an
// ordinary call afterwards.
func TestHostileCalls(t *testing.T) {
	cases := []struct {
		name  string
		model string
		shape []int
		data  int // elements of the input's data
		opts  []Option
		want  string
	}{
		{"10^7 tokens", "sentiment_bilstm", []int{1, 10_000_000}, 10_000_000, nil, "exceeds the limit of 1048576 (MaxSequenceLength)"},
		{"10^7 tokens, no length bound", "sentiment_bilstm", []int{1, 10_000_000}, 10_000_000, []Option{WithMaxSequenceLength(-1)}, "over the memory budget of 1 GiB"},
		{"batch 10^6 of 200", "sentiment_bilstm", []int{1_000_000, 200}, 200_000_000, nil, "over the memory budget"},
		{"overflowing product", "sentiment_bilstm", []int{1 << 32, 1 << 32}, 0, nil, "element count overflows"},
		{"overflow behind a zero", "sentiment_bilstm", []int{0, 1 << 40, 1 << 40}, 0, nil, "element count overflows"},
		{"zero batch, huge steps", "sentiment_bilstm", []int{0, 1 << 40}, 0, nil, ""}, // empty: may run
		{"negative dimension", "sentiment_bilstm", []int{-1, 20}, 0, nil, "negative dimension"},
		{"small budget", "sentiment_bilstm", []int{64, 2000}, 128_000, []Option{WithMemoryBudget(4 << 20)}, "over the memory budget of 4 MiB"},
		{"attention 10^5 steps", "bigru_self_attention_classifier", []int{1, 100_000}, 100_000, nil, "over the memory budget"},
	}
	if testing.Short() {
		cases[1].shape, cases[1].data = []int{1_000_000, 20}, 20_000_000
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Load("../testdata/goldens/"+tc.model+"/model.keras", tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			in := hostileTensor(tc.shape, tc.data)
			var before, after goruntime.MemStats
			goruntime.GC()
			goruntime.ReadMemStats(&before)
			start := time.Now()
			_, err = m.Predict(in)
			took := time.Since(start)
			goruntime.ReadMemStats(&after)
			if tc.want == "" && err == nil {
				return
			}
			if err == nil {
				t.Fatalf("Predict(%v) succeeded, want a limit error", tc.shape)
			}
			if !errors.Is(err, ErrLimit) || !errors.Is(err, ErrInput) {
				t.Errorf("error %v: want errors.Is ErrLimit and ErrInput", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if took > 5*time.Second {
				t.Errorf("refusing the call took %v", took)
			}
			t.Logf("refused in %v: %v", took, err)
			if len(err.Error()) > 400 {
				t.Errorf("error message of %d bytes", len(err.Error()))
			}
			// The trials the estimate runs once take a few MB at most.
			if d := after.TotalAlloc - before.TotalAlloc; d > 64<<20 {
				t.Errorf("a refused call allocated %d bytes", d)
			}
			x, err := FromTokenIDs([]int{1, 2, 3, 4, 5, 6}, 2, 3)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Predict(x); err != nil {
				t.Fatalf("ordinary call after a refused one: %v", err)
			}
		})
	}
}

// TestMemoryEstimateBounds checks that the estimate is an upper bound of
// what a call takes, and a close one (within 1.6x plus the margin), on
// models of the main families.
func TestMemoryEstimateBounds(t *testing.T) {
	models := []string{"sentiment_bilstm", "bigru_self_attention_classifier", "bidi_lstm_concat_seq", "attention_dot"}
	shapes := [][2]int{{3, 7}, {4, 500}, {16, 300}, {1, 3000}}
	if testing.Short() {
		shapes = shapes[:2]
	}
	for _, name := range models {
		m, err := Load("../testdata/goldens/" + name + "/model.keras")
		if err != nil {
			t.Fatal(err)
		}
		fit, err := m.memoryFit()
		if err != nil {
			t.Fatalf("%s: trials: %v", name, err)
		}
		for _, bt := range shapes {
			var vals []runtime.Value
			for _, sp := range m.Inputs() {
				shape := append([]int(nil), sp.Shape...)
				for j := range shape {
					if shape[j] < 0 {
						shape[j] = bt[min(j, 1)]
					}
				}
				vals = append(vals, runtime.Value{T: runtime.NewTensor(shape...)})
			}
			ws := runtime.NewWorkspace(false)
			if _, err := m.graph.Run(ws, vals); err != nil {
				t.Fatal(err)
			}
			used := float64(ws.MemoryUsed())
			est := eval(fit.f, fit.fmax, bt[1], fit.points, fit.step) + float64(bt[0])*eval(fit.g, fit.gmax, bt[1], fit.points, fit.step)
			full, _, _ := m.estimateMemory(vals)
			if est < used || full < used {
				t.Errorf("%s %v: estimate %.0f (trials) %.0f (used) < %.0f used", name, bt, est, full, used)
			}
			if bt[1] > fit.step*fit.points && est > 1.6*used+2e5 {
				t.Errorf("%s %v: trials' estimate %.0f far above the %.0f used", name, bt, est, used)
			}
		}
	}
}

// TestWorkspaceBudgetRefuses checks the defence behind the estimate: with
// an estimate that lets a call through, the workspace still refuses to
// allocate beyond the budget, with the same kind of error.
func TestWorkspaceBudgetRefuses(t *testing.T) {
	m, err := Load("../testdata/goldens/sentiment_bilstm/model.keras")
	if err != nil {
		t.Fatal(err)
	}
	in := NewTensor(8, 400)
	ws := runtime.NewWorkspace(false)
	ws.SetMemoryBudget(64 << 10)
	_, err = m.graph.Run(ws, []runtime.Value{{T: in}})
	var me *runtime.MemoryError
	if !errors.As(err, &me) || !errors.Is(err, ErrLimit) || !errors.Is(err, ErrInput) {
		t.Fatalf("run over the workspace budget: %v, want a *runtime.MemoryError", err)
	}
	if me.Budget != 64<<10 || me.Need <= me.Budget || !strings.Contains(err.Error(), "layer ") {
		t.Errorf("error %v: want the layer, the request and the budget", err)
	}
	ws = runtime.NewWorkspace(false)
	if _, err := m.graph.Run(ws, []runtime.Value{{T: in}}); err != nil {
		t.Fatalf("run without a budget: %v", err)
	}
}

func TestMemoryBudgetOptions(t *testing.T) {
	cases := []struct {
		max  int64
		want int64
	}{{0, DefaultMemoryBudget}, {-1, 0}, {5 << 20, 5 << 20}}
	for _, tc := range cases {
		if got := (CallOptions{MaxMemory: tc.max}).memoryBudget(); got != tc.want {
			t.Errorf("MaxMemory %d: budget %d, want %d", tc.max, got, tc.want)
		}
	}
	m, err := Load("../testdata/goldens/sentiment_bilstm/model.keras", WithMemoryBudget(-1))
	if err != nil {
		t.Fatal(err)
	}
	if m.CallOptions().MaxMemory != -1 {
		t.Errorf("CallOptions().MaxMemory = %d, want -1", m.CallOptions().MaxMemory)
	}
	// A view with a small budget refuses what the model accepts.
	x := NewTensor(64, 2000)
	v := m.WithCallOptions(CallOptions{MaxMemory: 1 << 20})
	if _, err := v.Predict(x); !errors.Is(err, ErrLimit) {
		t.Errorf("view with a 1 MiB budget: %v, want ErrLimit", err)
	}
	s := v.NewSession()
	if _, err := s.Predict(x); !errors.Is(err, ErrLimit) {
		t.Errorf("session of that view: %v, want ErrLimit", err)
	}
}

// TestTrialRunsBounded checks that the trial runs (Outputs, Summary, the
// memory estimate) of a model whose file fixes a huge dimension fail
// cleanly instead of allocating what the file asks for.
func TestTrialRunsBounded(t *testing.T) {
	dir := "../testdata/goldens/lstm_seq/"
	cfg, err := os.ReadFile(dir + "model.json")
	if err != nil {
		t.Fatal(err)
	}
	weights, err := os.ReadFile(dir + "model.weights.h5")
	if err != nil {
		t.Fatal(err)
	}
	loaded := 0
	for _, dims := range []string{"[null, 1000000000, 5]", "[4000000, 1000, 5]", "[null, 2147483647, 5]"} {
		hostile := strings.Replace(string(cfg), `"batch_shape": [null, null, 5]`, `"batch_shape": `+dims, 1)
		if hostile == string(cfg) {
			t.Fatal("lstm_seq's model.json changed: no batch_shape to replace")
		}
		fsys := fstest.MapFS{"model.json": {Data: []byte(hostile)}, "model.weights.h5": {Data: weights}}
		var before, after goruntime.MemStats
		goruntime.ReadMemStats(&before)
		m, err := LoadConfigAndWeightsFS(fsys, "model.json", "model.weights.h5")
		if err != nil {
			continue // a load limit refused it: fine too
		}
		loaded++
		if out := m.Outputs(); out[0].Shape != nil {
			t.Errorf("%s: output shape %v from trials that should have been refused", dims, out[0].Shape)
		}
		_ = m.Summary()
		x := NewTensor(1, 3, 5)
		if _, err := m.Predict(x); err == nil {
			t.Errorf("%s: Predict on [1, 3, 5] succeeded", dims)
		}
		goruntime.ReadMemStats(&after)
		if d := after.TotalAlloc - before.TotalAlloc; d > 64<<20 {
			t.Errorf("%s: load and trials allocated %d bytes", dims, d)
		}
	}
	if loaded == 0 {
		t.Fatal("no hostile model loaded: the test checks nothing")
	}
}

// TestMemoryEstimateFixedBatch checks the estimate of a stateless model
// whose InputLayer fixes the batch: Keras 3 runs it on any batch, and so
// must the estimate scale with the batch given.
func TestMemoryEstimateFixedBatch(t *testing.T) {
	dir := "../testdata/goldens/lstm_seq/"
	cfg, err := os.ReadFile(dir + "model.json")
	if err != nil {
		t.Fatal(err)
	}
	weights, err := os.ReadFile(dir + "model.weights.h5")
	if err != nil {
		t.Fatal(err)
	}
	fixed := strings.Replace(string(cfg), `"batch_shape": [null, null, 5]`, `"batch_shape": [2, null, 5]`, 1)
	if fixed == string(cfg) {
		t.Fatal("lstm_seq's model.json changed: no batch_shape to replace")
	}
	m, err := LoadConfigAndWeightsFS(fstest.MapFS{"model.json": {Data: []byte(fixed)}, "model.weights.h5": {Data: weights}}, "model.json", "model.weights.h5")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.memoryFit(); err != nil {
		t.Fatal(err)
	}
	for _, b := range []int{1, 2, 64} {
		in := []runtime.Value{{T: NewTensor(b, 500, 5)}}
		ws := runtime.NewWorkspace(false)
		if _, err := m.graph.Run(ws, in); err != nil {
			t.Fatal(err)
		}
		// The trials' own bound, without the width bound's shortcut.
		fit, _ := m.memoryFit()
		est := eval(fit.f, fit.fmax, 500, fit.points, fit.step) + float64(b)*eval(fit.g, fit.gmax, 500, fit.points, fit.step)
		if used := ws.MemoryUsed(); est < float64(used) {
			t.Errorf("batch %d: estimate %.0f below the %d bytes used", b, est, used)
		}
	}
}
