#!/usr/bin/env bash
# Discovery of a /16 with 2,000 printers in it (the simulator puts one on every 32nd address of
# 127.2.0.0/16; the other 63,534 addresses are silent), by `fleetcon discover --force`, against the
# dry-run estimate of the same command (`discover --dry-run`: its worst case, every address timing
# out on every profile), and against the floor of the sweep: silent addresses / parallel x timeout.
# The sweep uses [poll] timeout 300ms, retries 0, concurrency 1000 (a LAN sweep; the defaults,
# 2 s x 2 at 256 at once, would take about 17 minutes for a /16).
set -u
. "$(dirname "$0")/lib/sim.sh"
bench_tmp
trap bench_cleanup EXIT
TIMEOUT_MS=300 PARALLEL=1000 PRINTERS=2000
sim_start 127.2.0.10 "$PRINTERS" 32 || exit 1
db=$BENCH_TMP/discovery.db
fc_config "$db" timeout=${TIMEOUT_MS}ms retries=0 concurrency=$PARALLEL
conf=$BENCH_TMP/fleetcon.conf
target=127.2.0.0/16:$SIM_PORT
est=$("$FLEETCON" --config "$conf" discover --dry-run --force "$target" 2>&1) || { echo "$est" >&2; exit 1; }
est_s=$(echo "$est" | sed -n 's/.*at worst \([0-9.]*\) s.*/\1/p')
addresses=$(echo "$est" | awk '{ print $1 }')
timed t "$FLEETCON" --config "$conf" discover --force "$target" >"$BENCH_TMP/out" 2>&1
read -r wall user sys rss <<<"$t"
if ! grep -q "$PRINTERS printers" "$BENCH_TMP/out"; then
	echo "discovery bench: not every printer was found:" >&2
	cat "$BENCH_TMP/out" >&2
	exit 1
fi
requests=$(sim_stat requests)
floor=$(calc "($addresses - $PRINTERS) / $PARALLEL * $TIMEOUT_MS / 1000")
printf '%-10s %9s %8s %9s %9s %8s %8s %10s\n' addresses printers seconds estimate floor cpu_s rss_MB vs_estimate
printf '%-10s %9s %8s %9s %9s %8s %8s %10s\n' "$addresses" "$PRINTERS" "$wall" "$est_s" "$floor" \
	"$(calc "$user + $sys")" "$(calc "$rss / 1024" %.1f)" "$(calc "$wall / $est_s")x"
bench discovery16.seconds "$wall" s
bench discovery16.estimate_seconds "$est_s" s
bench discovery16.floor_seconds "$floor" s
bench discovery16.ratio_vs_estimate "$(calc "$wall / $est_s")" x
bench discovery16.cpu_seconds "$(calc "$user + $sys")" s
bench discovery16.rss_mb "$(calc "$rss / 1024" %.1f)" MB
bench discovery16.sim_requests "$requests" requests
row discovery16 "discover a /16 with $PRINTERS printers (${TIMEOUT_MS} ms, $PARALLEL at once)" \
	"$wall s, CPU $(calc "$user + $sys") s" "dry-run estimate $est_s s (floor $floor s)" \
	"$(calc "$wall / $est_s")x of the estimate"
