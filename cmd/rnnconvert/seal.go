package main

import (
	"fmt"
	"io"
	"os"

	"github.com/rnnkit/rnnkit/keras"
)

var sealCmd = command{
	name: "seal",
	synopsis: []string{
		"MODEL [--case DIR]",
		"--config model.json --weights WEIGHTS [--case DIR]",
	},
	summary: `Writes MODEL.sha256 beside MODEL, in sha256sum format (sha256sum -c checks it
from MODEL's folder): one line per file of the model (the file, a TF.js
model.json's shards, every file of a SavedModel folder). Loading MODEL checks
it whenever it is there and fails on a mismatch (keras.ErrIntegrity). With
--case DIR, the case's inputs and the outputs Keras computed (case.json,
x*.npy, y*.npy) are stored first as self-check vectors, MODEL.selfcheck.npz,
after checking that MODEL reproduces them; the manifest covers them too.
rnnconvert verify MODEL and keras.WithSelfCheck() replay them. With --config
and --weights, both files get a manifest and the vectors sit beside WEIGHTS.`,
	examples: []string{
		"rnnconvert seal /tmp/model.keras --case testdata/example/char_gru_generator",
		"rnnconvert verify /tmp/model.keras",
	},
}

func runSeal(args []string, stdout, stderr io.Writer) int {
	fs := sealCmd.flags(stderr)
	var mf modelFlags
	mf.register(fs, "seal")
	caseDir := fs.String("case", "", "reference case `DIR` (case.json, x*.npy, y*.npy) whose vectors to store as MODEL.selfcheck.npz")
	pos, code, done := sealCmd.parse(fs, args, stdout, stderr)
	if done {
		return code
	}
	var targets []string // files to seal; the last holds the vectors
	switch {
	case mf.config != "" || mf.weights != "":
		if mf.config == "" || mf.weights == "" || len(pos) != 0 {
			return usageError(stderr, "give either MODEL or both --config and --weights")
		}
		targets = []string{mf.config, mf.weights}
	case len(pos) == 1:
		targets = pos
	default:
		return usageError(stderr, "want exactly one MODEL (or --config and --weights), got %d arguments", len(pos))
	}
	for _, t := range targets {
		if _, err := os.Stat(t); err != nil {
			return fail(stderr, fmt.Errorf("rnnconvert: %w", err))
		}
	}
	if *caseDir != "" {
		c, err := keras.ReadCase(*caseDir)
		if err != nil {
			return fail(stderr, err)
		}
		// Load without the old manifest: the model is being resealed.
		opts, err := mf.options()
		if err != nil {
			return status(stderr, err)
		}
		opts = append(opts, keras.WithoutSHA256Manifest())
		var m *keras.Model
		if len(targets) == 2 {
			m, err = keras.LoadConfigAndWeights(targets[0], targets[1], opts...)
		} else {
			m, err = keras.Load(targets[0], opts...)
		}
		if err != nil {
			return fail(stderr, mf.explain(err))
		}
		vectors := targets[len(targets)-1]
		p, err := keras.WriteSelfCheck(vectors, c)
		if err != nil {
			return fail(stderr, err)
		}
		results, err := keras.RunSelfCheck(m, p)
		ok := err == nil
		for i := range results {
			ok = printResult(stdout, &results[i]) && ok
		}
		if !ok {
			os.Remove(p)
			if err != nil {
				fmt.Fprintln(stderr, err)
			}
			fmt.Fprintf(stderr, "rnnconvert: the model does not reproduce case %s: not sealed\n", c.Name)
			return 1
		}
		fmt.Fprintf(stdout, "wrote %s (%d outputs of case %s)\n", p, len(results), c.Name)
	}
	for _, t := range targets {
		p, err := keras.SealSHA256(t)
		if err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	return 0
}

// verifySelfCheck replays the self-check vectors beside the model (MODEL,
// or --weights) for rnnconvert verify MODEL.
func verifySelfCheck(m *keras.Model, mf *modelFlags, pos []string, stdout, stderr io.Writer) int {
	target := mf.weights
	if len(pos) == 1 {
		target = pos[0]
	}
	p := keras.SelfCheckPath(target)
	if _, err := os.Stat(p); err != nil {
		return usageError(stderr, "no --input/--expect given and no self-check vectors %s: pass the inputs and Keras' outputs, or store them with rnnconvert seal %s --case DIR", p, target)
	}
	results, err := keras.RunSelfCheck(m, p)
	ok := err == nil
	for i := range results {
		ok = printResult(stdout, &results[i]) && ok
	}
	if err != nil {
		return fail(stderr, err)
	}
	if !ok {
		fmt.Fprintln(stderr, "rnnconvert: outputs out of tolerance: the model does not reproduce its self-check vectors")
		return 1
	}
	fmt.Fprintf(stdout, "self-check passed: %d outputs of %s\n", len(results), p)
	return 0
}
