#!/usr/bin/env bash
# `make screenshots`: pictures of the console made from a real run. Runs the demo (scripts/demo.sh:
# snmpsim printers, the reference receiver, a discovery and an upload) in tmux, walks through the
# screens with the console's own keys, and for each one writes a plain-text dump
# (screenshots/console-NAME.txt, from capture-pane) and a PNG (capture-pane -e -> aha -> headless
# Chromium). Needs tmux, aha and chromium (scripts/deps.sh --extra screenshots installs them).
#
#   scripts/screenshots.sh [OUTPUT_DIR]     (default: screenshots/)
set -u
cd "$(dirname "$0")/.."
top=$PWD
out=${1:-$top/screenshots}
BUILD=${BUILD:-build}
COLS=${SCREENSHOT_COLS:-120}
ROWS=${SCREENSHOT_ROWS:-36}
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}

die() {
	echo "screenshots: $*" >&2
	exit 1
}
for t in tmux aha; do
	command -v "$t" >/dev/null || die "$t is missing: scripts/deps.sh --extra screenshots installs it"
done
[ -n "$CHROMIUM" ] || die "chromium is missing: scripts/deps.sh --extra screenshots installs it"
mkdir -p "$out" || die "cannot make $out"

work=$(mktemp -d "${TMPDIR:-/tmp}/fleetcon-shots.XXXXXX") || die "cannot make a temporary folder"
chmod 755 "$work" # snmpsim drops root and must reach its folders below
mkdir -m 755 "$work/tmp"
sock=fleetcon-shots-$$
cleanup() {
	tmux -L "$sock" kill-server >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

screen() { tmux -L "$sock" capture-pane -p; }
keys() { tmux -L "$sock" send-keys "$@"; }
# wait_for TEXT [SECONDS]: until the screen shows TEXT.
wait_for() {
	local end=$((SECONDS + ${2:-30}))
	until screen | grep -qF -- "$1"; do
		[ $SECONDS -ge "$end" ] && die "the screen never showed \"$1\""
		sleep 0.05
	done
}

# shot NAME TITLE: the current screen as NAME.txt and NAME.png.
shot() {
	local name=$1 title=$2
	# a second look after the first: the clock line and countdown settle
	sleep 0.3
	screen >"$out/console-$name.txt"
	# aha reads "reset, then reverse" only as two sequences
	tmux -L "$sock" capture-pane -p -e | sed -E $'s/\e\\[0;/\e[0m\e[/g' | aha --title "fleetcon console: $title" \
		--style "font-family: 'DejaVu Sans Mono', monospace; font-size: 15px; line-height: 1.25; margin: 12px" \
		>"$work/$name.html" || die "aha failed"
	local w=$((COLS * 9 + 40)) h=$((ROWS * 19 + 40))
	"$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
		--window-size="$w,$h" --screenshot="$out/console-$name.png" "file://$work/$name.html" \
		>"$work/chromium.log" 2>&1 || die "chromium failed (log: $work/chromium.log)"
	echo "screenshots: console-$name.png, console-$name.txt"
}

tmux -L "$sock" -f /dev/null new-session -d -x "$COLS" -y "$ROWS" \
	"cd $top && env BUILD=$BUILD TERM=xterm-256color LANG=C.UTF-8 TZ=UTC TMPDIR=$work/tmp scripts/demo.sh; sleep 600" ||
	die "tmux did not start"
wait_for "? help" 180

shot devices "Devices"
keys /
tmux -L "$sock" send-keys -l "xerox"
wait_for "Filter: xerox"
keys Enter
shot filter "Devices, filtered"
keys Escape
keys / C-u
tmux -L "$sock" send-keys -l "XRX-2F-EAST-1"
keys Enter Enter
wait_for "Supplies"
shot device "Device"
keys 3
wait_for "Severity"
shot alerts "Alerts"
keys 4
wait_for "Next scheduled transmission"
shot sync "Sync"
keys v
wait_for "Report preview"
shot preview "Report preview"
keys Escape
keys 5
wait_for "Printers without SNMP"
shot discovery "Discovery"
keys 6
wait_for "Agent host"
shot site "Site"
keys "?"
wait_for "This help"
shot help "Help"
keys 1 e
wait_for "Replace existing"
shot export "Export dialog"
keys Escape q
wait_for "run it again with: make demo" 60
echo "screenshots: done, in $out"
