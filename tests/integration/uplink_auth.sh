#!/usr/bin/env bash
# 401 from the server: the upload stops at once (one request, no retry storm, the next reports
# are not tried either), the "authentication failed" state is raised and `fleetcon status` shows
# it and exits 1; with the right password the next upload delivers everything and clears the
# state. A 403 the server sends on its own is treated the same.
set -u
cd "$(dirname "$0")/../.."
top=$PWD
. tests/receiver/lib.sh
uplink_init || exit $?
trap uplink_cleanup EXIT
uplink_seed 2 || fail "seed_store"
conf=$UP/fleetcon.conf
receiver_start good || exit 1
url="https://localhost:$RECEIVER_PORT/reports"
good_password=$RECEIVER_PASSWORD

# auth_setting: the value of uplink.auth_failed in the database.
auth_setting() {
	"$PY" -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute("SELECT value FROM settings WHERE key = '"'"'uplink.auth_failed'"'"'").fetchone(); print(r[0] if r else "")' \
		"$UP/fleetcon.db"
}

RECEIVER_PASSWORD=wrong-password
uplink_write_config "$conf" "$url"
for run in 1 2; do
	$FC --config "$conf" upload >"$UP/auth$run.out" 2>"$UP/auth$run.err"
	rc=$?
	cat "$UP/auth$run.err" "$UP/auth$run.out"
	[ $rc -eq 1 ] || fail "upload $run with a wrong password exited $rc"
	# One request per run: the first report fails, nothing is retried, the next is not tried.
	[ "$(receiver_stat auth_failures)" = "$run" ] || fail "run $run: $(receiver_stat auth_failures) refused requests"
	[ "$(receiver_requests)" = "$run" ] || fail "run $run: $(receiver_requests) requests (a retry storm?)"
	grep -q "retry" "$UP/auth$run.err" && fail "run $run: a 401 was retried"
	grep -q "HTTP 401" "$UP/auth$run.out" || fail "run $run: the result does not say HTTP 401"
	grep -q "user and password" "$UP/auth$run.out" || fail "run $run: the result does not say what to fix"
done
[ "$(outbox_count)" = 2 ] || fail "the reports are not in the outbox"
[ "$(auth_setting)" -gt 0 ] 2>/dev/null || fail "uplink.auth_failed is not set: '$(auth_setting)'"

$FC --config "$conf" status >"$UP/status.txt"
rc=$?
cat "$UP/status.txt"
[ $rc -eq 1 ] || fail "status exited $rc with an authentication failure"
grep -q "AUTHENTICATION FAILED" "$UP/status.txt" || fail "status does not show the authentication failure"
$FC --config "$conf" status --json >"$UP/status.json"
"$PY" - "$UP/status.json" <<'PYEOF' || fail "status --json"
import json, sys
st = json.load(open(sys.argv[1]))
assert st["auth_failed"] and st["auth_failed"]["since"] and "401" in st["auth_failed"]["reason"], st
assert st["healthy"] is False and st["last_sync"]["result"] == "auth-failed", st
assert st["last_contact_status"] == 401, st
PYEOF

# A 403 the server chooses to send: the same stop, still one request.
RECEIVER_PASSWORD=$good_password
uplink_write_config "$conf" "$url"
receiver_control 403 --count 1
before=$(receiver_requests)
$FC --config "$conf" upload >"$UP/inj.out" 2>"$UP/inj.err"
[ $? -eq 1 ] || fail "an injected 403 did not fail the upload"
[ "$(receiver_requests)" = $((before + 1)) ] || fail "an injected 403 was retried"

# Fixed: everything goes, the state clears.
$FC --config "$conf" upload >"$UP/fixed.out" 2>"$UP/fixed.err"
rc=$?
cat "$UP/fixed.err" "$UP/fixed.out"
[ $rc -eq 0 ] || fail "upload with the right password exited $rc"
[ "$(receiver_stat stored)" = 4 ] || fail "stored $(receiver_stat stored) reports, not 4"
[ "$(outbox_count)" = 0 ] || fail "the outbox is not empty"
[ "$(auth_setting)" = 0 ] || fail "uplink.auth_failed was not cleared: '$(auth_setting)'"
$FC --config "$conf" status >/dev/null || fail "status not healthy after the fix"
echo "ok: 401 stops at once and is shown; fixed credentials deliver everything"
