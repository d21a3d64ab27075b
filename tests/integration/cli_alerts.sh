#!/usr/bin/env bash
# fleetcon alerts on a seeded database: the active alerts of the included devices (--all: every
# device), worst severity first then by device, exactly what the database holds (checked with
# Python's sqlite3 and json); cleared alerts never shown; a hostile description written raw into
# the database is cleaned in the table and in the JSON; bad usage exits 2, a broken database 1.
set -u
: "${FLEETCON:?}" "${FLEETCON_BUILD:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_DATA_HOME=$T/home/.local/share
mkdir -p "$HOME"
fail() { echo "FAIL: $*"; exit 1; }
PY=/usr/bin/python3
SEED=$FLEETCON_BUILD/tools/seed_store
[ -x "$SEED" ] || fail "no $SEED (make tools)"
"$FLEETCON" --help | grep -q '^  alerts ' || fail "fleetcon --help does not list alerts"

db=$T/fleetcon.db
: >"$T/empty.conf"
F=("$FLEETCON" --config "$T/empty.conf" --db "$db")

# An empty database: no alerts, said on stderr; an empty JSON array.
out=$("${F[@]}" alerts 2>"$T/err") || fail "alerts on an empty database: exit $?"
grep -q "no active alerts" "$T/err" || fail "no message for an empty fleet: $(cat "$T/err")"
[ "$(echo "$out" | head -1 | tr -s ' ')" = "DEVICE ADDRESS SEVERITY GROUP CODE DESCRIPTION AGE" ] ||
	fail "header: $out"
[ "$("${F[@]}" alerts --json)" = "[]" ] || fail "alerts --json on an empty database"

"$SEED" --db "$db" --devices 40 --days 5 --hostile --seed 11 >/dev/null || fail "seed_store"
# Written raw, as a buggy writer could: an excluded device with an escape sequence, a bidi
# override, a line break and a long text in its alert; an "other" alert on an included device; a
# cleared alert that must not appear.
"$PY" - "$db" <<'PY' || fail "could not add the test alerts"
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
now = int(time.time())
ex = db.execute("select id from devices where included = 0 order by id limit 1").fetchone()
if ex is None:
    ex = db.execute("select max(id) from devices").fetchone()
    db.execute("update devices set included = 0 where id = ?", ex)
inc = db.execute("select min(id) from devices where included = 1").fetchone()[0]
hostile = "\x1b[2JToner \u202eevil\u202c\r\nlow" + " padding" * 20
db.execute("insert into alerts (device_id, idx, severity, grp, code, description, first_seen, last_seen)"
           " values (?, 90, 3, 11, 1101, ?, ?, ?)", (ex[0], hostile, now - 7200, now))
db.execute("insert into alerts (device_id, idx, severity, grp, code, description, first_seen, last_seen)"
           " values (?, 91, 1, 5, 1, 'Something else', ?, ?)", (inc, now - 90, now))
db.execute("insert into alerts (device_id, idx, severity, grp, code, description, first_seen, last_seen,"
           " cleared_at) values (?, 92, 3, 13, 8, 'Cleared jam', ?, ?, ?)", (inc, now - 999, now - 500, now - 100))
db.commit()
PY

for which in included all; do
	flag=""
	[ "$which" = all ] && flag=--all
	"${F[@]}" alerts --json $flag >"$T/$which.json" || fail "alerts --json $flag"
	"${F[@]}" alerts $flag >"$T/$which.txt" || fail "alerts $flag"
	"$PY" - "$db" "$which" "$T/$which.json" "$T/$which.txt" <<'PY' || fail "alerts ($which) differs from the database"
import json, sqlite3, sys, time
db, which, jpath, tpath = sys.argv[1:]
con = sqlite3.connect(db)
rank = {3: 1, 4: 2, 5: 2, 1: 3}
names = {3: "critical", 4: "warning", 5: "warning", 1: "other"}
q = ("select a.device_id, d.address, a.severity, a.grp, a.code, a.description, a.first_seen, a.idx"
     " from alerts a join devices d on d.id = a.device_id where a.cleared_at = 0")
if which == "included":
    q += " and d.included = 1"
rows = con.execute(q).fetchall()
rows.sort(key=lambda r: (rank.get(r[2], 4), r[0], r[6], r[7]))
got = json.load(open(jpath))
assert len(got) == len(rows), f"{len(got)} alerts in JSON, {len(rows)} in the database"
assert len(rows) >= 5, "the seed should give several alerts"
keys = {"device", "address", "serial", "included", "severity", "severity_code", "group", "group_index",
        "code", "location", "description", "training", "index", "first_seen", "age"}
now = int(time.time())
for g, r in zip(got, rows):
    assert set(g) == keys, f"keys {sorted(g)}"
    assert (g["device"], g["severity_code"], g["group"], g["code"], g["index"]) == (r[0], r[2], r[3], r[4], r[7]), (g, r)
    assert g["severity"] == names.get(r[2], "unknown")
    assert g["address"] == r[1]
    assert 0 <= now - r[6] - g["age"] <= 60, (g["age"], r[6])
    assert g["first_seen"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(r[6]))
    d = g["description"]
    assert not any(ord(c) < 0x20 or 0x7f <= ord(c) < 0xa0 or 0x202a <= ord(c) <= 0x202e for c in d), repr(d)
    if "\x1b" not in r[5] and "\u202e" not in r[5]:
        assert d == r[5], (d, r[5])
hostile = [g for g in got if g["index"] == 90]
if which == "all":
    assert len(hostile) == 1 and not hostile[0]["included"], hostile
    assert hostile[0]["description"].startswith("Toner evil low padding"), hostile[0]["description"]
else:
    assert not hostile, "an excluded device's alert without --all"
assert not [g for g in got if g["index"] == 92], "a cleared alert is shown"
assert [g["severity_code"] for g in got].count(1) == 1 and got[-1]["severity_code"] in (1, 0), "other last"

# The table: one line per alert in the same order, the same devices, nothing a terminal acts on.
raw = open(tpath, "rb").read()
assert not any(b < 0x20 and b != 0x0a for b in raw), "a control byte in the table"
assert "\u202e".encode() not in raw, "a bidi override in the table"
lines = raw.decode().splitlines()
assert lines[0].split() == ["DEVICE", "ADDRESS", "SEVERITY", "GROUP", "CODE", "DESCRIPTION", "AGE"], lines[0]
assert len(lines) == len(got) + 1, f"{len(lines) - 1} table lines, {len(got)} alerts"
age_at = lines[0].index("AGE")
for line, g in zip(lines[1:], got):
    f = line.split()
    assert (int(f[0]), f[1], f[2], int(f[3]), int(f[4])) == (g["device"], g["address"], g["severity"], g["group"], g["code"]), line
    assert f[-1][-1] in "smhd", line
    assert line[age_at - 1] == " " and line[age_at] != " ", "the age column is not aligned: " + line
PY
done
grep -q '…' "$T/all.txt" || fail "the long description is not cut with an ellipsis"
! grep -q 'padding padding padding padding padding padding padding padding padding' "$T/all.txt" ||
	fail "the long description is not cut"

# Usage errors exit 2 and a database that cannot be opened 1, each with a message.
"${F[@]}" alerts 12 >/dev/null 2>"$T/err"; rc=$?
[ $rc = 2 ] && grep -q "fleetcon show 12" "$T/err" || fail "alerts 12: exit $rc, $(cat "$T/err")"
"${F[@]}" alerts --bogus >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "alerts --bogus: exit $rc"
"${F[@]}" alerts --help | grep -q "usage: fleetcon alerts" || fail "alerts --help"
mkdir "$T/dir.db"
"$FLEETCON" --config "$T/empty.conf" --db "$T/dir.db" alerts >/dev/null 2>"$T/err"; rc=$?
[ $rc = 1 ] && [ -s "$T/err" ] || fail "a database that cannot be opened: exit $rc"
echo "ok: alerts (table and JSON) equal the database, sorted, cleaned; usage 2, failure 1"
