#!/usr/bin/env bash
# The store under a poll cycle, at 20,000 devices (seeded by seed_store): the time to write one
# full cycle of poll results through store_device_save in the agent's transactions of 64
# (tests/tools/store_bench, three cycles 15 minutes apart: no new history rows), and the
# database's growth per device per year (five cycles a day apart: each adds a day of meter and
# supply history), against the anchor of 100 KB per device per year (2 GB a year at 20,000).
# STORE_BENCH_DEVICES changes the fleet size.
set -u
. "$(dirname "$0")/lib/sim.sh"
bench_tmp
trap bench_cleanup EXIT
n=${STORE_BENCH_DEVICES:-20000}
for t in seed_store store_bench; do
	[ -x "$FLEETCON_BUILD/tools/$t" ] || { echo "store bench: no $FLEETCON_BUILD/tools/$t (make tools)" >&2; exit 1; }
done
db=$BENCH_TMP/store.db
"$FLEETCON_BUILD/tools/seed_store" --db "$db" --devices "$n" --days 1 >/dev/null || exit 1
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
cycle=$("$FLEETCON_BUILD/tools/store_bench" --db "$db" --cycles 3 --step 900 --batch 64) || exit 1
days=5
grow=$("$FLEETCON_BUILD/tools/store_bench" --db "$db" --cycles $days --step 86400 --batch 64) || exit 1
ms=$(echo "$cycle" | field ms_min)
b0=$(echo "$grow" | field bytes_before)
b1=$(echo "$grow" | field bytes_after)
per_year=$(calc "($b1 - $b0) / $n / $days * 365 / 1024" %.1f)
printf '%-8s %14s %16s %18s\n' devices cycle_write_s per_device_ms growth_KB/dev/year
printf '%-8s %14s %16s %18s\n' "$n" "$(calc "$ms / 1000")" "$(calc "$ms / $n" %.3f)" "$per_year"
bench "store$n.cycle_write_seconds" "$(calc "$ms / 1000")" s
bench "store$n.write_ms_per_device" "$(calc "$ms / $n" %.3f)" ms
bench "store$n.growth_kb_per_device_year" "$per_year" KB
row "store$n" "store: one poll cycle's writes, $n devices (batches of 64)" \
	"$(calc "$ms / 1000") s ($(calc "$ms / $n" %.3f) ms a device)" "full poll $n (see poll$n)" "-"
row "store$n.growth" "store: growth per device per year (daily history rows)" "$per_year KB" \
	"100 KB" "$(calc "$per_year / 100")x"
