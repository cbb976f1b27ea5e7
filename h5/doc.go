// Package h5 is a pure-Go, read-only HDF5 reader: enough of the format that
// libhdf5 1.8 to 1.14 writes through h5py to read Keras model files and
// anything built from the same pieces.
//
// It follows the HDF5 File Format Specification version 3.0: superblocks
// versions 0 to 3 with user blocks (II.A); object headers v1 and v2 with
// continuation blocks (IV.A.1); symbol-table groups with v1 B-trees, symbol
// nodes and local heaps (III.A.1, III.B, III.C, III.D); link-message groups,
// compact and dense through fractal heaps (III.G) and v2 B-trees (III.A.2);
// compact and dense attributes (IV.A.2.m, IV.A.2.v); integer, float,
// fixed and variable-length string, enum and array datatypes (IV.A.2.d),
// variable-length data in global heaps (III.E); compact, contiguous and
// chunked layouts (IV.A.2.i) with every chunk index (v1 B-tree, single
// chunk, implicit, fixed array, extensible array, v2 B-tree) and the
// deflate, shuffle, fletcher32 and LZF filters (IV.A.2.l). Every checksum
// (Jenkins lookup3) is verified.
//
// All reads are bounds-checked against the file size: malformed input gives a
// *FormatError (errors.Is ErrFormat) naming the object path and the
// structure, valid but unimplemented features an *UnsupportedError
// (errors.Is ErrUnsupported); counts from the file are checked before any
// allocation and address cycles are detected.
package h5
