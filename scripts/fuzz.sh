#!/bin/sh
# fuzz.sh runs every fuzz target of the module, one at a time, and prints
# each one's executions and rate.
#
#   scripts/fuzz.sh [DURATION] [TARGET-REGEXP]
#
# DURATION is per target, in go test's -fuzztime form (default 1m; "30s",
# "10m", or "100000x" for a count of inputs). TARGET-REGEXP selects
# targets by "package/FuzzName" (default: all), e.g. 'keras/|h5/FuzzOpen'.
# Minimization of new inputs is capped (-fuzzminimizetime 1x): with the
# default of 60 s per input, targets with large seeds spend their whole
# budget minimizing. Set FUZZ_PARALLEL to limit the fuzzing workers (the
# default, GOMAXPROCS). Crashers land in the package's testdata/fuzz/,
# where plain `go test` replays them; the script exits 1 if any target
# failed.
set -u
dur=${1:-1m}
sel=${2:-.}
cd "$(dirname "$0")/.." || exit 2
par=""
[ -n "${FUZZ_PARALLEL:-}" ] && par="-parallel $FUZZ_PARALLEL"
log=$(mktemp)
failed=$(mktemp)
trap 'rm -f "$log" "$failed"' EXIT
printf '%-44s %12s %10s %s\n' TARGET EXECS PER_SEC RESULT
# Targets: "dir name" pairs from every _test.go file's func FuzzXxx.
grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r file; do
	dir=$(dirname "$file")
	sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file" | while read -r name; do
		echo "$dir $name"
	done
done | sort -u | while read -r dir name; do
	id="${dir#./}/$name"
	echo "$id" | grep -Eq -- "$sel" || continue
	corpus="$dir/testdata/fuzz/$name"
	before=$(ls "$corpus" 2>/dev/null | wc -l)
	# -timeout 0: the default 10m would end a 10m run as a failure.
	go test -run '^$' -fuzz "^$name\$" -fuzztime "$dur" -fuzzminimizetime 1x -timeout 0 $par "$dir" >"$log" 2>&1
	rc=$?
	after=$(ls "$corpus" 2>/dev/null | wc -l)
	# A bare "context deadline exceeded" at the end of a timed run, with no
	# input written, is Go's fuzz coordinator racing its own deadline
	# (golang/go#75804), not a finding.
	flake=""
	if [ $rc -ne 0 ] && [ "$after" -eq "$before" ] && grep -q '^    context deadline exceeded$' "$log" &&
		! grep -q 'Failing input' "$log"; then
		rc=0
		flake=" (coordinator deadline race, golang/go#75804; no input failed)"
	fi
	# The last progress line: "fuzz: elapsed: 1m0s, execs: 123456 (2057/sec), ...":
	# the rate printed is the whole run's, execs over elapsed.
	set -- $(grep 'fuzz: elapsed:' "$log" | tail -1 | sed -n 's/.*elapsed: \([0-9hms.]*\), execs: \([0-9]*\).*/\1 \2/p')
	elapsed=${1:-0s}
	execs=${2:-0}
	secs=$(echo "$elapsed" | awk '{ s = 0; t = $0
		if (match(t, /[0-9]+h/)) s += 3600 * substr(t, RSTART, RLENGTH - 1)
		if (match(t, /[0-9]+m/)) s += 60 * substr(t, RSTART, RLENGTH - 1)
		if (match(t, /[0-9.]+s/)) s += substr(t, RSTART, RLENGTH - 1)
		print int(s) }')
	result="ok$flake"
	if [ $rc -ne 0 ]; then
		result="FAIL: $(grep -m1 -E -- '--- FAIL|Failing input|panic:|error' "$log" | cut -c1-100)"
		echo "$id" >>"$failed"
		cp "$log" "/tmp/fuzz-$(echo "$id" | tr / _).log"
	fi
	rate=0
	[ "$secs" -gt 0 ] && rate=$(( execs / secs ))
	printf '%-44s %12s %10s %s\n' "$id" "${execs:-0}" "$rate" "$result"
	[ $rc -ne 0 ] && echo "  log: /tmp/fuzz-$(echo "$id" | tr / _).log"
done
[ -s "$failed" ] && exit 1
exit 0
