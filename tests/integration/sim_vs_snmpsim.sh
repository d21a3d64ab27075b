#!/usr/bin/env bash
# The fast simulator (tests/sim/sim) answers like snmpsim for the same recordings: a GETNEXT walk,
# GETBULK walks with small and large repetitions, GETs with missing OIDs and a GETBULK with
# non-repeaters past the end give the same OIDs, types and values, except the fields the simulator
# makes per printer (sim --identity-oids: serial, MAC, sysName, counters), which keep their type
# and differ between two addresses of the same template. Wrong community: no answer from either.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/snmpsim.sh
SIM_PID=""
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fleetcon-simcmp.XXXXXX") || exit 1
cleanup() {
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
	snmpsim_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
snmpsim_require || exit 77
: "${FLEETCON_BUILD:=build}"
SIM=$FLEETCON_BUILD/sim/sim
[ -x "$SIM" ] || { echo "FAIL: $SIM is not built (make tools)"; exit 1; }

fail() {
	echo "FAIL: $*"
	exit 1
}

D=tests/fixtures/printers
RECS=(xerox_altalink_c8045.snmprec hp_clj_m479fdw.snmprec)
snmpsim_start_fleet "$D" "${RECS[@]}" || fail "snmpsim did not start"

# The simulator: four printers, templates alternating (127.66.X.1 and .3 are the Xerox).
x=$((RANDOM % 200 + 20))
"$SIM" --template "$D/${RECS[0]}" --template "$D/${RECS[1]}" --first "127.66.$x.1" --count 4 \
	--port-file "$tmp/port" 2>"$tmp/sim.log" &
SIM_PID=$!
for _ in $(seq 1 100); do
	[ -s "$tmp/port" ] && break
	kill -0 "$SIM_PID" 2>/dev/null || fail "sim exited: $(cat "$tmp/sim.log")"
	sleep 0.05
done
[ -s "$tmp/port" ] || fail "sim did not write its port"
P=$(cat "$tmp/port")
sim_addr() { echo "127.66.$x.$1:$P"; }

snmp() { "$@" -v2c -c public -On -t 2 -r 1; }

# compare NAME TEMPLATE-INDEX FILE-SNMPSIM FILE-SIM: same lines, identity OIDs only by type.
compare() {
	local name=$1 rec=$2 a=$3 b=$4
	"$SIM" --template "$D/${RECS[$rec]}" --identity-oids | sed 's/^/./' >"$tmp/ident"
	[ -s "$a" ] || fail "$name: snmpsim gave nothing"
	/usr/bin/python3 - "$a" "$b" "$tmp/ident" "$name" <<'EOF' || exit 1
import sys
a = open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()
b = open(sys.argv[2], encoding="utf-8", errors="replace").read().splitlines()
ident = set(open(sys.argv[3]).read().split())
name = sys.argv[4]
if len(a) != len(b):
    print(f"FAIL: {name}: snmpsim gave {len(a)} lines, sim {len(b)}")
    for x, y in zip(a, b):
        if x != y:
            print(f"  first difference:\n  snmpsim: {x}\n  sim:     {y}")
            break
    sys.exit(1)
same = differ = 0
for x, y in zip(a, b):
    ox, oy = x.split(" = ")[0], y.split(" = ")[0]
    if ox != oy:
        print(f"FAIL: {name}: OIDs differ:\n  snmpsim: {x}\n  sim:     {y}")
        sys.exit(1)
    if ox in ident:
        tx = x.split(" = ", 1)[1].split(":")[0]
        ty = y.split(" = ", 1)[1].split(":")[0]
        if tx != ty:
            print(f"FAIL: {name}: identity field {ox} changed type: {x} / {y}")
            sys.exit(1)
        differ += 1
    elif x != y:
        print(f"FAIL: {name}: values differ:\n  snmpsim: {x}\n  sim:     {y}")
        sys.exit(1)
    else:
        same += 1
print(f"ok: {name}: {same} lines identical, {differ} identity lines")
EOF
}

for i in 0 1; do
	s=${SNMPSIM_ADDRS[$i]}
	m=$(sim_addr $((i + 1)))
	snmp snmpwalk "$s" .1 >"$tmp/a" 2>&1
	snmp snmpwalk "$m" .1 >"$tmp/b" 2>&1
	compare "walk ${RECS[$i]}" "$i" "$tmp/a" "$tmp/b"
	for r in 3 40; do
		snmp snmpbulkwalk -Cr$r "$s" .1 >"$tmp/a" 2>&1
		snmp snmpbulkwalk -Cr$r "$m" .1 >"$tmp/b" 2>&1
		compare "bulkwalk -Cr$r ${RECS[$i]}" "$i" "$tmp/a" "$tmp/b"
	done
	oids=".1.3.6.1.2.1.1.1.0 .1.3.6.1.2.1.1.5.0 .1.3.6.1.2.1.43.5.1.1.17.1 .1.3.6.1.2.1.1.99.0
	      .1.3.6.1.2.1.43.10.2.1.4.1.1 .1.3.6.1.2.1.2.2.1.6.1 .1.3.6.1.9 .1.3.6.1.2.1.43.11.1.1.9.1.1"
	# shellcheck disable=SC2086
	snmp snmpget "$s" $oids >"$tmp/a" 2>&1
	# shellcheck disable=SC2086
	snmp snmpget "$m" $oids >"$tmp/b" 2>&1
	compare "get ${RECS[$i]}" "$i" "$tmp/a" "$tmp/b"
	# Non-repeaters, a column near the end of the tree, one past it.
	bulk=".1.3.6.1.2.1.1.3.0 .1.3.6.1.2.1.43.18.1.1.8 .1.3.6.1.4.1.99999"
	# shellcheck disable=SC2086
	snmp snmpbulkget -Cn1 -Cr6 "$s" $bulk >"$tmp/a" 2>&1
	# shellcheck disable=SC2086
	snmp snmpbulkget -Cn1 -Cr6 "$m" $bulk >"$tmp/b" 2>&1
	compare "bulkget ${RECS[$i]}" "$i" "$tmp/a" "$tmp/b"
done

# Two printers of one template: every identity field differs, nothing else does.
snmp snmpwalk "$(sim_addr 1)" .1 >"$tmp/a" 2>&1
snmp snmpwalk "$(sim_addr 3)" .1 >"$tmp/b" 2>&1
"$SIM" --template "$D/${RECS[0]}" --identity-oids | sed 's/^/./' >"$tmp/ident"
/usr/bin/python3 - "$tmp/a" "$tmp/b" "$tmp/ident" <<'EOF' || exit 1
import sys
a = open(sys.argv[1], errors="replace").read().splitlines()
b = open(sys.argv[2], errors="replace").read().splitlines()
ident = set(open(sys.argv[3]).read().split())
assert len(a) == len(b), "walk lengths differ"
seen = 0
for x, y in zip(a, b):
    o = x.split(" = ")[0]
    if o in ident and "No more variables" not in x:
        if x == y:
            print(f"FAIL: identity field {o} is the same on two printers: {x}")
            sys.exit(1)
        seen += 1
    elif x != y:
        print(f"FAIL: {o} differs between two printers of one template: {x} / {y}")
        sys.exit(1)
if seen < 3:
    print(f"FAIL: only {seen} identity fields found")
    sys.exit(1)
print(f"ok: two printers of one template differ in their {seen} identity fields only")
EOF

# Another community, an address without a printer: no answer.
if snmpget -v2c -c private -t 0.5 -r 0 "$(sim_addr 1)" .1.3.6.1.2.1.1.1.0 >/dev/null 2>&1; then
	fail "community 'private' answered"
fi
if snmpget -v2c -c public -t 0.5 -r 0 "127.66.$x.9:$P" .1.3.6.1.2.1.1.1.0 >/dev/null 2>&1; then
	fail "an address without a printer answered"
fi
kill -0 "$SIM_PID" 2>/dev/null || fail "sim died: $(cat "$tmp/sim.log")"
echo "PASS"
