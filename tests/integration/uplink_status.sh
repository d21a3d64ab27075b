#!/usr/bin/env bash
# `fleetcon status` for monitoring: it shows all four times (last data, last contact, last
# successful sync, next sync) and exits 1 when a scheduled sync is overdue (its slot passed more
# than an hour ago with no sync attempt since) or the last sync failed, 0 once a sync went
# through; an agent with uploads not configured is not a failure.
set -u
cd "$(dirname "$0")/../.."
top=$PWD
. tests/receiver/lib.sh
uplink_init || exit $?
trap uplink_cleanup EXIT
uplink_seed 3 || fail "seed_store"
# Printers known for days, no sync ever.
"$PY" -c 'import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); db.execute("DELETE FROM syncs"); db.commit()' "$UP/fleetcon.db"
conf=$UP/fleetcon.conf
receiver_start good || exit 1
url="https://localhost:$RECEIVER_PORT/reports"

# Unconfigured: nothing to be late for.
uplink_write_config "$conf" ""
$FC --config "$conf" status >"$UP/none.txt" || { cat "$UP/none.txt"; fail "status without uploads configured exited non-zero"; }
grep -q "not configured" "$UP/none.txt" || fail "status does not say uploads are not configured"

# The daily slot was two hours ago (local time) and nothing was sent: overdue.
slot=$(date -d '-2 hours' +%H:%M)
uplink_write_config "$conf" "$url" "[sync]" "time = $slot"
$FC --config "$conf" status >"$UP/overdue.txt"
rc=$?
cat "$UP/overdue.txt"
[ $rc -eq 1 ] || fail "status exited $rc with a missed slot, not 1"
grep -q "OVERDUE" "$UP/overdue.txt" || fail "status does not say overdue"
for label in "last data from printers" "last contact with server" "last successful sync" "next scheduled sync"; do
	grep -q "$label" "$UP/overdue.txt" || fail "status does not show '$label'"
done
$FC --config "$conf" status --json >"$UP/overdue.json"
[ $? -eq 1 ] || fail "status --json exited 0 while overdue"
"$PY" - "$UP/overdue.json" <<'PYEOF' || fail "status --json while overdue"
import json, sys
st = json.load(open(sys.argv[1]))
assert st["overdue"] is True and st["missed_slot"], st
assert st["healthy"] is False and any(p.startswith("overdue") for p in st["problems"]), st
assert st["last_data"] and st["next_sync"] and st["last_success"] is None and st["last_contact"] is None, st
PYEOF

# A sync after the slot: healthy, with every time filled in.
$FC --config "$conf" upload >/dev/null 2>"$UP/upload.err" || { cat "$UP/upload.err"; fail "upload"; }
$FC --config "$conf" status --json >"$UP/ok.json"
rc=$?
[ $rc -eq 0 ] || { cat "$UP/ok.json"; fail "status exited $rc after a good sync"; }
"$PY" - "$UP/ok.json" <<'PYEOF' || fail "status --json after a sync"
import json, sys
st = json.load(open(sys.argv[1]))
assert not st["overdue"] and not st["last_failed"] and st["healthy"], st
for k in ("last_data", "last_contact", "last_success", "next_sync"):
    assert st[k], k
assert len(st["history"]) == 1 and st["history"][0]["result"] == "ok", st["history"]
PYEOF

# The server goes away: the next sync fails, and status says so with exit 1.
receiver_stop "$RECEIVER_PID"
$FC --config "$conf" upload >/dev/null 2>&1 && fail "upload to a stopped server succeeded"
$FC --config "$conf" status >"$UP/failed.txt"
rc=$?
cat "$UP/failed.txt"
[ $rc -eq 1 ] || fail "status exited $rc after a failed sync"
grep -q "LAST SYNC FAILED" "$UP/failed.txt" || fail "status does not say the last sync failed"
grep -q "outbox  *1 report" "$UP/failed.txt" || fail "status does not show the waiting report"
echo "ok: status tells monitoring about overdue and failed syncs"
