"""Writes the vocabulary pickles text/vocab_test.go reads (run with
/usr/bin/python3, numpy 1.x). numpy 2 pickles name numpy._core.* where
numpy 1 names numpy.core.*; with numpy 1 installed, the numpy2_* files are
written by a pickler that names the numpy 2 modules for the same calls."""
import io, json, pickle, sys, types
import numpy as np

vocab = ["", "[UNK]", "the", "movie", "straße", "İstanbul", "😀", "영화"]
out = "vocab"
files = {}

def dump(name, obj, proto, numpy2=False):
    buf = io.BytesIO()
    p = Numpy2Pickler(buf, protocol=proto) if numpy2 else pickle.Pickler(buf, protocol=proto)
    p.dump(obj)
    open(f"{out}/{name}", "wb").write(buf.getvalue())
    files[name] = vocab

# Stand-ins registered under numpy 2's module names, so the pickler can name them.
core = types.ModuleType("numpy._core")
mod_ma = types.ModuleType("numpy._core.multiarray")
mod_num = types.ModuleType("numpy._core.numeric")
def _reconstruct(*a): pass
def scalar(*a): pass
def _frombuffer(*a): pass
for f, m in ((_reconstruct, mod_ma), (scalar, mod_ma), (_frombuffer, mod_num)):
    f.__module__ = m.__name__
    f.__qualname__ = f.__name__
    setattr(m, f.__name__, f)
sys.modules.update({"numpy._core": core, "numpy._core.multiarray": mod_ma, "numpy._core.numeric": mod_num})
swap = {np.core.multiarray._reconstruct: _reconstruct, np.core.multiarray.scalar: scalar,
        np.core.numeric._frombuffer: _frombuffer}

class Numpy2Pickler(pickle.Pickler):
    def __init__(self, f, protocol):
        super().__init__(f, protocol=protocol)
        self.protocol = protocol

    def reducer_override(self, obj):
        if isinstance(obj, (np.ndarray, np.generic)):
            rv = obj.__reduce_ex__(self.protocol)
            f = swap.get(rv[0], rv[0])
            return (f,) + tuple(rv[1:])
        return NotImplemented

for proto in (2, 3, 4, 5):
    dump(f"list_p{proto}.pkl", list(vocab), proto)
    dump(f"tuple_p{proto}.pkl", tuple(vocab), proto)
    dump(f"numpy1_unicode_p{proto}.pkl", np.array(vocab), proto)
    dump(f"numpy1_object_p{proto}.pkl", np.array(vocab, dtype=object), proto)
    dump(f"numpy2_unicode_p{proto}.pkl", np.array(vocab), proto, numpy2=True)
    dump(f"numpy2_object_p{proto}.pkl", np.array(vocab, dtype=object), proto, numpy2=True)
    dump(f"numpy1_scalars_p{proto}.pkl", [np.str_(v) for v in vocab], proto)
    dump(f"numpy2_scalars_p{proto}.pkl", [np.str_(v) for v in vocab], proto, numpy2=True)
dump("numpy1_bigendian_p4.pkl", np.array(vocab).astype(">U8"), 4)
json.dump(vocab, open(f"{out}/vocab.json", "w"), ensure_ascii=False)
open(f"{out}/vocab.txt", "w").write("\n".join(vocab) + "\n")
files["vocab.json"] = files["vocab.txt"] = vocab
# Not vocabularies: LoadVocabulary must refuse them.
pickle.dump({"the": 1}, open(f"{out}/bad_dict.pkl", "wb"), protocol=4)
pickle.dump(np.arange(3), open(f"{out}/bad_ints.pkl", "wb"), protocol=4)
pickle.dump([1, 2], open(f"{out}/bad_list_ints.pkl", "wb"), protocol=2)
pickle.dump(np.array([vocab[:4], vocab[4:]]), open(f"{out}/bad_2d.pkl", "wb"), protocol=3)
import collections
pickle.dump(collections.Counter(a=1), open(f"{out}/bad_class.pkl", "wb"), protocol=4)
json.dump({"vocab": vocab, "files": sorted(files)}, open(f"{out}/expected.json", "w"), ensure_ascii=False, indent=1)
