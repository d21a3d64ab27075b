#!/usr/bin/env bash
# The short fuzz run of `make check`: builds the libFuzzer targets (mk/fuzz.mk, clang, build/fuzz;
# incremental, so only the first run or a change costs a build), replays every seed corpus file
# under tests/fuzz/corpus/ as a regression test, then fuzzes each target from its seeds for
# FUZZ_SHORT_SECONDS (default 3) seconds. Any crash, sanitizer report or failed property fails the
# test and leaves its reproducer in build/fuzz/crashes/. `make fuzz` is the long run. Plain
# variant only: the fuzz targets are built with their own sanitizers (ASan and UBSan, by clang).
set -u
cd "$(dirname "$0")/../.."
case "${FLEETCON_VARIANT:-plain}" in
plain) ;;
*) echo "skip: the fuzz targets have their own sanitizer build (build/fuzz); run in the plain variant only"; exit 77 ;;
esac
if ! command -v clang >/dev/null 2>&1 ||
	! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
	echo "skip: clang and libclang-rt-14-dev are needed for the fuzz targets (scripts/deps.sh)"
	exit 77
fi
log=build/fuzz/logs/build.log
mkdir -p build/fuzz/logs
# A make of its own (not the jobserver of a `make check` that may have started this test).
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory fuzz-build >"$log" 2>&1; then
	tail -n 30 "$log"
	echo "FAIL: the fuzz targets do not build (log $log)"
	exit 1
fi
tests/fuzz/run.sh --replay || { echo "FAIL: a seed corpus file fails its target"; exit 1; }
# From the seeds alone, so that the run stays as short as it says (make fuzz keeps its corpus).
rm -rf build/fuzz/short
tests/fuzz/run.sh --seconds "${FUZZ_SHORT_SECONDS:-3}" --out build/fuzz/short ||
	{ echo "FAIL: a fuzz target failed"; exit 1; }
echo "ok"
