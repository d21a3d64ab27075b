# shellcheck shell=bash
# Helpers of the benchmarks that need printers: the fast simulator (tests/sim/sim) on 127.x.y.z,
# a fleetcon configuration and database in a temp folder, and one place that formats result rows.
# Source it; it needs FLEETCON_BUILD and FLEETCON (scripts/bench.sh exports both).
#
#   bench_tmp                         sets BENCH_TMP (removed by bench_cleanup)
#   sim_start FIRST COUNT STRIDE      sets SIM_PID, SIM_PORT; the printer templates of BENCH_TEMPLATES
#   sim_stat KEY                      a counter of the running simulator (sim --stats) right now
#   sim_log_toggle                    starts / stops the simulator's request log ($BENCH_TMP/requests.log)
#   fc_config DB [KEY=VALUE...]       writes $BENCH_TMP/fleetcon.conf ([poll] keys given as KEY=VALUE)
#   timed OUTVAR CMD...               runs CMD with /usr/bin/time; OUTVAR gets "wall user sys maxrss_kib"
#   row NAME WHAT MEASURED ANCHOR RATIO   one line of the final table (scripts/bench.sh collects them)
#   bench NAME VALUE UNIT             one machine-readable line

: "${FLEETCON_BUILD:?}"
: "${FLEETCON:=$FLEETCON_BUILD/fleetcon}"
SIM=$FLEETCON_BUILD/sim/sim
SIM_CEILING=$FLEETCON_BUILD/sim/sim_ceiling
BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
# A realistic mixed fleet: our printer recordings (not the switch, not the hostile one).
BENCH_TEMPLATES=(hp_clj_m479fdw xerox_altalink_c8045 kyocera_p3150dn konica_c300i_wastefull
	brother_hl8360_levels brother_hl2350dw_mono canon_iradv_c5535 ricoh_imc3000 lexmark_cx725_v3)
SIM_PID=""

bench_tmp() {
	BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/fleetcon-bench.XXXXXX") || exit 1
}

bench_cleanup() {
	sim_stop
	[ -n "${BENCH_TMP:-}" ] && rm -rf "$BENCH_TMP"
}

sim_start() {
	local first=$1 count=$2 stride=$3 t args=()
	for t in "${BENCH_TEMPLATES[@]}"; do
		args+=(--template "$BENCH_SRC/tests/fixtures/printers/$t.snmprec")
	done
	rm -f "$BENCH_TMP/sim.port" "$BENCH_TMP/sim.stats"
	"$SIM" "${args[@]}" --first "$first" --count "$count" --stride "$stride" \
		--port-file "$BENCH_TMP/sim.port" --stats "$BENCH_TMP/sim.stats" \
		--log "$BENCH_TMP/requests.log" 2>"$BENCH_TMP/sim.err" &
	SIM_PID=$!
	local i
	for i in $(seq 1 200); do
		[ -s "$BENCH_TMP/sim.port" ] && break
		if ! kill -0 "$SIM_PID" 2>/dev/null; then
			echo "bench: the simulator did not start: $(cat "$BENCH_TMP/sim.err")" >&2
			return 1
		fi
		sleep 0.05
	done
	SIM_PORT=$(cat "$BENCH_TMP/sim.port")
}

sim_stop() {
	if [ -n "$SIM_PID" ]; then
		kill "$SIM_PID" 2>/dev/null
		wait "$SIM_PID" 2>/dev/null
		SIM_PID=""
	fi
}

sim_stat() {
	local before=0 i
	[ -f "$BENCH_TMP/sim.stats" ] && before=$(awk '$1 == "seq" { print $2 }' "$BENCH_TMP/sim.stats")
	kill -USR1 "$SIM_PID"
	for i in $(seq 1 200); do
		local now=-1
		[ -f "$BENCH_TMP/sim.stats" ] && now=$(awk '$1 == "seq" { print $2 }' "$BENCH_TMP/sim.stats")
		[ "$now" -gt "$before" ] 2>/dev/null && break
		sleep 0.02
	done
	awk -v k="$1" '$1 == k { print $2 }' "$BENCH_TMP/sim.stats"
}

# The log opens or closes at the simulator's next turn (at most 100 ms); a stats round trip
# after the signal waits for that turn.
sim_log_toggle() {
	kill -USR2 "$SIM_PID"
	sim_stat requests >/dev/null
}

fc_config() {
	local db=$1
	shift
	{
		printf '[site]\nname = bench\n[database]\npath = %s\n[poll]\n' "$db"
		local kv
		for kv in "$@"; do
			printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
		done
	} >"$BENCH_TMP/fleetcon.conf"
	chmod 600 "$BENCH_TMP/fleetcon.conf"
}

timed() {
	local var=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$BENCH_TMP/time.out" "$@"
	local rc=$?
	printf -v "$var" '%s' "$(tail -n 1 "$BENCH_TMP/time.out")"
	return $rc
}

row() {
	printf 'ROW %s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" "$5"
}

bench() {
	printf 'BENCH %s %s %s\n' "$1" "$2" "$3"
}

# calc EXPR: awk arithmetic, printed with printf format FMT (default %.2f).
calc() {
	awk "BEGIN { printf \"${2:-%.2f}\", $1 }"
}
