package layers

import (
	"fmt"
	"math"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// This file holds Keras' 2-D and 3-D reshaping layers
// (keras/src/layers/reshaping): ZeroPadding2D/3D, Cropping2D/3D and
// UpSampling2D/3D. Like their 1-D forms they do not support masking.

func init() { builtins = append(builtins, registerReshapingND) }

func registerReshapingND(r *Registry) {
	for rank := 2; rank <= 3; rank++ {
		rank := rank
		d := fmt.Sprintf("%dD", rank)
		r.Register("ZeroPadding"+d, func(s *convert.Layer, _ *Env) (runtime.Layer, error) { return buildSpatialResize(s, rank, resizePad) })
		r.Register("Cropping"+d, func(s *convert.Layer, _ *Env) (runtime.Layer, error) { return buildSpatialResize(s, rank, resizeCrop) })
		r.Register("UpSampling"+d, func(s *convert.Layer, _ *Env) (runtime.Layer, error) {
			return buildSpatialResize(s, rank, resizeUpSample)
		})
	}
}

// resizeKind selects what a SpatialResize does.
type resizeKind int

const (
	resizePad resizeKind = iota
	resizeCrop
	resizeUpSample
)

// SpatialResize is ZeroPadding2D/3D (Amounts zeros before and after each
// spatial axis), Cropping2D/3D (Amounts removed from each end) or
// UpSampling2D/3D (each spatial axis scaled by Size: "nearest" repeats
// every position, UpSampling2D's "bilinear" interpolates with half-pixel
// centers and clamped edges, as Keras' image resize does when enlarging).
type SpatialResize struct {
	layerIdent
	Rank int
	Kind resizeKind
	// Amounts is [before, after] per spatial axis (padding, cropping).
	Amounts [][2]int
	// Size is the factor per spatial axis (upsampling).
	Size          []int
	Bilinear      bool
	ChannelsFirst bool
}

func buildSpatialResize(spec *convert.Layer, rank int, kind resizeKind) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	cf, err := dataFormat(spec)
	if err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	if r.String("dim_ordering", "tf") == "th" {
		cf = true
	}
	l := &SpatialResize{layerIdent: idOf(spec), Rank: rank, Kind: kind, ChannelsFirst: cf}
	switch kind {
	case resizePad:
		l.Amounts, err = spatialAmounts(spec, "padding", rank)
	case resizeCrop:
		l.Amounts, err = spatialAmounts(spec, "cropping", rank)
	case resizeUpSample:
		size := r.Ints("size", []int{2})
		interp := r.String("interpolation", "nearest")
		if err := r.Err(); err != nil {
			return nil, err
		}
		if l.Size, err = intTuple(spec, "size", size, rank, 1); err != nil {
			return nil, err
		}
		switch {
		case interp == "nearest":
		case interp == "bilinear" && rank == 2:
			l.Bilinear = true
		default:
			return nil, fmt.Errorf("layer %q: interpolation %q: %w", spec.Name, interp, convert.ErrUnsupported)
		}
	}
	if err != nil {
		return nil, err
	}
	return l, r.Err()
}

// spatialAmounts reads ZeroPadding's padding or Cropping's cropping: an
// integer (every side), one integer per axis (both sides), or a
// [before, after] pair per axis.
func spatialAmounts(spec *convert.Layer, key string, rank int) ([][2]int, error) {
	v := spec.Config[key]
	if v == nil {
		v = 1.0 // Keras' default for both layers
	}
	bad := func() ([][2]int, error) {
		return nil, fmt.Errorf("layer %q: %s %v: want an integer, %d integers or %d pairs: %w", spec.Name, key, v, rank, rank, convert.ErrConfig)
	}
	num := func(x any) (int, bool) {
		f, ok := x.(float64)
		if !ok || f != math.Trunc(f) || f < 0 || f > 1<<16 {
			return 0, false
		}
		return int(f), true
	}
	out := make([][2]int, rank)
	if n, ok := num(v); ok {
		for i := range out {
			out[i] = [2]int{n, n}
		}
		return out, nil
	}
	list, ok := v.([]any)
	if !ok || len(list) != rank {
		return bad()
	}
	for i, e := range list {
		if n, ok := num(e); ok {
			out[i] = [2]int{n, n}
			continue
		}
		pair, ok := e.([]any)
		if !ok || len(pair) != 2 {
			return bad()
		}
		a, ok1 := num(pair[0])
		b, ok2 := num(pair[1])
		if !ok1 || !ok2 {
			return bad()
		}
		out[i] = [2]int{a, b}
	}
	return out, nil
}

// Call pads, crops or upsamples the spatial axes of x.
func (l *SpatialResize) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, err := singleInput(call)
	if err != nil {
		return nil, err
	}
	x := in.T
	n, c, spatial, err := spatialLayout(x, l.Rank, l.ChannelsFirst)
	if err != nil {
		return nil, err
	}
	inS := spread(spatial, 1)
	outS := inS
	off := maxConvRank - l.Rank
	for i := 0; i < l.Rank; i++ {
		switch l.Kind {
		case resizePad:
			outS[off+i] += l.Amounts[i][0] + l.Amounts[i][1]
		case resizeCrop:
			outS[off+i] -= l.Amounts[i][0] + l.Amounts[i][1]
			if outS[off+i] <= 0 {
				return nil, fmt.Errorf("input shape %v: cropping %v leaves nothing", x.Shape, l.Amounts)
			}
		case resizeUpSample:
			outS[off+i] *= l.Size[i]
		}
	}
	if err := checkExpanded(n, outS.prod(), c); err != nil {
		return nil, err
	}
	var buf [maxLayerResultRank]int
	shape := append(buf[:0], x.Shape...)
	copy(shape[len(shape)-l.Rank-btoi(!l.ChannelsFirst):], outS[off:])
	out, res := newLayerResult(ctx, l, shape...)
	if l.Bilinear {
		bilinearResize(out.Data, x.Data, n, c, inS, outS)
		return res, nil
	}
	// Each output position copies one input position (or is zero): per
	// axis, the source index of every output index, -1 for padding.
	var maps [maxConvRank][]int
	for a := 0; a < maxConvRank; a++ {
		m := make([]int, outS[a])
		for o := range m {
			m[o] = o
			if i := a - off; i >= 0 {
				switch l.Kind {
				case resizePad:
					m[o] = o - l.Amounts[i][0]
					if m[o] >= inS[a] {
						m[o] = -1
					}
				case resizeCrop:
					m[o] = o + l.Amounts[i][0]
				case resizeUpSample:
					m[o] = o / l.Size[i]
				}
			}
		}
		maps[a] = m
	}
	gatherSpatial(out.Data, x.Data, n, c, inS, outS, &maps)
	return res, nil
}

// gatherSpatial sets dst [n, outS..., c] from src [n, inS..., c]: output
// position (o0, o1, o2) copies input position (maps[0][o0], maps[1][o1],
// maps[2][o2]), or stays zero where one of them is negative.
func gatherSpatial(dst, src []float32, n, c int, inS, outS dims3, maps *[maxConvRank][]int) {
	inP, outP := inS.prod(), outS.prod()
	for b := 0; b < n; b++ {
		sb, db := src[b*inP*c:(b+1)*inP*c], dst[b*outP*c:(b+1)*outP*c]
		for o0 := 0; o0 < outS[0]; o0++ {
			i0 := maps[0][o0]
			if i0 < 0 {
				continue
			}
			for o1 := 0; o1 < outS[1]; o1++ {
				i1 := maps[1][o1]
				if i1 < 0 {
					continue
				}
				for o2 := 0; o2 < outS[2]; o2++ {
					i2 := maps[2][o2]
					if i2 < 0 {
						continue
					}
					at := ((i0*inS[1]+i1)*inS[2] + i2) * c
					to := ((o0*outS[1]+o1)*outS[2] + o2) * c
					copy(db[to:to+c], sb[at:at+c])
				}
			}
		}
	}
}

// bilinearResize enlarges the last two spatial axes of src [n, 1, h, w, c]
// (as dims3) to outS by bilinear interpolation with half-pixel centers:
// output index o samples input coordinate (o+0.5)·in/out - 0.5, clamped
// to the edges.
func bilinearResize(dst, src []float32, n, c int, inS, outS dims3) {
	type tap struct {
		i0, i1 int
		w1     float64
	}
	taps := func(in, out int) []tap {
		t := make([]tap, out)
		for o := range t {
			x := (float64(o)+0.5)*float64(in)/float64(out) - 0.5
			x = math.Max(x, 0)
			i0 := min(int(math.Floor(x)), in-1)
			i1 := min(i0+1, in-1)
			t[o] = tap{i0, i1, x - float64(i0)}
		}
		return t
	}
	th, tw := taps(inS[1], outS[1]), taps(inS[2], outS[2])
	inP, outP := inS.prod(), outS.prod()
	for b := 0; b < n; b++ {
		sb, db := src[b*inP*c:(b+1)*inP*c], dst[b*outP*c:(b+1)*outP*c]
		for oy, ty := range th {
			for ox, tx := range tw {
				d := db[(oy*outS[2]+ox)*c : (oy*outS[2]+ox+1)*c]
				p00 := sb[(ty.i0*inS[2]+tx.i0)*c:]
				p01 := sb[(ty.i0*inS[2]+tx.i1)*c:]
				p10 := sb[(ty.i1*inS[2]+tx.i0)*c:]
				p11 := sb[(ty.i1*inS[2]+tx.i1)*c:]
				for ch := range d {
					top := float64(p00[ch])*(1-tx.w1) + float64(p01[ch])*tx.w1
					bot := float64(p10[ch])*(1-tx.w1) + float64(p11[ch])*tx.w1
					d[ch] = float32(top*(1-ty.w1) + bot*ty.w1)
				}
			}
		}
	}
}
