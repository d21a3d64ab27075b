#!/usr/bin/env bash
# The agent killed with SIGKILL in the middle of an upload (the server has read the report and
# hangs before answering), then run again: the report is still in the outbox, the interrupted sync
# shows as failed, and the next upload delivers it (the server sees the same key again and counts
# a duplicate) together with the new report: exactly once each, by distinct keys.
set -u
cd "$(dirname "$0")/../.."
top=$PWD
. tests/receiver/lib.sh
uplink_init || exit $?
trap 'kill -9 $up_pid 2>/dev/null; uplink_cleanup' EXIT
up_pid=
uplink_seed 4 || fail "seed_store"
conf=$UP/fleetcon.conf
receiver_start good || exit 1
uplink_write_config "$conf" "https://localhost:$RECEIVER_PORT/reports"

receiver_control hang --count 1
$FC --config "$conf" upload >"$UP/first.out" 2>"$UP/first.err" &
up_pid=$!
# Wait for the receiver to have the report (it logs the request before hanging): a condition,
# polled, bounded by 30 s.
for _ in $(seq 1500); do
	[ "$(receiver_requests)" -ge 1 ] && break
	kill -0 "$up_pid" 2>/dev/null || break
	sleep 0.02
done
[ "$(receiver_requests)" = 1 ] || { cat "$UP/first.err"; fail "the upload never reached the receiver"; }
grep -q '"fault": "hang"' "$RECEIVER_DIR/requests.jsonl" || fail "the receiver did not hang"
kill -9 "$up_pid"
wait "$up_pid" 2>/dev/null
up_pid=
cat "$UP/first.err"
[ "$(outbox_count)" = 1 ] || fail "after SIGKILL the outbox holds $(outbox_count) reports, not 1"
hung_key=$(outbox_keys)
"$PY" -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute("SELECT result FROM syncs ORDER BY id DESC LIMIT 1").fetchone()[0]; sys.exit(r != "running")' \
	"$UP/fleetcon.db" || fail "the killed sync is not left 'running'"
$FC --config "$conf" status >"$UP/status1.txt"
rc=$?
cat "$UP/status1.txt"
[ $rc -eq 1 ] || fail "status exited $rc after an interrupted sync, not 1"
grep -q "LAST SYNC FAILED" "$UP/status1.txt" || fail "status does not say the last sync failed"

# Run again with the server behaving.
receiver_control ok
$FC --config "$conf" upload >"$UP/second.out" 2>"$UP/second.err"
rc=$?
cat "$UP/second.err" "$UP/second.out"
[ $rc -eq 0 ] || fail "the upload after the kill exited $rc"
grep -q "^\[1/2\] acknowledged.*$hung_key" "$UP/second.err" || fail "the interrupted report was not sent first"
[ "$(outbox_count)" = 0 ] || fail "the outbox is not empty"
[ "$(receiver_stat stored)" = 2 ] || fail "stored $(receiver_stat stored), not 2"
[ "$(receiver_stat duplicates)" = 1 ] || fail "the re-sent report was not a duplicate"
"$PY" - "$RECEIVER_DIR" "$hung_key" <<'PYEOF' || fail "distinct keys"
import json, os, sys
folder, hung = sys.argv[1], sys.argv[2]
index = [json.loads(l) for l in open(os.path.join(folder, "index.jsonl"))]
keys = [r["key"] for r in index]
assert len(keys) == 2 and len(set(keys)) == 2 and hung in keys, keys
files = os.listdir(os.path.join(folder, "reports"))
assert len(files) == 2, files
PYEOF
"$PY" -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM syncs WHERE error LIKE '"'"'interrupted%'"'"'").fetchone()[0]; sys.exit(r != 1)' \
	"$UP/fleetcon.db" || fail "the killed sync is not recorded as interrupted"
$FC --config "$conf" status >/dev/null || fail "status is not healthy after the re-run"
echo "ok: killed mid-upload, re-run: 2 distinct reports delivered exactly once"
