#!/usr/bin/env bash
# One console session under valgrind (memcheck) on a seeded database of 30 printers: every screen,
# a filter, the Device screen and its raw view, then q. valgrind must report no error (invalid
# reads or writes, uninitialised values, bad frees) and no definitely lost block; blocks ncurses
# and the C library keep for the life of the process ("still reachable") are not errors and are
# not counted. Plain build only: valgrind does not run ASan or TSan binaries.
set -u
cd "$(dirname "$0")/../.."
case "${FLEETCON_VARIANT:-plain}" in
plain) ;;
*) echo "skip: valgrind runs on the plain build only (the $FLEETCON_VARIANT build has its own sanitizer)"; exit 77 ;;
esac
command -v valgrind >/dev/null 2>&1 || { echo "skip: valgrind is not installed (apt-get install valgrind)"; exit 77; }
. tests/lib/console.sh
con_require || exit 77

VG_PIDFILE=$CON_DIR/valgrind.pid
VG_LOG=$CON_DIR/valgrind.log
vg_cleanup() {
	# valgrind (the console inside it) left running by a failed test ends by its pid
	if [ -s "$VG_PIDFILE" ]; then
		kill -TERM "$(cat "$VG_PIDFILE")" 2>/dev/null
	fi
	con_cleanup
}
trap vg_cleanup EXIT

con_seed 30
# The console runs inside valgrind through a wrapper that the console test library starts like
# the console itself (same arguments); exec keeps the pid the wrapper records.
real=$CONSOLE
CONSOLE=$CON_DIR/vg-console
cat >"$CONSOLE" <<WRAP
#!/bin/sh
echo \$\$ >$(printf '%q' "$VG_PIDFILE")
exec valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \\
	--errors-for-leak-kinds=definite --track-origins=yes --num-callers=30 \\
	--suppressions=$(printf '%q' "$PWD/tests/lib/valgrind.supp") \\
	--log-file=$(printf '%q' "$VG_LOG") $(printf '%q' "$real") "\$@"
WRAP
chmod +x "$CONSOLE"

# Everything is some 20-50 times slower under valgrind.
CON_TIMEOUT=${CON_VALGRIND_TIMEOUT:-90}
vg_fail() {
	echo "---- valgrind log ----"
	cat "$VG_LOG" 2>/dev/null
	con_fail "$@"
}
ENV="TERM=xterm-256color LANG=C.UTF-8 TZ=UTC"
con_start 100 30 "$ENV" --config "$CONF" || vg_fail "tmux did not start"
con_wait "30 devices" || vg_fail "the console did not come up under valgrind"
con_wait "Enter open" || vg_fail "no hint bar"
# it is valgrind's tool that runs the console, not the console alone
vg_pid=$(cat "$VG_PIDFILE" 2>/dev/null)
case "$(ps -o comm= -p "${vg_pid:-0}" 2>/dev/null)" in
memcheck*) ;;
*) vg_fail "the console is not running under valgrind (pid ${vg_pid:-none})" ;;
esac

# a filter as it is typed, kept with Enter, cleared with Esc
con_keys /
con_wait "Filter:" || vg_fail "no filter line"
con_type "prn"
con_wait_re "Filter: prn +[0-9]+ of 30" || vg_fail "the filter does not count"
con_keys Enter
con_wait "Esc clears" || vg_fail "the filter was not kept"
con_keys Escape
con_wait_gone "Esc clears" || vg_fail "Esc did not clear the filter"

# the Device screen and its raw view
con_keys Home Enter
con_wait "[2 Device]" || vg_fail "no Device screen"
con_wait "Supplies" || vg_fail "no supplies"
con_keys w
con_wait "Raw SNMP values of the poll of" || vg_fail "no raw view"
con_keys Escape
con_wait "[1 Devices]" || vg_fail "Esc did not go back"

# every other screen
con_keys 3
con_wait "Severity" || vg_fail "no Alerts screen"
con_keys 4
con_wait "Last data received from printers" || vg_fail "no Sync screen"
con_keys 5
con_wait "Printers without SNMP" || vg_fail "no Discovery screen"
con_keys 6
con_wait "Agent host" || vg_fail "no Site screen"
con_keys 7
con_wait "console started" || vg_fail "no Log screen"
con_keys "?"
con_wait "Export the fleet to an HTML report" || vg_fail "no Help screen"
con_keys 1
con_wait "[1 Devices]" || vg_fail "no Devices screen"

con_keys q
rc=$(con_exit_status) || vg_fail "the console did not exit after q"
[ "$rc" = 99 ] && vg_fail "valgrind found errors (exit 99)"
[ "$rc" = 0 ] || vg_fail "the console exited with $rc under valgrind"
# --quiet leaves only errors in the log: an empty log is a clean run
[ -e "$VG_LOG" ] || vg_fail "valgrind wrote no log"
if grep -q '^==[0-9]*== ' "$VG_LOG"; then
	vg_fail "valgrind reported something"
fi
echo "ok: a console session under valgrind, no errors and no definite leaks"
