#!/usr/bin/env bash
# Device strings carrying escape sequences never reach the terminal: a seeded fleet with hostile
# strings, and one device whose every text field is rewritten in the database with raw ESC, CSI
# (7-bit and the 8-bit C1 form), OSC title changes, DCS, BEL, CR/LF and invalid UTF-8, bypassing the
# collector's own cleaning. The console must clean them itself: `tmux capture-pane -e` shows only
# tmux's own SGR attributes, the pane title is untouched, and the cleaned text is still readable.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/console.sh
con_require || exit 77
trap con_cleanup EXIT
command -v sqlite3 >/dev/null || { echo "skip: sqlite3 is not installed"; exit 77; }

con_seed 30 --hostile
T=$CON_DIR

# SQL text pieces: ESC, BEL, C1 CSI (U+009B), CR, LF, an invalid UTF-8 byte
E="char(27)" B="char(7)" CSI8="char(155)"
bad="'evil' || $E || ']0;PWNED-TITLE' || $B || $E || '[2J' || $E || '[31mRED' || $E || '[0m'"
sqlite3 "$DB" <<SQL || { echo "FAIL: sqlite3"; exit 1; }
UPDATE devices SET
  sys_name = $bad || 'name',
  model = 'Model' || $CSI8 || '31m' || $E || '[5mX',
  vendor = 'Vend' || $E || 'P1;2|junk' || $E || '\\or',
  serial = 'SER' || char(13) || char(10) || 'IAL' || $E || '[?1049h',
  location = 'Floor ' || $E || ']8;;http://x' || $E || '\\link',
  panel_text = 'Panel ' || $E || '[1;1H' || $E || '[K' || $B || 'text',
  firmware = 'fw' || CAST(X'FF' AS TEXT) || 'bad',
  poll_error = 'timeout ' || $E || '[H' || $E || '[2J',
  sys_descr = 'descr ' || $E || 'c' || $E || '(0qqq'
WHERE id = 1;
UPDATE supplies SET description = 'Toner ' || $E || ']2;PWNED-TITLE' || $B || 'black' WHERE device_id = 1;
UPDATE alerts SET description = 'Jam ' || $E || '[6n' || $E || '[c' || 'here' WHERE device_id = 1;
INSERT INTO alerts (device_id, severity, description, first_seen, last_seen)
  VALUES (1, 3, 'Door ' || $E || '[?25l' || $CSI8 || '2J' || 'open', 1000, 1000);
UPDATE meters SET raw = '123' || $E || '[8m' WHERE device_id = 1;
INSERT OR REPLACE INTO device_raw (device_id, raw, taken_at)
  VALUES (1, '1.3.6.1.2.1.1.5.0 = STRING: ' || $E || ']0;PWNED-TITLE' || $B || $E || '[2Jraw', 1000);
INSERT INTO ranges (target, profiles, created_at) VALUES ('10.9.9.0/24' || $E || '[2J', 'x' || $E || '[31m', 1000);
SQL

# tmux's own attributes are SGR sequences; anything else that starts with ESC came from the data
leak() {
	con_screen_e | sed -E $'s/\e\\[[0-9;:]*m//g' | LC_ALL=C grep -qE $'\e|\a|\xc2\x9b'
}
check() {
	leak && con_fail "$1: an escape sequence reached the terminal"
	con_display '#{pane_title}' | grep -q PWNED && con_fail "$1: a device changed the terminal's title"
	con_screen | tail -n1 | grep -qE '(help|keep)' || con_fail "$1: the screen was cleared or moved (no hint bar)"
	con_screen | sed -n 1p | grep -q "fleetcon" || con_fail "$1: the header is gone"
}

for lang in C.UTF-8 C; do
	con_start 120 40 "TERM=xterm-256color LANG=$lang LC_ALL=$lang TZ=UTC" --config "$CONF" || con_fail "tmux did not start"
	con_wait "30 devices" || con_fail "no devices"
	check "$lang Devices"
	con_keys /
	con_type "evil"
	con_wait "evil" || con_fail "$lang: the hostile device's cleaned name is not shown"
	con_wait_re "Filter: evil +1 of 30" || con_fail "$lang: the filter does not find the hostile device"
	check "$lang filtered"
	con_keys Enter Enter
	con_wait "Supplies" || con_fail "$lang: no Device screen"
	con_wait "evil" || con_fail "$lang: no cleaned name on the Device screen"
	check "$lang Device"
	con_keys w
	con_wait "Raw SNMP values of the poll of" || con_fail "$lang: no raw view"
	con_keys End
	con_wait "raw" || con_fail "$lang: the raw value is not shown"
	check "$lang raw view"
	con_keys 3
	con_wait "Severity" || con_fail "$lang: no Alerts"
	check "$lang Alerts"
	con_keys 5
	con_wait "10.9.9.0/24" || con_fail "$lang: the range is not shown"
	check "$lang Discovery"
	con_keys 7
	check "$lang Log"
	con_quit || con_fail "$lang: quit"
done
echo "ok"
