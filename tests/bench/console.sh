#!/usr/bin/env bash
# The console at 20,000 devices (a database from seed_store), on a virtual terminal (a pty of our
# own, 120x40, xterm-256color; tests/bench/lib/console_bench.py): from start to the first complete
# Devices screen (process start, database, loading and sorting the fleet, drawing), and filter
# keystrokes ("/" then "h", "p", Backspace, Backspace, three times), each from the key to the last
# byte of the redraw it causes. The goal (issue 8): a keystroke under 16 ms. CONSOLE_BENCH_DEVICES
# changes the fleet size.
set -u
. "$(dirname "$0")/lib/sim.sh"
bench_tmp
trap bench_cleanup EXIT
n=${CONSOLE_BENCH_DEVICES:-20000}
SEED=$FLEETCON_BUILD/tools/seed_store
[ -x "$SEED" ] || { echo "console bench: no $SEED (make tools)" >&2; exit 1; }
"$FLEETCON" --help 2>/dev/null | grep -q '^  console' || { echo "console bench: $FLEETCON has no console" >&2; exit 1; }
db=$BENCH_TMP/console.db
"$SEED" --db "$db" --devices "$n" --days 1 >/dev/null || exit 1
# No poll or discovery starts while we measure (the seeded devices are on 10.x addresses).
printf '[site]\nname = bench\n[database]\npath = %s\n[poll]\ninterval = 7d\n[discovery]\ninterval = 0\n' \
	"$db" >"$BENCH_TMP/console.conf"
chmod 600 "$BENCH_TMP/console.conf"
/usr/bin/python3 "$BENCH_SRC/tests/bench/lib/console_bench.py" --repeat 3 -- \
	"$FLEETCON" --config "$BENCH_TMP/console.conf" console --readonly >"$BENCH_TMP/times" || exit 1
start=$(awk '$1 == "start_ms" { print $2 }' "$BENCH_TMP/times")
keys=$(awk '$1 == "key_ms" { print $2 }' "$BENCH_TMP/times" | sort -n)
count=$(echo "$keys" | wc -l)
median=$(echo "$keys" | awk -v n="$count" 'NR == int((n + 1) / 2) { print }')
max=$(echo "$keys" | tail -n 1)
ratio=$(calc "$median / 16")
printf '%-8s %10s %12s %12s %12s\n' devices start_ms key_median key_max keys
printf '%-8s %10s %12s %12s %12s\n' "$n" "$start" "$median" "$max" "$count"
bench "console$n.start_ms" "$start" ms
bench "console$n.keystroke_ms" "$median" ms
bench "console$n.keystroke_max_ms" "$max" ms
row "console$n" "console, $n devices: filter keystroke (median of $count)" \
	"$median ms (max $max ms); first screen $start ms" "16 ms (one frame at 60 Hz)" "$(calc "$median / 16")x (goal < 1)"
