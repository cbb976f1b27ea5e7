package generate

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/runtime"
	"github.com/rnnkit/rnnkit/text"
)

const goldenDir = "../testdata/goldens-text"

type genCase struct {
	Window int `json:"window"`
	Steps  int `json:"steps"`
	Files  struct {
		Tokenizer string   `json:"tokenizer"`
		Generated string   `json:"generated"`
		Models    []string `json:"models"`
	} `json:"files"`
}

type genExpect struct {
	Seed      string  `json:"seed"`
	IDs       []int   `json:"ids"`
	Text      string  `json:"text"`
	MinMargin float64 `json:"min_margin"`
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// The gen_* goldens: Keras' greedy window loop, reproduced id for id.
func TestGoldenGenerate(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(goldenDir, "gen_*"))
	if len(dirs) == 0 {
		t.Fatal("no gen_* goldens")
	}
	n := 0
	for _, dir := range dirs {
		var c genCase
		readJSON(t, filepath.Join(dir, "case.json"), &c)
		var want []genExpect
		readJSON(t, filepath.Join(dir, c.Files.Generated), &want)
		tok, err := text.LoadTokenizer(filepath.Join(dir, c.Files.Tokenizer))
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range c.Files.Models {
			t.Run(filepath.Base(dir)+"/"+mf, func(t *testing.T) {
				m, err := keras.Load(filepath.Join(dir, mf))
				if err != nil {
					t.Fatal(err)
				}
				g, err := New(m, tok, Options{Steps: c.Steps, Window: c.Window})
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range want {
					r, err := g.Generate(context.Background(), w.Seed)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(r.IDs, w.IDs) || r.Text != w.Text {
						t.Errorf("seed %q:\n got %v %q\nwant %v %q", w.Seed, r.IDs, r.Text, w.IDs, w.Text)
					}
					n++
				}
			})
		}
	}
	t.Logf("%d generations match Keras", n)
}

func loadGen(t testing.TB, opts Options) *Generator {
	t.Helper()
	dir := filepath.Join(goldenDir, "gen_word_gru_en")
	tok, err := text.LoadTokenizer(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := keras.Load(filepath.Join(dir, "model.keras"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(m, tok, opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestSamplingReproducible(t *testing.T) {
	run := func(seed uint64, o Options) []int {
		o.Rand = rand.New(rand.NewPCG(seed, 1))
		r, err := loadGen(t, o).Generate(context.Background(), "the movie")
		if err != nil {
			t.Fatal(err)
		}
		return r.IDs
	}
	for _, o := range []Options{
		{Steps: 20, Temperature: 1},
		{Steps: 20, Temperature: 0.7, TopK: 5},
		{Steps: 20, Temperature: 1.3, TopP: 0.9},
		{Steps: 20, Temperature: 1, TopK: 3, TopP: 0.5},
	} {
		a, b := run(7, o), run(7, o)
		if !slices.Equal(a, b) || len(a) != 20 {
			t.Errorf("%+v: same seed, different ids %v %v", o, a, b)
		}
	}
	// top-k 1 is greedy whatever the temperature.
	greedy, err := loadGen(t, Options{Steps: 12}).Generate(context.Background(), "the movie")
	if err != nil {
		t.Fatal(err)
	}
	if k1 := run(3, Options{Steps: 12, Temperature: 2, TopK: 1}); !slices.Equal(k1, greedy.IDs) {
		t.Errorf("top-k 1: %v, greedy %v", k1, greedy.IDs)
	}
	// A tiny top-p keeps only the most likely token: greedy again.
	if p := run(3, Options{Steps: 12, Temperature: 1, TopP: 1e-9}); !slices.Equal(p, greedy.IDs) {
		t.Errorf("top-p 1e-9: %v, greedy %v", p, greedy.IDs)
	}
}

func TestStopIDs(t *testing.T) {
	g := loadGen(t, Options{Steps: 12})
	full, err := g.Generate(context.Background(), "the movie was")
	if err != nil {
		t.Fatal(err)
	}
	stop := full.IDs[3]
	first := slices.Index(full.IDs, stop)
	g = loadGen(t, Options{Steps: 12, StopIDs: []int{stop}})
	r, err := g.Generate(context.Background(), "the movie was")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.IDs, full.IDs[:first]) {
		t.Errorf("stop at %d: %v, want %v", stop, r.IDs, full.IDs[:first])
	}
}

func TestBadOptions(t *testing.T) {
	dir := filepath.Join(goldenDir, "gen_word_gru_en")
	tok, _ := text.LoadTokenizer(filepath.Join(dir, "tokenizer.json"))
	m, err := keras.Load(filepath.Join(dir, "model.keras"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{
		{Window: 7}, // the model takes 6
		{Window: -1},
		{Steps: -1},
		{Temperature: 1}, // no Rand
		{TopK: 3},        // greedy with top-k
		{Temperature: 1, Rand: rand.New(rand.NewPCG(1, 1)), TopP: 1.5},
	} {
		if _, err := New(m, tok, o); !errors.Is(err, ErrOptions) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	g, _ := New(m, tok, Options{})
	if _, err := g.Generate(context.Background(), "x"); !errors.Is(err, ErrOptions) {
		t.Errorf("Generate without Steps: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g, _ = New(m, tok, Options{Steps: 3})
	if _, err := g.Generate(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestStepAllocatesNothing(t *testing.T) {
	for _, o := range []Options{{}, {Temperature: 0.8, TopK: 10, TopP: 0.9, Rand: rand.New(rand.NewPCG(1, 2))}} {
		g := loadGen(t, o)
		s, err := g.Start("the movie was")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ { // warm up the session's buffers
			if _, err := s.Next(); err != nil {
				t.Fatal(err)
			}
		}
		allocs := testing.AllocsPerRun(50, func() {
			if _, err := s.Next(); err != nil && err != io.EOF {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%+v: %v allocations per step", o, allocs)
		}
	}
}

// Stream mode on a model with an open sequence length: feeding one id per
// step through NewStream gives the ids that re-predicting on the whole
// growing sequence gives (Keras' O(T^2) loop without padding).
func TestStreamModeMatchesFullRecompute(t *testing.T) {
	m, err := keras.Load("../testdata/example/char_gru_generator/model.keras")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := text.NewTokenizer(text.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(m, tok, Options{Steps: 10})
	if err != nil {
		t.Fatal(err)
	}
	if g.Window() != 0 {
		t.Fatalf("window %d, want stream mode", g.Window())
	}
	prompt := []int{3, 7, 1, 12, 5}
	s, err := g.StartIDs(prompt)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for {
		id, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, id)
	}
	seq := slices.Clone(prompt)
	var want []int
	for len(want) < 10 {
		x := runtime.NewTensor(1, len(seq))
		for i, id := range seq {
			x.Data[i] = float32(id)
		}
		out, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		last := out[0].Data[len(out[0].Data)-30:]
		best := 0
		for i, v := range last {
			if v > last[best] {
				best = i
			}
		}
		want = append(want, best)
		seq = append(seq, best)
	}
	if !slices.Equal(got, want) {
		t.Errorf("stream %v, full recompute %v", got, want)
	}
}
