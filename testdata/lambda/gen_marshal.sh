#!/usr/bin/env bash
# Regenerates marshal.json: the base64 marshal of one function's code
# object, as Keras' func_dump stores a Lambda, from every CPython version
# pyenv has here (3.6 to 3.13). convert.DescribeLambda must read each.
set -euo pipefail
cd "$(dirname "$0")"
out="["
sep=""
for v in 3.6 3.7 3.8 3.9 3.10 3.11 3.12 3.13; do
  py=$(ls -d /root/.pyenv/versions/$v.*/bin/python3 2>/dev/null | head -1) || true
  [ -n "$py" ] || continue
  line=$("$py" - <<'PY'
import base64, json, marshal, sys
def repeat_tokens(x, times=3):
    scale = 0.5
    import math
    return math.floor(x * scale) + times + len("ab")
print(json.dumps({"python": "%d.%d" % sys.version_info[:2],
                  "code": base64.b64encode(marshal.dumps(repeat_tokens.__code__)).decode()}))
PY
)
  out="$out$sep$line"
  sep=","
done
echo "$out]" > marshal.json
