#!/usr/bin/env bash
# Nothing lost, nothing doubled across server outages: with the server down, `fleetcon upload`
# retries with backoff, gives up, and keeps the report; with the server answering 503 three times
# and then 200, every waiting report is delivered exactly once; when the connection drops after
# the server read (and kept) a report, the retry carries the same Idempotency-Key and the server
# counts it as a duplicate, not a second report.
set -u
cd "$(dirname "$0")/../.."
top=$PWD
. tests/receiver/lib.sh
uplink_init || exit $?
trap uplink_cleanup EXIT
uplink_seed 3 || fail "seed_store"
conf=$UP/fleetcon.conf

# A port where nothing listens: a receiver's, after it stopped.
receiver_start good || exit 1
port=$RECEIVER_PORT
receiver_stop "$RECEIVER_PID"
uplink_write_config "$conf" "https://localhost:$port/reports"

start=$(date +%s)
$FC --config "$conf" upload >"$UP/down.out" 2>"$UP/down.err"
rc=$?
took=$(($(date +%s) - start))
cat "$UP/down.err" "$UP/down.out"
[ $rc -eq 1 ] || fail "upload with the server down exited $rc"
[ "$(grep -c '^\[1/1\] retry' "$UP/down.err")" = 3 ] || fail "not 3 retries of the 4 attempts"
[ "$(grep -c '^\[1/1\] connect' "$UP/down.err")" = 4 ] || fail "not 4 connection attempts"
[ "$took" -ge 3 ] || fail "the backoff was too short (${took}s for 4 attempts)"
[ "$(outbox_count)" = 1 ] || fail "the report is not in the outbox"
"$PY" -c 'import sqlite3,sys; a=sqlite3.connect(sys.argv[1]).execute("SELECT attempts FROM outbox").fetchone()[0]; sys.exit(a != 4)' \
	"$UP/fleetcon.db" || fail "the outbox does not count 4 attempts"
$FC --config "$conf" status >/dev/null && fail "status says healthy after a failed sync"

# The server comes back on the same port, but answers 503 to the next three reports.
receiver_start good --port "$port" || exit 1
receiver_control 5xx --count 3 --status 503
$FC --config "$conf" upload >"$UP/flaky.out" 2>"$UP/flaky.err"
rc=$?
cat "$UP/flaky.err" "$UP/flaky.out"
[ $rc -eq 0 ] || fail "upload after the outage exited $rc"
[ "$(receiver_stat faults)" = 3 ] || fail "the receiver injected $(receiver_stat faults) faults, not 3"
[ "$(receiver_stat stored)" = 2 ] || fail "stored $(receiver_stat stored) reports, not 2"
[ "$(receiver_stat duplicates)" = 0 ] || fail "a report was sent twice"
[ "$(outbox_count)" = 0 ] || fail "the outbox is not empty"
# Oldest first: the report from the outage went before the new one.
"$PY" - "$RECEIVER_DIR/index.jsonl" <<'PYEOF' || fail "order of delivery"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["seq"] for r in rows] == [1, 2], rows
assert rows[0]["generated_at"] <= rows[1]["generated_at"], rows
PYEOF

# The answer is lost after the server kept the report: the retry is a duplicate, not a second copy.
receiver_control drop --count 1
$FC --config "$conf" upload >"$UP/drop.out" 2>"$UP/drop.err"
rc=$?
cat "$UP/drop.err" "$UP/drop.out"
[ $rc -eq 0 ] || fail "upload with a dropped answer exited $rc"
[ "$(receiver_stat stored)" = 3 ] || fail "stored $(receiver_stat stored) reports, not 3"
[ "$(receiver_stat duplicates)" = 1 ] || fail "the retry was not recognised as a duplicate"
grep -q "closed the connection without answering" "$UP/drop.err" || fail "the drop is not explained"
"$PY" - "$RECEIVER_DIR/requests.jsonl" <<'PYEOF' || fail "keys of the dropped report"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
dropped = [r for r in reqs if r.get("fault") == "drop"]
assert len(dropped) == 1, reqs
again = [r for r in reqs if r["key"] == dropped[0]["key"]]
assert len(again) == 2 and again[1].get("stored") is False, again
PYEOF
$FC --config "$conf" status >/dev/null || fail "status is not healthy after the deliveries"
echo "ok: outage, 503s and a lost answer: every report delivered exactly once"
