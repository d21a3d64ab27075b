#!/usr/bin/env bash
# A discovery sweep over a range where most addresses are silent: two printers answer SNMP, one
# address only accepts TCP 9100 ("printer without SNMP"), the rest is nothing. Checks the counts,
# the progress events (at least every 250 ms), the dry-run estimate (exact numbers), a cancelled
# sweep that stops soon with what it found so far, an unresolvable host name as a target error, and
# a manual IPv6 address (when the host has an IPv6 loopback).
# The port probe runs on a helper thread: fleetcon-test: threaded
set -u
cd "$(dirname "$0")/../.."
. tests/lib/snmpsim.sh
snmpsim_require || exit 77
BUILD=${FLEETCON_BUILD:-build}
DRIVE=$BUILD/tools/snmp_drive
[ -x "$DRIVE" ] || { echo "FAIL: $DRIVE is not built (make tools)"; exit 1; }
out=$(mktemp -d)
trap 'snmpsim_stop; rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

snmpsim_start_fleet tests/fixtures/printers kyocera_p3150dn.snmprec xerox_altalink_c8045.snmprec ||
	fail "fleet did not start"
net=${SNMPSIM_ADDRS[0]%.*}   # 127.77.X
port=$SNMPSIM_PORT
# A TCP listener on the print port of one address that has no SNMP agent.
/usr/bin/python3 -c "
import socket, signal
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$net.30', 9100))
s.listen(16)
open('$out/tcp.ready', 'w').close()
signal.sigwait([signal.SIGTERM])
" 2>"$out/tcp.log" &
SNMPSIM_PIDS+=("$!")
deadline=$((SECONDS + 10))
until [ -e "$out/tcp.ready" ]; do
	[ $SECONDS -lt $deadline ] || { cat "$out/tcp.log"; fail "the TCP listener did not start"; }
	sleep 0.05
done

range="$net.1-$net.40:$port"
"$DRIVE" -c public -t 400 -r 0 --port-timeout 400 estimate "$range" >"$out/estimate.json" || fail "estimate"
"$DRIVE" -c public -t 400 -r 0 --port-timeout 400 discover "$range" no-such-host.invalid:$port \
	>"$out/sweep.json" || fail "discover exited $?"
"$DRIVE" -c public -c other -t 1000 -r 1 --cancel-after 300 discover "$net.0/24:$port" \
	>"$out/cancel.json" || fail "cancelled discover exited $?"

ipv6=none
if snmpsim_start_v6 tests/fixtures/printers kyocera_p3150dn.snmprec; then
	ipv6=$SNMPSIM_V6_ADDR
	"$DRIVE" -c public -t 1000 -r 1 --no-port-probe discover "$ipv6" >"$out/ipv6.json" ||
		fail "IPv6 discover exited $?"
else
	echo "note: no IPv6 loopback here, the IPv6 part is left out"
fi

/usr/bin/python3 - "$out" "$net" "$ipv6" <<'EOF'
import json, sys
out, net, ipv6 = sys.argv[1:4]
failures = []
def check(cond, msg):
    if not cond:
        failures.append(msg)

e = json.load(open(f"{out}/estimate.json"))
print("estimate:", json.dumps(e, sort_keys=True))
# 40 addresses, one profile, no retry: 40 GETs at best, 40 + 3 TCP connects each at worst;
# 40 addresses in one round of 256 sessions at 0.4 s, and 120 connects in one round of 256.
check((e["addresses"], e["packets_min"], e["packets_max"], e["parallel"]) == (40, 40, 160, 256), f"estimate {e}")
check(abs(e["seconds_max"] - 0.8) < 1e-9, f"estimate seconds {e['seconds_max']}")

d = json.load(open(f"{out}/sweep.json"))
c = d["counts"]
print("sweep:", json.dumps(c, sort_keys=True), "progress events", d["progress_events"],
      "largest gap", d["max_progress_gap_ms"], "ms")
check(c["addresses"] == 41 and c["scanned"] == 40, f"addresses/scanned {c}")
check(c["answered"] == 2 and c["printers"] == 2 and c["no_snmp"] == 38, f"answers {c}")
check(c["port_probed"] == 38 and c["no_snmp_printers"] == 1, f"port probe {c}")
check(d["no_snmp_printers"] == [{"address": f"{net}.30", "port": 9100}], f"printers without SNMP {d['no_snmp_printers']}")
check(c["target_errors"] == 1 and d["target_errors"][0]["target"].startswith("no-such-host.invalid"),
      f"target errors {d['target_errors']}")
check(sorted(p["serial"] for p in d["printers"]) == ["3363419873", "VCF8Z04117"], "printers polled")
check(d["progress_events"] >= 2, "progress events")
# At least every 250 ms: the loop wakes for its tick; allow scheduling slack on a busy machine.
check(d["max_progress_gap_ms"] <= 400, f"a progress gap of {d['max_progress_gap_ms']} ms")
check(c["packets"] == d["stats"]["packets"], "packet count")

k = json.load(open(f"{out}/cancel.json"))
ck = k["counts"]
print("cancelled:", json.dumps(ck, sort_keys=True), "elapsed", k["elapsed_ms"], "ms")
check(k["cancelled"], "not cancelled")
check(k["elapsed_ms"] < 2000, f"cancel took {k['elapsed_ms']} ms")
check(ck["scanned"] < ck["addresses"] == 254, f"cancelled counts {ck}")
if ipv6 != "none":
    v6 = json.load(open(f"{out}/ipv6.json"))
    p = v6["printers"][0] if v6["printers"] else {}
    check(p.get("address") == "::1" and p.get("serial") == "VCF8Z04117", f"IPv6 printer {p.get('address')} {p.get('serial')}")
    print("IPv6:", p.get("address"), p.get("port"), p.get("model"))
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
EOF
