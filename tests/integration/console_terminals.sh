#!/usr/bin/env bash
# The console on the terminals admins have: TERM xterm-256color, screen, linux and vt100, each with
# and without NO_COLOR, in a UTF-8 locale and in LANG=C; then --no-color, --ascii and --no-mouse.
# Each run must start, show the right screen text on a few screens, survive a resize to 60x16,
# below the minimum and back, and quit with the terminal restored. Colour only where allowed;
# ASCII only where asked; UTF-8 arrows only in a UTF-8 locale.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/console.sh
con_require || exit 77
trap con_cleanup EXIT

con_seed 40
T=$CON_DIR
locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$' || { echo "skip: no C.UTF-8 locale"; exit 77; }

# Colour sequences as tmux writes them with capture-pane -e: 30-37, 40-47, 90-97, 38;5;N ...
has_colour() { con_screen_e | grep -qE $'\e\\[([0-9;]*;)?(3[0-7]|4[0-7]|9[0-7]|38;|48;)[0-9;]*m'; }
non_ascii() { con_screen | LC_ALL=C grep -q $'[\x80-\xff]'; }

# run_one LABEL "ENV" ARGS...: the common walk through the console.
run_one() {
	local label=$1 envs=$2
	shift 2
	con_start 80 24 "$envs" --config "$CONF" "$@" || con_fail "$label: tmux did not start"
	con_wait "40 devices" || con_fail "$label: no header"
	con_wait "? help" || con_fail "$label: no hint bar"
	con_wait_re "^(error|warning|unreachable|ok) " || con_fail "$label: no device rows"
	con_keys Enter
	con_wait "Supplies" || con_fail "$label: no Device screen"
	con_keys a
	con_wait "Severity" || con_fail "$label: no Alerts screen"
	con_keys 4
	con_wait "Next scheduled transmission" || con_fail "$label: no Sync screen"
	con_keys 1
	con_resize 60 16
	con_wait "Name / address" || con_fail "$label: nothing at 60x16"
	con_resize 40 10
	con_wait "terminal too small" || con_fail "$label: no 'too small' screen"
	con_resize 80 24
	con_wait "Name / address" || con_fail "$label: nothing after growing back"
}

for term in xterm-256color screen linux vt100; do
	for lang in C.UTF-8 C; do
		for nocolor in "" 1; do
			label="TERM=$term LANG=$lang NO_COLOR=$nocolor"
			envs="TERM=$term LANG=$lang LC_ALL=$lang TZ=UTC"
			[ -n "$nocolor" ] && envs="$envs NO_COLOR=1"
			run_one "$label" "$envs"
			if [ -n "$nocolor" ] || [ "$term" = vt100 ]; then
				has_colour && con_fail "$label: colour on screen"
			else
				has_colour || con_fail "$label: no colour at all"
			fi
			if [ "$lang" = C ]; then
				con_screen | grep -q "Status^" || con_fail "$label: the sort direction is not ASCII"
			else
				con_screen | grep -q "Status▲" || con_fail "$label: no UTF-8 arrow in a UTF-8 locale"
			fi
			con_quit || con_fail "$label: quit"
		done
	done
done

run_one "--no-color" "TERM=xterm-256color LANG=C.UTF-8 TZ=UTC" --no-color
has_colour && con_fail "--no-color: colour on screen"
con_quit || con_fail "--no-color: quit"

run_one "--ascii" "TERM=xterm-256color LANG=C.UTF-8 TZ=UTC" --ascii --no-mouse
con_keys 2
con_wait "Supplies" || con_fail "--ascii: no Device screen"
non_ascii && con_fail "--ascii: characters outside ASCII on screen"
con_keys 1
con_wait "Status^" || con_fail "--ascii: no ASCII sort arrow"
con_quit || con_fail "--ascii: quit"

# not a terminal: a clear refusal, not a mess
rc=0
msg=$("$CONSOLE" --config "$CONF" $CON_SUBCOMMAND </dev/null 2>&1) || rc=$?
[ "$rc" = 2 ] || con_fail "without a terminal: exit $rc, expected 2"
echo "$msg" | grep -q "needs a terminal" || con_fail "without a terminal: $msg"
echo "ok"
