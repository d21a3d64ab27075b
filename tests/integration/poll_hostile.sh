#!/usr/bin/env bash
# Polls that a device cannot make loop, grow or overrun: the hostile recording (escape sequences,
# 5 KiB strings, 300 alerts), tests/lib/badagent.py returning a fixed OID (not increasing), OIDs
# going backwards and an endless table, and a host that never answers with a budget shorter than
# its timeouts. Each poll must end within its budget with bounded memory and a clear message.
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

snmpsim_start_fleet tests/fixtures/printers hostile_strings.snmprec || fail "fleet did not start"
hostile=${SNMPSIM_ADDRS[0]}
agents=()
for mode in fixed backwards endless; do
	badagent_start "$mode" || fail "badagent $mode did not start"
	agents+=("$mode=$BADAGENT_ADDR")
done
# A port nobody answers on (a bound socket that is never read).
silent_port=$(_snmpsim_pick_port) || fail "no free port"
/usr/bin/python3 -c "
import socket, signal, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', $silent_port))
open('$out/silent.ready', 'w').close()
signal.sigwait([signal.SIGTERM])
" &
silent_pid=$!
SNMPSIM_PIDS+=("$silent_pid")
deadline=$((SECONDS + 10))
until [ -e "$out/silent.ready" ]; do
	[ $SECONDS -lt $deadline ] || fail "the silent socket did not start"
	sleep 0.05
done

/usr/bin/python3 - "$DRIVE" "$hostile" "127.0.0.1:$silent_port" "${FLEETCON_VARIANT:-plain}" "${agents[@]}" <<'EOF'
import json, resource, subprocess, sys, time
drive, hostile, silent, variant = sys.argv[1:5]
agents = dict(a.split("=", 1) for a in sys.argv[5:])
failures = []
def check(cond, msg):
    if not cond:
        failures.append(msg)

def poll(addr, *opts):
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.monotonic()
    p = subprocess.run([drive, "-t", "500", "-r", "1", *opts, "poll", addr], capture_output=True,
                       text=True, timeout=120)
    took = time.monotonic() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB, the largest child so far
    check(p.returncode == 0, f"{addr}: snmp_drive exited {p.returncode}: {p.stderr[-500:]}")
    d = json.loads(p.stdout)
    return d["devices"][0], took, max(rss, before)

def requests(addr):
    out = subprocess.run(["snmpget", "-v2c", "-c", "public", "-Oqv", addr, "1.3.6.1.4.1.99998.9.1.0"],
                         capture_output=True, text=True).stdout.strip()
    return int(out) if out.isdigit() else -1

# Memory: the bound of what one poll keeps, whatever the agent sends (not under sanitizers,
# which change the picture).
RSS_LIMIT_KIB = 64 * 1024

dev, took, rss = poll(hostile, "--budget", "8000", "--raw")
print(f"hostile: {dev['packets']} packets, {took:.2f} s, max RSS {rss} KiB, {len(dev['alerts'])} alerts, "
      f"{len(dev['raw'])} raw values, warnings {dev['warnings']}")
check(took < 8.5, f"hostile: {took:.2f} s over its 8 s budget")
check(dev["is_printer"] and dev["answered"], "hostile: not polled as a printer")
check(len(dev["alerts"]) <= 300 and dev["raw_truncated"], "hostile: alerts or raw view not bounded")
check(sum(len(r["value"] or "") + len(r["oid"]) for r in dev["raw"]) <= 64 * 1024 + 16 * len(dev["raw"]),
      "hostile: raw view over its 64 KiB bound")
for key in ("sys_descr", "sys_name", "location", "model", "serial", "panel"):
    v = dev[key] or ""
    check(len(v.encode()) <= 1023 and "\x1b" not in v and "\x07" not in v, f"hostile: {key} {v[:40]!r}")
if variant == "plain":
    check(rss < RSS_LIMIT_KIB, f"hostile: {rss} KiB resident")

for mode, addr in agents.items():
    dev, took, rss = poll(addr, "--budget", "5000")
    n = requests(addr)
    print(f"badagent {mode}: {dev['packets']} packets, {took:.2f} s, max RSS {rss} KiB, agent saw {n} "
          f"requests, warnings {dev['warnings']}")
    check(took < 5.5, f"{mode}: {took:.2f} s over its 5 s budget")
    check(dev["answered"] and dev["serial"].startswith("BADAGENT-"), f"{mode}: identity {dev['serial']}")
    if mode in ("fixed", "backwards"):
        check(any("does not increase" in w for w in dev["warnings"]), f"{mode}: no non-increasing warning")
        check(dev["packets"] < 20, f"{mode}: {dev['packets']} packets")
    else:
        check(any("bound" in w for w in dev["warnings"]), f"{mode}: endless table not cut at a bound")
        check(0 < n < 300, f"{mode}: the agent saw {n} requests")
    if variant == "plain":
        check(rss < RSS_LIMIT_KIB, f"{mode}: {rss} KiB resident")

dev, took, rss = poll(silent, "--budget", "700", "-r", "5")
print(f"silent host: {took:.2f} s, {dev['packets']} packets, poll_error {dev['poll_error']!r}")
check(took < 1.5, f"silent host: {took:.2f} s for a 0.7 s budget")
check(not dev["answered"] and "budget" in (dev["poll_error"] or ""), f"silent host: {dev['poll_error']!r}")

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
EOF
