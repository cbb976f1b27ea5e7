package keras

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rnnkit/rnnkit/runtime"
)

// Default tolerance of a comparison: |got - want| <= atol + rtol*|want|.
const (
	DefaultAtol = 1e-5
	DefaultRtol = 1e-4
)

// Case is a reference case folder as the rnnkit goldens lay it out: a
// case.json, the model in one or more formats, inputs x<i>.npy and the
// outputs y<j>.npy that real Keras computed. rnnconvert verify --case and
// the golden tests run them.
type Case struct {
	// Dir is the case folder.
	Dir  string
	Name string `json:"name"`
	// Description says what the case exercises.
	Description  string `json:"description"`
	KerasVersion string `json:"keras_version"`
	// Formats lists the model formats the case ships: "keras"
	// (model.keras), "h5" (legacy full model), "weights_h5+json" (model.json
	// + model.weights.h5). FormatFiles gives each format's files.
	Formats     []string            `json:"formats"`
	FormatFiles map[string][]string `json:"format_files"`
	// Calls are the predict calls in order, on one session.
	Calls    []CaseCall `json:"calls"`
	Stateful bool       `json:"stateful"`
	// Tolerance of the comparison; zero values mean the defaults.
	Tolerance struct {
		Atol float64 `json:"atol"`
		Rtol float64 `json:"rtol"`
	} `json:"tolerance"`
	// Reference is false for a case without outputs (a model that must
	// load, or fail clearly, but has nothing to compare with).
	Reference *bool `json:"reference"`
	// Artifact names the model files of a real-world case, whose
	// case.json sits in an expected/ folder beside them; such a case has
	// the single format "artifact".
	Artifact *struct {
		Files  []string `json:"files"`
		Format string   `json:"format"`
	} `json:"artifact"`
}

// CaseCall is one predict call of a Case.
type CaseCall struct {
	Inputs            []string `json:"inputs"`
	Outputs           []string `json:"outputs"`
	ResetStatesBefore bool     `json:"reset_states_before"`
}

// ReadCase reads dir/case.json.
func ReadCase(dir string) (*Case, error) {
	data, err := os.ReadFile(filepath.Join(dir, "case.json"))
	if err != nil {
		return nil, fmt.Errorf("keras: case: %w", err)
	}
	c := &Case{Dir: dir}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("keras: case %s: case.json: %w", dir, err)
	}
	if len(c.Formats) == 0 && c.Artifact != nil && len(c.Artifact.Files) > 0 {
		c.Formats = []string{"artifact"}
	}
	if c.Tolerance.Atol == 0 && c.Tolerance.Rtol == 0 {
		c.Tolerance.Atol, c.Tolerance.Rtol = DefaultAtol, DefaultRtol
	}
	return c, nil
}

// Load loads the case's model in one of its formats.
func (c *Case) Load(format string, opts ...Option) (*Model, error) {
	if format == "artifact" && c.Artifact != nil {
		return c.loadArtifact(opts)
	}
	files := c.FormatFiles[format]
	if len(files) == 0 {
		switch format {
		case "keras":
			files = []string{"model.keras"}
		case "h5":
			files = []string{"model.h5"}
		case "weights_h5+json":
			files = []string{"model.json", "model.weights.h5"}
		}
	}
	switch {
	case len(files) == 1:
		return Load(filepath.Join(c.Dir, files[0]), opts...)
	case len(files) == 2:
		cfg, w := files[0], files[1]
		if filepath.Ext(w) == ".json" {
			cfg, w = w, cfg
		}
		return LoadConfigAndWeights(filepath.Join(c.Dir, cfg), filepath.Join(c.Dir, w), opts...)
	}
	return nil, fmt.Errorf("keras: case %s: format %q: no files", c.Name, format)
}

// loadArtifact loads a real-world case's model from the folder above its
// expected/ folder.
func (c *Case) loadArtifact(opts []Option) (*Model, error) {
	dir := filepath.Dir(filepath.Clean(c.Dir))
	files := c.Artifact.Files
	if len(files) == 0 {
		return nil, fmt.Errorf("keras: case %s: artifact lists no files", c.Name)
	}
	var jsonFile string
	for _, f := range files {
		if strings.HasSuffix(f, ".json") {
			jsonFile = f
		}
	}
	switch {
	case strings.Contains(files[0], "/"):
		// A SavedModel directory: its files are listed under it.
		return Load(filepath.Join(dir, strings.Split(files[0], "/")[0]), opts...)
	case strings.HasPrefix(c.Artifact.Format, "tfjs") && jsonFile != "":
		return Load(filepath.Join(dir, jsonFile), opts...)
	case len(files) == 2 && jsonFile != "":
		w := files[0]
		if w == jsonFile {
			w = files[1]
		}
		return LoadConfigAndWeights(filepath.Join(dir, jsonFile), filepath.Join(dir, w), opts...)
	}
	return Load(filepath.Join(dir, files[0]), opts...)
}

// OutputResult is the comparison of one output tensor with Keras'.
type OutputResult struct {
	// File is the expected output's file name ("y0.npy").
	File string
	// Call is the index of the predict call that produced it.
	Call int
	// Shape is the expected shape; Err is set when the shapes differ or
	// the run failed before producing it.
	Shape []int
	Err   error
	// N counts compared values, Bad those outside the tolerance.
	N, Bad int
	// MaxAbsErr is the largest |got - want|, at flat index MaxIndex.
	MaxAbsErr float64
	MaxIndex  int
	// FirstBad is the flat index of the first value outside the
	// tolerance (-1 when none), with its values.
	FirstBad      int
	GotAt, WantAt float32
}

// OK reports whether every value is within tolerance.
func (r *OutputResult) OK() bool { return r.Err == nil && r.Bad == 0 }

func (r *OutputResult) String() string {
	if r.Err != nil {
		return fmt.Sprintf("%s (call %d): %v", r.File, r.Call, r.Err)
	}
	s := fmt.Sprintf("%s (call %d) %v: max |err| %.3g at flat index %d", r.File, r.Call, r.Shape, r.MaxAbsErr, r.MaxIndex)
	if r.Bad > 0 {
		s += fmt.Sprintf("; %d of %d values out of tolerance, first at flat index %d: got %v, want %v", r.Bad, r.N, r.FirstBad, r.GotAt, r.WantAt)
	}
	return s
}

// Compare checks got against want value by value: |got - want| <= atol +
// rtol*|want|, NaN matching NaN.
func Compare(got, want *runtime.Tensor, atol, rtol float64) OutputResult {
	r := OutputResult{Shape: append([]int(nil), want.Shape...), FirstBad: -1}
	if !slices.Equal(got.Shape, want.Shape) || len(got.Data) != len(want.Data) {
		r.Err = fmt.Errorf("got shape %v, want %v", got.Shape, want.Shape)
		return r
	}
	r.N = len(want.Data)
	for i, w := range want.Data {
		g := got.Data[i]
		wf, gf := float64(w), float64(g)
		var diff float64
		switch {
		case math.IsNaN(wf) && math.IsNaN(gf):
			continue
		case math.IsNaN(wf) || math.IsNaN(gf):
			diff = math.Inf(1)
		case wf == gf:
			continue // also equal infinities
		default:
			diff = math.Abs(gf - wf)
		}
		if diff > r.MaxAbsErr || (r.MaxAbsErr == 0 && diff > 0) {
			r.MaxAbsErr, r.MaxIndex = diff, i
		}
		if !(diff <= atol+rtol*math.Abs(wf)) {
			if r.Bad == 0 {
				r.FirstBad, r.GotAt, r.WantAt = i, g, w
			}
			r.Bad++
		}
	}
	return r
}

// Run runs every call of the case in order on one Session of m (so
// stateful layers carry their states from call to call, reset only where
// the case says) and compares each output with Keras'. It returns one
// result per expected output; the error reports inputs that could not be
// read or a call that failed.
func (c *Case) Run(m *Model) ([]OutputResult, error) {
	s := m.NewSession()
	var results []OutputResult
	for ci, call := range c.Calls {
		if call.ResetStatesBefore && ci > 0 {
			s.Reset()
		}
		inputs := make([]*runtime.Tensor, len(call.Inputs))
		for i, f := range call.Inputs {
			t, err := ReadNPYFile(filepath.Join(c.Dir, f))
			if err != nil {
				return results, fmt.Errorf("keras: case %s: %w", c.Name, err)
			}
			inputs[i] = t
		}
		outs, err := s.Predict(inputs...)
		if err != nil {
			return results, fmt.Errorf("keras: case %s: call %d: %w", c.Name, ci, err)
		}
		if len(outs) != len(call.Outputs) {
			return results, fmt.Errorf("keras: case %s: call %d: model gave %d outputs, case expects %d", c.Name, ci, len(outs), len(call.Outputs))
		}
		for j, f := range call.Outputs {
			want, err := ReadNPYFile(filepath.Join(c.Dir, f))
			if err != nil {
				return results, fmt.Errorf("keras: case %s: %w", c.Name, err)
			}
			r := Compare(outs[j], want, c.Tolerance.Atol, c.Tolerance.Rtol)
			r.File, r.Call = f, ci
			results = append(results, r)
		}
	}
	return results, nil
}
