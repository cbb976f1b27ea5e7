package keras_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rnnkit/rnnkit/keras"
)

// corruptUnit is one model of testdata as Load sees it: a file, a
// config + weights pair, or a directory (SavedModel, TF.js), held in
// memory so that mutants never touch the disk.
type corruptUnit struct {
	name  string       // path under testdata, for messages
	files fstest.MapFS // the model's files
	// load loads the model from fsys.
	load func(fsys fs.FS) (*keras.Model, error)
	// targets are the files mutated; checked lists those whose format
	// carries checksums over all their content (.keras members, the
	// TensorBundle), where a mutant must fail or compute the same.
	targets []string
	checked map[string]bool
	size    int
}

// corruptUnits lists every golden and real-world model of testdata.
func corruptUnits(t *testing.T) []*corruptUnit {
	var units []*corruptUnit
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	single := func(p string) {
		base := filepath.Base(p)
		u := &corruptUnit{name: p, files: fstest.MapFS{base: {Data: read(p)}}, targets: []string{base}, checked: map[string]bool{}}
		u.checked[base] = strings.HasSuffix(base, ".keras")
		u.load = func(fsys fs.FS) (*keras.Model, error) { return keras.LoadFS(fsys, base) }
		units = append(units, u)
	}
	dirUnit := func(dir string) {
		u := &corruptUnit{name: dir, files: fstest.MapFS{}, checked: map[string]bool{}}
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(p, ".md") {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			rel = filepath.ToSlash(rel)
			u.files[rel] = &fstest.MapFile{Data: read(p)}
			u.targets = append(u.targets, rel)
			u.checked[rel] = strings.HasPrefix(rel, "variables/")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		u.load = func(fsys fs.FS) (*keras.Model, error) { return keras.LoadFS(fsys, ".") }
		units = append(units, u)
	}
	err := filepath.WalkDir("../testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch filepath.Base(filepath.Dir(p)) {
			case "savedmodel", "tfjs":
				dirUnit(p)
				return fs.SkipDir
			}
			if base := filepath.Base(p); base == "h5" || base == "fuzz" {
				return fs.SkipDir // HDF5 fixtures, not models
			}
			cfg, weights := filepath.Join(p, "model.json"), filepath.Join(p, "model.weights.h5")
			if _, err := os.Stat(weights); err == nil {
				if _, err := os.Stat(cfg); err == nil {
					u := &corruptUnit{name: p + "/model.json + model.weights.h5", checked: map[string]bool{},
						files:   fstest.MapFS{"model.json": {Data: read(cfg)}, "model.weights.h5": {Data: read(weights)}},
						targets: []string{"model.json", "model.weights.h5"}}
					u.load = func(fsys fs.FS) (*keras.Model, error) {
						return keras.LoadConfigAndWeightsFS(fsys, "model.json", "model.weights.h5")
					}
					units = append(units, u)
				}
			}
			return nil
		}
		switch {
		case strings.HasSuffix(p, ".keras"), strings.HasSuffix(p, ".h5") && !strings.HasSuffix(p, ".weights.h5"):
			single(p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		for _, f := range u.files {
			u.size += len(f.Data)
		}
	}
	return units
}

// mutant is one damaged copy of a unit's file.
type mutant struct {
	kind string
	file string
	data []byte
}

// zipBoundaries returns the offsets of a zip's structures (local headers,
// central headers, end of central directory) with the offsets of their
// CRC-32 fields.
func zipBoundaries(b []byte) (starts, crcs []int) {
	for i := 0; i+4 <= len(b); i++ {
		if b[i] != 'P' || b[i+1] != 'K' {
			continue
		}
		switch binary.LittleEndian.Uint32(b[i:]) {
		case 0x04034b50: // local file header; CRC at +14
			starts, crcs = append(starts, i), append(crcs, i+14)
		case 0x02014b50: // central directory header; CRC at +16
			starts, crcs = append(starts, i), append(crcs, i+16)
		case 0x06054b50, 0x06064b50, 0x07064b50: // end of central directory (zip64 too)
			starts = append(starts, i)
		}
	}
	return starts, crcs
}

// mutants makes n damaged copies of the unit's files, kinds in turn:
// a bit flip in the first 512 bytes (headers, superblock, signatures), a
// bit flip anywhere, a truncation (at a zip structure boundary for zips),
// and for zips damage to a CRC-32 field.
func mutants(u *corruptUnit, n int, rng *rand.Rand) []mutant {
	var out []mutant
	for k := 0; len(out) < n && k < 4*n; k++ {
		file := u.targets[rng.IntN(len(u.targets))]
		src := u.files[file].Data
		if len(src) == 0 {
			continue
		}
		starts, crcs := zipBoundaries(src)
		isZip := bytes.HasPrefix(src, []byte("PK\x03\x04"))
		b := slices.Clone(src)
		var m mutant
		switch kind := (k + rng.IntN(2)) % 4; {
		case kind == 0:
			i := rng.IntN(min(len(b), 512))
			b[i] ^= 1 << rng.IntN(8)
			m = mutant{kind: fmt.Sprintf("flip header byte %d", i), data: b}
		case kind == 1:
			i := rng.IntN(len(b))
			b[i] ^= 1 << rng.IntN(8)
			m = mutant{kind: fmt.Sprintf("flip byte %d", i), data: b}
		case kind == 2 && isZip && len(starts) > 0:
			i := starts[rng.IntN(len(starts))] + rng.IntN(3) - 1
			i = max(0, min(i, len(b)-1))
			m = mutant{kind: fmt.Sprintf("truncate at zip boundary %d", i), data: b[:i]}
		case kind == 2:
			i := rng.IntN(len(b))
			m = mutant{kind: fmt.Sprintf("truncate at %d", i), data: b[:i]}
		case kind == 3 && isZip && len(crcs) > 0:
			i := crcs[rng.IntN(len(crcs))] + rng.IntN(4)
			if i >= len(b) {
				continue
			}
			b[i] ^= 0xff
			m = mutant{kind: fmt.Sprintf("damage CRC byte %d", i), data: b}
		default:
			// Damage the middle, where weights live.
			i := len(b)/2 + rng.IntN(max(1, len(b)/4))
			b[min(i, len(b)-1)] ^= 0x10
			m = mutant{kind: fmt.Sprintf("flip data byte %d", i), data: b}
		}
		m.file = file
		out = append(out, m)
	}
	return out
}

// TestCorruptModels damages every model file of testdata (bit flips in
// headers and data, truncations, zip CRC damage) and loads and runs each
// mutant: it must fail with an error or, where the format checksums the
// damaged bytes (.keras members, the SavedModel TensorBundle), compute
// exactly what the intact model computes; never panic; and never
// allocate more than 4x the model's size + 256 MB. The default run makes
// 4 mutants per model, about 1 s (-short: 1 per model for a third of
// them); 100 per model take 25 s. Set
// RNNKIT_CORRUPT_MUTANTS=N for N per model, and RNNKIT_CORRUPT_SEED to
// vary them.
func TestCorruptModels(t *testing.T) {
	perUnit, every := 4, 1
	if testing.Short() {
		perUnit, every = 1, 3
	}
	if s := os.Getenv("RNNKIT_CORRUPT_MUTANTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("RNNKIT_CORRUPT_MUTANTS=%q: want a positive count", s)
		}
		perUnit, every = n, 1
	}
	seed := uint64(1)
	if s := os.Getenv("RNNKIT_CORRUPT_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("RNNKIT_CORRUPT_SEED=%q: %v", s, err)
		}
		seed = v
	}
	units := corruptUnits(t)
	if len(units) < 100 {
		t.Fatalf("found %d models in testdata, want the goldens", len(units))
	}
	start := time.Now()
	var tried, loaded, ran, silentOK int
	for ui, u := range units {
		if ui%every != 0 {
			continue
		}
		ref, err := u.load(u.files)
		if err != nil {
			continue // a fixture that does not load intact (an error case)
		}
		inputs := trialInputs(ref)
		var want []*keras.Tensor
		if inputs != nil {
			if want, err = ref.Predict(inputs...); err != nil {
				inputs = nil
			}
		}
		h := fnv.New64a()
		h.Write([]byte(u.name))
		rng := rand.New(rand.NewPCG(seed, h.Sum64()))
		for _, m := range mutants(u, perUnit, rng) {
			tried++
			fsys := fstest.MapFS{}
			for k, v := range u.files {
				fsys[k] = v
			}
			fsys[m.file] = &fstest.MapFile{Data: m.data}
			var got []*keras.Tensor
			var loadErr, runErr error
			var before, after goruntime.MemStats
			goruntime.ReadMemStats(&before)
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s: %s in %s: panic: %v\n%s", u.name, m.kind, m.file, r, debug.Stack())
					}
				}()
				mm, err := u.load(fsys)
				if err != nil {
					loadErr = err
					return
				}
				loaded++
				if inputs != nil {
					got, runErr = mm.Predict(inputs...)
				}
			}()
			goruntime.ReadMemStats(&after)
			if d := after.TotalAlloc - before.TotalAlloc; d > uint64(4*u.size+256<<20) {
				t.Errorf("%s: %s in %s: allocated %d bytes, over 4x the model's %d bytes + 256 MB", u.name, m.kind, m.file, d, u.size)
			}
			if loadErr != nil || runErr != nil || got == nil {
				if e := loadErr; e != nil && len(e.Error()) > 4000 {
					t.Errorf("%s: %s: error message of %d bytes", u.name, m.kind, len(e.Error()))
				}
				continue
			}
			ran++
			if !u.checked[m.file] {
				continue
			}
			if !sameTensors(got, want) {
				t.Errorf("%s: %s in %s: the mutant loads and computes other outputs than the intact model, though the format checksums it", u.name, m.kind, m.file)
			} else {
				silentOK++
			}
		}
	}
	t.Logf("%d models, %d mutants: %d loaded, %d ran (%d checksummed ones identical), in %v",
		len(units), tried, loaded, ran, silentOK, time.Since(start).Round(time.Millisecond))
}

// trialInputs are zero inputs for m: batch 2 (or the fixed batch), 3 for
// every other open dimension. nil when an input has no declared shape.
func trialInputs(m *keras.Model) []*keras.Tensor {
	var out []*keras.Tensor
	for _, spec := range m.Inputs() {
		if spec.Shape == nil {
			return nil
		}
		shape := slices.Clone(spec.Shape)
		for j, d := range shape {
			if d < 0 {
				shape[j] = 3
				if j == 0 {
					shape[j] = 2
				}
			}
		}
		t := keras.NewTensor(shape...)
		for i := range t.Data {
			t.Data[i] = float32(i % 2) // token id 1 is in every vocabulary
		}
		out = append(out, t)
	}
	return out
}

func sameTensors(a, b []*keras.Tensor) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !slices.Equal(a[i].Shape, b[i].Shape) || len(a[i].Data) != len(b[i].Data) {
			return false
		}
		for j, v := range a[i].Data {
			w := b[i].Data[j]
			if v != w && !(v != v && w != w) {
				return false
			}
		}
	}
	return true
}
