#!/usr/bin/env bash
# Runs the libFuzzer targets built by `make fuzz-build` (mk/fuzz.mk), each for a set time from its
# seed corpus tests/fuzz/corpus/NAME; new inputs go to BUILD/corpus/NAME, never into the tree.
# A crash, leak, sanitizer report or failed property leaves its reproducer in BUILD/crashes/ and
# fails that target; the others still run. Prints one row per target (runs, executions per
# second, new inputs) and a BENCH line each.
#
#   tests/fuzz/run.sh [--build DIR] [--seconds N] [--out DIR] [--replay] [NAME...]
#     --out DIR  new inputs go to DIR/NAME instead of BUILD/corpus/NAME (which grows with every
#                run and is read back at the next: a short run starts from the seeds alone)
#     --replay   only run every seed corpus file once (a regression test: no fuzzing)
set -u
cd "$(dirname "$0")/../.."
build=build/fuzz
seconds=60
replay=0
out_root=""
names=()
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--out) out_root=$2; shift 2 ;;
	--replay) replay=1; shift ;;
	-*) echo "usage: tests/fuzz/run.sh [--build DIR] [--seconds N] [--out DIR] [--replay] [NAME...]" >&2; exit 2 ;;
	*) names+=("$1"); shift ;;
	esac
done
if [ ${#names[@]} -eq 0 ]; then
	for src in tests/fuzz/fuzz_*.c; do
		n=${src##*/}
		names+=("${n%.c}")
	done
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/crashes" "$build/logs"
failed=()
printf '%-16s %10s %9s %6s  %s\n' target runs exec/s new result
for name in "${names[@]}"; do
	bin=$build/targets/$name
	seeds=tests/fuzz/corpus/$name
	log=$build/logs/$name.log
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin is not built (make fuzz-build)" >&2
		failed+=("$name")
		continue
	fi
	dict=()
	[ -f "tests/fuzz/$name.dict" ] && dict=("-dict=tests/fuzz/$name.dict")
	if [ "$replay" = 1 ]; then
		# Every file once; libFuzzer runs the named files and exits non-zero on the first failure.
		files=()
		[ -d "$seeds" ] && while IFS= read -r -d '' f; do files+=("$f"); done \
			< <(find "$seeds" -type f -print0 | sort -z)
		if [ ${#files[@]} -eq 0 ]; then
			echo "fuzz: no seed corpus in $seeds" >&2
			failed+=("$name")
			continue
		fi
		if "$bin" -artifact_prefix="$build/crashes/$name-" "${files[@]}" >"$log" 2>&1; then
			printf '%-16s %10s %9s %6s  %s\n' "$name" "${#files[@]}" - - "replayed"
		else
			printf '%-16s %10s %9s %6s  %s\n' "$name" "${#files[@]}" - - "FAILED (log $log)"
			failed+=("$name")
		fi
		continue
	fi
	out=${out_root:-$build/corpus}/$name
	mkdir -p "$out"
	before=$(find "$out" -type f | wc -l)
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix="$build/crashes/$name-" "${dict[@]}" "$out" "$seeds" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	after=$(find "$out" -type f | wc -l)
	if [ "$rc" -eq 0 ]; then
		result=ok
	else
		crash=$(sed -n 's/^.*Test unit written to //p' "$log" | tail -n 1)
		result="FAILED rc=$rc ${crash:-} (log $log)"
		failed+=("$name")
	fi
	printf '%-16s %10s %9s %6s  %s\n' "$name" "${runs:--}" "${speed:--}" "$((after - before))" "$result"
	[ -n "$speed" ] && echo "BENCH fuzz.$name.exec_per_sec $speed exec/s"
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz: failed: ${failed[*]}" >&2
	exit 1
fi
exit 0
