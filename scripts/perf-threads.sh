#!/usr/bin/env bash
# rnnkit with 1 and 2 threads (GOMAXPROCS), interleaved rounds, each
# measurement its own process; uses the harness side_by_side.sh builds.
# usage: scripts/perf-threads.sh CHECKOUT ROUNDS ["W3_lstm_b64 ..."]
# Run ../shared/perf/peers/side_by_side.sh --checkout CHECKOUT once first:
# it builds the harness this script reuses.
set -euo pipefail
CHECKOUT=$1 ROUNDS=${2:-3}
WL=${3:-"W1_lstm_step_h32 W1_lstm_step_h128 W1_lstm_step_h512 W2_lstm_b1 W2_gru_b1 W3_lstm_b64 W3_gru_b64 W4_emb_bilstm_clf W5_simplernn"}
W=$HOME/.cache/rnnkit-perf
(cd "$W/rnnkit_harness" && GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 && CGO_ENABLED=0 go build -o "$W/rnnkit_bench_t" .)
for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  for w in $WL; do
    if [ $((r % 2)) -eq 0 ]; then order="1 2"; else order="2 1"; fi
    for t in $order; do
      out=$(GOMAXPROCS=$t "$W/rnnkit_bench_t" -perf "${RNNKIT_SHARED:-$CHECKOUT/../shared}/perf" -w "$w" -sys "rnnkit${t}t" -min 1s)
      echo "ROUND $r $out"
    done
  done
done
