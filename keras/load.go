package keras

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/h5"
	"github.com/rnnkit/rnnkit/layers"
)

// maxJSONSize bounds how much of a JSON file (architecture, TF.js
// model.json) is read into memory.
const maxJSONSize = 256 << 20

// hdf5Signature starts every HDF5 superblock (HDF5 spec §II.A); with a
// user block it sits at 512, 1024, 2048, ... instead of 0.
var hdf5Signature = []byte("\x89HDF\r\n\x1a\n")

// Load reads a Keras model from path and builds it. The format comes from
// the content, not the file name:
//   - an HDF5 file written by model.save (Keras 1, 2, tf.keras, Keras 3's
//     legacy writer); a weights-only HDF5 file fails with ErrNoArchitecture;
//   - a Keras 3 .keras zip;
//   - a TensorFlow SavedModel directory written by tf.keras;
//   - a TF.js layers model (model.json with a weights manifest, or its
//     directory).
//
// Every layer is built when the model loads, so that all unsupported
// layers are reported at once (UnsupportedLayersError).
func Load(p string, opts ...Option) (*Model, error) {
	m, err := load(p, opts)
	return m, modelError(p, err)
}

func load(p string, opts []Option) (*Model, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	o := collectOptions(opts)
	ifs, iname := integrityRoot(p)
	if err := checkIntegrity(ifs, iname, p, o); err != nil {
		return nil, err
	}
	desc, err := readPath(p, fi.IsDir(), o)
	if err != nil {
		return nil, err
	}
	m, err := build(desc, o)
	if err == nil && o.integrity.selfCheck {
		err = selfCheckOnLoad(m, ifs, iname, p)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// integrityRoot returns the folder holding path p, as an fs.FS, and p's
// name in it: where p's sidecars (MODEL.sha256, MODEL.selfcheck.npz) are.
func integrityRoot(p string) (fs.FS, string) {
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	dir, base := filepath.Split(filepath.Clean(p))
	if base == "" {
		return os.DirFS(dir), "."
	}
	return os.DirFS(dir), base
}

// readPath reads the model description of a file or directory.
func readPath(p string, isDir bool, o *options) (*convert.Model, error) {
	if isDir {
		return readFS(os.DirFS(p), ".", p, o)
	}
	dir, base := filepath.Split(p)
	if dir == "" {
		dir = "."
	}
	return readFS(os.DirFS(dir), base, p, o)
}

// LoadFS is Load reading from fsys; name is a path in fsys (fs.ValidPath).
func LoadFS(fsys fs.FS, name string, opts ...Option) (*Model, error) {
	o := collectOptions(opts)
	if err := checkIntegrity(fsys, name, name, o); err != nil {
		return nil, modelError(name, err)
	}
	desc, err := readFS(fsys, name, name, o)
	if err != nil {
		return nil, modelError(name, err)
	}
	m, err := build(desc, o)
	if err == nil && o.integrity.selfCheck {
		err = selfCheckOnLoad(m, fsys, name, name)
	}
	if err != nil {
		return nil, modelError(name, err)
	}
	return m, nil
}

// LoadConfigAndWeights builds a model from an architecture JSON file
// (model.to_json(), Keras 1 to 3) and a weights file: a Keras 3
// .weights.h5 or a legacy HDF5 weights file (save_weights), told apart by
// content.
func LoadConfigAndWeights(configPath, weightsPath string, opts ...Option) (*Model, error) {
	m, err := loadConfigAndWeights(configPath, weightsPath, opts)
	return m, modelError(configPath+" + "+weightsPath, err)
}

func loadConfigAndWeights(configPath, weightsPath string, opts []Option) (*Model, error) {
	cdir, cbase := filepath.Split(configPath)
	wdir, wbase := filepath.Split(weightsPath)
	if cdir == "" {
		cdir = "."
	}
	if wdir == "" {
		wdir = "."
	}
	o := collectOptions(opts)
	if err := checkPairIntegrity(os.DirFS(cdir), cbase, configPath, os.DirFS(wdir), wbase, weightsPath, o); err != nil {
		return nil, err
	}
	cfg, err := readAllFS(os.DirFS(cdir), cbase, configPath, maxJSONSize)
	if err != nil {
		return nil, err
	}
	desc, err := readConfigAndWeights(cfg, configPath, os.DirFS(wdir), wbase, weightsPath, o)
	if err != nil {
		return nil, err
	}
	m, err := build(desc, o)
	if err == nil && o.integrity.selfCheck {
		err = selfCheckOnLoad(m, os.DirFS(wdir), wbase, weightsPath)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// checkPairIntegrity checks the manifests of an architecture JSON and its
// weights file; WithSHA256, which names one file, does not apply.
func checkPairIntegrity(cfs fs.FS, cname, cdisplay string, wfs fs.FS, wname, wdisplay string, o *options) error {
	if o.integrity.sha256 != "" {
		return fmt.Errorf("keras: %s + %s: WithSHA256 takes the digest of one model file: seal the two files with SealSHA256 (rnnconvert seal) instead: %w", cdisplay, wdisplay, ErrConfig)
	}
	if err := checkIntegrity(cfs, cname, cdisplay, o); err != nil {
		return err
	}
	return checkIntegrity(wfs, wname, wdisplay, o)
}

// LoadConfigAndWeightsFS is LoadConfigAndWeights reading both files from
// fsys.
func LoadConfigAndWeightsFS(fsys fs.FS, configName, weightsName string, opts ...Option) (*Model, error) {
	m, err := loadConfigAndWeightsFS(fsys, configName, weightsName, opts)
	return m, modelError(configName+" + "+weightsName, err)
}

func loadConfigAndWeightsFS(fsys fs.FS, configName, weightsName string, opts []Option) (*Model, error) {
	o := collectOptions(opts)
	if err := checkPairIntegrity(fsys, configName, configName, fsys, weightsName, weightsName, o); err != nil {
		return nil, err
	}
	cfg, err := readAllFS(fsys, configName, configName, maxJSONSize)
	if err != nil {
		return nil, err
	}
	desc, err := readConfigAndWeights(cfg, configName, fsys, weightsName, weightsName, o)
	if err != nil {
		return nil, err
	}
	m, err := build(desc, o)
	if err == nil && o.integrity.selfCheck {
		err = selfCheckOnLoad(m, fsys, weightsName, weightsName)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func readConfigAndWeights(cfg []byte, cfgDisplay string, fsys fs.FS, wname, wdisplay string, o *options) (*convert.Model, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	ra, size, closer, err := openReaderAt(fsys, wname, wdisplay)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	head := make([]byte, 8)
	n, _ := ra.ReadAt(head, 0)
	head = head[:n]
	switch {
	case bytes.HasPrefix(cfg, []byte("PK\x03\x04")):
		return nil, &LoadError{File: cfgDisplay, Reason: "is a .keras model file, not an architecture JSON: it holds its own architecture and weights",
			Model: cfgDisplay, Err: ErrFormat}
	case bytes.HasPrefix(cfg, hdf5Signature) && looksLikeJSON(head):
		return nil, &LoadError{File: cfgDisplay, Reason: "is an HDF5 file and the weights file is JSON: the two are swapped",
			Config: wdisplay, Weights: cfgDisplay, Err: ErrFormat}
	case bytes.HasPrefix(cfg, hdf5Signature):
		return nil, &LoadError{File: cfgDisplay, Reason: "is an HDF5 file, not an architecture JSON (a full model saved with model.save loads alone)",
			Model: cfgDisplay, Err: ErrFormat}
	}
	if off := findHDF5(ra, size); off < 0 {
		if bytes.HasPrefix(head, []byte("PK\x03\x04")) {
			return nil, &LoadError{File: wdisplay, Reason: "is a .keras model file, not a weights file: it holds its own architecture and weights",
				Model: wdisplay, Err: ErrFormat}
		}
		return nil, fmt.Errorf("keras: %s: weights file is not HDF5 (no HDF5 signature): %w", displayName(wdisplay), ErrFormat)
	}
	f, err := h5.OpenReaderAt(ra, size, wdisplay)
	if err != nil {
		return nil, h5Error(err)
	}
	defer f.Close()
	desc, err := convert.ReadConfigAndWeights(cfg, f, o.parseOptions(wdisplay))
	if err != nil {
		return nil, h5Error(fmt.Errorf("%s + %s: %w", cfgDisplay, wdisplay, err))
	}
	// Layer classes come from the JSON and weights from the HDF5 file:
	// errors after this point name both.
	desc.File = cfgDisplay + " + " + wdisplay
	return desc, nil
}

func readFS(fsys fs.FS, name, display string, o *options) (*convert.Model, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	if fi.IsDir() {
		return readDir(fsys, name, display, o)
	}
	if b := path.Base(name); b == "saved_model.pb" || b == "saved_model.pbtxt" {
		return nil, &LoadError{File: display, Reason: "is the graph file of a TensorFlow SavedModel, which loads as a folder",
			Model: filepath.Dir(display), Err: ErrFormat}
	}
	ra, size, closer, err := openReaderAt(fsys, name, display)
	if err != nil {
		return nil, err
	}
	defer closer.Close()

	var desc *convert.Model
	head := make([]byte, 8)
	n, _ := ra.ReadAt(head, 0)
	head = head[:n]
	switch {
	case findHDF5(ra, size) >= 0:
		desc, err = readHDF5(ra, size, display, o)
		var le *LoadError
		if errors.As(err, &le) && le.Config == "" {
			if c := siblingJSON(fsys, path.Dir(name)); c != "" {
				le.Config = filepath.Join(filepath.Dir(display), c)
			}
		}
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		desc, err = convert.ReadKerasZip(ra, size, display, o.parseOptions(display))
		if err != nil {
			err = h5Error(err) // the weights inside are HDF5
		}
	case looksLikeJSON(head):
		return readJSON(fsys, name, display, io.NewSectionReader(ra, 0, size), size, o)
	default:
		return nil, fmt.Errorf("keras: %s: not a Keras model: neither HDF5, a .keras zip, a SavedModel directory nor TF.js JSON (starts with % x): %w", display, head, ErrFormat)
	}
	if err != nil {
		return nil, err
	}
	if desc.File == "" {
		desc.File = display
	}
	return desc, nil
}

// readDir reads a SavedModel directory or a directory holding a TF.js
// model.json.
func readDir(fsys fs.FS, dir, display string, o *options) (*convert.Model, error) {
	if _, err := fs.Stat(fsys, path.Join(dir, "saved_model.pb")); err == nil {
		return readSavedModel(fsys, dir, display, o)
	}
	if _, err := fs.Stat(fsys, path.Join(dir, "model.json")); err == nil {
		return readFS(fsys, path.Join(dir, "model.json"), filepath.Join(display, "model.json"), o)
	}
	e := &LoadError{File: display, Reason: "folder holds neither saved_model.pb (a SavedModel) nor model.json (TF.js)", Err: ErrFormat}
	var models, configs []string
	if entries, err := fs.ReadDir(fsys, dir); err == nil {
		for _, de := range entries {
			switch n := de.Name(); {
			case de.IsDir():
			case strings.HasSuffix(n, ".keras"):
				models = append(models, n)
			case strings.HasSuffix(n, ".json"):
				configs = append(configs, n)
			}
		}
	}
	w := siblingWeights(fsys, dir)
	switch {
	case len(configs) == 1 && w != "":
		e.Reason = "folder holds an architecture JSON and a weights file, not one model file"
		e.Config, e.Weights = filepath.Join(display, configs[0]), filepath.Join(display, w)
	case len(models) == 1:
		e.Reason = "is a folder, not a model file"
		e.Model = filepath.Join(display, models[0])
	}
	return nil, e
}

// siblingJSON returns the base name of the one architecture JSON (a
// top-level class_name and config) in dir, or "".
func siblingJSON(fsys fs.FS, dir string) string {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return ""
	}
	found := ""
	for _, de := range entries {
		if de.IsDir() || !strings.HasSuffix(de.Name(), ".json") {
			continue
		}
		if fi, err := de.Info(); err != nil || fi.Size() > maxJSONSize {
			continue
		}
		data, err := fs.ReadFile(fsys, path.Join(dir, de.Name()))
		if err != nil {
			continue
		}
		var top map[string]json.RawMessage
		if json.Unmarshal(data, &top) != nil || top["class_name"] == nil || top["config"] == nil {
			continue
		}
		if found != "" {
			return ""
		}
		found = de.Name()
	}
	return found
}

// siblingWeights returns the base name of the one HDF5 weights file in
// dir (a .weights.h5 first, else the only .h5 or .hdf5), or "".
func siblingWeights(fsys fs.FS, dir string) string {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return ""
	}
	var weights, h5s []string
	for _, de := range entries {
		n := de.Name()
		switch {
		case de.IsDir():
		case strings.HasSuffix(n, ".weights.h5"):
			weights = append(weights, n)
		case strings.HasSuffix(n, ".h5"), strings.HasSuffix(n, ".hdf5"):
			h5s = append(h5s, n)
		}
	}
	switch {
	case len(weights) == 1:
		return weights[0]
	case len(weights) == 0 && len(h5s) == 1:
		return h5s[0]
	}
	return ""
}

// readHDF5 reads a legacy full-model HDF5 file; weights-only files get
// ErrNoArchitecture.
func readHDF5(ra io.ReaderAt, size int64, display string, o *options) (*convert.Model, error) {
	f, err := h5.OpenReaderAt(ra, size, display)
	if err != nil {
		return nil, h5Error(err)
	}
	defer f.Close()
	root := f.Root()
	if _, err := root.Attr("model_config"); err != nil {
		if !errors.Is(err, h5.ErrNotFound) {
			return nil, h5Error(err)
		}
		if isWeightsOnly(root) {
			return nil, &LoadError{File: display, Reason: "weights-only file (Keras save_weights): it holds no architecture",
				Weights: display, Err: ErrNoArchitecture}
		}
		return nil, fmt.Errorf("keras: %s: HDF5 file has no model_config attribute and no Keras weights: %w", display, ErrFormat)
	}
	desc, err := convert.ReadHDF5Model(f, o.parseOptions(display))
	if err != nil {
		return nil, h5Error(err)
	}
	return desc, nil
}

// h5Error wraps an error of package h5 so that errors.Is matches both the
// h5 sentinel and the keras one (h5.ErrFormat is also ErrFormat,
// h5.ErrUnsupported also ErrUnsupported); h5 knows nothing about Keras and
// has its own sentinels.
func h5Error(err error) error {
	switch {
	case errors.Is(err, ErrFormat) || errors.Is(err, ErrUnsupported):
		// Already a keras kind (convert wraps some h5 errors itself).
	case errors.Is(err, h5.ErrFormat):
		return &kindError{err: err, kind: ErrFormat}
	case errors.Is(err, h5.ErrUnsupported):
		return &kindError{err: err, kind: ErrUnsupported}
	}
	return fmt.Errorf("keras: %w", err)
}

// kindError adds a keras sentinel to an error without changing its text.
type kindError struct {
	err, kind error
}

func (e *kindError) Error() string   { return "keras: " + e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.err, e.kind} }

// isWeightsOnly recognizes Keras weight files: legacy save_weights puts
// layer_names on the root; Keras 3 .weights.h5 has a layers or vars group.
func isWeightsOnly(root *h5.Group) bool {
	if _, err := root.Attr("layer_names"); err == nil {
		return true
	}
	if _, err := root.Attr("layer_names0"); err == nil {
		return true
	}
	for _, g := range []string{"layers", "vars", "model_weights"} {
		if _, err := root.Group(g); err == nil {
			return true
		}
	}
	return false
}

func looksLikeJSON(head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf")
	return len(t) > 0 && t[0] == '{' || len(t) == 0 && len(head) > 0
}

// readJSON handles a JSON file given to Load: a TF.js model.json loads;
// an architecture-only JSON gets a clear error.
func readJSON(fsys fs.FS, name, display string, r io.Reader, size int64, o *options) (*convert.Model, error) {
	if size > maxJSONSize {
		return nil, fmt.Errorf("keras: %s: JSON file of %d bytes exceeds the %d-byte limit", display, size, maxJSONSize)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("keras: %s: %w", display, err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		e := convert.JSONDecodeError(display, "", data, err)
		e.Reader = "keras"
		e.Msg = "not a Keras model: " + e.Msg
		return nil, e
	}
	_, topo := top["modelTopology"]
	_, manifest := top["weightsManifest"]
	switch {
	case topo && manifest:
		return readTFJS(fsys, name, display, o)
	case top["class_name"] != nil && top["config"] != nil:
		e := &LoadError{File: display, Reason: "architecture JSON without weights", Config: display, Err: ErrFormat}
		if w := siblingWeights(fsys, path.Dir(name)); w != "" {
			e.Weights = filepath.Join(filepath.Dir(display), w)
		}
		return nil, e
	}
	return nil, fmt.Errorf("keras: %s: JSON is neither a TF.js model (modelTopology + weightsManifest) nor a Keras architecture: %w", display, ErrFormat)
}

// findHDF5 returns the offset of the HDF5 superblock signature (0 or a
// power of two from 512 on, after a user block), or -1.
func findHDF5(ra io.ReaderAt, size int64) int64 {
	buf := make([]byte, len(hdf5Signature))
	for off := int64(0); off+int64(len(buf)) <= size; {
		if n, _ := ra.ReadAt(buf, off); n == len(buf) && bytes.Equal(buf, hdf5Signature) {
			return off
		}
		if off == 0 {
			off = 512
		} else {
			off *= 2
		}
	}
	return -1
}

// openReaderAt opens name for random access. fs.Files that implement
// io.ReaderAt (os files) are used in place; others are read into memory.
func openReaderAt(fsys fs.FS, name, display string) (io.ReaderAt, int64, io.Closer, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("keras: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, fmt.Errorf("keras: %s: %w", display, err)
	}
	if ra, ok := f.(io.ReaderAt); ok {
		return ra, fi.Size(), f, nil
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, 0, nil, fmt.Errorf("keras: %s: %w", display, err)
	}
	return bytes.NewReader(data), int64(len(data)), io.NopCloser(nil), nil
}

func readAllFS(fsys fs.FS, name, display string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("keras: %s: %w", display, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("keras: %s: file exceeds the %d-byte limit", display, limit)
	}
	return data, nil
}

// parseOptions returns the options for convert's readers; file names the
// source in their errors.
func (o *options) parseOptions(file string) convert.ParseOptions {
	return convert.ParseOptions{KerasVersion: o.kerasVersion, File: file, Limits: o.loadLimits}
}

// build binds a model description to layers and a runtime graph.
func build(desc *convert.Model, o *options) (*Model, error) {
	if desc.Graph == nil {
		return nil, fmt.Errorf("keras: %s: model description has no graph: %w", desc.File, ErrFormat)
	}
	if o.kerasVersion != "" {
		desc.KerasVersion = o.kerasVersion
	}
	if err := o.checkVocabularies(desc); err != nil {
		return nil, err
	}
	b := &binder{file: desc.File, env: &layers.Env{Registry: o.registry(), KerasVersion: desc.KerasVersion}}
	bd := b.bind(desc.Graph)
	if err := b.err(); err != nil {
		return nil, err
	}
	if bd == nil {
		return nil, fmt.Errorf("keras: %s: model could not be built", desc.File)
	}
	return newModel(desc, bd, o.call), nil
}
