#!/usr/bin/env bash
# Answers that reject a report: a 400 is recorded as "rejected" with the server's message, cleaned
# (no escape sequence reaches the history or the terminal) and cut to a bounded length; the
# report stays in the outbox and is offered again by the next upload, without holding back the
# reports after it. A 302 is not followed (the credentials never go to another host): it is
# recorded as rejected with where it pointed.
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

# A hostile message: an escape sequence that would clear the screen, a bell, and 2,000 bytes.
long=$(printf 'x%.0s' $(seq 2000))
receiver_control 400 --count 1 --message "$(printf 'bad\033[2J\aschema %s' "$long")"
$FC --config "$conf" upload >"$UP/r.out" 2>"$UP/r.err"
rc=$?
cat "$UP/r.out"
[ $rc -eq 1 ] || fail "a rejected report gave exit $rc"
grep -q "rejected the report" "$UP/r.out" || fail "the result does not say rejected"
if grep -q $'\033' "$UP/r.out" "$UP/r.err"; then fail "an escape sequence from the server reached the terminal"; fi
[ "$(outbox_count)" = 1 ] || fail "the rejected report left the outbox"
"$PY" - "$UP/fleetcon.db" <<'PYEOF' || fail "the rejected sync record"
import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute(
    "SELECT result, http_status, error FROM syncs ORDER BY id DESC LIMIT 1").fetchone()
result, status, error = r
assert result == "rejected" and status == 400, r
assert "bad" in error and "schema" in error, error
assert "\x1b" not in error and "\x07" not in error, repr(error)
assert len(error) < 512, len(error)
PYEOF

# A redirect to another host: not followed, nothing sent there, recorded with its target.
receiver_control 302 --count 1 --location "https://elsewhere.example.invalid/reports"
$FC --config "$conf" upload >"$UP/m.out" 2>"$UP/m.err"
rc=$?
cat "$UP/m.out"
[ $rc -eq 1 ] || fail "a redirect gave exit $rc"
grep -q "elsewhere.example.invalid" "$UP/m.out" || fail "the redirect target is not named"
grep -q "HTTP 302" "$UP/m.out" || fail "the 302 is not named"

# The redirect met the rejected report (oldest first); the new one after it still went.
[ "$(outbox_count)" = 1 ] || fail "$(outbox_count) reports wait, not 1"
[ "$(receiver_stat stored)" = 1 ] || fail "a rejected report held back the next one"
# The next upload delivers the one left and a new one.
$FC --config "$conf" upload >"$UP/ok.out" 2>"$UP/ok.err" || { cat "$UP/ok.err"; fail "the next upload failed"; }
[ "$(receiver_stat stored)" = 3 ] || fail "stored $(receiver_stat stored), not 3"
[ "$(outbox_count)" = 0 ] || fail "the outbox is not empty"
echo "ok: rejections recorded with a clean, bounded message; redirects not followed"
