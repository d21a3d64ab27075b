#!/usr/bin/env bash
# The console in a real terminal (tmux) on a seeded database of 60 printers: the devices appear
# with their counts, the filter narrows as it is typed, sorting reorders and shows its direction,
# Enter opens a device with its supplies, Space excludes (the header's counts change), the
# Alerts, Sync, Discovery, Site, Log and Help screens show their content, the cursor rests on the
# selected row, --readonly hides changes, and every way out (q, SIGTERM, Ctrl-Z and back) leaves
# the terminal restored. fleetcon-test: threaded
set -u
cd "$(dirname "$0")/../.."
. tests/lib/console.sh
con_require || exit 77
trap con_cleanup EXIT

con_seed 60
T=$CON_DIR
ENV="TERM=xterm-256color LANG=C.UTF-8 TZ=UTC"

con_start 100 30 "$ENV" --config "$CONF" || con_fail "tmux did not start"
con_wait "60 devices" || con_fail "the header does not count 60 devices"
con_wait "Enter open" || con_fail "no hint bar"
con_wait_re "^fault +PRN-" || con_fail "no device rows, worst first"

# the cursor rests on the selected row (the first device, under the titles on line 2)
[ "$(con_display '#{cursor_y}')" = 3 ] || con_fail "cursor on line $(con_display '#{cursor_y}'), not the selected row 3"
con_keys Down Down
_con_until con_cursor_at 5 || con_fail "cursor did not follow the selection"

# filter as you type: only Xerox printers, then Esc clears it
con_keys /
con_wait "Filter:" || con_fail "no filter line after /"
con_type "prn-xrx"
con_wait_re "Filter: prn-xrx +[0-9]+ of 60" || con_fail "the filter line does not count"
rows=$(con_screen | grep -cE '^(ok|error|warning|unreachable|new|excluded) ')
xrx=$(con_screen | grep -cE '^(ok|error|warning|unreachable|new|excluded) +PRN-XRX-')
[ "$rows" -gt 0 ] && [ "$rows" = "$xrx" ] || con_fail "filter: $rows rows, $xrx of them Xerox"
con_keys Enter
con_wait "Esc clears" || con_fail "a kept filter is not shown"
con_keys Escape
con_wait_gone "Esc clears" || con_fail "Esc did not clear the filter"

# sort: > moves to Name / address, ascending; I inverts
con_keys ">"
con_wait "Name / address▲" || con_fail "no ascending sort on the name"
first=$(con_screen | sed -n 4p | awk '{print $2}')
con_keys I
con_wait "Name / address▼" || con_fail "I did not invert the sort"
last=$(con_screen | sed -n 4p | awk '{print $2}')
[ "$first" \< "$last" ] || con_fail "sort did not reorder: first $first, then $last"

# Enter opens a device with its supplies and meters
con_keys Home Enter
con_wait "[2 Device]" || con_fail "Enter did not open the Device screen"
con_wait "Supplies" || con_fail "no supplies on the Device screen"
con_wait "Meters (value, unit, where it came from)" || con_fail "no meters"
con_screen | grep -qE 'Toner|Drum' || con_fail "no toner or drum among the supplies"
con_keys w
con_wait "Raw SNMP values of the poll of" || con_fail "w did not show the raw view"
con_keys Escape
con_wait "[1 Devices]" || con_fail "Esc did not go back"

# exclude: the header's count goes up by one, and back
before=$(con_screen | sed -n 1p | grep -oE '[0-9]+ excluded' | grep -oE '[0-9]+')
con_keys Home
con_keys Space
con_wait "$((before + 1)) excluded" || con_fail "Space did not exclude (still $before excluded)"
con_wait "excluded: no longer polled" || con_fail "no flash after excluding"
con_keys Space
con_wait "$before excluded" || con_fail "Space did not include again"

# the other screens, by number and letter
con_keys 3
con_wait "Severity" || con_fail "no Alerts screen"
con_screen | sed -n 4p | grep -qE '^(critical|unreachable|EMPTY|FULL) ' || con_fail "Alerts: the worst is not first"
con_keys s
con_wait "Last data received from printers" || con_fail "no Sync screen"
con_wait "History (newest first)" || con_fail "no sync history"
con_keys 5
con_wait "Printers without SNMP" || con_fail "no Discovery screen"
con_keys f
con_wait "Agent host" || con_fail "no site facts"
con_keys 7
con_wait "console started" || con_fail "no Log screen"
con_keys "?"
con_wait "Export the fleet to an HTML report" || con_fail "no Help screen"
con_keys Tab
con_wait "[1 Devices]" || con_fail "Tab does not cycle from Help to Devices"

# the mouse (xterm's SGR reports, as a terminal sends them): a click on a tab, a click on a row
click() { con_type "$(printf '\033[<0;%d;%dM\033[<0;%d;%dm' "$1" "$2" "$1" "$2")"; }
con_keys 1
con_wait "[1 Devices]" || con_fail "1 does not go to Devices"
click 29 2
con_wait "[3 Alerts" || con_fail "a click on the Alerts tab did not open it"
click 4 2
con_wait "[1 Devices]" || con_fail "a click on the Devices tab did not open it"
click 5 9
_con_until con_cursor_at 8 || con_fail "a click on a row did not select it"

# resize to the minimum and below, and back
con_resize 60 16
con_wait "Status" || con_fail "nothing at 60x16"
con_resize 50 12
con_wait "terminal too small" || con_fail "no 'too small' screen at 50x12"
con_resize 100 30
con_wait "Name / address" || con_fail "no table after growing again"

con_quit || con_fail "q"

# --readonly: no include/exclude, no upload; the hint bar says so
con_start 100 30 "$ENV" --config "$CONF" --readonly || con_fail "tmux did not start"
con_wait "READ-ONLY" || con_fail "the hint bar does not say read-only"
con_screen | grep -q "in/exclude" && con_fail "read-only still offers include/exclude"
con_keys Space
con_wait "read-only console" || con_fail "Space in read-only mode says nothing"
con_keys 4
con_wait "Last data received" || con_fail "no Sync screen in read-only mode"
con_screen | tail -n1 | grep -q "upload now" && con_fail "read-only offers upload"

# SIGTERM ends it cleanly
pid=$(con_pid)
[ -n "$pid" ] || con_fail "no console process"
kill -TERM "$pid"
rc=$(con_exit_status) || con_fail "no exit after SIGTERM"
[ "$rc" = 0 ] || con_fail "exit $rc after SIGTERM"
_con_until con_restored || con_fail "terminal not restored after SIGTERM"

# Ctrl-Z gives the terminal back to the shell; fg brings the console back
con_start 100 30 "$ENV" --config "$CONF" || con_fail "tmux did not start"
con_wait "Enter open" || con_fail "no console"
con_keys C-z
con_wait "Stopped" || con_fail "Ctrl-Z did not stop the console"
_con_until con_restored || con_fail "Ctrl-Z did not restore the terminal"
con_type "fg"
con_keys Enter
con_wait "Enter open" || con_fail "the console did not come back after fg"
con_wait_re "^fault +PRN-" || con_fail "no rows after fg"
con_quit || con_fail "q after fg"
echo "ok"
