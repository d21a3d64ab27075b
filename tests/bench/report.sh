#!/usr/bin/env bash
# The daily report at scale: build (read the store) and compress (serialize + gzip, streamed) for
# 2,000 devices (the reference product's limit; the report must stay under 1 MB compressed) and
# 20,000 (our aim), in databases filled by seed_store. Prints a table and BENCH lines:
# report<N>.gzip_bytes, report<N>.json_bytes, report<N>.seconds (build + compress),
# report<N>.max_rss_kib.
set -u
cd "$(dirname "$0")/../.."
build=${FLEETCON_BUILD:-$PWD/build}
for tool in seed_store report_bench; do
	if [ ! -x "$build/tools/$tool" ]; then
		echo "report bench: $build/tools/$tool is not built (make tools)" >&2
		exit 1
	fi
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/fleetcon-bench-report.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT

printf '%-8s %9s %12s %11s %9s %11s %9s\n' devices seed_s json_bytes gzip_bytes build_ms compress_ms rss_MiB
for n in 2000 20000; do
	s0=$(date +%s.%N)
	# One day of history: the report carries current values only, and seeding is the slow part.
	"$build/tools/seed_store" --db "$dir/$n.db" --devices "$n" --days 1 >/dev/null || exit 1
	s1=$(date +%s.%N)
	line=$("$build/tools/report_bench" --db "$dir/$n.db") || exit 1
	read -r _ dev _ json _ gz _ load _ comp _ rss <<<"$line"
	printf '%-8s %9.1f %12s %11s %9s %11s %9.1f\n' "$dev" "$(awk "BEGIN { print $s1 - $s0 }")" "$json" "$gz" \
		"$load" "$comp" "$(awk "BEGIN { print $rss / 1024 }")"
	echo "BENCH report$n.gzip_bytes $gz bytes"
	echo "BENCH report$n.json_bytes $json bytes"
	echo "BENCH report$n.seconds $(awk "BEGIN { printf \"%.3f\", ($load + $comp) / 1000 }") s"
	echo "BENCH report$n.max_rss_kib $rss KiB"
	secs=$(awk "BEGIN { printf \"%.3f\", ($load + $comp) / 1000 }")
	# The anchor: 1 MB compressed for 2,000 devices (the goal), scaled with the fleet.
	printf 'ROW report%s|daily report, %s devices: build + compress|%s s, %s bytes gzip (%s JSON)|%s MB compressed (1 MB per 2,000)|%sx\n' \
		"$n" "$n" "$secs" "$gz" "$json" "$((n / 2000))" "$(awk "BEGIN { printf \"%.2f\", $gz / ($n / 2000 * 1000000) }")"
	if [ "$n" = 2000 ] && [ "$gz" -ge 1000000 ]; then
		echo "report bench: the 2,000-device report is $gz bytes compressed, over 1 MB" >&2
	fi
	rm -f "$dir/$n.db"*
done
