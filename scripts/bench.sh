#!/usr/bin/env bash
# `make bench`: runs every benchmark in tests/bench/*.sh against the plain build and prints their
# own tables as they go, then one aligned table of every row with its anchor and ratio (the lines
# "ROW name|what|measured|anchor|ratio" the benchmarks print), then every machine-readable line
# "BENCH <name> <value> <unit>". Benchmarks measure; they never fail a build over a number.
# BENCH_ONLY=poll,console runs only those benchmarks.
set -u
cd "$(dirname "$0")/.."
export FLEETCON_BUILD=${FLEETCON_BUILD:-$PWD/build}
export FLEETCON=${FLEETCON:-$FLEETCON_BUILD/fleetcon}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
ran=0
start=$SECONDS
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for b in tests/bench/*.sh; do
	[ -e "$b" ] || continue
	name=$(basename "$b" .sh)
	if [ -n "${BENCH_ONLY:-}" ] && [[ ",$BENCH_ONLY," != *",$name,"* ]]; then
		continue
	fi
	ran=$((ran + 1))
	echo "== $name"
	t0=$SECONDS
	bash "$b" >"$out.one"
	rc=$?
	cat "$out.one" >>"$out"
	grep -v '^ROW ' "$out.one"
	if [ $rc -ne 0 ]; then
		echo "benchmark $name failed (exit $rc)" >&2
		status=1
	fi
	echo "($name took $((SECONDS - t0)) s)"
done
rm -f "$out.one"
if [ "$ran" -eq 0 ]; then
	echo "no benchmarks yet (tests/bench/ is empty)"
	exit 0
fi
echo
echo "== all rows: measured, anchor, ratio ($(nproc) cores; load average $load_before before," \
	"$(cut -d' ' -f1-3 /proc/loadavg) after; $((SECONDS - start)) s in all)"
grep '^ROW ' "$out" | sed 's/^ROW //' | awk -F'|' '
	{ for (i = 1; i <= 5; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } }
	END {
		split("bench|what|measured|anchor|ratio", h, "|")
		for (i = 1; i <= 5; i++) if (length(h[i]) > w[i]) w[i] = length(h[i])
		line = ""
		for (i = 1; i <= 5; i++) line = line sprintf("%-" w[i] "s  ", h[i])
		print line
		for (r = 1; r <= NR; r++) {
			line = ""
			for (i = 1; i <= 5; i++) line = line sprintf("%-" w[i] "s  ", cell[r, i])
			print line
		}
	}'
echo
echo "== machine-readable"
grep '^BENCH ' "$out" || true
exit $status
