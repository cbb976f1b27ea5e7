package layers

import (
	"fmt"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// This file holds the regularization family (Dropout, SpatialDropout1D,
// GaussianNoise, GaussianDropout, AlphaDropout, ActivityRegularization, and
// Keras 3's Identity), which is the identity at inference, and Masking, which creates a sequence mask.
// It also holds the small helpers the issue-4 layer files share: the layer
// identity, input and mask resolution.

func init() { builtins = append(builtins, registerDropout) }

func registerDropout(r *Registry) {
	for _, class := range []string{
		"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
		"GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization",
		"Identity", // Keras 3's keras.layers.Identity
	} {
		r.Register(class, buildIdentityLayer)
	}
	r.Register("Masking", buildMasking)
}

// layerIdent is the identity every issue-4 layer reports: its Keras name
// and class.
type layerIdent struct {
	name  string
	class string
}

// Name is the Keras layer name.
func (l layerIdent) Name() string { return l.name }

// ClassName is the Keras class name.
func (l layerIdent) ClassName() string { return l.class }

func idOf(spec *convert.Layer) layerIdent { return layerIdent{name: spec.Name, class: spec.ClassName} }

// noWeights rejects weights on a layer class that has none.
func noWeights(spec *convert.Layer) error {
	if len(spec.Weights) != 0 {
		return fmt.Errorf("layer %q (%s): got %d weights, want none: %w",
			spec.Name, spec.ClassName, len(spec.Weights), convert.ErrWeights)
	}
	return nil
}

// singleInput returns the one tensor a single-input layer is called on.
func singleInput(call *runtime.Call) (runtime.Value, error) {
	in := call.Inputs()
	if len(in) != 1 || in[0].T == nil {
		return runtime.Value{}, fmt.Errorf("got %d input tensors, want 1", len(in))
	}
	return in[0], nil
}

// explicitMasks returns the tensors of the call's "mask" keyword, as Keras 3
// functional configs record it, or nil when there is none.
func explicitMasks(call *runtime.Call) []*runtime.Tensor {
	a, ok := call.Kwarg("mask")
	if !ok || len(a.Values) == 0 {
		return nil
	}
	out := make([]*runtime.Tensor, len(a.Values))
	for i, v := range a.Values {
		out[i] = v.T
	}
	return out
}

// inputMask returns the mask a single-input layer sees: the explicit "mask"
// keyword when given, else the mask the input carries (Keras' _keras_mask).
func inputMask(call *runtime.Call, in runtime.Value) *runtime.Tensor {
	if m := explicitMasks(call); len(m) > 0 {
		return m[0]
	}
	return in.Mask
}

// inputMasks returns one mask (or nil) per input of a multi-input layer:
// the explicit "mask" list when it matches the inputs, else the masks the
// inputs carry.
func inputMasks(call *runtime.Call, in []runtime.Value) []*runtime.Tensor {
	out := make([]*runtime.Tensor, len(in))
	if m := explicitMasks(call); len(m) == len(in) {
		copy(out, m)
		return out
	}
	for i, v := range in {
		out[i] = v.Mask
	}
	return out
}

// checkMask verifies that mask covers the leading dimensions of x, as a
// Keras mask does ([batch, time] for a [batch, time, features] tensor).
func checkMask(mask, x *runtime.Tensor) error {
	if mask == nil {
		return nil
	}
	if mask.Rank() > x.Rank() || mask.Len() != shapeSize(mask.Shape) {
		return fmt.Errorf("mask shape %v does not cover input shape %v", mask.Shape, x.Shape)
	}
	for i, d := range mask.Shape {
		if x.Shape[i] != d {
			return fmt.Errorf("mask shape %v does not cover input shape %v", mask.Shape, x.Shape)
		}
	}
	return nil
}

// identityLayer is a regularization layer: Keras applies noise or dropout
// only in training, so at inference the output is the input and the mask
// passes through (supports_masking).
type identityLayer struct{ layerIdent }

func buildIdentityLayer(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	return &identityLayer{idOf(spec)}, nil
}

// Call returns the input unchanged, with its mask.
func (l *identityLayer) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, err := singleInput(call)
	if err != nil {
		return nil, err
	}
	res := ctx.Values(l, 0, 1)
	res[0] = runtime.Value{T: in.T, Mask: inputMask(call, in)}
	return res, nil
}

// Masking marks timesteps whose features all equal MaskValue as padding.
//
// Keras: mask = any(x != mask_value, axis=-1); the output is x with masked
// steps zeroed, carrying that mask.
type Masking struct {
	layerIdent
	MaskValue float32
}

func buildMasking(spec *convert.Layer, _ *Env) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	mv := r.Float("mask_value", 0)
	if err := r.Err(); err != nil {
		return nil, err
	}
	return &Masking{layerIdent: idOf(spec), MaskValue: float32(mv)}, nil
}

// Call computes the mask over the last axis and zeroes masked steps.
// x: [batch, time, features] (any rank ≥ 2); mask: x's shape without the last axis.
func (l *Masking) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, err := singleInput(call)
	if err != nil {
		return nil, err
	}
	x := in.T
	if x.Rank() < 2 {
		return nil, fmt.Errorf("input shape %v: want rank ≥ 2", x.Shape)
	}
	f := x.Shape[x.Rank()-1]
	out, res := newLayerResult(ctx, l, x.Shape...)
	mask := ctx.Output(l, 1, x.Shape[:x.Rank()-1]...)
	for r := range mask.Data {
		row := x.Data[r*f : (r+1)*f]
		keep := false
		for _, v := range row {
			// NaN != mask_value is true, as in numpy.
			if v != l.MaskValue {
				keep = true
				break
			}
		}
		if keep {
			mask.Data[r] = 1
			copy(out.Data[r*f:(r+1)*f], row)
		}
	}
	res[0].Mask = mask
	return res, nil
}
