#!/usr/bin/env bash
# 429 with Retry-After is honoured: in seconds ("3") and as an HTTP date, the next attempt comes no
# sooner than the server asked (the agent's own backoff would be about a second); a Retry-After
# longer than an upload waits in place (2 minutes) ends the upload and the report keeps waiting
# in the outbox with its next attempt no sooner than the server asked.
set -u
cd "$(dirname "$0")/../.."
top=$PWD
. tests/receiver/lib.sh
uplink_init || exit $?
trap uplink_cleanup EXIT
uplink_seed 2 || fail "seed_store"
conf=$UP/fleetcon.conf
receiver_start good || exit 1
uplink_write_config "$conf" "https://localhost:$RECEIVER_PORT/reports"

# gap N: seconds between request N and N+1 (1-based) at the receiver.
gap() {
	"$PY" - "$RECEIVER_DIR/requests.jsonl" "$1" <<'PYEOF'
import datetime, json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
t = [datetime.datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%S.%fZ") for r in reqs[n - 1:n + 1]]
print("%.3f" % (t[1] - t[0]).total_seconds())
PYEOF
}

receiver_control 429 --count 1 --retry-after 3
$FC --config "$conf" upload >"$UP/s.out" 2>"$UP/s.err" || { cat "$UP/s.err"; fail "upload after a 429 failed"; }
cat "$UP/s.err"
g=$(gap 1)
echo "Retry-After: 3 -> next attempt after ${g}s"
"$PY" -c "import sys; sys.exit(not float('$g') >= 2.95)" || fail "Retry-After: 3 not honoured (${g}s)"
grep -q "next attempt in 3.0 s" "$UP/s.err" || fail "the wait is not shown"

receiver_control 429 --count 1 --retry-after date+4
$FC --config "$conf" upload >"$UP/d.out" 2>"$UP/d.err" || { cat "$UP/d.err"; fail "upload after a dated 429 failed"; }
g=$(gap 3)
echo "Retry-After: (date in 4 s) -> next attempt after ${g}s"
# An HTTP date has whole seconds: 4 s ahead, cut to the second, is at least 3 s.
"$PY" -c "import sys; sys.exit(not float('$g') >= 2.95)" || fail "an HTTP-date Retry-After was not honoured (${g}s)"

receiver_control 429 --count 1 --retry-after 600
before=$(receiver_requests)
start=$(date +%s)
$FC --config "$conf" upload >"$UP/l.out" 2>"$UP/l.err"
rc=$?
cat "$UP/l.err" "$UP/l.out"
[ $rc -eq 1 ] || fail "a Retry-After of 600 s did not end the upload"
[ $(($(date +%s) - start)) -lt 60 ] || fail "the upload waited in place for a long Retry-After"
[ "$(receiver_requests)" = $((before + 1)) ] || fail "the agent asked again despite Retry-After: 600"
"$PY" -c 'import sqlite3,sys,time; n=sqlite3.connect(sys.argv[1]).execute("SELECT next_attempt_at FROM outbox").fetchone()[0]; sys.exit(not n >= time.time() + 590)' \
	"$UP/fleetcon.db" || fail "the entry's next attempt is sooner than Retry-After"
[ "$(receiver_stat stored)" = 2 ] || fail "stored $(receiver_stat stored), not 2"
echo "ok: Retry-After honoured in seconds and as a date; a long one waits in the outbox"
