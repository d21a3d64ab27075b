#!/usr/bin/env bash
# The console against a real agent: snmpsim serving the project's printer recordings (and the
# shared ones when present) on loopback, the reference receiver over verified HTTPS. Through the
# console's own keys: a range is added and discovered with live progress, the printers appear,
# the filter finds one, Enter shows its supplies, p polls it, e writes an HTML report, v previews
# the report, u uploads it (a new "last successful sync" on the Sync screen and a report at the
# receiver), and the hostile recording's escape sequences never reach the terminal.
# fleetcon-test: threaded (the workers poll, discover and upload while the console draws)
set -u
cd "$(dirname "$0")/../.."
top=$PWD
. tests/lib/console.sh
con_require || exit 77
. tests/lib/snmpsim.sh
snmpsim_require || exit 77
. tests/receiver/lib.sh
rc=0
uplink_init || rc=$?
[ $rc -eq 0 ] || exit $rc
cleanup() {
	con_cleanup
	snmpsim_stop
	uplink_cleanup
}
trap cleanup EXIT

T=$UP
con_home

# the fleet: every recording that answers SNMPv2c (the v3-only one is served elsewhere)
recs=()
for f in tests/fixtures/printers/*.snmprec; do
	case $f in *_v3.snmprec) continue ;; esac
	recs+=("$top/$f")
done
if [ -n "${FLEETCON_SHARED_FIXTURES:-}" ] && [ -d "$FLEETCON_SHARED_FIXTURES" ]; then
	for f in "$FLEETCON_SHARED_FIXTURES"/*.snmprec; do
		recs+=("$f")
	done
fi
snmpsim_start_fleet / "${recs[@]}" || { echo "FAIL: snmpsim did not start"; exit 1; }
n=${#SNMPSIM_ADDRS[@]}
first=${SNMPSIM_ADDRS[0]%:*}
last=${SNMPSIM_ADDRS[$((n - 1))]%:*}
# one range covers them when they are on one /24 (fewer than 250 recordings)
range="$first-${last##*.}:$SNMPSIM_PORT"
[ "${first%.*}" = "${last%.*}" ] || range="$first-$last:$SNMPSIM_PORT"

receiver_start good || { echo "FAIL: receiver"; exit 1; }
conf=$T/fleetcon.conf
uplink_write_config "$conf" "https://127.0.0.1:$RECEIVER_PORT/reports" \
	"[poll]" "timeout = 1500ms" "retries = 1" "[discovery]" "interval = 0"
ENV="TERM=xterm-256color LANG=C.UTF-8 TZ=UTC"

con_start 120 40 "$ENV" --config "$conf" || con_fail "tmux did not start"
con_wait "0 devices" || con_fail "no header"
con_wait "uplink" || con_fail "no uplink state in the header"

# Discovery: a new range through the dialog, then run it
con_keys 5
con_wait "no ranges yet" || con_fail "no Discovery screen"
con_keys n
con_wait "New range or address" || con_fail "no range dialog"
con_type "$range"
con_keys Enter
con_wait "added ${range%%:*}" || con_wait "added" || con_fail "the range was not added"
con_wait_gone "New range or address" || con_fail "the dialog stayed open"
con_keys t
con_wait "nothing was sent" || con_fail "no dry run"
con_keys g
con_wait_re "last run: [0-9]+ addresses" || con_fail "the discovery did not finish"
printers=$(con_screen | grep -oE 'last run: .*answered, [0-9]+ printers' | grep -oE '[0-9]+ printers' | grep -oE '[0-9]+')
[ "${printers:-0}" -ge 8 ] || con_fail "only ${printers:-0} printers found among $n recordings"
con_screen | grep -qE "[1-9][0-9]* other devices" || con_fail "the switch was not counted as another device"

# Editing the range changes it in place: Enter opens it, Discovery goes to disabled, it keeps its id
ranges() { "$FLEETCON" --config "$conf" range list --json | /usr/bin/python3 -c '
import json, sys
print(" ".join("%d:%s:%s" % (r["id"], "on" if r["enabled"] else "off", r["last_run"] is not None)
               for r in json.load(sys.stdin)))'; }
[ "$(ranges)" = "1:on:True" ] || con_fail "before the edit: ranges $(ranges)"
con_keys Enter
con_wait "Edit range" || con_fail "Enter did not open the range editor"
con_keys Tab Tab Tab Tab Space Enter
con_wait_gone "Edit range" || con_fail "the range editor stayed open"
con_wait "(disabled)" || con_fail "the Discovery screen does not mark the range disabled"
[ "$(ranges)" = "1:off:True" ] || con_fail "after the edit: ranges $(ranges) (want the same id, disabled, its last run kept)"

# the printers are on the Devices screen
con_keys 1
con_wait "$printers devices" || con_fail "the header does not count $printers devices"
con_keys /
con_type "altalink c8045"
con_wait_re "Filter: altalink c8045 +1 of $printers" || con_fail "the filter does not find the Xerox"
con_keys Enter Enter
con_wait "AltaLink" || con_fail "Enter did not open the Xerox"
con_wait "Supplies" || con_fail "no supplies"
con_screen | grep -q "LOW 8%" || con_fail "the cyan toner is not LOW 8%"
con_screen | grep -q "EMPTY" || con_fail "the yellow toner is not EMPTY"
con_screen | grep -qE "critical +.*Left Door is open" || con_fail "no critical alert for the open door"
con_keys p
con_wait "polled" || con_fail "p did not poll"
con_keys w
con_keys G
con_wait "1.3.6.1" || con_fail "no raw SNMP values after a poll"

# export: an HTML report where we say
con_keys e
con_wait "Export" || con_fail "no export dialog"
con_keys Tab C-u
con_type "$T/fleet-report.html"
con_keys Enter
con_wait "wrote $T/fleet-report.html" || con_fail "the export did not report its file"
grep -qi "<html" "$T/fleet-report.html" || con_fail "no HTML report written"
grep -q "AltaLink" "$T/fleet-report.html" || con_fail "the report does not list the Xerox"
con_keys Escape

# the report preview, then an upload
con_keys 4
con_wait "Reports go to https://127.0.0.1:$RECEIVER_PORT" || con_fail "the Sync screen does not show the server"
con_screen | grep -qE "Last successful sync +never" || con_fail "a sync before any upload?"
con_keys v
con_wait "Report preview" || con_fail "no report preview"
con_wait '"schema": "fleetcon.report"' || con_fail "the preview is not the report's JSON"
con_wait "Esc close" || con_fail "the hint bar does not say how to close the preview"
con_keys Escape
con_wait_gone "Report preview" || con_fail "Esc did not close the preview"
con_keys u
con_wait "upload: delivered" || con_fail "the upload was not delivered"
con_wait_re "Last successful sync +[0-9]{4}-" || con_fail "no new last successful sync"
[ "$(receiver_stat stored)" -ge 1 ] || con_fail "the receiver stored no report"

# the hostile recording: only tmux's own SGR attributes on screen, everywhere we look
leak() { con_screen_e | sed -E $'s/\e\\[[0-9;:]*m//g' | LC_ALL=C grep -qE $'\e|\a|\xc2\x9b'; }
for k in 1 3 5 7; do
	con_keys "$k"
	con_wait "? help" || con_fail "screen $k"
	leak && con_fail "screen $k: an escape sequence reached the terminal"
done
con_keys 1 / C-u
con_type "EVL"
con_keys Enter Enter
con_wait "Summary" || con_fail "the hostile device does not open"
# its 300 alerts, 5 KiB texts, supplies and raw values, page by page
con_keys w
for page in $(seq 1 20); do
	leak && con_fail "the hostile device's screen leaks an escape sequence (page $page)"
	con_keys NPage
done
con_keys G
con_wait "= INTEGER:" || con_fail "no raw values for the hostile device"
leak && con_fail "the hostile device's raw values leak an escape sequence"
con_display '#{pane_title}' | grep -qi "pwn\|title" && con_fail "a device changed the terminal's title"

con_quit || con_fail "quit"
echo "ok: $printers printers from $n recordings"
