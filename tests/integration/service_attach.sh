#!/usr/bin/env bash
# The console in tmux attaches to a running `fleetcon run`: its header says "service pid N", it
# shows the devices the service discovered, the report preview comes through it, `u` uploads
# through the service (the report is seen at the receiver), `c` cancels an upload the service runs,
# quitting the console leaves the service running (a poll through it still works).
# Then, with the service stopped, a console hosts its own agent ("local agent") and holds the
# database: a `run` started meanwhile is refused with the console's pid.
# fleetcon-test: threaded
set -u
cd "$(dirname "$0")/../.."
top=$PWD
: "${FLEETCON:?}"
. tests/lib/console.sh
con_require || exit 77
. tests/lib/snmpsim.sh
snmpsim_require || exit 77
. tests/receiver/lib.sh
. tests/lib/service.sh
rc=0
uplink_init || rc=$?
[ $rc -eq 0 ] || exit $rc
cleanup() {
	con_cleanup
	svc_kill
	snmpsim_stop
	uplink_cleanup
}
trap cleanup EXIT
con_home

snmpsim_start_fleet tests/fixtures/printers xerox_altalink_c8045.snmprec kyocera_p3150dn.snmprec >/dev/null ||
	con_fail "snmpsim did not start"
receiver_start good || con_fail "receiver"
first=${SNMPSIM_ADDRS[0]%:*}
last=${SNMPSIM_ADDRS[1]%:*}
conf=$UP/fleetcon.conf
uplink_write_config "$conf" "https://127.0.0.1:$RECEIVER_PORT/reports" "[discovery]" "interval = 0"
F=("$FLEETCON" --config "$conf")
ENV="TERM=xterm-256color LANG=C.UTF-8 TZ=UTC"

svc_start "$UP/fleetcon.db" "$UP/svc.log" --config "$conf" run || con_fail "no service"
svc_pid=$SVC_PID
out=$("${F[@]}" discover "$first-$last:$SNMPSIM_PORT" 2>&1) || con_fail "discover: $out"

echo "== the console attaches"
con_start 120 40 "$ENV" --config "$conf" || con_fail "tmux did not start"
con_wait "service pid $svc_pid" || con_fail "the header does not name the service"
con_wait "2 devices" || con_fail "the devices are not shown"
con_wait "Xerox" || con_fail "the Xerox is not listed"

echo "== the preview and u (upload) through the service"
con_keys 4
con_wait "Reports go to https://127.0.0.1:$RECEIVER_PORT" || con_fail "the Sync screen does not show the server"
con_keys v
con_wait '"schema": "fleetcon.report"' || con_fail "the preview did not come through the service"
con_keys Escape
con_wait_gone "Report preview" || con_fail "Esc did not close the preview"
con_keys u
con_wait "upload: delivered" || con_fail "the upload was not delivered"
svc_stored_is 1 || con_fail "the receiver stored $(receiver_stat stored) reports"
grep -q "upload (job [0-9]*): delivered" "$UP/svc.log" || con_fail "the service did not run the upload"

echo "== c cancels an upload the service runs (the receiver hangs on it)"
receiver_control hang --count 1
con_keys u
svc_until 30 svc_requests_at_least 2 || con_fail "the second upload never reached the receiver"
con_keys c
con_wait "upload cancelled" || con_wait "cancelled;" || con_fail "c did not cancel the upload in the service"
grep -q "upload (job [0-9]*): .*cancelled" "$UP/svc.log" || con_fail "the service did not cancel the upload: $(tail -3 "$UP/svc.log")"

echo "== quitting leaves the service running"
con_quit || con_fail "quit"
kill -0 "$svc_pid" || con_fail "the service stopped with the console"
out=$("${F[@]}" poll 2>&1) || con_fail "poll through the service: $out"
echo "$out" | grep -q "2 devices polled, 2 answered" || con_fail "poll: $out"
kill -TERM "$svc_pid"
wait "$svc_pid" || con_fail "the service did not exit 0"
SVC_PID=

echo "== without a service the console hosts its own agent and holds the database"
con_start 120 40 "$ENV" --config "$conf" || con_fail "tmux did not start"
con_wait "local agent" || con_fail "the header does not say local agent"
cpid=$(con_pid)
"${F[@]}" run 2>"$UP/refused.log" && con_fail "a service started beside a console's agent"
grep -q "process $cpid" "$UP/refused.log" || con_fail "the refusal does not name the console ($cpid): $(cat "$UP/refused.log")"
con_quit || con_fail "quit"
echo "ok"
