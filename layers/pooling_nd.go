package layers

import (
	"fmt"
	"math"

	"github.com/rnnkit/rnnkit/convert"
	"github.com/rnnkit/rnnkit/runtime"
)

// This file holds Keras' 2-D and 3-D pooling layers
// (keras/src/layers/pooling): MaxPooling2D/3D, AveragePooling2D/3D and
// their global forms, on the window geometry of conv_nd.go. None of them
// uses or passes on a mask.

func init() { builtins = append(builtins, registerPoolingND) }

func registerPoolingND(r *Registry) {
	local := func(rank int, isMax bool) Builder {
		return func(s *convert.Layer, _ *Env) (runtime.Layer, error) { return buildPoolingND(s, rank, isMax) }
	}
	global := func(rank int, isMax bool) Builder {
		return func(s *convert.Layer, _ *Env) (runtime.Layer, error) { return buildGlobalPoolingND(s, rank, isMax) }
	}
	for rank := 2; rank <= 3; rank++ {
		d := fmt.Sprintf("%dD", rank)
		// Keras registers the short aliases as the same classes.
		for _, n := range []string{"MaxPooling", "MaxPool"} {
			r.Register(n+d, local(rank, true))
		}
		for _, n := range []string{"AveragePooling", "AvgPool"} {
			r.Register(n+d, local(rank, false))
		}
		for _, n := range []string{"GlobalMaxPooling", "GlobalMaxPool"} {
			r.Register(n+d, global(rank, true))
		}
		for _, n := range []string{"GlobalAveragePooling", "GlobalAvgPool"} {
			r.Register(n+d, global(rank, false))
		}
	}
}

// PoolingND is MaxPooling2D/3D or AveragePooling2D/3D. Keras: strides
// default to the pool size; "valid" gives floor((n-pool)/strides)+1
// windows per axis, "same" ceil(n/strides) over an input padded by
// max((out-1)·strides+pool-n, 0), left = total/2. Padding never wins a max
// (it is -inf), and a "same" average divides by the number of real
// elements in the window.
type PoolingND struct {
	layerIdent
	Rank              int
	Max               bool
	PoolSize, Strides []int
	Padding           string
	ChannelsFirst     bool
}

func buildPoolingND(spec *convert.Layer, rank int, isMax bool) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	pool := r.Ints("pool_size", []int{2})
	strides := r.Ints("strides", nil)
	padding := r.String("padding", r.String("border_mode", "valid"))
	dimOrdering := r.String("dim_ordering", "tf")
	if err := r.Err(); err != nil {
		return nil, err
	}
	cf, err := dataFormat(spec)
	if err != nil {
		return nil, err
	}
	if dimOrdering == "th" {
		cf = true
	}
	if pool, err = intTuple(spec, "pool_size", pool, rank, 1); err != nil {
		return nil, err
	}
	if strides == nil {
		strides = pool
	}
	if strides, err = intTuple(spec, "strides", strides, rank, 1); err != nil {
		return nil, err
	}
	if padding != "valid" && padding != "same" {
		return nil, fmt.Errorf("layer %q: padding %q: want valid or same: %w", spec.Name, padding, convert.ErrConfig)
	}
	return &PoolingND{layerIdent: idOf(spec), Rank: rank, Max: isMax, PoolSize: pool, Strides: strides,
		Padding: padding, ChannelsFirst: cf}, nil
}

// intTuple expands v (one integer, or rank of them) to rank integers in
// [lo, 65536].
func intTuple(spec *convert.Layer, key string, v []int, rank, lo int) ([]int, error) {
	if len(v) == 1 && rank > 1 {
		w := make([]int, rank)
		for i := range w {
			w[i] = v[0]
		}
		v = w
	}
	if len(v) != rank {
		return nil, fmt.Errorf("layer %q: %s %v: want %d integers: %w", spec.Name, key, v, rank, convert.ErrConfig)
	}
	for _, d := range v {
		if d < lo || d > 1<<16 {
			return nil, fmt.Errorf("layer %q: %s %v: want integers in [%d, 65536]: %w", spec.Name, key, v, lo, convert.ErrConfig)
		}
	}
	return v, nil
}

// spatialLayout returns x viewed channels last as [n, spatial..., c]
// without moving data: a channels-first [n, c, spatial...] tensor is
// [n·c, spatial..., 1].
func spatialLayout(x *runtime.Tensor, rank int, channelsFirst bool) (n, c int, spatial []int, err error) {
	if x.Rank() != rank+2 || x.Len() != shapeSize(x.Shape) {
		return 0, 0, nil, fmt.Errorf("input shape %v: want rank %d", x.Shape, rank+2)
	}
	if channelsFirst {
		return x.Shape[0] * x.Shape[1], 1, x.Shape[2:], nil
	}
	return x.Shape[0], x.Shape[rank+1], x.Shape[1 : rank+1], nil
}

// Call pools x over its spatial axes.
func (l *PoolingND) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, err := singleInput(call)
	if err != nil {
		return nil, err
	}
	x := in.T
	n, c, spatial, err := spatialLayout(x, l.Rank, l.ChannelsFirst)
	if err != nil {
		return nil, err
	}
	g, err := windowGeometry(spatial, l.PoolSize, l.Strides, nil, l.Padding)
	if err != nil {
		return nil, fmt.Errorf("input shape %v: %w", x.Shape, err)
	}
	var buf [maxLayerResultRank]int
	shape := append(buf[:0], x.Shape...)
	copy(shape[len(shape)-l.Rank-btoi(!l.ChannelsFirst):], g.outShape())
	out, res := newLayerResult(ctx, l, shape...)
	l.pool(out.Data, x.Data, n, c, &g)
	return res, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// pool fills dst [n, out..., c] from x [n, in..., c].
func (l *PoolingND) pool(dst, x []float32, n, c int, g *convGeom) {
	P := g.outPositions
	for b := 0; b < n; b++ {
		xb := x[b*g.inPositions*c : (b+1)*g.inPositions*c]
		for p := 0; p < P; p++ {
			o0, o1, o2 := p/(g.out[1]*g.out[2]), p/g.out[2]%g.out[1], p%g.out[2]
			d := dst[(b*P+p)*c : (b*P+p+1)*c]
			if l.Max {
				for i := range d {
					d[i] = float32(math.Inf(-1))
				}
			}
			count := 0
			for k0 := 0; k0 < g.kernel[0]; k0++ {
				s0, ok0 := g.src(0, o0, k0)
				for k1 := 0; k1 < g.kernel[1]; k1++ {
					s1, ok1 := g.src(1, o1, k1)
					for k2 := 0; k2 < g.kernel[2]; k2++ {
						s2, ok2 := g.src(2, o2, k2)
						if !ok0 || !ok1 || !ok2 {
							continue
						}
						count++
						at := ((s0*g.in[1]+s1)*g.in[2] + s2) * c
						src := xb[at : at+c]
						if l.Max {
							for i, v := range src {
								// NaN wins, as in numpy.
								if v > d[i] || v != v {
									d[i] = v
								}
							}
						} else {
							for i, v := range src {
								d[i] += v
							}
						}
					}
				}
			}
			if !l.Max {
				inv := float32(count)
				for i := range d {
					d[i] /= inv
				}
			}
		}
	}
}

// GlobalPoolingND is GlobalMaxPooling2D/3D or GlobalAveragePooling2D/3D:
// the max or mean over all spatial axes, [batch, channels] (with keepdims
// the spatial axes stay, of size 1).
type GlobalPoolingND struct {
	layerIdent
	Rank          int
	Max           bool
	KeepDims      bool
	ChannelsFirst bool
}

func buildGlobalPoolingND(spec *convert.Layer, rank int, isMax bool) (runtime.Layer, error) {
	if err := noWeights(spec); err != nil {
		return nil, err
	}
	r := spec.Config.Reader(spec.Name)
	keep := r.Bool("keepdims", false)
	dimOrdering := r.String("dim_ordering", "tf")
	if err := r.Err(); err != nil {
		return nil, err
	}
	cf, err := dataFormat(spec)
	if err != nil {
		return nil, err
	}
	return &GlobalPoolingND{layerIdent: idOf(spec), Rank: rank, Max: isMax, KeepDims: keep, ChannelsFirst: cf || dimOrdering == "th"}, nil
}

// Call reduces the spatial axes.
func (l *GlobalPoolingND) Call(ctx *runtime.Workspace, call *runtime.Call) ([]runtime.Value, error) {
	in, err := singleInput(call)
	if err != nil {
		return nil, err
	}
	x := in.T
	if x.Rank() != l.Rank+2 || x.Len() != shapeSize(x.Shape) {
		return nil, fmt.Errorf("input shape %v: want rank %d", x.Shape, l.Rank+2)
	}
	n := x.Shape[0]
	var c, p, cStride, pStride int
	if l.ChannelsFirst {
		c, p = x.Shape[1], shapeSize(x.Shape[2:])
		cStride, pStride = p, 1
	} else {
		c, p = x.Shape[l.Rank+1], shapeSize(x.Shape[1:l.Rank+1])
		cStride, pStride = 1, c
	}
	var buf [maxLayerResultRank]int
	shape := append(buf[:0], n, c)
	if l.KeepDims {
		shape = append(shape[:0], x.Shape...)
		for a := range shape {
			if a != 0 && (a != 1 || !l.ChannelsFirst) && (a != len(shape)-1 || l.ChannelsFirst) {
				shape[a] = 1
			}
		}
	}
	out, res := newLayerResult(ctx, l, shape...)
	for b := 0; b < n; b++ {
		xb := x.Data[b*c*p : (b+1)*c*p]
		for ch := 0; ch < c; ch++ {
			if l.Max {
				m := float32(math.Inf(-1))
				for i := 0; i < p; i++ {
					if v := xb[ch*cStride+i*pStride]; v > m || v != v {
						m = v
					}
				}
				out.Data[b*c+ch] = m
				continue
			}
			// numpy's mean: the sum, divided by the count; summing in
			// float64 keeps us within rounding of its float32 result.
			var s float64
			for i := 0; i < p; i++ {
				s += float64(xb[ch*cStride+i*pStride])
			}
			out.Data[b*c+ch] = float32(s / float64(p))
		}
	}
	return res, nil
}
