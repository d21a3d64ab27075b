#!/usr/bin/env bash
# Uplink round trip against the reference receiver over verified HTTPS: `fleetcon upload` prints
# every stage, the receiver stores exactly what `fleetcon report --preview --json` showed (field
# for field, hostile device strings included), with gzip, JSON and an Idempotency-Key; no secret
# of the configuration (canaries in every credential field) appears in the report; the outbox
# is empty afterwards and `fleetcon status` shows the sync.
set -u
cd "$(dirname "$0")/../.."
top=$PWD
. tests/receiver/lib.sh
uplink_init || exit $?
trap uplink_cleanup EXIT

# The receiver's credentials are canaries too: the server's user name and password must only
# ever travel in the Authorization header, never in the report.
RECEIVER_USER=CANARY-server-user-5d1e
RECEIVER_PASSWORD=CANARY-server-password-77c2
"$SEED_STORE" --db "$UP/fleetcon.db" --devices 6 --days 3 --hostile >/dev/null || fail "seed_store"
receiver_start good || exit 1
conf=$UP/fleetcon.conf
uplink_write_config "$conf" "https://localhost:$RECEIVER_PORT/api/reports" \
	"[profile default]" "version = 2c" "community = CANARY-community-0a9b" \
	"[profile v3]" "version = 3" "user = CANARY-v3-user-3f00" "auth = SHA-256" \
	"auth_password = CANARY-auth-pass-12ab" "priv = AES" "priv_password = CANARY-priv-pass-98cd" \
	"[smtp]" "url = smtp://127.0.0.1:2525" "starttls = no" "user = CANARY-smtp-user-4411" \
	"password = CANARY-smtp-pass-6622" "from = fleetcon@example.com" "to = admin@example.com"

$FC --config "$conf" report --preview --json >"$UP/preview.json" || fail "report --preview --json"
$FC --config "$conf" report --preview >"$UP/preview.txt" || fail "report --preview"
grep -q "6 included\|5 included\|4 included" "$UP/preview.txt" || { cat "$UP/preview.txt"; fail "the summary names no device count"; }

$FC --config "$conf" upload >"$UP/upload.out" 2>"$UP/upload.err"
rc=$?
cat "$UP/upload.err" "$UP/upload.out"
[ $rc -eq 0 ] || fail "upload exited $rc"

# Every stage is printed live, in order.
prev=0
for stage in build compress queued connect tls send wait acknowledged; do
	line=$(grep -n -m1 -E "^(\[1/1\] )?$stage\b" "$UP/upload.err" | cut -d: -f1)
	[ -n "$line" ] || fail "upload printed no '$stage' stage"
	[ "$line" -gt "$prev" ] || fail "stage '$stage' came out of order"
	prev=$line
done
grep -q "uploaded: 1 report delivered" "$UP/upload.out" || fail "no result line"

[ "$(receiver_stat stored)" = 1 ] || fail "the receiver stored $(receiver_stat stored) reports, not 1"
stored=$(ls "$RECEIVER_DIR"/reports/*.json)
"$PY" tests/receiver/compare.py "$stored" "$UP/preview.json" || fail "the stored report differs from the preview"

# How it was sent: gzip, JSON, a UUID key that is the report's outbox key.
"$PY" - "$RECEIVER_DIR/requests.jsonl" <<'EOF' || fail "request headers"
import json, re, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert len(reqs) == 1, reqs
r = reqs[0]
assert r["encoding"] == "gzip", r
assert r["type"] == "application/json", r
assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", r["key"]), r
assert r["path"] == "/api/reports", r
EOF

# No secret from the configuration, anywhere: the stored report, the preview, the summary.
if grep -l "CANARY" "$stored" "$UP/preview.json" "$UP/preview.txt"; then
	grep -o "CANARY[^\"]*" "$stored" "$UP/preview.json" | sort -u
	fail "a configured secret or user name appears in the report"
fi
# The report is the agent's; the receiver checked the credentials, so they were sent.
[ "$(receiver_stat auth_failures)" = 0 ] || fail "the receiver refused the credentials"

[ "$(outbox_count)" = 0 ] || fail "the outbox is not empty after a delivery"

$FC --config "$conf" status >"$UP/status.txt"
rc=$?
cat "$UP/status.txt"
[ $rc -eq 0 ] || fail "status exited $rc after a good sync"
$FC --config "$conf" status --json >"$UP/status.json" || fail "status --json"
"$PY" - "$UP/status.json" "$(receiver_stat keys | tr -d "[]' ")" <<'EOF' || fail "status --json content"
import json, sys
st = json.load(open(sys.argv[1]))
for k in ("last_data", "last_contact", "last_success", "next_sync"):
    assert st[k], (k, st)
assert st["last_contact_status"] == 200, st
assert st["healthy"] is True and st["problems"] == [], st
assert st["outbox"]["reports"] == 0, st
last = st["last_sync"]
assert last["result"] == "ok" and last["trigger"] == "manual" and last["http_status"] == 200, last
assert last["report_key"] == sys.argv[2], (last, sys.argv[2])
assert last["bytes"] > 0 and last["devices"] > 0, last
EOF
echo "ok: round trip equal, stages in order, no secrets"
