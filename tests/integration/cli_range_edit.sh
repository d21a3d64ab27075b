#!/usr/bin/env bash
# `fleetcon range edit` on the real binary: only the options given change (port, profiles, target,
# enabled), the range keeps its id, creation time and last run, `range list` shows each change; the
# usage errors exit 2 with range add's messages and change nothing; then the same through a running
# `fleetcon run` (the service's log shows it ran the edit). Nothing is sent to the ranges' addresses.
set -u
cd "$(dirname "$0")/../.."
: "${FLEETCON:?}"
. tests/lib/service.sh
T=$(mktemp -d)
trap 'svc_kill; rm -rf "$T"' EXIT
export HOME=$T XDG_CONFIG_HOME=$T/.config XDG_DATA_HOME=$T/.local/share TZ=UTC
fail() { echo "FAIL: $*"; exit 1; }
PY=/usr/bin/python3

(umask 077 && printf '%s\n' "[database]" "path = $T/f.db" "[poll]" "interval = 7d" "[discovery]" "interval = 0" \
	"[profile office]" "version = 2c" "community = office" "[profile lab]" "version = 2c" "community = lab" >"$T/f.conf")
F=("$FLEETCON" --config "$T/f.conf")

# run ARGS...: the command's stdout in $out, stderr in $err, exit code in $rc
run() {
	out=$("${F[@]}" "$@" 2>"$T/err")
	rc=$?
	err=$(cat "$T/err")
}
# json ID KEY: one field of the range in `range list --json`
json() {
	"${F[@]}" range list --json | $PY -c 'import json,sys
r = [r for r in json.load(sys.stdin) if r["id"] == int(sys.argv[1])]
print(json.dumps(r[0][sys.argv[2]]) if r else "none")' "$1" "$2"
}
row() { "${F[@]}" range list 2>/dev/null | awk -v id="$1" '$1 == id'; }
# ok LINE ARGS...: range edit ARGS succeeds and prints LINE
ok() {
	local want=$1
	shift
	run range edit "$@"
	[ $rc = 0 ] || fail "range edit $*: exit $rc: $err"
	[ "$out" = "$want" ] || fail "range edit $*: printed \"$out\", expected \"$want\""
}
# refused RC TEXT ARGS...: range edit ARGS exits RC, says TEXT, and changes nothing
refused() {
	local want_rc=$1 text=$2 before
	shift 2
	before=$("${F[@]}" range list --json)
	run range edit "$@"
	[ "$rc" = "$want_rc" ] || fail "range edit $*: exit $rc, expected $want_rc ($err)"
	grep -qF -- "$text" <<<"$err" || fail "range edit $*: \"$err\" does not say \"$text\""
	[ -z "$out" ] || fail "range edit $*: printed \"$out\""
	[ "$("${F[@]}" range list --json)" = "$before" ] || fail "range edit $* changed the ranges"
}

"${F[@]}" --help | grep -q "range add|edit|list|remove" || fail "--help does not list range edit"
run range edit --help
[ $rc = 0 ] && grep -q "usage: fleetcon range edit ID" <<<"$out" || fail "range edit --help: $rc $out"

"${F[@]}" range add 10.20.0.0/24 >/dev/null || fail "range add"
"${F[@]}" range add 10.30.0.5 >/dev/null || fail "range add an address"
# a last run to keep: as a discovery run would have left it
$PY -c 'import sqlite3,sys; c = sqlite3.connect(sys.argv[1]); c.execute("UPDATE ranges SET last_run = 1700000000 WHERE id = 1"); c.commit()' \
	"$T/f.db" || fail "setting the last run"
created=$(json 1 created)
[ "$(json 1 last_run)" = 1700000000 ] || fail "the last run was not set"
kept() {
	[ "$(json 1 created)" = "$created" ] || fail "$1: the creation time changed"
	[ "$(json 1 last_run)" = 1700000000 ] || fail "$1: the last run changed"
	[ "$("${F[@]}" range list --json | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] ||
		fail "$1: the number of ranges changed"
}

echo "== each option changes its part only"
ok "range 1: 10.20.0.0/24 port 1161 every profile, enabled (254 addresses)" 1 --port 1161
row 1 | grep -q "^1 *10.20.0.0/24 *1161 *range *(all) *2023-11-14" || fail "list after --port: $(row 1)"
kept "--port"
ok "range 1: 10.20.0.0/24 port 1161 profiles office,lab, enabled (254 addresses)" 1 --profile office,lab
row 1 | grep -q "^1 *10.20.0.0/24 *1161 *range *office,lab " || fail "list after --profile: $(row 1)"
kept "--profile"
ok "range 1: 10.21.0.0/24 port 1161 profiles office,lab, enabled (254 addresses)" 10.20.0.0/24 --target 10.21.0.0/24
row 1 | grep -q "^1 *10.21.0.0/24 *1161 *range *office,lab " || fail "list after --target (by target): $(row 1)"
kept "--target"
ok "range 1: 10.21.0.0/24 port 1161 profiles office,lab, disabled (254 addresses)" 1 --disable
row 1 | grep -q "^1 *10.21.0.0/24 *1161 *range *office,lab .*(disabled: not swept by the schedule)" ||
	fail "list after --disable: $(row 1)"
[ "$(json 1 enabled)" = false ] || fail "--disable: enabled is $(json 1 enabled)"
kept "--disable"
ok "range 1: 10.21.0.0/24 port 1161 profiles office,lab, disabled (254 addresses)" 1 --port 1161
ok "range 1: 10.21.0.0/24 port 1161 profiles office,lab, enabled (254 addresses)" 1 --enable
row 1 | grep -q disabled && fail "list after --enable: $(row 1)"
kept "--enable"
ok "range 1: 10.21.0.0/24 port 161 every profile, enabled (254 addresses)" 1 --port "" --profile ""
row 1 | grep -q "^1 *10.21.0.0/24 *- *range *(all) " || fail "list after the defaults: $(row 1)"
# a larger target needs --force, as in range add; keeping it afterwards does not
ok "range 1: 10.0.0.0/12 port 161 every profile, enabled (1048574 addresses)" 1 --target 10.0.0.0/12 --force
ok "range 1: 10.0.0.0/12 port 162 every profile, enabled (1048574 addresses)" 1 --port 162
ok "range 1: 10.21.0.0/24 port 162 every profile, enabled (254 addresses)" 1 --target 10.21.0.0/24
kept "--force"
[ "$(json 2 target)" = '"10.30.0.5"' ] && [ "$(json 2 port)" = 0 ] && [ "$(json 2 enabled)" = true ] ||
	fail "range 2 changed: $(row 2)"

echo "== usage errors: exit 2, range add's messages, nothing changed"
refused 2 "nothing to change: give --target, --profile, --port, --enable or --disable" 1
refused 2 "nothing to change" 1 --force
refused 2 "--enable and --disable exclude each other" 1 --enable --disable
refused 2 "usage: fleetcon range edit" --port 5
refused 2 "usage: fleetcon range edit" 1 2 --port 5
refused 2 "usage: fleetcon range edit" 1 --frob
refused 2 "no range \"99\" (see 'fleetcon range list')" 99 --disable
refused 2 "no profile \"nosuch\"" 1 --profile office,nosuch
for bad in "300.1.1.1" "10.0.0.0/8" "1.2.3.4-1.2.3.1" "10.0.0.1:99999"; do
	add_err=$("${F[@]}" range add "$bad" 2>&1 >/dev/null)
	refused 2 "$add_err" 1 --target "$bad"
done
for bad in 0 70000 abc -1; do
	add_err=$("${F[@]}" range add --port "$bad" 10.99.0.1 2>&1 >/dev/null)
	refused 2 "$add_err" 1 --port "$bad"
done
# the store refuses a target that another range has: the operation fails (exit 1)
refused 1 "10.30.0.5 is already in the discovery list" 1 --target 10.30.0.5
kept "the refusals"

echo "== through a running service"
svc_start "$T/f.db" "$T/svc.log" --config "$T/f.conf" run || fail "no service"
svc_pid=$SVC_PID
ok "range 2: 10.30.0.5 port 2161 profiles lab, disabled (1 address)" 10.30.0.5 --port 2161 --profile lab --disable
grep -q "range-edit (job [0-9]*): range 2: 10.30.0.5 port 2161" "$T/svc.log" || fail "the service did not run the edit"
row 2 | grep -q "^2 *10.30.0.5 *2161 *address *lab .*(disabled" || fail "list after the service's edit: $(row 2)"
refused 2 "no range \"7\"" 7 --enable
refused 2 "--enable and --disable exclude each other" 2 --enable --disable
kept "the service's edit"
kill -TERM "$svc_pid"
wait "$svc_pid"
rc=$?
SVC_PID=
[ $rc = 0 ] || fail "the service exited $rc: $(tail -3 "$T/svc.log")"
echo "ok"
