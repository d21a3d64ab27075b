#!/usr/bin/env bash
# `make bench`: runs every benchmark in tests/bench/*.sh against the plain build and prints their
# rows; each benchmark also prints machine-readable lines "BENCH <name> <value> <unit>", gathered
# at the end. Benchmarks measure; they never fail a build over a number.
set -u
cd "$(dirname "$0")/.."
export FLEETCON_BUILD=${FLEETCON_BUILD:-$PWD/build}
export FLEETCON=$FLEETCON_BUILD/fleetcon
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
ran=0
for b in tests/bench/*.sh; do
	[ -e "$b" ] || continue
	ran=$((ran + 1))
	echo "== $(basename "$b" .sh)"
	if ! bash "$b" | tee -a "$out"; then
		echo "benchmark $(basename "$b") failed" >&2
		status=1
	fi
done
if [ "$ran" -eq 0 ]; then
	echo "no benchmarks yet (tests/bench/ is empty)"
	exit 0
fi
echo
echo "== machine-readable"
grep '^BENCH ' "$out" || true
exit $status
