package layers

import (
	"fmt"
	"math"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

func init() { builtins = append(builtins, registerEmbedding) }

func registerEmbedding(r *Registry) { r.Register(embeddingClass, buildEmbedding) }

const embeddingClass = "Embedding"

// Embedding is keras.layers.Embedding: it looks up a row of the table for
// every token id. With MaskZero the output carries the mask ids != 0; the
// output values at id 0 are still row 0 of the table (Keras does not zero
// them).
type Embedding struct {
	layerID
	InputDim  int
	OutputDim int
	MaskZero  bool
	// Embeddings is [InputDim, OutputDim] row-major.
	Embeddings []float32
}

func buildEmbedding(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	r := spec.Config.Reader(spec.Name)
	inputDim := r.Int("input_dim", 0)
	outputDim := r.Int("output_dim", 0)
	maskZero := r.Bool("mask_zero", false)
	if err := r.Err(); err != nil {
		return nil, err
	}
	if spec.Config.Has("quantization_config") || r.Int("lora_rank", 0) != 0 {
		return nil, fmt.Errorf("layer %q: quantized or LoRA Embedding: %w", spec.Name, convert.ErrUnsupported)
	}
	if inputDim <= 0 || outputDim <= 0 {
		return nil, fmt.Errorf("layer %q: input_dim %d, output_dim %d: want positive integers: %w",
			spec.Name, inputDim, outputDim, convert.ErrConfig)
	}
	if err := checkNWeights(spec, 1); err != nil {
		return nil, err
	}
	w := spec.Weights[0]
	if err := checkWeightShape(spec, w, inputDim, outputDim); err != nil {
		return nil, err
	}
	return &Embedding{
		layerID:    layerID{spec.Name, embeddingClass},
		InputDim:   inputDim,
		OutputDim:  outputDim,
		MaskZero:   maskZero,
		Embeddings: w.Data,
	}, nil
}

// Call looks the ids up. ids: [...] float32 holding integers → [...,
// OutputDim]; with MaskZero the mask is ids != 0 with the ids' shape. Ids
// are truncated toward zero as Keras' int32 cast does (2.7 is id 2). An id
// outside [0, InputDim) (NaN and infinities included) is an error wrapping
// runtime.ErrInput that names the layer, the id and input_dim.
func (l *Embedding) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	x, err := oneInput(l.name, call)
	if err != nil {
		return nil, err
	}
	ids := x.T
	var buf [maxLayerResultRank]int
	out, res := newLayerResult(ctx, l, append(append(buf[:0], ids.Shape...), l.OutputDim)...)
	e := l.OutputDim
	for i, v := range ids.Data {
		// Keras casts ids to int32, which truncates toward zero.
		f := math.Trunc(float64(v))
		if !(f >= 0 && f < float64(l.InputDim)) {
			return nil, fmt.Errorf("layer %q: token id %v at flat index %d is outside [0, input_dim=%d): %w", l.name, v, i, l.InputDim, runtime.ErrInput)
		}
		id := int(f)
		copy(out.Data[i*e:(i+1)*e], l.Embeddings[id*e:(id+1)*e])
	}
	if l.MaskZero {
		m := ctx.Output(l, 1, ids.Shape...)
		for i, v := range ids.Data {
			if v != 0 {
				m.Data[i] = 1
			}
		}
		res[0].Mask = m
	}
	return res, nil
}
