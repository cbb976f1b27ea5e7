package keras_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
)

func loadExample(t testing.TB, opts ...keras.Option) *keras.Model {
	t.Helper()
	m, err := keras.Load(exampleDir+"model.keras", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestConstructorErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func() (*keras.Tensor, error)
		want []string
	}{
		{"float count", func() (*keras.Tensor, error) { return keras.FromFloat32(make([]float32, 5), 2, 3) }, []string{"5 values", "[2 3]", "6 values"}},
		{"float negative", func() (*keras.Tensor, error) { return keras.FromFloat32(nil, -1) }, []string{"negative", "[-1]"}},
		{"ids count", func() (*keras.Tensor, error) { return keras.FromTokenIDs([]int{1, 2, 3}, 2, 2) }, []string{"3 values", "[2 2]"}},
		{"id too large", func() (*keras.Tensor, error) { return keras.FromTokenIDs([]int{0, 1<<24 + 1}, 1, 2) }, []string{"16777217", "index 1", "2^24"}},
		{"id too small", func() (*keras.Tensor, error) { return keras.FromTokenIDs([]int{-(1<<24 + 1)}, 1, 1) }, []string{"-16777217", "index 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, err := tc.make()
			if x != nil || !errors.Is(err, keras.ErrInput) {
				t.Fatalf("got %v, %v; want nil and ErrInput", x, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	// Every id float32 holds exactly is accepted, negative ones too (the
	// vocabulary check is Predict's).
	x, err := keras.FromTokenIDs([]int{1 << 24, -(1 << 24), -1, 0}, 2, 2)
	if err != nil || x.Data[0] != 1<<24 || x.Data[1] != -(1<<24) || x.Data[2] != -1 {
		t.Errorf("FromTokenIDs of representable ids: %v, %v", x, err)
	}
}

func TestArgmaxSoftmax(t *testing.T) {
	nan := float32(math.NaN())
	x, _ := keras.FromFloat32([]float32{1, 3, 3, nan, 2, 1, nan, nan, -1, 0, 0, 0}, 4, 3)
	if got, want := keras.Argmax(x), []int{1, 1, 2, 0}; !equalInts(got, want) {
		t.Errorf("Argmax = %v, want %v", got, want)
	}
	big, _ := keras.FromFloat32([]float32{1000, 1000, -1000}, 1, 3)
	p := keras.Softmax(big)
	if p.Data[0] != 0.5 || p.Data[1] != 0.5 || p.Data[2] != 0 {
		t.Errorf("Softmax of large logits = %v, want [0.5 0.5 0]", p.Data)
	}
	if big.Data[0] != 1000 {
		t.Error("Softmax changed its input")
	}
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

// TestInputErrors covers the errors Predict returns for inputs: each is
// ErrInput (ErrLimit too for limits), an *InputError naming the input, and
// its message names the file once, by base name.
func TestInputErrors(t *testing.T) {
	m := loadExample(t)
	ids := func(v ...float32) *keras.Tensor {
		x, err := keras.FromFloat32(v, 1, len(v))
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	inf := float32(math.Inf(1))
	for _, tc := range []struct {
		name   string
		model  *keras.Model
		inputs []*keras.Tensor
		limit  bool
		input  string
		pos    []int
		want   []string
	}{
		{"count", m, nil, false, "", nil, []string{"got 0 inputs, want 1", `"input_layer" (None, None)`}},
		{"nil", m, []*keras.Tensor{nil}, false, "input_layer", nil, []string{"nil"}},
		{"rank", m, []*keras.Tensor{keras.NewTensor(1, 2, 3)}, false, "input_layer", nil, []string{"rank 3", "want (None, None) (rank 2)"}},
		{"data size", m, []*keras.Tensor{{Shape: []int{1, 3}, Data: make([]float32, 2)}}, false, "input_layer", nil, []string{"holds 3 values, the data has 2"}},
		{"out of range", m, []*keras.Tensor{ids(1, 2, 30)}, false, "input_layer", []int{0, 2}, []string{"token id 30 is outside [0, 30)", `Embedding "embedding"`}},
		{"negative", m, []*keras.Tensor{ids(-1, 2)}, false, "input_layer", []int{0, 0}, []string{"token id -1 is outside [0, 30)"}},
		{"NaN", m, []*keras.Tensor{ids(0, 0, 0, float32(math.NaN()))}, false, "input_layer", []int{0, 3}, []string{"token id NaN: want an integer in [0, 30)"}},
		{"+Inf", m, []*keras.Tensor{ids(inf)}, false, "input_layer", []int{0, 0}, []string{"token id +Inf"}},
		{"-Inf", m, []*keras.Tensor{ids(3, -inf)}, false, "input_layer", []int{0, 1}, []string{"token id -Inf"}},
		{"truncated to 30", m, []*keras.Tensor{ids(30.5)}, false, "input_layer", []int{0, 0}, []string{"token id 30.5 is outside"}},
		{"batch limit", m.WithCallOptions(keras.CallOptions{MaxBatch: 2}), []*keras.Tensor{keras.NewTensor(3, 4)}, true, "input_layer", nil, []string{"batch of 3 exceeds the limit of 2 (MaxBatch)"}},
		{"length limit", loadExample(t, keras.WithMaxSequenceLength(3)), []*keras.Tensor{keras.NewTensor(1, 4)}, true, "input_layer", nil, []string{"sequence of 4 steps exceeds the limit of 3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.model.Predict(tc.inputs...)
			if !errors.Is(err, keras.ErrInput) {
				t.Fatalf("error %v is not ErrInput", err)
			}
			if errors.Is(err, keras.ErrLimit) != tc.limit {
				t.Errorf("errors.Is(err, ErrLimit) = %v, want %v", !tc.limit, tc.limit)
			}
			var ie *keras.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is not an *InputError", err)
			}
			if ie.Input != tc.input || !equalInts(ie.Position, tc.pos) {
				t.Errorf("InputError input %q position %v, want %q %v", ie.Input, ie.Position, tc.input, tc.pos)
			}
			if !filepath.IsAbs(ie.File) && !strings.HasSuffix(ie.File, "char_gru_generator/model.keras") {
				t.Errorf("InputError.File = %q, want the path given to Load", ie.File)
			}
			msg := err.Error()
			if strings.Count(msg, "model.keras") != 1 || strings.Contains(msg, "testdata") {
				t.Errorf("message %q must name the file once, by base name", msg)
			}
			if tc.input != "" && !strings.Contains(msg, `input "`+tc.input+`"`) {
				t.Errorf("message %q does not name the input", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
		})
	}
}

// TestTokenIDsTruncate checks Keras' int32 cast: float ids are truncated
// toward zero, so 2.7 is id 2 and -0.5 is id 0.
func TestTokenIDsTruncate(t *testing.T) {
	m := loadExample(t)
	f, _ := keras.FromFloat32([]float32{2.7, -0.5, 29.9}, 1, 3)
	i, _ := keras.FromTokenIDs([]int{2, 0, 29}, 1, 3)
	a, err := m.Predict(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Predict(i)
	if err != nil {
		t.Fatal(err)
	}
	for k := range a[0].Data {
		if a[0].Data[k] != b[0].Data[k] {
			t.Fatalf("float ids [2.7 -0.5 29.9] differ from [2 0 29] at %d", k)
		}
	}
}

func TestPredictContextCancelled(t *testing.T) {
	m := loadExample(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	x := keras.NewTensor(1, 5)
	if _, err := m.PredictContext(ctx, x); !errors.Is(err, context.Canceled) {
		t.Errorf("Model.PredictContext: %v, want context.Canceled", err)
	}
	s := m.NewStream()
	if _, err := s.PredictContext(ctx, x); !errors.Is(err, context.Canceled) {
		t.Errorf("Session.PredictContext: %v, want context.Canceled", err)
	}
	if _, err := s.PredictSharedContext(ctx, x); !errors.Is(err, context.Canceled) {
		t.Errorf("Session.PredictSharedContext: %v, want context.Canceled", err)
	}
	// The model and the session still work afterwards.
	if _, err := m.Predict(x); err != nil {
		t.Error(err)
	}
	if _, err := s.Predict(x); err != nil {
		t.Error(err)
	}
}

// TestStreamStepAllocs checks that a streaming step under a cancellable
// context still allocates nothing.
func TestStreamStepAllocs(t *testing.T) {
	m := loadExample(t, keras.WithThreads(1), keras.WithMaxBatch(4), keras.WithMaxSequenceLength(8))
	s := m.NewStream()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	x, _ := keras.FromTokenIDs([]int{3}, 1, 1)
	step := func() {
		if _, err := s.PredictSharedContext(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	step()
	if n := testing.AllocsPerRun(50, step); n != 0 {
		t.Errorf("a streaming step allocates %v times", n)
	}
}

func TestCallOptionsViews(t *testing.T) {
	m := loadExample(t, keras.WithThreads(3), keras.WithMaxBatch(5), keras.WithMaxSequenceLength(-1))
	if got := m.CallOptions(); got != (keras.CallOptions{Threads: 3, MaxBatch: 5, MaxSequenceLength: -1}) {
		t.Errorf("load options gave %+v", got)
	}
	v := m.WithCallOptions(keras.CallOptions{Threads: -2, MaxSequenceLength: 7})
	if got := v.CallOptions(); got != (keras.CallOptions{MaxSequenceLength: 7}) {
		t.Errorf("view options %+v", got)
	}
	if m.CallOptions().Threads != 3 {
		t.Error("WithCallOptions changed the model it was called on")
	}
	if v.Description() != m.Description() {
		t.Error("a view does not share the model")
	}
	// The view's limits apply to its sessions.
	if _, err := v.NewSession().Predict(keras.NewTensor(1, 8)); !errors.Is(err, keras.ErrLimit) {
		t.Errorf("session of a view: %v, want ErrLimit", err)
	}
}

// TestDefaultMaxSequenceLength: with no bound set, a batch call longer
// than DefaultMaxSequenceLength steps fails with ErrLimit before any work;
// a negative bound lifts it and a set bound replaces it.
func TestDefaultMaxSequenceLength(t *testing.T) {
	m := loadExample(t)
	ids := make([]int, keras.DefaultMaxSequenceLength+1)
	x, err := keras.FromTokenIDs(ids, 1, len(ids))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Predict(x)
	if !errors.Is(err, keras.ErrLimit) || !strings.Contains(err.Error(), "exceeds the limit of 1048576 (MaxSequenceLength)") {
		t.Fatalf("got %v, want the default sequence limit", err)
	}
	if got := loadExample(t, keras.WithMaxSequenceLength(-1)).CallOptions().MaxSequenceLength; got != -1 {
		t.Errorf("WithMaxSequenceLength(-1) gave %d", got)
	}
	short, err := keras.FromTokenIDs(make([]int, 20), 1, 20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.WithCallOptions(keras.CallOptions{MaxSequenceLength: 10}).Predict(short); !errors.Is(err, keras.ErrLimit) {
		t.Errorf("a set bound of 10: got %v", err)
	}
	if _, err := m.Predict(short); err != nil {
		t.Errorf("20 steps under the default: %v", err)
	}
}
