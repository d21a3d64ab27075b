#!/usr/bin/env bash
# Installs the Debian packages that building, testing and the demo need: only those missing, and
# silently when nothing is. As root it uses apt-get directly; otherwise sudo when it is there;
# otherwise it prints the exact command to run and exits 1.
#
#   scripts/deps.sh            everything `make check` and `make demo` need
#   scripts/deps.sh --list     print the package names and exit
#   scripts/deps.sh --extra screenshots   also what `make screenshots` needs
set -eu

build_pkgs="gcc make pkg-config libncurses-dev libsqlite3-dev libcurl4-openssl-dev libssl-dev
libjansson-dev zlib1g-dev libinih-dev libsnmp-dev libcmocka-dev"
# Real peers and tools the tests and the demo run: SNMP simulator and agent, TLS and SMTP servers
# (Python's standard library and aiosmtpd), a terminal multiplexer for the console tests, man and
# groff to render the man page, systemd-analyze to verify the unit.
test_pkgs="snmp snmpd snmpsim python3 python3-aiosmtpd openssl tmux sqlite3 iproute2 procps
ncurses-term valgrind clang libclang-rt-14-dev man-db groff-base systemd"
screenshot_pkgs="aha chromium"

pkgs="$build_pkgs $test_pkgs"
case "${1:-}" in
--list) echo $pkgs; exit 0 ;;
--extra)
	case "${2:-}" in
	screenshots) pkgs="$pkgs $screenshot_pkgs" ;;
	*) echo "deps.sh: unknown extra '${2:-}' (known: screenshots)" >&2; exit 2 ;;
	esac ;;
"") ;;
*) echo "usage: scripts/deps.sh [--list | --extra screenshots]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "fleetcon needs these Debian packages:$missing" >&2
	echo "Install them as root with:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi

echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A package apt does not know yet means the package lists are missing or old: update once.
# shellcheck disable=SC2086
if ! $sudo apt-get install -y -q --no-install-recommends $missing >/tmp/fleetcon-deps.$$.log 2>&1; then
	$sudo apt-get update -q >>/tmp/fleetcon-deps.$$.log 2>&1 || true
	if ! $sudo apt-get install -y -q --no-install-recommends $missing >>/tmp/fleetcon-deps.$$.log 2>&1; then
		tail -n 30 /tmp/fleetcon-deps.$$.log >&2
		echo "deps.sh: apt-get could not install:$missing (log: /tmp/fleetcon-deps.$$.log)" >&2
		exit 1
	fi
fi
rm -f /tmp/fleetcon-deps.$$.log
