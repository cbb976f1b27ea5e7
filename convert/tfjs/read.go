// Package tfjs reads TensorFlow.js layers models: a model.json holding the
// Keras model config ("modelTopology") and a weights manifest, plus the
// binary weight shards it names. Both the Python converter's output
// (Keras HDF5 → TF.js, every era since 0.x) and models written by
// tfjs-layers itself (model.save) are read.
//
// Spec: shared/docs/keras-formats.md §5. TF.js follows Keras 2 semantics
// (hard_sigmoid is clip(0.2x+0.5, 0, 1)); the writer version is passed to
// convert so that its definitions apply.
package tfjs

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/internal/float16"
)

// Format is the convert.Model.Format of models read here.
const Format = "tfjs"

// defaultWriter is the writer version assumed when model.json records
// none: TF.js semantics are Keras 2's.
const defaultWriter = "tfjs-layers"

// maxModelJSON bounds the size of model.json read into memory.
const maxModelJSON = 256 << 20

type modelFile struct {
	Format          string          `json:"format"`
	GeneratedBy     string          `json:"generatedBy"`
	ModelTopology   json.RawMessage `json:"modelTopology"`
	WeightsManifest []group         `json:"weightsManifest"`
}

type group struct {
	Paths   []string     `json:"paths"`
	Weights []weightSpec `json:"weights"`
}

type weightSpec struct {
	Name string `json:"name"`
	// Group is "optimizer" for optimizer state saved by tfjs-layers with
	// includeOptimizer; rnnkit skips those.
	Group        string        `json:"group"`
	Shape        []int64       `json:"shape"`
	DType        string        `json:"dtype"`
	Quantization *quantization `json:"quantization"`
}

type quantization struct {
	DType         string   `json:"dtype"`
	Scale         *float64 `json:"scale"`
	Min           *float64 `json:"min"`
	OriginalDType string   `json:"original_dtype"`
}

type topologyInfo struct {
	KerasVersion string          `json:"keras_version"`
	Backend      string          `json:"backend"`
	ModelConfig  json.RawMessage `json:"model_config"`
	ClassName    string          `json:"class_name"`
}

// ReadFile reads the TF.js model whose model.json is at name on the local
// disk; shards are looked up beside it.
func ReadFile(name string, opt convert.ParseOptions) (*convert.Model, error) {
	if opt.File == "" {
		opt.File = name
	}
	dir, base := filepath.Split(filepath.Clean(name))
	if dir == "" {
		dir = "."
	}
	return Read(os.DirFS(dir), base, opt)
}

// Read reads the TF.js layers model whose model.json is modelJSON in fsys.
// Weight shards are resolved relative to modelJSON's directory, each
// manifest group's shards concatenated in order; quantized weights
// (uint8, uint16: q*scale+min; float16) are dequantized to float32. Each
// layer gets the weights named after it ("lstm_1/kernel",
// "lstm/lstm_cell/kernel", "lstm_LSTM1/kernel") in manifest order, which
// is Keras' weight order; wrappers pass them to the layers they wrap.
func Read(fsys fs.FS, modelJSON string, opt convert.ParseOptions) (*convert.Model, error) {
	file := opt.File
	if file == "" {
		file = modelJSON
	}
	data, err := readLimited(fsys, modelJSON, maxModelJSON)
	if err != nil {
		return nil, fmt.Errorf("tfjs: %s: %w", file, err)
	}
	var mf modelFile
	if err := json.Unmarshal(data, &mf); err != nil {
		e := convert.JSONDecodeError(file, "", data, err)
		e.Reader = "tfjs"
		return nil, e
	}
	if mf.Format != "" && mf.Format != "layers-model" {
		return nil, unsupportedErr(file, "format", fmt.Sprintf("%q model (only layers-model files hold a Keras config)", mf.Format))
	}
	if len(mf.ModelTopology) == 0 || string(mf.ModelTopology) == "null" {
		return nil, formatErr(file, "modelTopology", -1, "missing: not a TF.js layers model")
	}
	var topo topologyInfo
	if err := json.Unmarshal(mf.ModelTopology, &topo); err != nil {
		e := convert.JSONDecodeError(file, "modelTopology", mf.ModelTopology, err)
		e.Reader = "tfjs"
		return nil, e
	}
	if len(topo.ModelConfig) == 0 && topo.ClassName == "" {
		return nil, formatErr(file, "modelTopology", -1, "has neither model_config nor class_name")
	}
	writer := topo.KerasVersion
	if writer == "" {
		writer = writerFromGeneratedBy(mf.GeneratedBy)
	}
	popt := opt
	popt.File = file
	if popt.WriterVersion == "" {
		popt.WriterVersion = writer
	}
	graph, err := convert.ParseModelConfig(mf.ModelTopology, popt)
	if err != nil {
		return nil, err
	}
	weights, err := readWeights(fsys, path.Dir(modelJSON), file, mf.WeightsManifest)
	if err != nil {
		return nil, err
	}
	a := newAssigner(file, weights)
	groups := a.layerGroups(graph)
	if len(a.unmatched) > 0 {
		return nil, a.leftover()
	}
	if err := convert.AssignModelWeights(graph, groups, file); err != nil {
		return nil, err
	}
	if err := a.leftover(); err != nil {
		return nil, err
	}
	kv := writer
	if opt.KerasVersion != "" {
		kv = opt.KerasVersion
	}
	return &convert.Model{File: file, Format: Format, KerasVersion: kv, Backend: topo.Backend, Graph: graph}, nil
}

// writerFromGeneratedBy turns "keras v2.1.5" into "2.1.5" and
// "TensorFlow.js tfjs-layers v4.20.0" into "tfjs-layers 4.20.0".
func writerFromGeneratedBy(s string) string {
	switch {
	case strings.HasPrefix(s, "keras v"):
		return strings.TrimPrefix(s, "keras v")
	case strings.Contains(s, "tfjs-layers v"):
		return "tfjs-layers " + s[strings.Index(s, "tfjs-layers v")+len("tfjs-layers v"):]
	}
	return defaultWriter
}

func readLimited(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

// manifestWeight is a decoded weight and whether a layer took it.
type manifestWeight struct {
	convert.Weight
	used bool
}

// elementBytes returns the stored bytes per element of a weight and
// whether rnnkit can decode it.
func (w *weightSpec) elementBytes() (int, error) {
	if q := w.Quantization; q != nil {
		switch q.DType {
		case "uint8":
			return 1, nil
		case "uint16", "float16":
			return 2, nil
		}
		return 0, fmt.Errorf("quantization dtype %q (want uint8, uint16 or float16)", q.DType)
	}
	switch w.DType {
	case "float32", "int32":
		return 4, nil
	case "bool":
		return 1, nil
	}
	return 0, fmt.Errorf("dtype %q (rnnkit reads float32, int32 and bool weights)", w.DType)
}

// readWeights reads and decodes every manifest weight. Group shards are
// checked to hold at least the bytes the manifest describes before
// anything is allocated.
func readWeights(fsys fs.FS, dir, file string, manifest []group) ([]*manifestWeight, error) {
	var out []*manifestWeight
	for gi, g := range manifest {
		where := fmt.Sprintf("weightsManifest[%d]", gi)
		var need int64
		sizes := make([]int64, len(g.Weights))
		for wi := range g.Weights {
			w := &g.Weights[wi]
			eb, err := w.elementBytes()
			if err != nil {
				return nil, unsupportedErr(file, where+" "+w.Name, err.Error())
			}
			n := int64(1)
			for _, d := range w.Shape {
				if d < 0 || (d > 0 && n > math.MaxInt32/d) {
					return nil, formatErr(file, where+" "+w.Name, -1, "bad shape %v", w.Shape)
				}
				n *= d
			}
			sizes[wi] = n * int64(eb)
			need += sizes[wi]
		}
		if len(g.Paths) == 0 && need > 0 {
			return nil, formatErr(file, where, -1, "group has weights but no paths")
		}
		buf, err := readGroup(fsys, dir, file, where, g.Paths, need)
		if err != nil {
			return nil, err
		}
		var off int64
		for wi := range g.Weights {
			w := &g.Weights[wi]
			raw := buf[off : off+sizes[wi]]
			data, err := decodeWeight(w, raw)
			if err != nil {
				return nil, formatErr(file, where+" "+w.Name, -1, "%s", err)
			}
			shape := make([]int, len(w.Shape))
			for i, d := range w.Shape {
				shape[i] = int(d)
			}
			if w.Group != "optimizer" {
				// The Python converter drops HDF5's ":0" suffix; strip it
				// anyway so names compare equal across eras.
				name := strings.TrimSuffix(w.Name, ":0")
				out = append(out, &manifestWeight{Weight: convert.Weight{Name: name, Shape: shape, Data: data}})
			}
			off += sizes[wi]
		}
	}
	return out, nil
}

// readGroup concatenates the shard files of a group and returns their
// first need bytes. tfjs reads weights back to back from the concatenation
// and ignores any bytes past the last weight.
func readGroup(fsys fs.FS, dir, file, where string, paths []string, need int64) ([]byte, error) {
	var have int64
	names := make([]string, len(paths))
	for i, p := range paths {
		name := path.Join(dir, p)
		if !fs.ValidPath(name) {
			return nil, formatErr(file, where, -1, "shard path %q leaves the model directory", p)
		}
		names[i] = name
		st, err := fs.Stat(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("tfjs: %s: %s: weight shard: %w", file, where, err)
		}
		have += st.Size()
	}
	if have < need {
		return nil, formatErr(file, where, -1, "shards %v hold %d bytes, the manifest describes %d", paths, have, need)
	}
	buf := make([]byte, need)
	var off int64
	for _, name := range names {
		if off == need {
			break
		}
		f, err := fsys.Open(name)
		if err != nil {
			return nil, fmt.Errorf("tfjs: %s: %w", file, err)
		}
		n, err := io.ReadFull(f, buf[off:])
		f.Close()
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return nil, fmt.Errorf("tfjs: %s: reading %s: %w", file, name, err)
		}
		off += int64(n)
	}
	if off != need {
		return nil, formatErr(file, where, -1, "shards %v yielded %d bytes, want %d", paths, off, need)
	}
	return buf, nil
}

// decodeWeight converts raw little-endian weight bytes to float32.
func decodeWeight(w *weightSpec, raw []byte) ([]float32, error) {
	if q := w.Quantization; q != nil {
		switch q.DType {
		case "float16":
			out := make([]float32, len(raw)/2)
			for i := range out {
				out[i] = float16.ToFloat32(binary.LittleEndian.Uint16(raw[2*i:]))
			}
			return out, nil
		case "uint8", "uint16":
			if q.Scale == nil || q.Min == nil {
				return nil, fmt.Errorf("%s quantization without scale and min", q.DType)
			}
			// tfjs dequantizes in float32: q*scale + min; int32 originals
			// are rounded back to integers.
			scale, minV := float32(*q.Scale), float32(*q.Min)
			round := q.OriginalDType == "int32"
			n := len(raw)
			if q.DType == "uint16" {
				n /= 2
			}
			out := make([]float32, n)
			for i := range out {
				var v uint16
				if q.DType == "uint8" {
					v = uint16(raw[i])
				} else {
					v = binary.LittleEndian.Uint16(raw[2*i:])
				}
				out[i] = float32(v)*scale + minV
				if round {
					out[i] = float32(math.Round(float64(out[i])))
				}
			}
			return out, nil
		}
	}
	switch w.DType {
	case "float32":
		out := make([]float32, len(raw)/4)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return out, nil
	case "int32":
		out := make([]float32, len(raw)/4)
		for i := range out {
			out[i] = float32(int32(binary.LittleEndian.Uint32(raw[4*i:])))
		}
		return out, nil
	case "bool":
		out := make([]float32, len(raw))
		for i, b := range raw {
			if b != 0 {
				out[i] = 1
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("dtype %q", w.DType)
}
