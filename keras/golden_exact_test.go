package keras_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
	"github.com/rnnkit/rnnkit/runtime/kernel"
)

// TestGoldenExactShare runs every golden case in every format and logs how
// many outputs match Keras bit for bit and the largest error, under the
// kernel set in use (kernel.Name; force one with RNNKIT_KERNEL=avx2,
// avx512 or generic). TestGolden fails on outputs out of tolerance; this
// test reports how exact the rest are, and fails if none is exact.
func TestGoldenExactShare(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every golden case again")
	}
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	outputs, exact, values := 0, 0, 0
	worst, worstName := 0.0, ""
	for _, e := range entries {
		dir := filepath.Join(goldenDir, e.Name())
		if _, err := os.Stat(filepath.Join(dir, "case.json")); err != nil {
			continue
		}
		c, err := keras.ReadCase(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range c.Formats {
			m, err := c.Load(format)
			if err != nil {
				continue // TestGolden reports it
			}
			results, err := c.Run(m)
			if err != nil {
				continue
			}
			for _, r := range results {
				if r.Err != nil {
					continue
				}
				outputs++
				values += r.N
				if r.MaxAbsErr == 0 {
					exact++
				}
				if r.MaxAbsErr > worst {
					worst, worstName = r.MaxAbsErr, c.Name+"/"+format+"/"+r.File
				}
			}
		}
	}
	t.Logf("kernel set %s: %d of %d golden outputs (%d values) bit-exact (%.1f%%); largest |error| %.3g in %s",
		kernel.Name(), exact, outputs, values, 100*float64(exact)/float64(max(outputs, 1)), worst, worstName)
	if outputs == 0 || exact == 0 {
		t.Errorf("no golden output compared bit-exact (%d outputs)", outputs)
	}
}
