#!/usr/bin/env bash
# fleetcon run against snmpsim printers and the reference receiver: a discovery sent through the
# service's socket, the scheduled poll, the daily sync at a slot set about a minute ahead (the one
# slow test of the service: it waits for the clock, bounded), a second `run` refused with the
# first one's pid, `status --json` with the sync times, SIGHUP with a broken configuration (the
# old one stays), SIGTERM (exit 0, socket gone). fleetcon-test: threaded
set -u
cd "$(dirname "$0")/../.."
top=$PWD
: "${FLEETCON:?}"
. tests/lib/snmpsim.sh
. tests/receiver/lib.sh
. tests/lib/service.sh
snmpsim_require || exit 77
uplink_init || exit $?
cleanup() {
	svc_kill
	snmpsim_stop || true
	uplink_cleanup
}
trap cleanup EXIT
export HOME=$UP XDG_CONFIG_HOME=$UP/.config XDG_DATA_HOME=$UP/.local/share TZ=UTC
logged() { grep -q -- "$1" "$UP/svc.log"; }

snmpsim_start_fleet tests/fixtures/printers xerox_altalink_c8045.snmprec kyocera_p3150dn.snmprec >/dev/null ||
	fail "snmpsim did not start"
receiver_start good || exit 1
first=${SNMPSIM_ADDRS[0]%:*}
last=${SNMPSIM_ADDRS[1]%:*}

# The slot: the next minute, or the one after when the next is too close to be sure of.
sec=$(date -u +%-S)
ahead=1
[ "$sec" -ge 45 ] && ahead=2
slot=$(date -u -d "+$ahead min" +%H:%M)
conf=$UP/fleetcon.conf
uplink_write_config "$conf" "https://localhost:$RECEIVER_PORT/reports" \
	"[sync]" "time = $slot" "[poll]" "interval = 60s" "[discovery]" "interval = 0"
F=("$FLEETCON" --config "$conf")

svc_start "$UP/fleetcon.db" "$UP/svc.log" --config "$conf" run --log-level debug || fail "no service"
svc_pid=$SVC_PID
[ "$(stat -c %a "$UP/fleetcon.db.sock")" = 600 ] || fail "the socket is not 0600"
logged "next sync .*T$slot:00Z" || { cat "$UP/svc.log"; fail "the service does not say its slot $slot"; }

echo "== a second run is refused, naming the first"
"${F[@]}" run 2>"$UP/second.log" && fail "a second run started"
grep -q "process $svc_pid" "$UP/second.log" || fail "the refusal does not name pid $svc_pid: $(cat "$UP/second.log")"
kill -0 "$svc_pid" || fail "the first service died"

echo "== discover through the service"
out=$("${F[@]}" discover "$first-$last:$SNMPSIM_PORT" 2>&1) || fail "discover: $out"
echo "$out" | grep -q "2 printers" || fail "discover: $out"
logged "discover (job [0-9]*): 2 addresses" || fail "the service did not run the discovery"

echo "== the scheduled poll"
svc_until 30 logged "poll (job [0-9]*): 2 devices polled, 2 answered" || { cat "$UP/svc.log"; fail "no scheduled poll"; }
logged "scheduled poll of every included device" || fail "the poll was not the schedule's"

echo "== the daily sync at $slot"
svc_until 150 svc_stored_is 1 || { cat "$UP/svc.log"; fail "no report at the slot $slot"; }
svc_until 10 logged "upload (job [0-9]*): delivered" || fail "the service did not log the delivery"
logged "scheduled sync" || fail "the sync was not the schedule's"
"${F[@]}" status --json >"$UP/status.json" || { cat "$UP/status.json"; fail "status --json says unhealthy"; }
"$PY" - "$UP/status.json" <<'PY' || fail "status --json"
import json, sys
s = json.load(open(sys.argv[1]))
flat = json.dumps(s)
for key in ("last_success", "last_contact", "last_data", "next_sync"):
    assert key in flat, key
def find(o, k):
    if isinstance(o, dict):
        if k in o:
            return o[k]
        for v in o.values():
            r = find(v, k)
            if r is not None:
                return r
    return None
assert find(s, "last_success"), s
PY

echo "== SIGHUP with a broken configuration keeps the old one"
cp "$conf" "$UP/good.conf"
echo "this is not ini" >>"$conf"
kill -HUP "$svc_pid"
svc_until 10 logged "reload refused, the configuration in use stays: .*fleetcon.conf:[0-9]*:" ||
	{ cat "$UP/svc.log"; fail "the broken file was not reported with FILE:LINE"; }
kill -0 "$svc_pid" || fail "the service died on a broken configuration"
"${F[@]}" --help >/dev/null
cp "$UP/good.conf" "$conf"
kill -HUP "$svc_pid"
svc_until 10 logged "configuration reloaded from" || fail "a good file was not reloaded"
grep -q "$RECEIVER_PASSWORD" "$UP/svc.log" && fail "the log shows the server password"

echo "== SIGTERM"
kill -TERM "$svc_pid"
wait "$svc_pid"
rc=$?
SVC_PID=
[ $rc = 0 ] || { cat "$UP/svc.log"; fail "SIGTERM: exit $rc"; }
logged "stopped" || fail "no stop in the log"
[ -e "$UP/fleetcon.db.sock" ] && fail "the socket was left behind"
echo "ok"
