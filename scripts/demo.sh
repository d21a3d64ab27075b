#!/usr/bin/env bash
# `make demo`: the console on a simulated fleet. Starts snmpsim on loopback serving several dozen
# printers of different vendors (the project's recordings, each served as a few printers with
# their own serial, MAC and supply levels, and the shared recordings when ../shared is there),
# the reference receiver over HTTPS with a throwaway CA, writes a demo configuration in a
# temporary folder, runs a discovery and an upload, and opens the console. On quit it stops
# everything it started, by pid, removes the folder and says how to run it again.
#
#   scripts/demo.sh            (make demo installs what is missing and builds first)
#   DEMO_KEEP=1 scripts/demo.sh   keeps the temporary folder (database, configuration, logs)
#   DEMO_NO_CONSOLE=1 scripts/demo.sh   sets everything up, prints how to open the console, and
#                                       waits for Enter before stopping (for scripts)
set -u
cd "$(dirname "$0")/.."
top=$PWD
BUILD=${BUILD:-build}
case $BUILD in
/*) FC=$BUILD/fleetcon ;;
*) FC=$top/$BUILD/fleetcon ;;
esac
PY=/usr/bin/python3

say() { printf 'demo: %s\n' "$*"; }
die() {
	printf 'demo: %s\n' "$*" >&2
	exit 1
}

[ -x "$FC" ] || die "$FC is not built: run 'make demo' (it installs what is missing and builds)"
[ -x "$PY" ] || die "$PY is missing: run 'make demo' (scripts/deps.sh installs python3)"
if [ -z "${DEMO_NO_CONSOLE:-}" ] && ! { [ -t 0 ] && [ -t 1 ]; }; then
	die "the demo opens the console: run it in a terminal (or DEMO_NO_CONSOLE=1 for the set-up only)"
fi
. tests/lib/snmpsim.sh
snmpsim_require >/dev/null || die "snmpsimd or snmpget is missing: run 'make demo' (scripts/deps.sh installs snmpsim and snmp)"
. tests/lib/testca.sh
testca_require >/dev/null || die "openssl is missing: run 'make demo'"

DEMO=$(mktemp -d "${TMPDIR:-/tmp}/fleetcon-demo.XXXXXX") || die "cannot make a temporary folder"
RECEIVER_PID=""
cleanup() {
	trap - EXIT INT TERM HUP
	if [ -n "$RECEIVER_PID" ]; then
		kill "$RECEIVER_PID" 2>/dev/null
		wait "$RECEIVER_PID" 2>/dev/null
	fi
	snmpsim_stop
	if [ -n "${DEMO_KEEP:-}" ]; then
		say "kept $DEMO (database, configuration, receiver's reports)"
	else
		rm -rf "$DEMO"
	fi
	say "stopped everything the demo started (snmpsim, the receiver)."
	say "run it again with: make demo"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---- the fleet: each printer recording a few times over, as different printers ----
mkdir -p "$DEMO/fleet"
own=()
for f in tests/fixtures/printers/*.snmprec; do
	case $(basename "$f") in
	*_v3.snmprec | hostile_strings.snmprec) continue ;; # v3 needs its own agent; hostile is for the tests
	esac
	own+=("$f")
done
copies=${DEMO_COPIES:-4}
"$PY" - "$DEMO/fleet" "$copies" "${own[@]}" <<'PY' || die "cannot make the demo fleet"
# Writes COPIES variants of each recording: the same printer model with its own sysName, serial,
# MAC and supply levels, so that each variant is a printer of its own in the database.
import os
import sys

out, copies, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
SERIAL = "1.3.6.1.2.1.43.5.1.1.17.1"
SYSNAME = "1.3.6.1.2.1.1.5.0"
MAC = "1.3.6.1.2.1.2.2.1.6."
LEVEL = "1.3.6.1.2.1.43.11.1.1.9.1."
MAX = "1.3.6.1.2.1.43.11.1.1.8.1."
for path in files:
    # latin-1 keeps every byte as it is
    with open(path, encoding="latin-1") as f:
        rows = [line.rstrip("\n").split("|", 2) for line in f if line.strip()]
    values = {r[0]: r[2] for r in rows if len(r) == 3}
    serial = values.get(SERIAL, "")
    name = os.path.basename(path)[: -len(".snmprec")]
    for k in range(copies):
        lines = []
        for r in rows:
            if len(r) != 3:
                lines.append("|".join(r))
                continue
            oid, typ, val = r
            if k:
                if typ == "4" and serial and val == serial:
                    val = "%s-%d" % (serial, k)
                elif oid == SYSNAME:
                    val = "%s-%d" % (val, k)
                elif oid.startswith(MAC) and typ == "4x" and len(val) == 12:
                    val = val[:8] + "%02X" % ((int(val[8:10], 16) + k) % 256) + val[10:]
                elif oid.startswith(LEVEL) and typ == "2" and int(val) >= 0:
                    top = int(values.get(MAX + oid[len(LEVEL):], "100") or 100)
                    if top > 0:
                        # another point in the supply's life: some full, some low, some empty
                        val = str((int(val) + (top * 37 * k) // 100) % (top + 1))
            lines.append("|".join((oid, typ, val)))
        with open(os.path.join(out, "%s-%d.snmprec" % (name, k)), "w", encoding="latin-1") as f:
            f.write("\n".join(lines) + "\n")
PY
recs=("$DEMO"/fleet/*.snmprec)
shared=${FLEETCON_SHARED_FIXTURES:-$top/../shared/fixtures/printers}
if [ -d "$shared" ]; then
	for f in "$shared"/*.snmprec; do
		[ -r "$f" ] && recs+=("$f")
	done
fi
say "starting snmpsim with ${#recs[@]} recordings on loopback (the first start indexes them: up to a minute)"
snmpsim_start_fleet / "${recs[@]}" || die "snmpsim did not start (log: $DEMO)"
n=${#SNMPSIM_ADDRS[@]}
first=${SNMPSIM_ADDRS[0]%:*}
last=${SNMPSIM_ADDRS[$((n - 1))]%:*}
range="$first-$last:$SNMPSIM_PORT"
[ "${first%.*}" = "${last%.*}" ] && range="$first-${last##*.}:$SNMPSIM_PORT"

# ---- the communication server: the reference receiver with a throwaway CA ----
say "starting the reference receiver with a throwaway CA"
testca_make "$DEMO/ca" || die "cannot make the test CA"
mkdir -p "$DEMO/receiver"
"$PY" tests/receiver/receiver.py serve --dir "$DEMO/receiver" --cert "$DEMO/ca/good.pem" --key "$DEMO/ca/good.key" \
	--user demo-agent --password demo-password-1 >"$DEMO/receiver.log" 2>&1 &
RECEIVER_PID=$!
port=$("$PY" tests/receiver/receiver.py wait --dir "$DEMO/receiver" --timeout 30 --pid "$RECEIVER_PID") ||
	die "the receiver did not start (log: $DEMO/receiver.log)"

# ---- the agent's configuration ----
conf=$DEMO/fleetcon.conf
(
	umask 077
	cat >"$conf" <<EOF
; fleetcon demo configuration (made by scripts/demo.sh; removed when the demo ends)
[site]
name = Demo site
[database]
path = $DEMO/fleetcon.db
[server]
url = https://127.0.0.1:$port/reports
user = demo-agent
password = demo-password-1
ca_file = $DEMO/ca/ca.pem
[poll]
timeout = 1500ms
retries = 1
interval = 15m
[discovery]
interval = 0
EOF
)
unset https_proxy HTTPS_PROXY http_proxy HTTP_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
export FLEETCON_CONFIG=$conf

say "discovering $range"
"$FC" --config "$conf" discover "$range" || die "the discovery failed"
say "sending a first report to the receiver"
if "$FC" --config "$conf" upload >"$DEMO/upload.log" 2>&1; then
	say "$(tail -n1 "$DEMO/upload.log")"
else
	say "the first upload did not go through (the Sync screen says why)"
fi

if [ -n "${DEMO_NO_CONSOLE:-}" ]; then
	say "ready: $FC --config $conf"
	say "press Enter to stop the demo"
	read -r _
	exit 0
fi
say "opening the console: 1-7 switch screens, ? shows every key, q quits"
"$FC" --config "$conf"
rc=$?
[ $rc -eq 0 ] || say "the console ended with status $rc"
exit 0
