package keras_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rnnkit/rnnkit/keras"
)

// goldenDir holds the Keras 3.16 golden cases (copied from the shared
// goldens; testdata/goldens/GENERATOR.md tells how they were made).
const goldenDir = "../testdata/goldens"

// maxReported bounds how many failing outputs one subtest prints.
const maxReported = 8

// TestGolden runs every golden case in every format it ships: one subtest
// per case and format (TestGolden/lstm_basic/keras), so that
// `go test ./keras -run 'Golden/lstm_'` checks one family. All calls of a
// case run in order on one Session; the tolerance comes from case.json.
func TestGolden(t *testing.T) {
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		dir := filepath.Join(goldenDir, e.Name())
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "case.json")); err != nil {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			c, err := keras.ReadCase(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Formats) == 0 {
				// activation_functions_table: raw activation outputs without a
				// model, checked by the layers package's tests.
				t.Skipf("case %s ships no model format", c.Name)
			}
			for _, format := range c.Formats {
				t.Run(format, func(t *testing.T) { runGoldenCase(t, c, format) })
			}
		})
	}
	if n == 0 {
		t.Fatalf("no golden cases under %s", goldenDir)
	}
}

func runGoldenCase(t *testing.T, c *keras.Case, format string) {
	t.Helper()
	m, err := c.Load(format)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	results, err := c.Run(m)
	if err != nil {
		t.Fatal(err)
	}
	reportResults(t, results)
}

// reportResults fails t for every output outside tolerance, naming the
// output, the flat index, got and want.
func reportResults(t *testing.T, results []keras.OutputResult) {
	t.Helper()
	bad := 0
	for i := range results {
		r := &results[i]
		if r.OK() {
			continue
		}
		bad++
		if bad <= maxReported {
			t.Errorf("%s", r)
		}
	}
	if bad > maxReported {
		t.Errorf("... %d more outputs out of tolerance", bad-maxReported)
	}
	if len(results) == 0 {
		t.Errorf("case compared no outputs")
	}
}
