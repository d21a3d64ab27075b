#!/usr/bin/env bash
# Runs fleetcon's test suite: the cmocka unit tests and the integration tests, for each build
# variant given (plain, asan, tsan), and ends with one summary line "N passed, N failed, N skipped".
# A test passes with exit 0, is skipped with exit 77 (it says why), and fails otherwise; the log of
# a failed test is printed. Logs are kept under build/test-logs/.
#
#   tests/run.sh [--plain DIR] [--asan DIR] [--tsan DIR] [--tsan-unit 'test_a test_b']
#                [--only unit|integration] [--filter PATTERN] [--summary-file FILE]
set -u
cd "$(dirname "$0")/.."
top=$PWD

plain="" asan="" tsan="" tsan_unit="" only="" filter="" summary_file=""
while [ $# -gt 0 ]; do
	case "$1" in
	--plain) plain=$2; shift 2 ;;
	--asan) asan=$2; shift 2 ;;
	--tsan) tsan=$2; shift 2 ;;
	--tsan-unit) tsan_unit=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--filter) filter=$2; shift 2 ;;
	--summary-file) summary_file=$2; shift 2 ;;
	*) echo "tests/run.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

passed=0 failed=0 skipped=0
failures=()
logroot=$top/build/test-logs
mkdir -p "$logroot"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
# Tests never read the developer's own configuration or data.
unset FLEETCON_CONFIG
export TZ=${TZ:-UTC}
if [ -d "$top/../shared/fixtures/printers" ]; then
	export FLEETCON_SHARED_FIXTURES=${FLEETCON_SHARED_FIXTURES:-$(cd "$top/../shared/fixtures/printers" && pwd)}
fi

# run_one VARIANT NAME COMMAND...
run_one() {
	local variant=$1 name=$2
	shift 2
	if [ -n "$filter" ] && [[ "$name" != *$filter* ]]; then
		return
	fi
	local log=$logroot/$variant/$name.log
	mkdir -p "$(dirname "$log")"
	local start=$SECONDS
	timeout --kill-after=10 "${FLEETCON_TEST_TIMEOUT:-900}" "$@" >"$log" 2>&1 </dev/null
	local rc=$?
	local took=$((SECONDS - start))
	case $rc in
	0) passed=$((passed + 1)); printf '  ok    %-6s %-40s %3ss\n' "$variant" "$name" "$took" ;;
	77) skipped=$((skipped + 1))
	    printf '  skip  %-6s %-40s (%s)\n' "$variant" "$name" "$(grep -m1 -i 'skip' "$log" | cut -c1-100)" ;;
	*) failed=$((failed + 1)); failures+=("$variant/$name")
	   printf '  FAIL  %-6s %-40s exit %s, %ss; last lines of %s:\n' "$variant" "$name" "$rc" "$took" "${log#$top/}"
	   tail -n 40 "$log" | sed 's/^/        | /' ;;
	esac
}

# run_variant VARIANT DIR UNIT_LIST INTEGRATION_SELECTOR
run_variant() {
	local variant=$1 dir=$2 units=$3 which=$4
	[ -n "$dir" ] || return 0
	echo "== $variant build ($dir)"
	if [ "$only" != integration ]; then
		local t
		for t in $units; do
			[ -x "$dir/tests/$t" ] || { failed=$((failed + 1)); failures+=("$variant/$t"); echo "  FAIL  $variant $t: not built"; continue; }
			run_one "$variant" "$t" "$dir/tests/$t"
		done
	fi
	if [ "$only" != unit ]; then
		local s
		for s in tests/integration/*.sh; do
			[ -e "$s" ] || continue
			if [ "$which" = threaded ] && ! grep -q 'fleetcon-test: threaded' "$s"; then
				continue
			fi
			FLEETCON="$top/$dir/fleetcon" FLEETCON_BUILD="$top/$dir" FLEETCON_VARIANT=$variant \
				run_one "$variant" "$(basename "$s" .sh)" bash "$s"
		done
	fi
}

all_units() {
	local dir=$1 f
	for f in "$dir"/tests/test_*; do
		[ -x "$f" ] && basename "$f"
	done
}

start=$SECONDS
run_variant plain "$plain" "$( [ -n "$plain" ] && all_units "$plain")" all
run_variant asan "$asan" "$( [ -n "$asan" ] && all_units "$asan")" all
run_variant tsan "$tsan" "$tsan_unit" threaded

echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "failed: ${failures[*]}"
fi
echo "in $((SECONDS - start)) s"
line="fleetcon: $passed passed, $failed failed, $skipped skipped"
[ -n "$summary_file" ] && echo "$line" >"$summary_file"
echo "$line"
[ "$failed" -eq 0 ] && [ $((passed + skipped)) -gt 0 ]
