package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSealAndVerify seals a copy of the example model with its case's
// vectors, verifies it, then damages the model and the vectors.
func TestSealAndVerify(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "model.keras")
	data, err := os.ReadFile(filepath.Join(caseDir, "model.keras"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(model, data, 0o644)
	code, out, errs := runCmd("seal", model, "--case", caseDir)
	if code != 0 || !strings.Contains(out, "wrote "+model+".selfcheck.npz") || !strings.Contains(out, "wrote "+model+".sha256") {
		t.Fatalf("seal: exit %d\n%s\n%s", code, out, errs)
	}
	manifest, _ := os.ReadFile(model + ".sha256")
	if lines := strings.Split(strings.TrimSpace(string(manifest)), "\n"); len(lines) != 2 || !strings.HasSuffix(lines[0], "  model.keras") || !strings.HasSuffix(lines[1], "  model.keras.selfcheck.npz") {
		t.Errorf("manifest:\n%s", manifest)
	}
	code, out, errs = runCmd("verify", model)
	if code != 0 || !strings.Contains(out, "self-check passed") {
		t.Fatalf("verify: exit %d\n%s\n%s", code, out, errs)
	}
	// Damage: the manifest catches it before the self-check runs.
	data[len(data)/2] ^= 1
	os.WriteFile(model, data, 0o644)
	code, _, errs = runCmd("verify", model)
	if code != 1 || !strings.Contains(errs, "model.keras.sha256 records") {
		t.Errorf("damaged: exit %d\n%s", code, errs)
	}
	// No vectors, no inputs: a usage error saying how to store them.
	code, _, errs = runCmd("verify", filepath.Join(caseDir, "model.keras"))
	if code != 2 || !strings.Contains(errs, "rnnconvert seal") {
		t.Errorf("no vectors: exit %d\n%s", code, errs)
	}
	// A case the model does not reproduce is not sealed.
	other := filepath.Join(dir, "other.keras")
	os.WriteFile(other, mustRead(t, "../../testdata/goldens/lstm_seq/model.keras"), 0o644)
	code, _, errs = runCmd("seal", other, "--case", caseDir)
	if code != 1 || fileExists(other+".sha256") || fileExists(other+".selfcheck.npz") {
		t.Errorf("wrong case: exit %d, files left\n%s", code, errs)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
