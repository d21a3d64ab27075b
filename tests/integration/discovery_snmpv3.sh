#!/usr/bin/env bash
# SNMPv3 (USM, auth+priv) discovery and poll against real agents: snmpsim serving the SNMPv3-only
# printer recording (SHA-256/AES-128, and SHA-512/AES-256), tried after a v2c profile and a v3
# profile with a wrong password; and Net-SNMP's snmpd with SHA/AES, SHA-256/AES-256,
# SHA-512/AES-256 and auth-only users, polled twice with one engine (the engine ID is discovered
# once), with wrong passwords and an unknown user giving clear per-device errors.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/snmpsim.sh
snmpsim_require || exit 77
command -v snmpd >/dev/null 2>&1 || { echo "skip: snmpd is not installed (apt-get install snmpd)"; exit 77; }
BUILD=${FLEETCON_BUILD:-build}
DRIVE=$BUILD/tools/snmp_drive
[ -x "$DRIVE" ] || { echo "FAIL: $DRIVE is not built (make tools)"; exit 1; }
out=$(mktemp -d)
chmod 755 "$out"
SNMPD_PID=
stop_all() {
	[ -n "$SNMPD_PID" ] && _snmpsim_kill "$SNMPD_PID"
	snmpsim_stop
	rm -rf "$out"
}
trap stop_all EXIT
fail() { echo "FAIL: $*"; exit 1; }
D=tests/fixtures/printers

# --- snmpsim, SNMPv3 only ------------------------------------------------------------------------
snmpsim_start_v3 "$D" lexmark_cx725_v3.snmprec || fail "snmpsim v3 did not start"
a256=$SNMPSIM_V3_ADDR
snmpsim_start_v3 "$D" lexmark_cx725_v3.snmprec -- fleetcon SHA512 fleetcon-auth-key AES256 fleetcon-priv-key ||
	fail "snmpsim v3 (SHA-512/AES-256) did not start"
a512=$SNMPSIM_V3_ADDR
U=fleetcon
"$DRIVE" -t 1000 -r 1 --no-port-probe \
	-c public \
	-u $U -a SHA-256 -A not-the-auth-key -x AES -X fleetcon-priv-key \
	-u $U -a SHA-256 -A fleetcon-auth-key -x AES -X fleetcon-priv-key \
	discover "$a256" >"$out/sim256.json" || fail "discover exited $?"
"$DRIVE" -t 1000 -r 1 --no-port-probe \
	-u $U -a SHA-512 -A fleetcon-auth-key -x AES-256 -X fleetcon-priv-key \
	discover "$a512" >"$out/sim512.json" || fail "discover exited $?"

# --- snmpd, a real agent -------------------------------------------------------------------------
port=$(_snmpsim_pick_port) || fail "no free port"
addr=127.77.251.$((RANDOM % 200 + 1))
mkdir -p "$out/persist"
cat >"$out/snmpd.conf" <<EOF
agentAddress udp:$addr:$port
createUser usha SHA "fleetcon-auth-1" AES "fleetcon-priv-1"
createUser usha256 SHA-256 "fleetcon-auth-2" AES256 "fleetcon-priv-2"
createUser usha512 SHA-512 "fleetcon-auth-3" AES256 "fleetcon-priv-3"
createUser uauth SHA-256 "fleetcon-auth-4"
rouser usha priv
rouser usha256 priv
rouser usha512 priv
rouser uauth auth
sysDescr fleetcon test agent (snmpd)
EOF
SNMP_PERSISTENT_DIR=$out/persist snmpd -f -Lo -C -c "$out/snmpd.conf" -M /dev/null -m "" \
	>"$out/snmpd.log" 2>&1 </dev/null &
SNMPD_PID=$!
deadline=$((SECONDS + 20))
until snmpget -v3 -l authPriv -u usha -a SHA -A fleetcon-auth-1 -x AES -X fleetcon-priv-1 \
	-t 0.5 -r 0 "$addr:$port" 1.3.6.1.2.1.1.1.0 >/dev/null 2>&1; do
	kill -0 "$SNMPD_PID" 2>/dev/null || { cat "$out/snmpd.log"; fail "snmpd exited"; }
	[ $SECONDS -lt $deadline ] || { cat "$out/snmpd.log"; fail "snmpd did not answer"; }
	sleep 0.1
done
poll() { # NAME OPTIONS...
	local name=$1
	shift
	"$DRIVE" -t 500 -r 1 --repeat 2 "$@" poll "$addr:$port" >"$out/$name.json" || fail "poll $name exited $?"
}
poll sha -u usha -a SHA -A fleetcon-auth-1 -x AES -X fleetcon-priv-1
poll sha256 -u usha256 -a SHA-256 -A fleetcon-auth-2 -x AES-256 -X fleetcon-priv-2
poll sha512 -u usha512 -a SHA-512 -A fleetcon-auth-3 -x AES-256 -X fleetcon-priv-3
poll auth -u uauth -a SHA-256 -A fleetcon-auth-4
poll badauth -u usha512 -a SHA-512 -A wrong-auth-pass -x AES-256 -X fleetcon-priv-3
poll badpriv -u usha512 -a SHA-512 -A fleetcon-auth-3 -x AES-256 -X wrong-priv-pass
poll nouser -u nobody -a SHA-512 -A fleetcon-auth-3 -x AES-256 -X fleetcon-priv-3
"$DRIVE" -t 500 -r 1 --no-port-probe -u usha512 -a SHA-512 -A fleetcon-auth-3 -x AES-256 \
	-X fleetcon-priv-3 discover "$addr:$port" >"$out/snmpd-discover.json" || fail "discover snmpd"

/usr/bin/python3 - "$out" <<'EOF'
import json, sys
out = sys.argv[1]
failures = []
def check(cond, msg):
    if not cond:
        failures.append(msg)

for name, profile in (("sim256", "p2"), ("sim512", "p0")):
    d = json.load(open(f"{out}/{name}.json"))
    check(d["counts"]["printers"] == 1, f"{name}: counts {d['counts']}")
    p = d["printers"][0] if d["printers"] else {}
    check(p.get("profile") == profile, f"{name}: found with profile {p.get('profile')}, want {profile}")
    check(p.get("serial") == "7528630M5Z1Q" and p.get("mac") == "00:21:b7:c4:9e:31", f"{name}: identity {p.get('serial')} {p.get('mac')}")
    m = p.get("meters", {})
    check((m.get("total"), m.get("black"), m.get("color")) == (96118, 58002, 38116), f"{name}: meters {m}")
    check(p.get("complete"), f"{name}: {p.get('poll_error')}")
    print(f"{name}: {p.get('vendor')} {p.get('model')} via {p.get('profile')}, {d['stats']['packets']} packets in all")

for name in ("sha", "sha256", "sha512", "auth"):
    d = json.load(open(f"{out}/{name}.json"))
    devs = d["devices"]
    check(len(devs) == 2, f"{name}: {len(devs)} results")
    for p in devs:
        check(p["sys_descr"] == "fleetcon test agent (snmpd)" and p["poll_error"] is None,
              f"{name}: {p['sys_descr']!r} {p['poll_error']!r}")
        check(not p["is_printer"], f"{name}: snmpd taken for a printer")
    # The engine ID is discovered once and reused by the second poll.
    check(d["stats"]["engine_probes"] == 1, f"{name}: {d['stats']['engine_probes']} engine probes")
    check(devs[1]["packets"] < devs[0]["packets"], f"{name}: second poll {devs[1]['packets']} packets, first {devs[0]['packets']}")
    print(f"{name}: ok, {devs[0]['packets']} then {devs[1]['packets']} packets")

for name, want in (("badauth", "authentication failure"), ("badpriv", "no answer"),
                   ("nouser", "unknown user name")):
    d = json.load(open(f"{out}/{name}.json"))
    for p in d["devices"]:
        check(p["poll_error"] and want in p["poll_error"], f"{name}: poll_error {p['poll_error']!r}, want {want!r}")
        check(not p["complete"], f"{name}: complete")
    print(f"{name}: {d['devices'][0]['poll_error']}")

d = json.load(open(f"{out}/snmpd-discover.json"))
check(d["counts"]["answered"] == 1 and d["counts"]["not_printers"] == 1 and not d["printers"],
      f"snmpd discovery counts {d['counts']}")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
EOF
