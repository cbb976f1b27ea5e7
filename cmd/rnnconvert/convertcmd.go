package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"

	"github.com/rnnkit/rnnkit/keras"
)

var convertCmd = command{
	name: "convert",
	synopsis: []string{
		"IN -o OUT.keras [--force] [--allow-approx] [--fp16] [--weights-only]",
		"--config model.json --weights WEIGHTS -o OUT.keras ...",
	},
	summary: `Writes any model rnnkit reads (legacy HDF5 of Keras 1, 2, tf.keras and 3; .keras;
an architecture JSON with its weights; tf.keras SavedModels; TF.js layers models)
as a Keras 3 .keras file that Keras 3's keras.models.load_model reads, then
verifies it: rnnkit loads OUT back and runs the original and the converted model
on the same generated inputs (token ids in range where an Embedding reads them,
with padding for masks), and reports the largest difference. A difference over
the tolerance (1e-5 + 1e-4 relative) is an error and leaves no file.

"rnnconvert IN" alone writes <stem of IN>.keras in the working directory. An
existing OUT is kept unless --force. Semantics Keras 3 cannot express (Keras 1
and 2 define hard_sigmoid as clip(0.2x + 0.5, 0, 1), Keras 3 as relu6(x + 3) / 6)
are refused with the layer, the option and the output difference Keras 3's
reading would cause, unless --allow-approx writes the file anyway.`,
	examples: []string{
		"rnnconvert testdata/example/char_gru_generator/model.h5",
		"rnnconvert convert testdata/example/char_gru_generator/model.h5 -o /tmp/char_gru.keras --force",
		"rnnconvert convert --config testdata/example/char_gru_generator/model.json --weights testdata/example/char_gru_generator/model.weights.h5 -o /tmp/m.keras",
	},
}

// runConvert implements "rnnconvert convert" and, with bare, the form
// "rnnconvert IN" that names the output after the input.
func runConvert(args []string, bare bool, stdout, stderr io.Writer) int {
	fs := convertCmd.flags(stderr)
	var mf modelFlags
	mf.register(fs, "convert")
	out := fs.String("o", "", "the `OUT.keras` file to write (default: <stem of IN>.keras in the working directory)")
	force := fs.Bool("force", false, "overwrite OUT if it exists")
	allowApprox := fs.Bool("allow-approx", false, "write options Keras 3 reads with another meaning (Keras 1/2 hard_sigmoid), printing the difference")
	fp16 := fs.Bool("fp16", false, "store the weights as float16 (the verify step reports the error this causes)")
	weightsOnly := fs.Bool("weights-only", false, "write only a Keras 3 .weights.h5 (model.save_weights) at OUT")
	pos, code, done := convertCmd.parse(fs, args, stdout, stderr)
	if done {
		return code
	}
	m, err := mf.load(pos)
	if err != nil {
		return convertFailed(stderr, err)
	}
	dst := *out
	if dst == "" {
		if len(pos) != 1 {
			return usageError(stderr, "convert needs -o OUT.keras with --config/--weights")
		}
		ext := ".keras"
		if *weightsOnly {
			ext = ".weights.h5"
		}
		dst = stem(pos[0]) + ext
	}
	if _, err := os.Stat(dst); err == nil && !*force {
		return fail(stderr, fmt.Errorf("rnnconvert: %s exists: pass --force to overwrite it", dst))
	}
	if fi, err := os.Stat(filepath.Dir(dst)); err != nil || !fi.IsDir() {
		return fail(stderr, fmt.Errorf("rnnconvert: cannot write %s: folder %s does not exist", dst, filepath.Dir(dst)))
	}
	// Write beside OUT under a temporary name; only a verified file takes
	// OUT's name.
	tmpFile, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*"+filepath.Ext(dst))
	if err != nil {
		return fail(stderr, fmt.Errorf("rnnconvert: cannot write %s: %w", dst, err))
	}
	tmp := tmpFile.Name()
	tmpFile.Close()
	keep := false
	defer func() {
		if !keep {
			os.Remove(tmp)
		}
	}()
	rep, err := m.SaveKeras(tmp, keras.SaveOptions{Float16: *fp16, WeightsOnly: *weightsOnly})
	if err != nil {
		return fail(stderr, fmt.Errorf("rnnconvert: %s: %w", dst, err))
	}
	var back *keras.Model
	if *weightsOnly {
		back, err = reloadWeightsOnly(m, tmp)
	} else {
		back, err = keras.Load(tmp)
	}
	if err != nil {
		return fail(stderr, fmt.Errorf("rnnconvert: the written file does not load back: %w", err))
	}
	diff, err := compareModels(m, back)
	if err != nil {
		return fail(stderr, fmt.Errorf("rnnconvert: verifying %s: %w", dst, err))
	}
	// A rescaled hard_sigmoid is exact up to float32 rounding, which a
	// sensitive model can amplify past the tolerance: then it counts as
	// an approximation too.
	inexact := len(rep.Approximations) > 0 || (len(rep.Rescaled) > 0 && !diff.ok)
	if inexact && !*allowApprox {
		var b strings.Builder
		fmt.Fprintf(&b, "rnnconvert: %s: Keras 3 cannot express what this model computes:", pos0(pos, mf.config))
		for _, a := range rep.Approximations {
			fmt.Fprintf(&b, "\n  %s", a)
		}
		if !diff.ok {
			for _, r := range rep.Rescaled {
				fmt.Fprintf(&b, "\n  %s, which changes float32 rounding", r)
			}
		}
		fmt.Fprintf(&b, "\nKeras 3's reading of the converted file differs by up to %.3g on generated inputs (at %s); pass --allow-approx to write it anyway", diff.max, diff.where)
		return fail(stderr, errors.New(b.String()))
	}
	if !diff.ok && !inexact && !*fp16 {
		return fail(stderr, fmt.Errorf("rnnconvert: the converted model differs from the original by up to %.3g (at %s), over the tolerance 1e-5 + 1e-4 relative: not written", diff.max, diff.where))
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fail(stderr, fmt.Errorf("rnnconvert: %w", err))
	}
	keep = true
	fmt.Fprintf(stdout, "wrote %s: %d layers, %d parameters", dst, rep.Layers, rep.Params)
	if *fp16 {
		fmt.Fprint(stdout, ", float16 weights")
	}
	fmt.Fprintln(stdout)
	for _, r := range rep.Rescaled {
		fmt.Fprintf(stdout, "rewritten: %s\n", r)
	}
	for _, a := range rep.Approximations {
		fmt.Fprintf(stdout, "approximated: %s\n", a)
	}
	fmt.Fprintf(stdout, "verified: rnnkit's outputs of the original and of %s on generated inputs differ by at most %.3g", filepath.Base(dst), diff.max)
	if diff.ok {
		fmt.Fprintln(stdout, " (within 1e-5 + 1e-4 relative)")
	} else {
		fmt.Fprintln(stdout, " (over the tolerance)")
	}
	return 0
}

func pos0(pos []string, config string) string {
	if len(pos) > 0 {
		return pos[0]
	}
	return config
}

// convertFailed reports a load error, naming what to pass for a
// weights-only input.
func convertFailed(stderr io.Writer, err error) int {
	if errors.Is(err, keras.ErrNoArchitecture) {
		return fail(stderr, fmt.Errorf("%w\nrnnconvert: the file holds only weights: pass the architecture too, as --config model.json --weights FILE", err))
	}
	return status(stderr, err)
}

// stem is IN's base name without its format's extension, for the default
// output name: model.h5 → model, saved_model_dir → saved_model_dir,
// model.json → model.
func stem(in string) string {
	base := filepath.Base(filepath.Clean(in))
	for _, ext := range []string{".weights.h5", ".keras", ".hdf5", ".h5", ".json"} {
		if strings.HasSuffix(strings.ToLower(base), ext) && len(base) > len(ext) {
			return base[:len(base)-len(ext)]
		}
	}
	return base
}

// reloadWeightsOnly loads a written .weights.h5 with the original model's
// architecture.
func reloadWeightsOnly(m *keras.Model, weights string) (*keras.Model, error) {
	cfg, err := os.CreateTemp("", "rnnconvert-*.json")
	if err != nil {
		return nil, err
	}
	defer os.Remove(cfg.Name())
	raw, err := m.Keras3ConfigJSON()
	if err != nil {
		return nil, err
	}
	if _, err := cfg.Write(raw); err != nil {
		return nil, err
	}
	cfg.Close()
	return keras.LoadConfigAndWeights(cfg.Name(), weights)
}

type modelDiff struct {
	max   float64
	where string
	ok    bool
}

// compareModels runs a and b on the same generated inputs (two batches:
// one of short sequences, one long with padding) and returns their
// largest output difference.
func compareModels(a, b *keras.Model) (modelDiff, error) {
	d := modelDiff{ok: true}
	rng := rand.New(rand.NewSource(1))
	ran := 0
	var firstErr error
	for _, style := range []inputStyle{{steps: 3, scale: 1}, {steps: 9, scale: 1}, {steps: 9, scale: 0.1}, {steps: 9, oneHot: true}} {
		xs, err := generatedInputs(a, rng, style)
		if err != nil {
			return d, err
		}
		ya, err := a.NewSession().Predict(xs...)
		if err != nil {
			// Some inputs do not fit some models (3 steps under a
			// cropping of 3): try the other styles.
			if firstErr == nil {
				firstErr = fmt.Errorf("original model: %w", err)
			}
			continue
		}
		ran++
		yb, err := b.NewSession().Predict(xs...)
		if err != nil {
			return d, fmt.Errorf("converted model: %w", err)
		}
		if len(ya) != len(yb) {
			return d, fmt.Errorf("%d outputs, the original has %d", len(yb), len(ya))
		}
		for i := range ya {
			if len(ya[i].Data) != len(yb[i].Data) {
				return d, fmt.Errorf("output %d has shape %v, the original's is %v", i, yb[i].Shape, ya[i].Shape)
			}
			for j, v := range ya[i].Data {
				w := yb[i].Data[j]
				diff := math.Abs(float64(v) - float64(w))
				if math.IsNaN(diff) && !(math.IsNaN(float64(v)) && math.IsNaN(float64(w))) {
					diff = math.Inf(1)
				}
				if diff > d.max {
					d.max, d.where = diff, fmt.Sprintf("output %d, value %d", i, j)
				}
				if !(diff <= keras.DefaultAtol+keras.DefaultRtol*math.Abs(float64(v))) && !math.IsNaN(float64(v)) {
					d.ok = false
				}
			}
		}
	}
	if ran == 0 {
		return d, firstErr
	}
	return d, nil
}

// inputStyle is one kind of generated input: values uniform in
// [-scale, scale), or one-hot rows (as character models take), with open
// time dimensions of steps. Saturating inputs hide what small ones show
// (a rescaled hard_sigmoid is exact where it clips), so verify runs all.
type inputStyle struct {
	steps  int
	scale  float32
	oneHot bool
}

// generatedInputs builds one batch for every input of m: token ids below
// the vocabulary size (the last row padded with zeros from its middle, so
// that masks take effect), float values in the given style otherwise;
// open dimensions get steps (time) or 2 (batch, and any other).
func generatedInputs(m *keras.Model, rng *rand.Rand, style inputStyle) ([]*keras.Tensor, error) {
	steps := style.steps
	var xs []*keras.Tensor
	for _, spec := range m.Inputs() {
		if spec.Shape == nil {
			return nil, fmt.Errorf("input %q has no declared shape to generate data for", spec.Name)
		}
		shape := append([]int(nil), spec.Shape...)
		n := 1
		for i, dim := range shape {
			if dim < 0 {
				switch i {
				case 0:
					shape[i] = 2
				case 1:
					shape[i] = steps
				default:
					shape[i] = 4
				}
			}
			n *= shape[i]
		}
		if spec.TokenIDs {
			v := max(spec.VocabularySize, 2)
			ids := make([]int, n)
			for i := range ids {
				ids[i] = 1 + rng.Intn(v-1)
			}
			if len(shape) >= 2 && shape[0] > 1 {
				row := n / shape[0]
				for i := row*(shape[0]-1) + row/2; i < n; i++ {
					ids[i] = 0
				}
			}
			x, err := keras.FromTokenIDs(ids, shape...)
			if err != nil {
				return nil, err
			}
			xs = append(xs, x)
			continue
		}
		data := make([]float32, n)
		last := shape[len(shape)-1]
		for i := range data {
			switch {
			case style.oneHot && last > 1:
				if i%last == 0 {
					data[i+rng.Intn(last)] = 1
				}
			case !style.oneHot:
				data[i] = (rng.Float32()*2 - 1) * style.scale
			}
		}
		x, err := keras.FromFloat32(data, shape...)
		if err != nil {
			return nil, err
		}
		xs = append(xs, x)
	}
	return xs, nil
}
