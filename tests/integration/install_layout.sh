#!/usr/bin/env bash
# make install / uninstall into a DESTDIR with the binary already built (make -o: the tree is never
# rebuilt from here): the expected files with the expected modes and nothing else; the installed
# man page renders without a warning and names every key of the console's key table (tui/keys.h,
# read here on its own) with its help and every command of `fleetcon --help`; the unit carries
# PREFIX's paths and the hardening, and passes `systemd-analyze verify`; uninstall leaves no file.
set -u
cd "$(dirname "$0")/../.."
: "${FLEETCON:?}" "${FLEETCON_BUILD:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
PY=/usr/bin/python3
command -v man >/dev/null && command -v groff >/dev/null ||
	{ echo "skip: man and groff are not installed (scripts/deps.sh installs man-db and groff-base)"; exit 77; }

# install_to ROOT PREFIX [TARGET]: make TARGET (install) with the suite's build, never rebuilding it.
install_to() {
	make -s --no-print-directory BUILD="$FLEETCON_BUILD" -o "$FLEETCON_BUILD/fleetcon" \
		DESTDIR="$1" PREFIX="$2" "${3:-install}" >"$T/make.log" 2>&1 ||
		{ cat "$T/make.log"; fail "make ${3:-install} DESTDIR=$1 PREFIX=$2"; }
}

root=$T/root
install_to "$root" /usr
docs="README.md install.md configuration.md console.md alerts.md exports.md report-format.md untrusted-input.md service.md"
{
	echo "755 usr/bin/fleetcon"
	echo "644 usr/share/man/man1/fleetcon.1"
	echo "644 usr/share/doc/fleetcon/fleetcon.conf.example"
	for d in $docs; do echo "644 usr/share/doc/fleetcon/$d"; done
	echo "644 usr/lib/systemd/system/fleetcon.service"
	echo "644 usr/lib/sysusers.d/fleetcon.conf"
} | sort >"$T/expected"
(cd "$root" && find . ! -type d -printf '%m %P\n' | sort) >"$T/got"
diff "$T/expected" "$T/got" >"$T/diff" || { cat "$T/diff"; fail "installed files or modes differ (< expected, > got)"; }
cmp -s "$FLEETCON" "$root/usr/bin/fleetcon" || fail "the installed binary is not the built one"
cmp -s fleetcon.conf.example "$root/usr/share/doc/fleetcon/fleetcon.conf.example" || fail "fleetcon.conf.example"

# The unit: PREFIX's paths, the state and configuration directories, the hardening.
unit=$root/usr/lib/systemd/system/fleetcon.service
for line in \
	"ExecStart=/usr/bin/fleetcon --config /etc/fleetcon/fleetcon.conf --db /var/lib/fleetcon/fleetcon.db run" \
	"ExecReload=/bin/kill -HUP \$MAINPID" "Restart=on-failure" "User=fleetcon" "StateDirectory=fleetcon" \
	"ConfigurationDirectory=fleetcon" "ProtectSystem=strict" "ProtectHome=yes" "NoNewPrivileges=yes" \
	"PrivateTmp=yes" "PrivateDevices=yes" "CapabilityBoundingSet=" "UMask=0077" \
	"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK" "SystemCallFilter=@system-service" \
	"Documentation=man:fleetcon(1) file:///usr/share/doc/fleetcon/install.md"; do
	grep -qxF "$line" "$unit" || fail "the unit lacks: $line"
done
! grep -q '@[A-Z]*@' "$unit" "$root/usr/share/man/man1/fleetcon.1" || fail "a placeholder was left"
grep -q '^u fleetcon ' "$root/usr/lib/sysusers.d/fleetcon.conf" || fail "sysusers.d does not make the user"

if command -v systemd-analyze >/dev/null; then
	# verify wants ExecStart's program to exist: the same unit, pointing at the installed copy.
	mkdir "$T/verify"
	sed "s|^ExecStart=/usr/bin/fleetcon|ExecStart=$root/usr/bin/fleetcon|" "$unit" >"$T/verify/fleetcon.service"
	MANPATH=$root/usr/share/man systemd-analyze verify "$T/verify/fleetcon.service" >"$T/verify.log" 2>&1 ||
		{ cat "$T/verify.log"; fail "systemd-analyze verify"; }
	[ ! -s "$T/verify.log" ] || { cat "$T/verify.log"; fail "systemd-analyze verify has remarks"; }
	exposure=$(systemd-analyze security --offline=yes "$T/verify/fleetcon.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for fleetcon.service: \([0-9.]*\).*/\1/p')
	echo "systemd-analyze verify: ok; security exposure ${exposure:-not rated} (0 best, 10 worst)"
	[ -z "$exposure" ] || "$PY" -c "import sys; sys.exit(float('$exposure') > 2.0)" ||
		fail "the unit's exposure level rose to $exposure"
	if command -v systemd-sysusers >/dev/null; then
		systemd-sysusers --root="$root" --dry-run 2>&1 | grep -q "Creating user 'fleetcon'" ||
			fail "systemd-sysusers would not create the user fleetcon from the installed file"
	fi
else
	echo "skipped: systemd-analyze verify (systemd-analyze is not installed)"
fi

# The installed page renders without a warning, with man as a user would run it.
page=$root/usr/share/man/man1/fleetcon.1
LC_ALL=C.UTF-8 MANWIDTH=100 man --warnings=all -l "$page" >"$T/page.txt" 2>"$T/man.err" || fail "man -l"
[ ! -s "$T/man.err" ] || { cat "$T/man.err"; fail "man -l warns"; }
groff -man -Tutf8 -ww -z "$page" 2>"$T/groff.err" || fail "groff"
[ ! -s "$T/groff.err" ] || { cat "$T/groff.err"; fail "groff warns"; }
"$FLEETCON" --help >"$T/help.txt" || fail "fleetcon --help"
# The commands' own usage, from those that print it without touching a database.
for c in discover devices show alerts export console; do
	"$FLEETCON" --db "$T/none.db" "$c" --help >>"$T/usage.txt" 2>&1
done
"$FLEETCON" --db "$T/none.db" range >>"$T/usage.txt" 2>&1
[ ! -e "$T/none.db" ] || fail "a --help opened the database"
"$PY" - "$T/page.txt" tui/keys.h "$T/help.txt" "$T/usage.txt" <<'PY' || fail "the man page and the program disagree"
import re, sys
page_path, keys_path, help_path, usage_path = sys.argv[1:]
# man renders \- as "-" on Debian; hyphens of other renderers are taken as "-" too.
page = open(page_path, encoding="utf-8").read().replace("\u2010", "-").replace("\u2212", "-")
flat = " ".join(page.split())
sections = re.split(r"^([A-Z][A-Z ]+)$", page, flags=re.M)
section = {sections[i]: sections[i + 1] for i in range(1, len(sections) - 1, 2)}
for s in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "CONSOLE", "KEYS", "FILES", "ENVIRONMENT",
          "EXIT STATUS", "SIGNALS", "SEE ALSO"):
    assert s in section, f"no {s} section"
keys_flat = " ".join(section["KEYS"].split())

# Every row of the key table: X(NAME, contexts, flags, k1, k2, k3, "label", "hint key", "hint", "help")
src = open(keys_path).read()
body = src[src.index("#define KEY_ACTIONS(X)"):src.index("enum key_action {")]
body = body.replace("\\\n", " ")
rows = re.findall(r'X\((\w+),[^"]*"((?:[^"\\]|\\.)*)",\s*"(?:[^"\\]|\\.)*",\s*"(?:[^"\\]|\\.)*",\s*"((?:[^"\\]|\\.)*)"\)', body)
assert len(rows) >= 30, f"read only {len(rows)} rows of tui/keys.h"
for name, label, text in rows:
    keys = ", ".join(k for k in label.split("  ") if k)
    assert keys in keys_flat, f"key {name} ({keys}) is not in the KEYS section"
    assert " ".join(text.split()) in keys_flat, f"the help of {name} is not in the KEYS section: {text}"

# Every command of --help has its subsection in COMMANDS; run and alerts too.
helptext = open(help_path).read()
cmds = re.findall(r"^  ([a-z]+) ", helptext.split("Commands:")[1].split("\n\n")[0], flags=re.M)
assert len(cmds) >= 10, cmds
headings = re.findall(r"^   ([a-z]+)", section["COMMANDS"], flags=re.M)
for c in set(cmds) | {"run", "alerts"}:
    assert c in headings, f"the command {c} has no subsection in COMMANDS"
# Every option that --help and the commands' usage name.
opts = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", helptext + open(usage_path).read())) | {"--log-level"}
assert len(opts) >= 20, sorted(opts)
for opt in sorted(opts):
    assert re.search(r"(?<![\w-])" + re.escape(opt) + r"(?![\w-])", flat), f"{opt} is not in the page"
print(f"man page: {len(rows)} keys, {len(set(cmds))} commands and {len(opts)} options found")
PY

# Another PREFIX: the unit and the page follow it (the files in the build are made again).
install_to "$T/opt" /opt/fleetcon
grep -qx "ExecStart=/opt/fleetcon/bin/fleetcon --config /etc/fleetcon/fleetcon.conf --db /var/lib/fleetcon/fleetcon.db run" \
	"$T/opt/opt/fleetcon/lib/systemd/system/fleetcon.service" || fail "the unit does not follow PREFIX"
grep -q '/opt/fleetcon/share/doc/fleetcon/fleetcon.conf.example' "$T/opt/opt/fleetcon/share/man/man1/fleetcon.1" ||
	fail "the man page does not follow PREFIX"

# uninstall removes exactly what install put there.
touch "$root/usr/bin/other-program"
install_to "$root" /usr uninstall
left=$(cd "$root" && find . ! -type d -printf '%P\n')
[ "$left" = "usr/bin/other-program" ] || fail "uninstall left (or took) files: $left"
[ ! -e "$root/usr/share/doc/fleetcon" ] || fail "uninstall left share/doc/fleetcon"
install_to "$T/opt" /opt/fleetcon uninstall
[ -z "$(cd "$T/opt" && find . ! -type d)" ] || fail "uninstall under /opt/fleetcon left files"
# The build's page and unit back to the default PREFIX, as a plain make leaves them.
make -s --no-print-directory BUILD="$FLEETCON_BUILD" -o "$FLEETCON_BUILD/fleetcon" man \
	"$FLEETCON_BUILD/fleetcon.service" >"$T/make.log" 2>&1 || { cat "$T/make.log"; fail "make man"; }
echo "ok: install layout and modes, man page renders with every key and command, unit verified, uninstall clean"
