package keras

import (
	"errors"
	goruntime "runtime"
	"strings"
	"testing"

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
		{"10^7 tokens", "sentiment_bilstm", []int{1, 10_000_000}, 10_000_000, nil, "over the memory budget of 1 GiB"},
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
			_, err = m.Predict(in)
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
			est := eval(fit.f, fit.fmax, bt[1], fit.points) + float64(bt[0])*eval(fit.g, fit.gmax, bt[1], fit.points)
			full, _, _ := m.estimateMemory(vals)
			if est < used || full < used {
				t.Errorf("%s %v: estimate %.0f (trials) %.0f (used) < %.0f used", name, bt, est, full, used)
			}
			if bt[1] > memTrialStep*fit.points && est > 1.6*used+2e5 {
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
