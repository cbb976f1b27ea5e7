"""Pickles that name classes a tokenizer file must not hold. Written with
pickle.dumps only (nothing here is ever unpickled):

    python3 text/testdata/bad/gen_bad_pickles.py text/testdata/bad
"""
import os
import pickle
import sys


def cls(module, name):
    c = type(name, (), {})
    c.__module__ = module
    c.__qualname__ = name
    return c


class Reduce:
    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


out = sys.argv[1]
Evil = cls("__main__", "Evil")
sys.modules["__main__"].Evil = Evil
CountVectorizer = cls("sklearn.feature_extraction.text", "CountVectorizer")
OtherTok = cls("mypackage.text", "Tokenizer")
for mod, c in [("sklearn.feature_extraction.text", CountVectorizer), ("mypackage.text", OtherTok)]:
    import types
    m = sys.modules.setdefault(mod, types.ModuleType(mod))
    setattr(m, c.__name__, c)
    parts = mod.split(".")
    for i in range(1, len(parts)):
        sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))


def obj(c, **attrs):
    o = c()
    o.__dict__.update(attrs)
    return o


cases = {
    "os_system.pkl": (Reduce(os.system, ("echo pwned",)), 2),
    "builtins_eval.pkl": (Reduce(eval, ("1+1",)), 4),
    "main_class.pkl": (obj(Evil, word_index={"a": 1}), 3),
    "sklearn_vectorizer.pkl": (obj(CountVectorizer, vocabulary_={"a": 0}), 4),
    "other_tokenizer.pkl": (obj(OtherTok, word_index={"a": 1}), 5),
    "set_of_words.pkl": ({"a", "b"}, 4),
    "int.pkl": (42, 2),
}
for name, (v, proto) in cases.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(pickle.dumps(v, protocol=proto))
