#!/usr/bin/env bash
# Export speed on a large fleet: seeds 20,000 devices with a year of daily meter history
# (tests/tools/seed_store: the last 7 days through the store API, the 358 before straight into the
# meter history table, since 7.3 million API saves would take 5 minutes), then times `fleetcon
# export` to HTML and to CSV (--devices all). The goal (issue 8) is the HTML report of 20,000
# devices in under 5 s. The seeded database (about 700 MB) is kept under $FLEETCON_BUILD/bench/
# and reused while seed_store.c and the schema are unchanged (seeding it takes about a minute).
# EXPORT_BENCH_DEVICES and EXPORT_BENCH_DAYS (history days in all, default 365) change it.
set -eu
: "${FLEETCON_BUILD:?}"
DEVICES=${EXPORT_BENCH_DEVICES:-20000}
DAYS=${EXPORT_BENCH_DAYS:-365}
SAVED=$((DAYS < 7 ? DAYS : 7))
GOAL=5
SEED=$FLEETCON_BUILD/tools/seed_store
[ -x "$SEED" ] || { echo "export bench: no $SEED (make tools)" >&2; exit 1; }
if [ -n "${FLEETCON:-}" ] && "$FLEETCON" --help 2>/dev/null | grep -q '^  export '; then
	FC=$FLEETCON
else
	FC=$FLEETCON_BUILD/tools/export_cli
fi
[ -x "$FC" ] || { echo "export bench: no export command ($FC)" >&2; exit 1; }

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# The cached database is named after what made it: seed_store's source, the parameters.
cache=$FLEETCON_BUILD/bench
mkdir -p "$cache"
key=$(cat "$(dirname "$0")/../tools/seed_store.c" "$(dirname "$0")/../../model/store_schema.h" |
	sha256sum | cut -c1-12)
db=$cache/export-${DEVICES}x${DAYS}-$key.db
seed_s="cached"
if [ ! -f "$db" ]; then
	rm -f "$cache"/export-"${DEVICES}"x"${DAYS}"-*.db*
	t0=$(now)
	"$SEED" --db "$db.tmp" --devices "$DEVICES" --days "$SAVED" --meter-history-days $((DAYS - SAVED)) \
		--hostile --seed 1 --end 2026-06-30 >&2
	seed_s=$(secs "$t0" "$(now)")
	# The WAL is folded into the file before it is renamed (a database and its -wal go together).
	sqlite3 "$db.tmp" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
	mv "$db.tmp" "$db"
	rm -f "$db.tmp-wal" "$db.tmp-shm"
fi
rows=$(sqlite3 "$db" 'SELECT count(*) FROM meter_history')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

t0=$(now)
"$FC" --db "$db" export --format html --output "$out/report.html" --devices all 2>/dev/null
html_s=$(secs "$t0" "$(now)")
html_bytes=$(stat -c %s "$out/report.html")
t0=$(now)
"$FC" --db "$db" export --format csv --output "$out/csv" --devices all 2>/dev/null
csv_s=$(secs "$t0" "$(now)")
csv_bytes=$(du -sb "$out/csv" | cut -f1)
ratio=$(awk -v s="$html_s" -v g="$GOAL" 'BEGIN { printf "%.2f", s / g }')

printf '%-8s %8s %5s %12s %9s %8s %9s %8s %9s %10s\n' bench devices days history_rows seed_s \
	html_s html_MB csv_s csv_MB html/goal
printf '%-8s %8s %5s %12s %9s %8s %9.1f %8s %9.1f %10s\n' export "$DEVICES" "$DAYS" "$rows" "$seed_s" \
	"$html_s" "$(awk -v b="$html_bytes" 'BEGIN { print b / 1e6 }')" "$csv_s" \
	"$(awk -v b="$csv_bytes" 'BEGIN { print b / 1e6 }')" "${ratio}x of ${GOAL} s"
echo "BENCH export$DEVICES.html_seconds $html_s s"
echo "BENCH export$DEVICES.csv_seconds $csv_s s"
echo "BENCH export$DEVICES.html_bytes $html_bytes bytes"
echo "BENCH export$DEVICES.csv_bytes $csv_bytes bytes"
echo "BENCH export$DEVICES.html_goal_ratio $ratio x"
echo "BENCH export$DEVICES.history_days $DAYS days"
[ "$seed_s" = cached ] || echo "BENCH export$DEVICES.seed_seconds $seed_s s"
printf 'ROW export%s.html|HTML export, %s devices, %s days of meter history (%s rows)|%s s, %.1f MB|goal 5 s|%sx (goal < 1)\n' \
	"$DEVICES" "$DEVICES" "$DAYS" "$rows" "$html_s" "$(awk -v b="$html_bytes" 'BEGIN { print b / 1e6 }')" "$ratio"
printf 'ROW export%s.csv|CSV export, same database|%s s, %.1f MB|HTML export %s s|%sx\n' "$DEVICES" "$csv_s" \
	"$(awk -v b="$csv_bytes" 'BEGIN { print b / 1e6 }')" "$html_s" "$(awk -v a="$csv_s" -v b="$html_s" 'BEGIN { printf "%.2f", a / b }')"
