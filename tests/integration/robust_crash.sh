#!/usr/bin/env bash
# Crash consistency (issue 9, item 2): fleetcon killed with SIGKILL at random moments during
# discovery, poll, upload and export, CRASH_ROUNDS times (20 here; `make crash` runs 200). Real
# peers: snmpsim serving eight printers, the reference receiver. After every kill:
#  - PRAGMA integrity_check and foreign_key_check are clean;
#  - everything a reader saw committed just before the kill is still there (devices, every meter
#    with a read time no older, the meter history rows, sync records, outbox entries or their
#    delivery);
#  - the export's output path holds a whole report or nothing (temporary files are hidden
#    ".NAME.XXXXXX" names next to it: left behind by a kill, ignored, never at the output path).
# At the end, with the server behaving: one upload empties the outbox and the receiver holds every
# report the agent ever made, each exactly once (by idempotency key), and the commands run again.
# CRASH_SEED fixes the random choices (printed, to replay a failure).
set -u
cd "$(dirname "$0")/../.."
top=$PWD
: "${FLEETCON:?}"
. tests/lib/snmpsim.sh
snmpsim_require || exit 77
. tests/receiver/lib.sh
uplink_init || exit $?
trap 'snmpsim_stop; uplink_cleanup' EXIT
rounds=${CRASH_ROUNDS:-20}
seed=${CRASH_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$seed
echo "crash rounds: $rounds, seed $seed (CRASH_SEED=$seed to replay)"

recs="brother_hl2350dw_mono brother_hl8360_levels canon_iradv_c5535 hp_clj_m479fdw konica_c300i_wastefull
kyocera_p3150dn ricoh_imc3000 xerox_altalink_c8045"
# shellcheck disable=SC2046
snmpsim_start_fleet tests/fixtures/printers $(printf '%s.snmprec ' $recs) >/dev/null || fail "snmpsim did not start"
receiver_start good || exit 1
# 150 synthetic printers make the report and the export big enough to be killed in the middle.
uplink_seed 150 || fail "seed_store"
db=$UP/fleetcon.db
# The seeded sync history names reports no agent made: not ours to deliver.
sqlite3 -readonly "$db" "SELECT report_key FROM syncs WHERE report_key IS NOT NULL" | sort -u >"$UP/seeded"
conf=$UP/fleetcon.conf
uplink_write_config "$conf" "https://localhost:$RECEIVER_PORT/reports" "[poll]" "port = $SNMPSIM_PORT"
F=("$FLEETCON" --config "$conf")
range="${SNMPSIM_ADDRS[0]%:*}-${SNMPSIM_ADDRS[7]%:*}"
printers=("${SNMPSIM_ADDRS[@]%:*}")
mkdir -p "$UP/out"
"${F[@]}" discover "$range" >/dev/null 2>&1 || fail "the first discovery failed"

# cmd_of PHASE: the command line of a phase, in the array CMD.
cmd_of() {
	case $1 in
	discover) CMD=("${F[@]}" discover "$range") ;;
	poll) CMD=("${F[@]}" poll "${printers[@]}") ;;
	upload) CMD=("${F[@]}" upload) ;;
	export-html) CMD=("${F[@]}" export --format html --output "$UP/out/report.html" --force) ;;
	export-csv) CMD=("${F[@]}" export --format csv --output "$UP/out/csv" --force) ;;
	esac
}
phases=(discover poll upload export-html export-csv)

# How long each phase takes here (once, uninterrupted): kills land between 0 and 120 % of it.
declare -A took_ms
for p in "${phases[@]}"; do
	cmd_of "$p"
	t0=$(date +%s%N)
	"${CMD[@]}" >/dev/null 2>"$UP/warm.err" || { cat "$UP/warm.err"; fail "$p failed before any kill"; }
	took_ms[$p]=$(( ($(date +%s%N) - t0) / 1000000 ))
	echo "  $p takes ${took_ms[$p]} ms"
done

# snapshot FILE: what is committed now, read by another process (a WAL reader sees only commits).
snapshot() {
	sqlite3 -readonly "$db" >"$1" 2>&1 <<'EOF'
.mode list
.separator |
SELECT 'device', id, coalesce(serial, '') FROM devices;
SELECT 'meter', device_id, name, read_at FROM meters;
SELECT 'history', device_id, name, day FROM meter_history;
SELECT 'sync', id, coalesce(report_key, '') FROM syncs;
SELECT 'outbox', key FROM outbox;
EOF
}

# check_after_kill SNAPSHOT: the database and the outputs after a kill.
check_after_kill() {
	local snap=$1 ic
	ic=$(sqlite3 "$db" 'PRAGMA integrity_check; PRAGMA foreign_key_check;' 2>&1)
	[ "$ic" = ok ] || fail "round $round ($phase): integrity_check says: $ic"
	snapshot "$UP/after"
	/usr/bin/python3 - "$snap" "$UP/after" "$RECEIVER_DIR/stats.json" <<'PYEOF' || fail "round $round ($phase): committed data lost"
import json, sys
def load(path):
    rows = {}
    for line in open(path):
        f = line.rstrip("\n").split("|")
        rows.setdefault(f[0], []).append(f[1:])
    return rows
before, after = load(sys.argv[1]), load(sys.argv[2])
stored = set(json.load(open(sys.argv[3]))["keys"])
lost = []
devices = {tuple(r) for r in after.get("device", [])}
lost += [("device", r) for r in before.get("device", []) if tuple(r) not in devices]
meters = {(r[0], r[1]): int(r[2]) for r in after.get("meter", [])}
lost += [("meter", r) for r in before.get("meter", []) if meters.get((r[0], r[1]), -1) < int(r[2])]
history = {tuple(r) for r in after.get("history", [])}
lost += [("history", r) for r in before.get("history", []) if tuple(r) not in history]
syncs = {r[0] for r in after.get("sync", [])}
lost += [("sync", r) for r in before.get("sync", []) if r[0] not in syncs]
outbox = {r[0] for r in after.get("outbox", [])}
# An entry leaves the outbox only once the server has it.
lost += [("outbox", r) for r in before.get("outbox", []) if r[0] not in outbox and r[0] not in stored]
if lost:
    print("lost after the kill:", lost[:10], "and %d more" % max(0, len(lost) - 10))
    sys.exit(1)
PYEOF
	grep '^outbox|' "$UP/after" | cut -d'|' -f2 >>"$UP/must-deliver"
	# The export's output is whole or absent; hidden temporaries are all that may be left.
	if [ -e "$UP/out/report.html" ]; then
		[ "$(tail -c 8 "$UP/out/report.html")" = "</html>" ] || fail "round $round: a half-written report.html"
	fi
	if [ -e "$UP/out/csv" ]; then
		local t
		for t in alerts devices meters supplies syncs; do
			[ -s "$UP/out/csv/$t.csv" ] || fail "round $round: the CSV folder lacks $t.csv"
		done
		[ "$(tail -c 1 "$UP/out/csv/syncs.csv" | od -An -c | tr -d ' ')" = '\n' ] || fail "round $round: a cut CSV file"
	fi
	local f
	for f in "$UP/out"/* "$UP/out"/.[!.]*; do
		[ -e "$f" ] || continue
		case ${f##*/} in
		report.html | csv | .report.html.?????? | .csv.??????) ;;
		*) fail "round $round: unexpected file in the output folder: ${f##*/}" ;;
		esac
	done
}

# The snapshot before each kill takes time too: the kill moment is drawn from what is left.
t0=$(date +%s%N)
snapshot "$UP/before"
snap_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "  a snapshot takes $snap_ms ms"
: >"$UP/must-deliver"
killed=0 finished=0
declare -A killed_in
for round in $(seq 1 "$rounds"); do
	phase=${phases[RANDOM % ${#phases[@]}]}
	cmd_of "$phase"
	window=$(( took_ms[$phase] * 12 / 10 + 5 - snap_ms ))
	[ $window -gt 5 ] || window=5
	delay=$(( (RANDOM * 32768 + RANDOM) % window ))
	"${CMD[@]}" >"$UP/round.out" 2>"$UP/round.err" &
	pid=$!
	# A random moment, not a synchronisation: any moment is a valid place to crash.
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	snapshot "$UP/before"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rc=$?
	if [ $rc -eq 137 ]; then
		killed=$((killed + 1))
		killed_in[$phase]=$(( ${killed_in[$phase]:-0} + 1 ))
	else
		finished=$((finished + 1))
		[ $rc -eq 0 ] || { cat "$UP/round.err"; fail "round $round: $phase exited $rc without being killed"; }
	fi
	check_after_kill "$UP/before"
done
summary=""
for p in "${phases[@]}"; do summary+=" $p=${killed_in[$p]:-0}"; done
echo "  $rounds rounds: $killed killed mid-way ($summary ), $finished finished before the kill"
[ $killed -ge $((rounds / 3)) ] || fail "only $killed of $rounds rounds were killed mid-way"

# Recovery: each command works again, and every report ever made is delivered exactly once.
"${F[@]}" poll "${printers[@]}" >/dev/null 2>"$UP/final.err" || { cat "$UP/final.err"; fail "poll after the kills"; }
"${F[@]}" export --format html --output "$UP/out/report.html" --force 2>/dev/null || fail "export after the kills"
"${F[@]}" upload >"$UP/final.out" 2>"$UP/final.err" || { cat "$UP/final.err"; fail "upload after the kills"; }
[ "$(outbox_count)" = 0 ] || fail "the outbox is not empty after the final upload"
sqlite3 -readonly "$db" "SELECT report_key FROM syncs WHERE report_key IS NOT NULL" | sort -u |
	comm -23 - "$UP/seeded" >"$UP/made"
/usr/bin/python3 - "$RECEIVER_DIR" "$UP/made" "$UP/must-deliver" <<'PYEOF' || fail "exactly once"
import json, os, sys
folder = sys.argv[1]
made = set(open(sys.argv[2]).read().split())
must = set(open(sys.argv[3]).read().split())
index = [json.loads(l) for l in open(os.path.join(folder, "index.jsonl"))]
keys = [r["key"] for r in index]
assert len(keys) == len(set(keys)), "a report stored twice"
assert must <= set(keys), ("left in the outbox by a kill, never delivered", must - set(keys))
assert set(keys) == made, ("stored but never made", set(keys) - made, "made but not stored", made - set(keys))
stats = json.load(open(os.path.join(folder, "stats.json")))
print("  receiver: %d reports stored once each, %d duplicates recognised (retries after a kill)"
      % (stats["stored"], stats["duplicates"]))
PYEOF
left=$(cd "$UP/out" && ls -A | grep -c '^\.' || true)
echo "ok: $rounds kills: database intact, nothing committed lost, exports whole or absent ($left hidden temporaries left, ignored), every report delivered once"
