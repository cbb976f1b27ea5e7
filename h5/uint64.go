package h5

// Exact readers for unsigned integer data: ReadInt64 and Int64s reject
// uint64 values above MaxInt64 and float64 rounds them, so tools that must
// print such values exactly (rnnconvert h5) read them here.

// ReadUint64 returns every value of an unsigned integer dataset as uint64,
// flattened. Signed and float data are refused with ErrUnsupported.
func (d *Dataset) ReadUint64() ([]uint64, error) {
	f := d.obj.f
	t, _, err := f.numericType(&d.dtype, d.obj.path, "uint64")
	if err != nil {
		return nil, err
	}
	if t.Class != ClassInteger || t.Signed {
		return nil, f.unsupported(d.obj.path, "conversion of %s data to uint64", d.dtype.describe())
	}
	raw, err := d.readRaw()
	if err != nil {
		return nil, err
	}
	out := make([]uint64, len(raw)/t.Size)
	decodeUint64(t, raw, out)
	return out, nil
}

// Uint64s returns the values of an unsigned integer attribute, flattened.
// Signed and float data are refused with ErrUnsupported.
func (a *Attribute) Uint64s() ([]uint64, error) {
	t, per, err := a.f.numericType(&a.Type, a.where(), "uint64")
	if err != nil {
		return nil, err
	}
	if t.Class != ClassInteger || t.Signed {
		return nil, a.f.unsupported(a.where(), "conversion of %s data to uint64", a.Type.describe())
	}
	out := make([]uint64, a.nelem*per)
	decodeUint64(t, a.raw, out)
	return out, nil
}

func decodeUint64(t *Datatype, raw []byte, dst []uint64) {
	sz := t.Size
	for i := range dst {
		_, dst[i], _ = intValue(t, raw[i*sz:i*sz+sz])
	}
}
