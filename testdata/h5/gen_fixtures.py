#!/usr/bin/python3
"""Generate the HDF5 fixtures for package h5 and the JSON of expected values.

Run with Debian's python3-h5py (h5py 3.7, HDF5 1.10.8):
    cd testdata/h5 && /usr/bin/python3 gen_fixtures.py
Writes *.h5 here and expected.json: for every file, every object (sorted by
path) with its members in h5py's iteration order, attributes and, for
datasets, shape, numpy dtype, layout, chunk shape, filters, the chunk index
we expect libhdf5 to pick, and every value flattened in row-major order.
The values come from h5py (libhdf5), an implementation independent of the
Go reader.
"""
import json
import math
import os

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = {}      # file -> {"objects": [...]}
CHUNK_INDEX = {}   # (file, path) -> expected chunk index name
SPARSE = set()     # (file, path) of big mostly-zero datasets: only nonzero values are listed


def jval(v):
    """JSON-friendly scalar."""
    if isinstance(v, (bytes, np.bytes_)):
        return v.decode("utf-8", "surrogateescape")
    if isinstance(v, str):
        return v
    if isinstance(v, (np.floating, float)):
        f = float(v)
        if math.isnan(f):
            return "nan"
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return f
    if isinstance(v, (np.integer, int, np.bool_, bool)):
        return int(v)
    raise TypeError(type(v))


def dtype_name(dt):
    if dt.kind in ("S", "U", "O"):
        return "string"
    if dt.subdtype is not None:
        return dtype_name(dt.subdtype[0])
    if dt.kind == "b":
        return "bool"
    return dt.base.newbyteorder("=").name


def flat(a):
    a = np.asarray(a)
    return [jval(x) for x in a.reshape(-1)]


def attr_value(obj, name):
    v = obj.attrs[name]
    if isinstance(v, h5py.Empty):
        return None
    a = np.asarray(v)
    if a.dtype.subdtype is not None:  # array datatype
        return flat(a)
    if a.shape == ():
        return jval(a[()])
    return flat(a)


def dump(fname):
    objects = []
    with h5py.File(os.path.join(HERE, fname), "r") as f:
        def visit(path, obj):
            if isinstance(obj, h5py.Datatype):
                return  # committed datatypes are not groups or datasets
            rec = {"path": "/" + path if path else "/"}
            rec["attrs"] = {n: attr_value(obj, n) for n in obj.attrs.keys()}
            rec["attr_order"] = list(obj.attrs.keys())
            if isinstance(obj, h5py.Group):
                rec["type"] = "group"
                rec["members"] = list(obj.keys())
            else:
                rec["type"] = "dataset"
                rec["shape"] = list(obj.shape) if obj.shape is not None else None
                rec["dtype"] = dtype_name(obj.dtype)
                layout = obj.id.get_create_plist().get_layout()
                rec["layout"] = {h5py.h5d.COMPACT: "compact", h5py.h5d.CONTIGUOUS: "contiguous",
                                 h5py.h5d.CHUNKED: "chunked"}[layout]
                rec["chunks"] = list(obj.chunks) if obj.chunks else None
                dcpl = obj.id.get_create_plist()
                rec["filters"] = [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())]
                idx = CHUNK_INDEX.get((fname, rec["path"]))
                if idx:
                    rec["chunk_index"] = idx
                if (fname, rec["path"]) in SPARSE:
                    data = obj[()].reshape(-1)
                    nz = np.nonzero(data)[0]
                    rec["data_nonzero"] = {str(i): jval(data[i]) for i in nz}
                elif obj.shape is None:
                    rec["data"] = None
                else:
                    data = obj[()]
                    if obj.dtype.kind == "O":
                        data = np.asarray(obj.asstr()[()], dtype=object) if obj.shape != () else obj.asstr()[()]
                    rec["data"] = flat(data)
            objects.append(rec)
        visit("", f["/"])  # f["/"]: h5py's File object ignores the root's creation order
        f.visititems(visit)
    objects.sort(key=lambda r: (r["path"] != "/", r["path"]))
    EXPECTED[fname] = {"objects": objects}


def low_attr(obj, name, tid, data, space=None):
    """Write an attribute with an explicit HDF5 type through the low-level API."""
    data = np.asarray(data)
    if space is None:
        space = h5py.h5s.create(h5py.h5s.SCALAR) if data.shape == () else h5py.h5s.create_simple(data.shape)
    aid = h5py.h5a.create(obj.id, name.encode(), tid, space)
    aid.write(data, mtype=tid)


def fixed_str_type(size, pad, cset=h5py.h5t.CSET_ASCII):
    t = h5py.h5t.C_S1.copy()
    t.set_size(size)
    t.set_strpad(pad)
    t.set_cset(cset)
    return t


def numeric_attrs(g):
    rng = np.random.default_rng(1)
    for dt in ["<i1", "<i2", "<i4", "<i8", "<u1", "<u2", "<u4", "<u8", ">i2", ">i4", ">i8", ">u4",
               "<f2", "<f4", "<f8", ">f2", ">f4", ">f8"]:
        if dt[1] in "iu":
            info = np.iinfo(dt)
            v = np.array([info.min, info.max, 0, 1, 7], dtype=dt)
        else:
            v = np.array([1.5, -2.25, 0.0, 65504.0 if dt[2] == "2" else 1e30, np.nan, np.inf, -np.inf], dtype=dt)
        g.attrs["a_" + dt.replace("<", "le_").replace(">", "be_")] = v
        g.attrs["s_" + dt.replace("<", "le_").replace(">", "be_")] = v[3]
    g.attrs["u8_big"] = np.array([2**64 - 1], dtype="<u8")
    g.attrs["matrix"] = rng.standard_normal((2, 3)).astype("<f4")


def string_attrs(g):
    g.attrs["vlen_utf8"] = "héllo wörld"                      # str -> vlen UTF-8
    g.attrs["vlen_ascii"] = b"tensorflow"                      # bytes -> vlen ASCII
    g.attrs["vlen_list"] = [b"a", b"bc", b""]                   # list of bytes -> vlen ASCII array
    g.attrs.create("vlen_list_utf8", ["α", "βγ"], dtype=h5py.string_dtype("utf-8"))
    g.attrs["fixed_nullpad"] = np.array([b"dense_1", b"lstm", b"x"], dtype="S7")  # Keras layer_names
    g.attrs["fixed_scalar"] = np.bytes_(b"model")
    g.attrs["empty_list"] = np.zeros((0,), dtype="<f8")         # Keras empty weight_names
    g.attrs["null"] = h5py.Empty("<f4")
    low_attr(g, "fixed_nullterm", fixed_str_type(8, h5py.h5t.STR_NULLTERM), np.array(b"abc\0\0\0\0\0", dtype="S8"))
    low_attr(g, "fixed_spacepad", fixed_str_type(8, h5py.h5t.STR_SPACEPAD), np.array(b"abc     ", dtype="S8"))
    low_attr(g, "fixed_utf8", fixed_str_type(6, h5py.h5t.STR_NULLPAD, h5py.h5t.CSET_UTF8),
             np.array("αβ".encode(), dtype="S6"))
    # Array datatype of fixed strings: one element holding 2 strings.
    at = h5py.h5t.array_create(fixed_str_type(4, h5py.h5t.STR_NULLPAD), (2,))
    low_attr(g, "array_of_strings", at, np.array([b"ab", b"cdef"], dtype="S4"),
             space=h5py.h5s.create(h5py.h5s.SCALAR))
    low_attr(g, "array_i4", h5py.h5t.array_create(h5py.h5t.STD_I32LE, (3,)), np.array([1, -2, 3], dtype="<i4"),
             space=h5py.h5s.create(h5py.h5s.SCALAR))


def datasets(g):
    rng = np.random.default_rng(2)
    for dt in ["<f2", "<f4", "<f8", ">f4", ">f8", "<i1", "<i2", "<i4", "<i8", "<u1", "<u2", "<u4", "<u8", ">i4", ">u2"]:
        if dt[1] == "f":
            v = rng.standard_normal((3, 4)).astype(dt)
        else:
            info = np.iinfo(dt)
            v = rng.integers(max(info.min, -1000), min(info.max, 1000), size=(3, 4)).astype(dt)
        g.create_dataset("d" + dt.replace("<", "le_").replace(">", "be_"), data=v)
    g.create_dataset("scalar", data=np.float32(3.5))
    g.create_dataset("empty", shape=(0, 4), dtype="<f4")
    g.create_dataset("null", data=h5py.Empty("<f8"))
    g.create_dataset("unwritten", shape=(2, 3), dtype="<f4", fillvalue=7.5)
    g.create_dataset("vlen_strings", data=[b"kernel", b"recurrent_kernel", b"bias"], dtype=h5py.string_dtype("ascii"))
    g.create_dataset("fixed_strings", data=np.array([b"ab", b"cde"], dtype="S3"))
    g.create_dataset("nan_inf", data=np.array([np.nan, np.inf, -np.inf, 0.0, -0.0], dtype="<f4"))
    g.create_dataset("bools", data=np.array([True, False, True]))
    g.create_dataset("rank3", data=rng.standard_normal((2, 3, 4)).astype("<f4"))
    # Compact layout through the low-level API.
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    space = h5py.h5s.create_simple((5,))
    did = h5py.h5d.create(g.id, b"compact", h5py.h5t.IEEE_F32LE, space, dcpl=dcpl)
    did.write(h5py.h5s.ALL, h5py.h5s.ALL, np.arange(5, dtype="<f4") * 1.25)
    d = g["vlen_strings"]
    d.attrs["name"] = "dataset attr"
    g["scalar_string"] = "a scalar vlen string"
    # A committed datatype shared by a dataset and an attribute.
    g["named_type"] = np.dtype(">f8")
    g.create_dataset("uses_named_type", data=np.array([1.5, -2.0]), dtype=g["named_type"])
    g.attrs.create("attr_named_type", np.array([0.25, 4.0]), dtype=g["named_type"])


def links(g):
    g.create_group("target")["x"] = np.arange(3, dtype="<i4")
    g["soft"] = h5py.SoftLink(g.name + "/target")
    g["hard_again"] = g["target"]


def make_basic(libver, name):
    with h5py.File(os.path.join(HERE, name), "w", libver=libver) as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["backend"] = "tensorflow"
        numeric_attrs(f.create_group("numbers"))
        string_attrs(f.create_group("strings"))
        datasets(f.create_group("data"))
        links(f.create_group("links"))
        f.create_group("a/b/c/d")
    dump(name)


def make_groups(libver, name, track):
    with h5py.File(os.path.join(HERE, name), "w", libver=libver, track_order=track) as f:
        big = f.create_group("many", track_order=track)
        # 150 members: multi-level v1 B-tree (earliest) or dense links (latest).
        for i in range(150):
            big.create_group("m%03d" % ((i * 37) % 150))
        # 400 hard links to one dataset: a two-level group B-tree (earliest)
        # or a deeper fractal heap and v2 B-tree (latest), at little size.
        hl = f.create_group("hardlinks", track_order=track)
        target = hl.create_dataset("target", data=np.arange(3, dtype="<i2"))
        for i in range(400):
            hl["l%03d" % ((i * 7) % 400)] = target
        small = f.create_group("few")
        for n in ["zeta", "alpha", "mid"]:
            small.create_dataset(n, data=np.array([len(n)], dtype="<i8"))
        attrs = f.create_group("many_attrs", track_order=track)
        for i in range(20):
            attrs.attrs["attr%02d" % ((i * 7) % 20)] = np.int64(i)
        if libver == "latest" or track:
            # > 64 KiB attribute: dense storage, fractal-heap huge object.
            f.attrs["big_config"] = "x" * 70000
            f.attrs["big_array"] = np.arange(20000, dtype="<f8")
        # Keras' split attribute lists.
        names = np.array([b"layer_%04d" % i for i in range(2500)])
        f["many"].attrs["layer_names0"] = names[:1250]
        f["many"].attrs["layer_names1"] = names[1250:]
    dump(name)


def chunked(f, libver, fname):
    rng = np.random.default_rng(3)
    latest = libver == "latest"
    base = rng.standard_normal((37, 23)).astype("<f4")

    def ds(name, idx, **kw):
        d = f.create_dataset(name, **kw)
        CHUNK_INDEX[(fname, "/" + name)] = idx if latest else "v1 B-tree"
        return d

    ds("plain", "fixed array", data=base, chunks=(8, 5))
    ds("gzip", "fixed array", data=base, chunks=(8, 5), compression="gzip")
    ds("shuffle_gzip_fletcher", "fixed array", data=base, chunks=(10, 10), compression="gzip", shuffle=True, fletcher32=True)
    ds("lzf", "fixed array", data=base, chunks=(6, 7), compression="lzf")
    ds("lzf_shuffle", "fixed array", data=(np.arange(2000) % 17).astype("<i8"), chunks=(128,), compression="lzf", shuffle=True)
    ds("f64_be_gzip", "fixed array", data=base.astype(">f8"), chunks=(16, 16), compression="gzip", compression_opts=9)
    ds("single", "single chunk", data=base, chunks=(37, 23))
    ds("single_gzip", "single chunk", data=base, chunks=(37, 23), compression="gzip")
    d = ds("sparse_fill", "fixed array", shape=(20, 20), dtype="<f4", chunks=(5, 5), fillvalue=-1.5)
    d[0:5, 0:5] = 1.0
    d[17, 3] = 2.0
    d = ds("ext1", "extensible array", shape=(10, 6), maxshape=(None, 6), dtype="<f4", chunks=(3, 4))
    d[...] = rng.standard_normal((10, 6))
    d.resize((14, 6))
    d[10:] = 5.0
    d = ds("ext1_last", "extensible array", shape=(5, 30), maxshape=(5, None), dtype="<i4", chunks=(2, 4), compression="gzip")
    d[...] = np.arange(150).reshape(5, 30)
    d = ds("ext_many", "extensible array", shape=(3000,), maxshape=(None,), dtype="<i2", chunks=(2,))
    d[...] = np.arange(3000) % 1000
    d = ds("ext_many_gzip", "extensible array", shape=(3000,), maxshape=(None,), dtype="<i2", chunks=(2,), compression="gzip")
    d[...] = np.arange(3000) % 999
    d = ds("ext_sparse", "extensible array", shape=(5000,), maxshape=(None,), dtype="<f4", chunks=(1,), fillvalue=3.0)
    d[4000] = 9.0
    d[10] = 8.0
    # Far into an extensible array: super blocks whose data blocks are paged.
    # (super block 13 starts at element 131060 and has 2048-element data
    # blocks in 1024-element pages).
    d = ds("ext_paged", "extensible array", shape=(140000,), maxshape=(None,), dtype="<u1", chunks=(1,))
    d[70000] = 5
    d[70001:70010] = 6
    d[135000] = 7
    d[139999] = 8
    SPARSE.add((fname, "/ext_paged"))
    d = ds("bt2", "v2 B-tree", shape=(9, 7), maxshape=(None, None), dtype="<f8", chunks=(4, 3))
    d[...] = rng.standard_normal((9, 7))
    d = ds("bt2_gzip", "v2 B-tree", shape=(30, 20), maxshape=(None, None), dtype="<f4", chunks=(2, 2), compression="gzip", shuffle=True)
    d[...] = rng.standard_normal((30, 20))
    d = ds("farray_paged", "fixed array", shape=(2100,), dtype="<u1", chunks=(1,))
    d[...] = np.arange(2100) % 251
    d = ds("farray_paged_sparse", "fixed array", shape=(3000,), dtype="<u1", chunks=(1,))
    d[2500:2510] = 9
    d = ds("farray_maxshape", "fixed array", shape=(7, 5), maxshape=(20, 9), dtype="<f4", chunks=(3, 2))
    d[...] = base[:7, :5]
    d = ds("rank3_gzip", "fixed array", data=rng.standard_normal((5, 6, 7)).astype("<f4"), chunks=(2, 4, 3), compression="gzip")
    ds("strings_chunked", "fixed array", data=np.array([b"s%d" % i for i in range(50)]), chunks=(7,), compression="gzip")
    # Implicit index: early allocation, no filters, fixed size (low-level API).
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((4, 4))
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    did = h5py.h5d.create(f.id, b"implicit", h5py.h5t.IEEE_F32LE, h5py.h5s.create_simple((10, 9)), dcpl=dcpl)
    did.write(h5py.h5s.ALL, h5py.h5s.ALL, base[:10, :9].copy())
    CHUNK_INDEX[(fname, "/implicit")] = "implicit" if latest else "v1 B-tree"
    # An optional filter libhdf5 does not have (305): every chunk is stored
    # with filter-mask bit 0 set, so readers must skip it and still inflate.
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_chunk((4,))
    dcpl.set_filter(305, h5py.h5z.FLAG_OPTIONAL, ())
    dcpl.set_deflate(4)
    did = h5py.h5d.create(f.id, b"optional_missing_filter", h5py.h5t.IEEE_F32LE, h5py.h5s.create_simple((10,)), dcpl=dcpl)
    did.write(h5py.h5s.ALL, h5py.h5s.ALL, np.arange(10, dtype="<f4") / 3)
    CHUNK_INDEX[(fname, "/optional_missing_filter")] = "fixed array" if latest else "v1 B-tree"


def make_chunked(libver, name):
    with h5py.File(os.path.join(HERE, name), "w", libver=libver) as f:
        chunked(f, libver, name)
    dump(name)


def make_variants():
    # User block: superblock at 512.
    with h5py.File(os.path.join(HERE, "userblock.h5"), "w", userblock_size=512) as f:
        f["x"] = np.arange(4, dtype="<f4")
        f.attrs["s"] = "in a file with a user block"
    with open(os.path.join(HERE, "userblock.h5"), "r+b") as fh:
        fh.write(b"user block text\n")
    dump("userblock.h5")
    # Superblock version 2.
    with h5py.File(os.path.join(HERE, "v108.h5"), "w", libver=("v108", "v108")) as f:
        g = f.create_group("g")
        for i in range(12):
            g.create_dataset("d%02d" % i, data=np.full((2,), i, dtype="<f4"))
            g.attrs["a%02d" % i] = i
        f.create_dataset("c", data=np.arange(50, dtype="<f4"), chunks=(7,), compression="gzip")
        CHUNK_INDEX[("v108.h5", "/c")] = "v1 B-tree"
    dump("v108.h5")
    # Dangling and looping soft links.
    with h5py.File(os.path.join(HERE, "softlinks.h5"), "w") as f:
        f["real"] = np.arange(3, dtype="<f4")
        f["good"] = h5py.SoftLink("/real")
        f["dangling"] = h5py.SoftLink("/nowhere")
        f["loop"] = h5py.SoftLink("/loop")
        f["g"] = h5py.SoftLink("/g/x")
    dump("softlinks.h5")
    # 4-byte offsets and lengths (superblock version 1 needs H5Pset_istore_k,
    # which h5py does not expose).
    for name, sizes in [("offsets4.h5", (4, 4)), ("offsets2.h5", (2, 2))]:
        fcpl = h5py.h5p.create(h5py.h5p.FILE_CREATE)
        fcpl.set_sizes(*sizes)
        fid = h5py.h5f.create(os.path.join(HERE, name).encode(), h5py.h5f.ACC_TRUNC, fcpl=fcpl)
        with h5py.File(fid) as f:
            f.attrs["names"] = [b"one", b"two"]
            f.attrs["title"] = "small offsets"
            g = f.create_group("grp")
            g["v"] = np.arange(6, dtype="<f8").reshape(2, 3)
            g.create_dataset("c", data=np.arange(40, dtype="<i4"), chunks=(6,), compression="gzip")
            for i in range(10):
                g.create_group("sub%d" % i)
        dump(name)


def make_seeds():
    """Small files (a few KB) covering the same structures, as fuzz seeds:
    the Go fuzzer is slow on inputs of hundreds of KB."""
    rng = np.random.default_rng(4)
    small = rng.standard_normal((6, 5)).astype("<f4")
    for libver in ["earliest", "latest"]:
        name = "seed_chunked_%s.h5" % libver
        latest = libver == "latest"
        with h5py.File(os.path.join(HERE, name), "w", libver=libver) as f:
            def ds(n, idx, **kw):
                CHUNK_INDEX[(name, "/" + n)] = idx if latest else "v1 B-tree"
                return f.create_dataset(n, **kw)
            ds("fa", "fixed array", data=small, chunks=(4, 3))
            ds("filters", "fixed array", data=small, chunks=(3, 5), compression="gzip", shuffle=True, fletcher32=True)
            ds("lzf", "fixed array", data=small, chunks=(6, 2), compression="lzf")
            ds("single", "single chunk", data=small, chunks=(6, 5))
            d = ds("ea", "extensible array", shape=(7,), maxshape=(None,), dtype="<i2", chunks=(2,), fillvalue=4)
            d[0:3] = [1, 2, 3]
            d = ds("bt2", "v2 B-tree", shape=(3, 3), maxshape=(None, None), dtype="<f8", chunks=(2, 2))
            d[...] = np.arange(9).reshape(3, 3)
        dump(name)
    with h5py.File(os.path.join(HERE, "seed_dense_latest.h5"), "w", libver="latest") as f:
        g = f.create_group("g")
        for i in range(9):
            g.create_group("m%d" % i)
            g.attrs["a%d" % i] = np.int16(i)
        g.attrs["long"] = "y" * 5000
        f.attrs["vlen"] = ["p", "q"]
    dump("seed_dense_latest.h5")


def main():
    for fn in os.listdir(HERE):
        if fn.endswith(".h5"):
            os.remove(os.path.join(HERE, fn))
    for libver, sfx in [("earliest", "earliest"), ("latest", "latest")]:
        make_basic(libver, "basic_%s.h5" % sfx)
        make_groups(libver, "groups_%s.h5" % sfx, False)
        make_chunked(libver, "chunked_%s.h5" % sfx)
    make_groups("earliest", "groups_track_order.h5", True)
    make_variants()
    make_seeds()
    with open(os.path.join(HERE, "expected.json"), "w") as fh:
        json.dump({"generator": "gen_fixtures.py", "h5py": h5py.version.version,
                   "hdf5": h5py.version.hdf5_version, "files": EXPECTED}, fh, indent=0, sort_keys=True)


if __name__ == "__main__":
    main()
