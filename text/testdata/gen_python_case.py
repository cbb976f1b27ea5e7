import sys, json
out = {}
lower = {}
ci = []
cased = []
for c in range(0x110000):
    if 0xD800 <= c < 0xE000: continue
    ch = chr(c)
    l = ch.lower()
    if l != ch:
        lower[c] = l
    X = (ch + "\u03a3").lower()[-1] == "\u03c2"
    Y = ("A" + ch + "\u03a3").lower()[-1] == "\u03c2"
    if Y and not X: ci.append(c)
    elif X: cased.append(c)
def ranges(xs):
    r = []
    for x in xs:
        if r and r[-1][1] == x - 1: r[-1][1] = x
        else: r.append([x, x])
    return r
json.dump({"python": sys.version.split()[0], "unicode": __import__("unicodedata").unidata_version,
  "lower": {str(k): v for k, v in lower.items()}, "case_ignorable": ranges(ci), "cased_not_ignorable": ranges(cased)}, open(sys.argv[1], "w"))
import unicodedata
d = json.load(open(sys.argv[1]))
d["unassigned"] = ranges([c for c in range(0x110000) if unicodedata.category(chr(c)) == "Cn"])
json.dump(d, open(sys.argv[1], "w"))
