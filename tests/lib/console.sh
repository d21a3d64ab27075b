# shellcheck shell=bash
# Drives the console in a real terminal: tmux on a socket of its own, keys with send-keys, the
# screen with capture-pane, and waits on screen content in bounded loops (never fixed sleeps).
# Source it from a console test:
#
#   . tests/lib/console.sh
#   con_require || exit 77            # prints "skip: ..." when tmux or the console is missing
#   trap con_cleanup EXIT
#   con_start 100 30 "TERM=xterm-256color LANG=C.UTF-8" --db "$DB"
#   con_wait "Devices" || con_fail "no Devices screen"
#   con_keys / X R X Enter
#   con_quit || con_fail "did not quit cleanly"
#
# The console is $FLEETCON_CONSOLE, else `$FLEETCON console` when that binary has it, else
# $FLEETCON_BUILD/tools/console (the driver that calls console_main). CON_TIMEOUT (seconds,
# default 15) bounds each wait.

CON_BASE=fleetcon-test-$$-$RANDOM
CON_SOCK=$CON_BASE-0
CON_DIR=$(mktemp -d "${TMPDIR:-/tmp}/fleetcon-console.XXXXXX")
CON_TIMEOUT=${CON_TIMEOUT:-15}
CON_RUN=0
# ncurses' mouse set-up on TERM=linux loads GPM's client library, which keeps 10 bytes for the
# life of the process: not ours, and only in sanitizer builds does anyone count it.
printf 'leak:mousemask_sp\n' >"$CON_DIR/lsan.supp"
export LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$CON_DIR/lsan.supp
# (GPM has no frame pointers: the suppression needs the slow unwinder to see mousemask_sp)
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0

con_require() {
	if ! command -v tmux >/dev/null 2>&1; then
		echo "skip: tmux is not installed (apt-get install tmux)"
		return 1
	fi
	# the real binary when it has the console, else the driver that calls console_main
	CON_SUBCOMMAND=""
	if [ -n "${FLEETCON_CONSOLE:-}" ]; then
		CONSOLE=$FLEETCON_CONSOLE
	elif [ -n "${FLEETCON:-}" ] && [ -x "$FLEETCON" ] && "$FLEETCON" --help 2>/dev/null | grep -q '^  console'; then
		CONSOLE=$FLEETCON
		CON_SUBCOMMAND=console
	else
		CONSOLE=${FLEETCON_BUILD:-build}/tools/console
	fi
	if [ ! -x "$CONSOLE" ]; then
		echo "skip: no console at $CONSOLE (make tests builds it)"
		return 1
	fi
	return 0
}

con_cleanup() {
	local i pid
	for ((i = 0; i <= CON_RUN; i++)); do
		CON_SOCK=$CON_BASE-$i
		# a console a failed test left stopped (Ctrl-Z) or running ends by its pid
		pid=$(con_pid 2>/dev/null)
		if [ -n "$pid" ]; then
			kill -TERM "$pid" 2>/dev/null
			kill -CONT "$pid" 2>/dev/null
		fi
		tmux -L "$CON_SOCK" kill-server >/dev/null 2>&1
	done
	rm -rf "$CON_DIR"
}

con_fail() {
	echo "FAIL: $*"
	echo "---- screen (cursor at line $(con_display '#{cursor_y}' 2>/dev/null), column $(con_display '#{cursor_x}' 2>/dev/null)) ----"
	con_screen 2>/dev/null
	echo "----------------"
	if [ -s "$CON_DIR/stderr.$CON_RUN" ]; then
		echo "---- console stderr ----"
		cat "$CON_DIR/stderr.$CON_RUN"
	fi
	exit 1
}

# con_start COLS ROWS "VAR=value ..." CONSOLE_ARGS...: a new tmux server whose pane runs an
# interactive bash (job control, like an SSH session: Ctrl-Z and fg work), in which the console is
# typed as a command with that environment. con_exit_status asks the shell for its exit status.
con_start() {
	local cols=$1 rows=$2 envs=$3
	shift 3
	# every run gets a server of its own: a server still going away never takes the new one down
	tmux -L "$CON_SOCK" kill-server >/dev/null 2>&1
	CON_RUN=$((CON_RUN + 1))
	CON_SOCK=$CON_BASE-$CON_RUN
	# fleetcon's global options (--config, --db) come before its subcommand, the console's after
	local line a global="" own=""
	while [ $# -gt 0 ]; do
		case $1 in
		--config | --db)
			global="$global $1 $(printf '%q' "$2")"
			shift 2
			;;
		*)
			own="$own $(printf '%q' "$1")"
			shift
			;;
		esac
	done
	line="env $envs $(printf '%q' "$CONSOLE")$global${CON_SUBCOMMAND:+ $CON_SUBCOMMAND}$own"
	line="$line 2>$(printf '%q' "$CON_DIR/stderr.$CON_RUN")"
	tmux -L "$CON_SOCK" -f /dev/null new-session -d -x "$cols" -y "$rows" \
		"env PS1='$ ' HISTFILE=/dev/null bash --norc --noprofile -i" || return 1
	_con_until _con_prompt || return 1
	tmux -L "$CON_SOCK" send-keys -l "$line" || return 1
	tmux -L "$CON_SOCK" send-keys Enter
}

# con_config FILE DB [LINES...]: a configuration for DB on which the console's own schedule stays
# quiet for the test (seeded printers live on 10.0.0.x: nothing may be sent there), plus LINES.
con_config() {
	local file=$1 db=$2
	shift 2
	{
		printf '[site]\nname = console-test\n[database]\npath = %s\n' "$db"
		printf '[poll]\ninterval = 7d\n[discovery]\ninterval = 0\n'
		local line
		for line in "$@"; do
			echo "$line"
		done
	} >"$file"
}

# con_home: a home folder of the test's own (no developer's configuration or data is read).
con_home() {
	export HOME=$CON_DIR/home XDG_CONFIG_HOME=$CON_DIR/home/.config XDG_DATA_HOME=$CON_DIR/home/.local/share
	mkdir -p "$HOME"
}

# con_seed N [SEED_STORE ARGS...]: a home of the test's own, a database of N synthetic printers
# ($DB) and a configuration for it ($CONF, see con_config). Exits 77 without seed_store.
con_seed() {
	local n=$1
	shift
	con_home
	local seed=${FLEETCON_BUILD:-build}/tools/seed_store
	[ -x "$seed" ] || { echo "skip: no $seed (make tests builds it)"; exit 77; }
	DB=$CON_DIR/fleet.db
	CONF=$CON_DIR/fleetcon.conf
	"$seed" --db "$DB" --devices "$n" "$@" >/dev/null || { echo "FAIL: seed_store"; exit 1; }
	con_config "$CONF" "$DB"
}

con_screen() {
	tmux -L "$CON_SOCK" capture-pane -p
}

# The screen with tmux's own escape sequences for attributes (-e).
con_screen_e() {
	tmux -L "$CON_SOCK" capture-pane -p -e
}

con_keys() {
	tmux -L "$CON_SOCK" send-keys "$@"
}

# Literal text (no key names).
con_type() {
	tmux -L "$CON_SOCK" send-keys -l "$1"
}

con_display() {
	tmux -L "$CON_SOCK" display-message -p "$1"
}

con_resize() {
	tmux -L "$CON_SOCK" resize-window -x "$1" -y "$2"
}

# _con_until CMD...: runs CMD every 50 ms until it succeeds or CON_TIMEOUT passes.
_con_until() {
	local end=$((SECONDS + CON_TIMEOUT))
	while ! "$@"; do
		[ $SECONDS -ge "$end" ] && return 1
		sleep 0.05
	done
	return 0
}

# The cursor is on line $1 (0-based).
con_cursor_at() { [ "$(con_display '#{cursor_y}')" = "$1" ]; }

_con_has() { con_screen | grep -qF -- "$1"; }
_con_hasnt() { ! con_screen | grep -qF -- "$1"; }
_con_has_re() { con_screen | grep -qE -- "$1"; }

# con_wait TEXT: until the screen shows TEXT (fixed string).
con_wait() { _con_until _con_has "$1"; }
# con_wait_re REGEX
con_wait_re() { _con_until _con_has_re "$1"; }
# con_wait_gone TEXT
con_wait_gone() { _con_until _con_hasnt "$1"; }

# The console's process: in the pane's session, by its name.
con_pid() {
	local sid
	sid=$(ps -o sid= -p "$(con_display '#{pane_pid}')" | tr -d ' ')
	pgrep -s "$sid" -x "$(basename "$CONSOLE" | cut -c1-15)" | head -n1
}

# con_exit_status: waits for the shell's prompt to come back, then asks the shell for the
# console's exit status and prints it.
con_exit_status() {
	_con_until con_restored || return 1
	tmux -L "$CON_SOCK" send-keys -l 'echo "CON-EXIT=$?"'
	tmux -L "$CON_SOCK" send-keys Enter
	con_wait_re '^CON-EXIT=[0-9]+' || return 1
	con_screen | grep -oE '^CON-EXIT=[0-9]+' | tail -n1 | cut -d= -f2
}

# The shell's prompt is on the cursor's line.
_con_prompt() {
	local y
	y=$(con_display '#{cursor_y}')
	con_screen | sed -n "$((y + 1))p" | grep -qE '^\$( |$)'
}

# con_restored: the terminal is back to the shell: primary screen, cursor shown, and the shell's
# prompt on the cursor's line (a terminal without an alternate screen, like TERM=linux, keeps the
# console's last picture above it).
con_restored() {
	[ "$(con_display '#{alternate_on}')" = 0 ] || return 1
	[ "$(con_display '#{cursor_flag}')" = 1 ] || return 1
	_con_prompt
}

# con_quit: q, then the console must exit 0 and leave the terminal restored.
con_quit() {
	con_keys q
	local rc
	rc=$(con_exit_status) || { echo "the console did not exit after q (or the terminal was not restored)"; return 1; }
	[ "$rc" = 0 ] || { echo "the console exited with $rc"; return 1; }
	return 0
}
