#!/usr/bin/env bash
# `make demo` as a user meets it: scripts/demo.sh in a terminal starts snmpsim and the receiver,
# discovers several dozen printers, uploads once and opens the console; q ends it, and every
# process it started is gone afterwards (checked by pid), with a line saying how to run it again.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/console.sh
con_require || exit 77
. tests/lib/snmpsim.sh
snmpsim_require || exit 77
command -v openssl >/dev/null || { echo "skip: openssl is not installed"; exit 77; }
trap con_cleanup EXIT
con_home
build=${FLEETCON_BUILD:-build}
[ -x "$build/fleetcon" ] || { echo "skip: no $build/fleetcon"; exit 77; }

# the demo's temporary folders go here, where the test can see what is left; snmpsim drops root,
# so the folder must be open to it
chmod 755 "$CON_DIR"
mkdir -m 755 "$CON_DIR/tmp"
# the demo script is what runs in the terminal; its own exit status is asked from the shell
CONSOLE=$PWD/scripts/demo.sh
CON_SUBCOMMAND=""
CON_TIMEOUT=120 con_start 120 40 "BUILD=$build TERM=xterm-256color LANG=C.UTF-8 TMPDIR=$CON_DIR/tmp" ||
	con_fail "tmux did not start"
CON_TIMEOUT=180 con_wait "? help" || con_fail "the demo did not open the console"
con_wait_re "[0-9]+ devices" || con_fail "no devices in the header"
devices=$(con_screen | sed -n 1p | grep -oE '[0-9]+ devices' | grep -oE '[0-9]+')
[ "$devices" -ge 30 ] || con_fail "only $devices devices: the demo promises several dozen"
con_screen | sed -n 1p | grep -q "uplink ok" || con_fail "the demo's first upload did not succeed"
con_keys 4
con_wait "Reports go to https://127.0.0.1:" || con_fail "the Sync screen does not show the receiver"
sim=$(pgrep -f "snmpsimd.*$CON_DIR" | head -n1)
rx=$(pgrep -f "receiver.py serve --dir $CON_DIR" | head -n1)
[ -n "$sim" ] && [ -n "$rx" ] || con_fail "snmpsim ($sim) or the receiver ($rx) is not running"
con_keys q
con_wait "run it again with: make demo" || con_fail "the demo does not say how to run it again"
rc=$(con_exit_status) || con_fail "the demo did not end"
[ "$rc" = 0 ] || con_fail "the demo ended with $rc"
kill -0 "$sim" 2>/dev/null && con_fail "snmpsim ($sim) still runs after the demo"
kill -0 "$rx" 2>/dev/null && con_fail "the receiver ($rx) still runs after the demo"
ls -d "$CON_DIR"/tmp/fleetcon-* >/dev/null 2>&1 && con_fail "the demo left a folder behind: $(ls "$CON_DIR/tmp")"
echo "ok: $devices devices"
