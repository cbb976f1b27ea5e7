package layers

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// TestHostileConvSpecsDoNotPanic builds issue 11's layers from random,
// often inconsistent configs and weights (as a damaged file could hold)
// and calls those that build on random inputs: every outcome must be a
// result or an error, never a panic.
func TestHostileConvSpecsDoNotPanic(t *testing.T) {
	rng := rand.New(rand.NewPCG(141, 142))
	classes := []string{
		"Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
		"Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
		"MaxPooling2D", "AveragePooling3D", "GlobalMaxPooling3D", "GlobalAveragePooling2D",
		"ZeroPadding2D", "Cropping3D", "UpSampling2D", "UpSampling3D",
	}
	rank := func(class string) int {
		for r := 1; r < 3; r++ {
			if strings.Contains(class, fmt.Sprintf("%dD", r)) {
				return r
			}
		}
		return 3
	}
	small := func() float64 { return float64(rng.IntN(4)) }
	tuple := func(r int) []any {
		v := make([]any, r)
		for i := range v {
			v[i] = float64(rng.IntN(3) + 1)
		}
		return v
	}
	built, called := 0, 0
	for i := 0; i < 4000; i++ {
		class := classes[rng.IntN(len(classes))]
		r := rank(class)
		pads := []string{"valid", "same", "causal", "full"}
		cfg := convert.Config{
			"filters": small(), "kernel_size": tuple(r), "strides": tuple(r), "dilation_rate": tuple(r),
			"padding": pads[rng.IntN(len(pads))], "use_bias": rng.IntN(2) == 0, "depth_multiplier": small(),
			"groups": float64(rng.IntN(2) + 1), "pool_size": tuple(r), "size": tuple(r), "cropping": small(),
			"return_sequences": rng.IntN(2) == 0, "return_state": rng.IntN(2) == 0, "go_backwards": rng.IntN(2) == 0,
			"stateful": rng.IntN(4) == 0, "unroll": rng.IntN(2) == 0, "keepdims": rng.IntN(2) == 0,
		}
		if rng.IntN(3) == 0 {
			cfg["output_padding"] = tuple(r)
		}
		if rng.IntN(3) == 0 {
			cfg["data_format"] = "channels_first"
		}
		if rng.IntN(4) == 0 {
			cfg["padding"] = []any{small(), []any{small(), small()}}
		}
		var ws []convert.Weight
		for n := rng.IntN(4); n > 0; n-- {
			shape := make([]int, rng.IntN(r+3)+1)
			for a := range shape {
				shape[a] = rng.IntN(5) - 1 + btoi(rng.IntN(4) != 0)
			}
			size := 1
			for _, d := range shape {
				size *= max(d, 0)
			}
			if rng.IntN(5) == 0 {
				size = rng.IntN(size + 2)
			}
			ws = append(ws, convert.Weight{Name: "w", Shape: shape, Data: make([]float32, size)})
		}
		l, err := xTryBuild("", class, cfg, ws...)
		if err != nil {
			continue
		}
		built++
		for k := 0; k < 3; k++ {
			shape := make([]int, r+1+rng.IntN(3))
			for a := range shape {
				shape[a] = rng.IntN(5)
			}
			x := runtime.NewTensor(shape...)
			if _, err := xTryCall(l, nil, runtime.Value{T: x}); err == nil {
				called++
			}
		}
	}
	if built == 0 || called == 0 {
		t.Fatalf("built %d layers, %d calls succeeded: the test exercises nothing", built, called)
	}
	t.Logf("built %d layers, %d calls succeeded", built, called)
}
