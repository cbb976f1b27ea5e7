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
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	o := collectOptions(opts)
	desc, err := readPath(p, fi.IsDir(), o)
	if err != nil {
		return nil, err
	}
	return build(desc, o)
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
	desc, err := readFS(fsys, name, name, o)
	if err != nil {
		return nil, err
	}
	return build(desc, o)
}

// LoadConfigAndWeights builds a model from an architecture JSON file
// (model.to_json(), Keras 1 to 3) and a weights file: a Keras 3
// .weights.h5 or a legacy HDF5 weights file (save_weights), told apart by
// content.
func LoadConfigAndWeights(configPath, weightsPath string, opts ...Option) (*Model, error) {
	cdir, cbase := filepath.Split(configPath)
	wdir, wbase := filepath.Split(weightsPath)
	if cdir == "" {
		cdir = "."
	}
	if wdir == "" {
		wdir = "."
	}
	o := collectOptions(opts)
	cfg, err := readAllFS(os.DirFS(cdir), cbase, configPath, maxJSONSize)
	if err != nil {
		return nil, err
	}
	desc, err := readConfigAndWeights(cfg, configPath, os.DirFS(wdir), wbase, weightsPath, o)
	if err != nil {
		return nil, err
	}
	return build(desc, o)
}

// LoadConfigAndWeightsFS is LoadConfigAndWeights reading both files from
// fsys.
func LoadConfigAndWeightsFS(fsys fs.FS, configName, weightsName string, opts ...Option) (*Model, error) {
	o := collectOptions(opts)
	cfg, err := readAllFS(fsys, configName, configName, maxJSONSize)
	if err != nil {
		return nil, err
	}
	desc, err := readConfigAndWeights(cfg, configName, fsys, weightsName, weightsName, o)
	if err != nil {
		return nil, err
	}
	return build(desc, o)
}

func readConfigAndWeights(cfg []byte, cfgDisplay string, fsys fs.FS, wname, wdisplay string, o *options) (*convert.Model, error) {
	ra, size, closer, err := openReaderAt(fsys, wname, wdisplay)
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	if off := findHDF5(ra, size); off < 0 {
		return nil, fmt.Errorf("keras: %s: weights file is not HDF5 (no HDF5 signature): %w", wdisplay, ErrFormat)
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
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	if fi.IsDir() {
		return readDir(fsys, name, display, o)
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
	return nil, fmt.Errorf("keras: %s: directory holds neither saved_model.pb (SavedModel) nor model.json (TF.js): %w", display, ErrFormat)
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
			return nil, fmt.Errorf("keras: %s: %w", display, ErrNoArchitecture)
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
		return nil, fmt.Errorf("keras: %s: not a Keras model: invalid JSON: %v: %w", display, err, ErrFormat)
	}
	_, topo := top["modelTopology"]
	_, manifest := top["weightsManifest"]
	switch {
	case topo && manifest:
		return readTFJS(fsys, name, display, o)
	case top["class_name"] != nil && top["config"] != nil:
		return nil, fmt.Errorf("keras: %s: architecture JSON without weights: load it with LoadConfigAndWeights and the weights file: %w", display, ErrFormat)
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
	return convert.ParseOptions{KerasVersion: o.kerasVersion, File: file}
}

// build binds a model description to layers and a runtime graph.
func build(desc *convert.Model, o *options) (*Model, error) {
	if desc.Graph == nil {
		return nil, fmt.Errorf("keras: %s: model description has no graph: %w", desc.File, ErrFormat)
	}
	if o.kerasVersion != "" {
		desc.KerasVersion = o.kerasVersion
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
