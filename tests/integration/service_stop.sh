#!/usr/bin/env bash
# SIGTERM while the service uploads (the receiver has read the report and hangs): the service
# exits 0 within its bound, the report stays in the outbox, and after a restart an upload through
# the service delivers it: exactly once at the receiver (its key stored once, the resend counted
# as a duplicate). The agent sets the job's cancel flag from another thread than the uplink's that
# reads it: fleetcon-test: threaded
set -u
cd "$(dirname "$0")/../.."
top=$PWD
: "${FLEETCON:?}"
. tests/receiver/lib.sh
. tests/lib/service.sh
uplink_init || exit $?
cleanup() {
	svc_kill
	uplink_cleanup
}
trap cleanup EXIT
export HOME=$UP XDG_CONFIG_HOME=$UP/.config XDG_DATA_HOME=$UP/.local/share

uplink_seed 4 || fail "seed_store"
receiver_start good || exit 1
conf=$UP/fleetcon.conf
# the seeded printers are not on loopback: the service's own polls stay away from them
uplink_write_config "$conf" "https://localhost:$RECEIVER_PORT/reports" "[poll]" "interval = 7d" \
	"[discovery]" "interval = 0"
F=("$FLEETCON" --config "$conf")

start_service() {
	svc_start "$UP/fleetcon.db" "$UP/svc.log" --config "$conf" run --log-level debug || fail "no service"
	svc_pid=$SVC_PID
}

start_service
receiver_control hang --count 1
"${F[@]}" upload >"$UP/first.out" 2>"$UP/first.err" &
cli_pid=$!
svc_until 30 svc_requests_at_least 1 || { cat "$UP/svc.log"; fail "the upload never reached the receiver"; }
grep -q '"fault": "hang"' "$RECEIVER_DIR/requests.jsonl" || fail "the receiver did not hang"
grep -q "upload (job" "$UP/svc.log" && fail "the upload ended before the stop"

echo "== SIGTERM during the upload"
t0=$SECONDS
kill -TERM "$svc_pid"
wait "$svc_pid"
rc=$?
SVC_PID=
[ $rc = 0 ] || { cat "$UP/svc.log"; fail "SIGTERM during an upload: exit $rc"; }
[ $((SECONDS - t0)) -le 20 ] || fail "the stop took $((SECONDS - t0)) s"
grep -q "cancelled" "$UP/svc.log" || fail "the log does not say the upload was cancelled"
wait "$cli_pid"
[ $? = 1 ] || fail "the upload command did not fail when the service went away"
grep -q "went away" "$UP/first.err" || fail "the upload command does not say the service went away: $(cat "$UP/first.err")"
[ "$(outbox_count)" = 1 ] || fail "the outbox holds $(outbox_count) reports, not 1"
hung_key=$(outbox_keys)

echo "== restart, then upload through the service"
receiver_control ok
start_service
out=$("${F[@]}" upload 2>&1) || { cat "$UP/svc.log"; fail "upload after the restart: $out"; }
echo "$out" | grep -q "delivered: 2 reports" || fail "upload: $out"
[ "$(outbox_count)" = 0 ] || fail "the outbox is not empty"
[ "$(receiver_stat stored)" = 2 ] || fail "stored $(receiver_stat stored), not 2"
[ "$(receiver_stat duplicates)" = 1 ] || fail "the re-sent report was not counted as a duplicate"
"$PY" - "$RECEIVER_DIR" "$hung_key" <<'PY' || fail "the hung report was not stored exactly once"
import json, os, sys
folder, hung = sys.argv[1], sys.argv[2]
keys = [json.loads(l)["key"] for l in open(os.path.join(folder, "index.jsonl"))]
assert keys.count(hung) == 1 and len(set(keys)) == len(keys) == 2, keys
PY
kill -TERM "$svc_pid"
wait "$svc_pid" || fail "the second stop did not exit 0"
SVC_PID=
echo "ok"
