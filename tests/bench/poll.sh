#!/usr/bin/env bash
# Full poll of 2,000 and 20,000 simulated printers (tests/sim/sim, a mixed fleet of our
# recordings, one address each) by `fleetcon poll`, side by side on the same simulator in the
# same run with:
#   - the ceiling: the same requests (logged by the simulator during fleetcon's poll) replayed by a
#     minimal asynchronous Net-SNMP client as fast as the simulator answers (sim_ceiling), and by
#     raw UDP without any SNMP client work (sim_ceiling --raw: the simulator's own capacity);
#   - `snmpbulkwalk` of each printer under `xargs -P16`, what an admin's script would do.
# The database comes from a `fleetcon discover` of the same printers (timed too: a first contact).
# Polls and ceilings are taken three times each, in turn, and the fastest of each kept: three
# busy threads (engine, store writer, simulator) on two cores make single runs vary by a third.
# POLL_BENCH_SIZES (default "2000 20000") and POLL_BENCH_XARGS=0 (skip xargs) shape it.
set -u
. "$(dirname "$0")/lib/sim.sh"
bench_tmp
trap bench_cleanup EXIT
for tool in "$SIM" "$SIM_CEILING" "$FLEETCON"; do
	[ -x "$tool" ] || { echo "poll bench: $tool is not built (make all tools)" >&2; exit 1; }
done
command -v snmpbulkwalk >/dev/null || { echo "poll bench: snmpbulkwalk is missing (apt-get install snmp)" >&2; exit 1; }

ip_of() { # 127.1.0.1 + $1
	local a=$((0x7f010001 + $1))
	echo "$((a >> 24 & 255)).$((a >> 16 & 255)).$((a >> 8 & 255)).$((a & 255))"
}
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; }

printf '%-9s %8s %8s %8s %8s %7s %8s %7s %9s %8s %8s %8s %9s\n' printers disc_s poll_s req/s \
	PDU/prn cpu_s rss_MB ceil_s ceil_raw_s xargs_s vs_ceil vs_raw xargs_x
for n in ${POLL_BENCH_SIZES:-2000 20000}; do
	sim_start 127.1.0.1 "$n" 1 || exit 1
	range="127.1.0.1-$(ip_of $((n - 1))):$SIM_PORT"
	db=$BENCH_TMP/poll$n.db
	fc_config "$db"
	conf=$BENCH_TMP/fleetcon.conf

	timed disc "$FLEETCON" --config "$conf" discover "$range" >"$BENCH_TMP/disc.out" 2>&1
	if ! grep -q "$n printers" "$BENCH_TMP/disc.out"; then
		echo "poll bench: the discovery of $n printers did not find them all:" >&2
		cat "$BENCH_TMP/disc.out" >&2
		exit 1
	fi
	read -r disc_s _ <<<"$disc"

	r0=$(sim_stat requests)
	c0=$(sim_stat cpu_seconds)
	sim_log_toggle
	timed p1 "$FLEETCON" --config "$conf" poll >"$BENCH_TMP/poll.out" 2>&1
	sim_log_toggle
	r1=$(sim_stat requests)
	c1=$(sim_stat cpu_seconds)
	if ! grep -q "$n devices polled, $n answered" "$BENCH_TMP/poll.out"; then
		echo "poll bench: the poll of $n printers did not get them all:" >&2
		cat "$BENCH_TMP/poll.out" >&2
		exit 1
	fi
	ceil() {
		"$SIM_CEILING" --log "$BENCH_TMP/requests.log" --port "$SIM_PORT" "$@" |
			awk '{ for (i = 1; i < NF; i++) if ($i == "seconds") print $(i + 1) }'
	}
	read -r poll_s u1 s1 rss_kib <<<"$p1"
	cpu_s=$(calc "$u1 + $s1")
	ceil_s=$(ceil)
	for round in 2 3; do
		timed p "$FLEETCON" --config "$conf" poll >"$BENCH_TMP/poll.out" 2>&1
		read -r w u s m <<<"$p"
		if awk -v a="$w" -v b="$poll_s" 'BEGIN { exit !(a < b) }'; then
			poll_s=$w cpu_s=$(calc "$u + $s") rss_kib=$m
		fi
		ceil_s=$(best "$ceil_s" "$(ceil)")
	done
	requests=$((r1 - r0))
	sim_cpu=$(calc "$c1 - $c0" %.3f)

	raw_s=$(best "$(ceil --raw)" "$(ceil --raw)")

	xargs_s=skipped
	if [ "${POLL_BENCH_XARGS:-1}" != 0 ]; then
		for ((i = 0; i < n; i++)); do ip_of "$i"; done >"$BENCH_TMP/addrs"
		x0=$(sim_stat requests)
		t0=$(date +%s.%N)
		xargs -P16 -I{} snmpbulkwalk -v2c -c public -On -t 2 -r 1 "{}:$SIM_PORT" .1.3.6.1 \
			<"$BENCH_TMP/addrs" >/dev/null 2>"$BENCH_TMP/xargs.err"
		xargs_s=$(calc "$(date +%s.%N) - $t0")
		x1=$(sim_stat requests)
	fi
	sim_stop

	rps=$(calc "$requests / $poll_s" %.0f)
	ppp=$(calc "$requests / $n" %.1f)
	rss_mb=$(calc "$rss_kib / 1024" %.1f)
	vs_ceil=$(calc "$poll_s / $ceil_s")
	vs_raw=$(calc "$poll_s / $raw_s")
	xx=n/a
	[ "$xargs_s" != skipped ] && xx=$(calc "$xargs_s / $poll_s" %.1f)
	printf '%-9s %8s %8s %8s %8s %7s %8s %7s %9s %8s %8s %8s %9s\n' "$n" "$disc_s" "$poll_s" "$rps" \
		"$ppp" "$cpu_s" "$rss_mb" "$ceil_s" "$raw_s" "$xargs_s" "${vs_ceil}x" "${vs_raw}x" "${xx}x"
	bench "poll$n.seconds" "$poll_s" s
	bench "poll$n.requests_per_second" "$rps" req/s
	bench "poll$n.pdus_per_printer" "$ppp" PDUs
	bench "poll$n.agent_cpu_seconds" "$cpu_s" s
	bench "poll$n.rss_mb" "$rss_mb" MB
	bench "poll$n.sim_cpu_seconds" "$sim_cpu" s
	bench "poll$n.ceiling_seconds" "$ceil_s" s
	bench "poll$n.ceiling_raw_seconds" "$raw_s" s
	bench "poll$n.ratio_vs_ceiling" "$vs_ceil" x
	bench "poll$n.ratio_vs_raw" "$vs_raw" x
	bench "poll$n.discover_seconds" "$disc_s" s
	row "poll$n" "full poll, $n printers" \
		"$poll_s s, $rps req/s, $ppp PDU/printer, CPU $cpu_s s, RSS $rss_mb MB" \
		"ceiling $ceil_s s (Net-SNMP minimal client; raw UDP $raw_s s)" "${vs_ceil}x (goal <= 1.5)"
	if [ "$xargs_s" != skipped ]; then
		bench "poll$n.xargs_seconds" "$xargs_s" s
		bench "poll$n.xargs_pdus_per_printer" "$(calc "($x1 - $x0) / $n" %.1f)" PDUs
		bench "poll$n.speedup_vs_xargs" "$xx" x
		row "poll$n.xargs" "same printers, snmpbulkwalk under xargs -P16" "$xargs_s s" \
			"fleetcon poll $poll_s s" "fleetcon ${xx}x faster (goal >= 5)"
	fi
	row "poll$n.discover" "discover $n answering printers (first contact)" "$disc_s s" \
		"full poll $poll_s s" "$(calc "$disc_s / $poll_s")x"
	rm -f "$db"* "$BENCH_TMP/requests.log"
done
