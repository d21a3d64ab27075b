#!/usr/bin/env bash
# Bad input from people in the console (issue 9, item 5), in a real terminal (tmux): the range
# editor (a /4, a range that ends before it starts, 300.1.1.1, an empty target, 400 characters, a
# port out of range, an unknown profile), the export dialog (a missing folder, an existing file
# without "replace"), the filter (format directives, SQL, wide characters, 500 characters). Each gets its message in the
# dialog, the dialog stays open for a correction, and the database is the same before and after.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/console.sh
con_require || exit 77
trap con_cleanup EXIT
con_seed 5
dump() { sqlite3 "$DB" .dump | sha256sum; }
before=$(dump)
mkdir -p "$CON_DIR/out"
echo "an earlier report" >"$CON_DIR/out/existing.html"
con_start 100 30 "TERM=xterm-256color LANG=C.UTF-8" --config "$CONF" || con_fail "tmux did not start"
con_wait "5 devices" || con_fail "no header"

# range_case TEXT WANT [FIELD_TABS]: types TEXT into the range editor's field (after that many
# Tabs from the target), confirms, and waits for WANT; the dialog must still be open.
range_case() {
	local text=$1 want=$2 tabs=${3:-0} i
	con_keys n
	con_wait "New range or address" || con_fail "no range dialog"
	if [ "$tabs" -gt 0 ]; then
		con_type "10.9.8.7"
		for ((i = 0; i < tabs; i++)); do con_keys Tab; done
	fi
	con_keys C-u
	[ -n "$text" ] && con_type "$text"
	con_keys Enter
	con_wait "$want" || con_fail "range editor, '${text:0:40}': no '$want'"
	con_screen | grep -q "New range or address" || con_fail "range editor, '${text:0:40}': the dialog closed"
	con_keys Escape
	con_wait_gone "New range or address" || con_fail "Esc did not close the range editor"
	echo "  range editor: '${text:0:40}' -> '$want'"
}
con_keys 5
con_wait "no ranges yet" || con_fail "no Discovery screen"
range_case "10.0.0.0/4" "targets larger than a /16"
range_case "1.2.3.4-1.2.3.1" "the range ends before it starts"
range_case "300.1.1.1" "is not an IPv4 address"
range_case "" "empty target"
range_case "10.1.2.0/33" "must be a number from 0 to 32"
# 400 characters: refused (the message starts with the text, which is all the dialog has room for)
range_case "$(printf '9%.0s' $(seq 400))" "99999999999999999999"
range_case "nosuchprofile" 'no profile "nosuchprofile"' 1
range_case "99999" "the port is a number from 1 to 65535" 2
range_case "abc" "the port is a number from 1 to 65535" 2
con_screen | grep -q "no ranges yet" || con_fail "a bad range was added"

# The export dialog: the path field is the second one.
export_case() {
	local path=$1 want=$2
	con_keys e
	con_wait "Export" || con_fail "no export dialog"
	con_keys Tab C-u
	con_type "$path"
	con_keys Enter
	con_wait "$want" || con_fail "export dialog, '$path': no '$want'"
	con_keys Escape
	con_wait_gone "Replace existing" || con_fail "Esc did not close the export dialog"
	echo "  export dialog: '$path' -> '$want'"
}
con_keys 1
export_case "/nonexistent/dir/r.html" "does not exist"
export_case "$CON_DIR/out/existing.html" "existing.html exists; set Replace existing to yes to replace it"
[ "$(cat "$CON_DIR/out/existing.html")" = "an earlier report" ] || con_fail "the export dialog replaced a file"
[ "$(ls -A "$CON_DIR/out")" = existing.html ] || con_fail "the export dialog left $(ls -A "$CON_DIR/out")"

# The filter: format directives and SQL are text to match, nothing more; a long filter is fine.
# (A raw ESC byte cannot be typed into a field: the terminal sends it as the Escape key.)
for text in '%s%n%x%p' "'; DROP TABLE devices; --" 'ÄÖÜ 漢字 🙂'; do
	con_keys 1 /
	con_type "$text"
	con_wait_re "Filter: .*0 of 5" || con_fail "the filter '$text'"
	con_keys Escape
	con_wait "5 devices" || con_fail "Esc did not clear the filter '$text'"
	echo "  filter: '$text' -> 0 of 5"
done
con_keys /
con_type "$(printf 'z%.0s' $(seq 500))"
con_wait "No device matches" || con_fail "a 500-character filter"
con_keys Escape
con_wait "5 devices" || con_fail "Esc did not clear the filter"

con_quit || con_fail "the console did not quit cleanly"
[ "$(dump)" = "$before" ] || con_fail "bad input in the console changed the database"
echo "ok: the console's fields refuse bad input with a message and change nothing"
