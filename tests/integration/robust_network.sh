#!/usr/bin/env bash
# Network faults (issue 9, item 4) against the reference receiver's fault modes: the connection
# reset after the body was read, binary garbage for an answer, an answer that trickles in (within
# and over the timeout), a request read and never answered, a connection accepted and never
# served (not even TLS), a redirect to a second host (robust_mail.sh: a mail server that accepts
# and never speaks). Each upload ends within a bound derived from its timeouts (generous, for a loaded
# machine), every report is delivered exactly once in the end (the receiver counts keys), and a
# redirect sends nothing to the other host: no connection, no Authorization header, no body.
set -u
cd "$(dirname "$0")/../.."
top=$PWD
. tests/receiver/lib.sh
uplink_init || exit $?
trap uplink_cleanup EXIT
uplink_seed 3 || fail "seed_store"
conf=$UP/fleetcon.conf
receiver_start good || exit 1
main_dir=$RECEIVER_DIR
# Short timeouts so that each fault costs seconds: 4 attempts, 1+2+4 s of backoff between them.
UPLINK_CONNECT_TIMEOUT=1s UPLINK_TIMEOUT=4s uplink_write_config "$conf" "https://localhost:$RECEIVER_PORT/reports"
# Sanitizers slow everything down: the bounds grow with them, never the other way round.
slack=1
[ "${FLEETCON_VARIANT:-plain}" != plain ] && slack=2
uploads=0

# upload NAME WANT_RC BOUND_S: one `fleetcon upload`; checks the exit code and that it ended
# within BOUND_S seconds (times $slack). Output in $UP/NAME.{out,err}.
upload() {
	local name=$1 want=$2 bound=$(($3 * slack))
	local t0=$SECONDS
	timeout -k 5 $((bound + 60)) $FC --config "$conf" upload >"$UP/$name.out" 2>"$UP/$name.err"
	local rc=$? took=$((SECONDS - t0))
	uploads=$((uploads + 1))
	echo "== $name: exit $rc in ${took}s (bound ${bound}s)"
	sed 's/^/   | /' "$UP/$name.err" "$UP/$name.out"
	[ $rc -eq "$want" ] || fail "$name: exit $rc, expected $want"
	[ $took -le "$bound" ] || fail "$name: took ${took}s, over its bound of ${bound}s"
	if grep -q $'\033' "$UP/$name.out" "$UP/$name.err"; then fail "$name: an escape byte reached the terminal"; fi
}
stat_is() { [ "$(receiver_stat "$1")" = "$2" ] || fail "$3: receiver $1 = $(receiver_stat "$1"), expected $2"; }

# Reset after the body was read (not kept by the server): the retry delivers it, once.
receiver_control reset --count 1
upload reset 0 20
stat_is stored 1 reset
stat_is duplicates 0 reset
[ "$(outbox_count)" = 0 ] || fail "reset: the outbox is not empty"

# Garbage instead of HTTP: an error (cleaned), then the retry delivers it.
receiver_control garbage --count 1
upload garbage 0 20
stat_is stored 2 garbage
stat_is duplicates 0 garbage

# A slow answer that still ends within the timeout: one attempt, delivered.
receiver_control slow --count 1 --seconds 1
upload slow-within 0 15
stat_is stored 3 slow-within
stat_is duplicates 0 slow-within
grep -q "retry" "$UP/slow-within.err" && fail "slow-within: a slow but timely answer was retried"

# A slow answer over the timeout: the server kept the report, the agent gave up on the answer; its
# retry carries the same key and is counted as a duplicate, not a second report.
receiver_control slow --count 1 --seconds 60
upload slow-over 0 25
stat_is stored 4 slow-over
stat_is duplicates 1 slow-over

# Read and never answered: the same.
receiver_control hang --count 1 --seconds 60
upload hang 0 25
stat_is stored 5 hang
stat_is duplicates 2 hang

# Accepted and never served, on every attempt: the upload gives up within its bound (4 attempts
# of connect_timeout + up to 7 s of backoff), the report waits in the outbox.
receiver_control silent --count 4 --seconds 60
upload silent 1 30
[ "$(outbox_count)" = 1 ] || fail "silent: the report is not waiting in the outbox"
stat_is stored 5 silent
silent_key=$(outbox_keys)

# A redirect to a second host (it has the same user and password, and a certificate the agent
# would trust): not followed. The second host sees no connection at all; the report stays in the
# outbox, and the message says that the server redirected.
receiver_start good || exit 1
other_dir=$RECEIVER_DIR
RECEIVER_DIR=$main_dir
receiver_control 302 --count 2 --location "https://127.0.0.1:$RECEIVER_PORT/reports"
upload redirect 1 20
grep -q "redirects to https://127.0.0.1:$RECEIVER_PORT/reports" "$UP/redirect.out" "$UP/redirect.err" ||
	fail "redirect: the message does not say where the server redirected"
[ "$(outbox_count)" = 2 ] || fail "redirect: $(outbox_count) reports wait, not 2"
[ "$(receiver_stat connections "$other_dir")" = 0 ] || fail "redirect: the other host got a connection"
[ "$(receiver_requests "$other_dir")" = 0 ] || fail "redirect: the other host got a request"
/usr/bin/python3 - "$main_dir/requests.jsonl" <<'PYEOF' || fail "redirect: what the first host got"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
redirected = [r for r in reqs if r.get("fault") == "302"]
assert len(redirected) == 2 and all(r["authorization"] for r in redirected), redirected
PYEOF
RECEIVER_DIR=$main_dir

# The server behaves again: everything waiting goes, oldest first, once.
receiver_control ok
upload recovered 0 20
grep -q "^\[1/3\] acknowledged.*$silent_key" "$UP/recovered.err" || fail "recovered: the oldest report did not go first"
[ "$(outbox_count)" = 0 ] || fail "recovered: the outbox is not empty"
stat_is stored "$uploads" "every upload's report"
# Each report the agent queued (its key printed by `upload`) was stored once, and nothing else was.
cat "$UP"/*.err | sed -n 's/^queued *report \([0-9a-f-]*\):.*/\1/p' | sort >"$UP/queued.keys"
/usr/bin/python3 - "$main_dir" "$UP/queued.keys" <<'PYEOF' || fail "exactly once"
import json, os, sys
folder = sys.argv[1]
queued = open(sys.argv[2]).read().split()
index = [json.loads(l) for l in open(os.path.join(folder, "index.jsonl"))]
keys = [r["key"] for r in index]
assert len(keys) == len(set(keys)), "a key stored twice"
assert sorted(keys) == sorted(queued) and len(queued) == len(set(queued)), (keys, queued)
PYEOF

echo "ok: network faults: every report delivered exactly once, each command within its bound, redirects followed by nothing"
