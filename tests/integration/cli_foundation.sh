#!/usr/bin/env bash
# The Foundation's promises on the real binary: --version and --help, `config check` naming the
# line of an error (exit 2), a secret-holding file readable by others refused with the chmod that
# fixes it, and a database made by fleetcon in WAL mode with a schema version.
set -eu
: "${FLEETCON:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_DATA_HOME=$T/home/.local/share
mkdir -p "$HOME"
fail() { echo "FAIL: $*"; exit 1; }

"$FLEETCON" --version | grep -Eq '^fleetcon [0-9]+\.[0-9]+\.[0-9]+ ' || fail "--version"
"$FLEETCON" --help | grep -q 'config check' || fail "--help lists config check"
"$FLEETCON" --help | grep -q 'Exit codes' || fail "--help states the exit codes"

# An error on line 3.
printf '[site]\nname = Head office\ntypo_key = 1\n' >"$T/bad.conf"
set +e
msg=$("$FLEETCON" --config "$T/bad.conf" config check 2>&1)
rc=$?
set -e
[ $rc -eq 2 ] || fail "bad config: exit $rc, expected 2"
echo "$msg" | grep -q "bad.conf:3:" || fail "bad config: line 3 not named: $msg"
echo "$msg" | grep -q "typo_key" || fail "bad config: key not named: $msg"

# A secret in a file others can read.
printf '[server]\nurl = https://collector.example\nuser = agent\npassword = canary-Secret-42\n' >"$T/secret.conf"
chmod 0644 "$T/secret.conf"
set +e
msg=$("$FLEETCON" --config "$T/secret.conf" config check 2>&1)
rc=$?
set -e
[ $rc -eq 2 ] || fail "0644 secret: exit $rc, expected 2"
echo "$msg" | grep -q "chmod 600 $T/secret.conf" || fail "0644 secret: no chmod hint: $msg"
chmod 0600 "$T/secret.conf"
out=$("$FLEETCON" --config "$T/secret.conf" config check 2>&1) || fail "0600 secret refused: $out"
echo "$out" | grep -q 'canary-Secret-42' && fail "config check printed the secret"
echo "$out" | grep -q '\*\*\*\*\*\*\*\*' || fail "config check does not show the secret masked"

# Unknown command and no arguments without a terminal: usage errors.
set +e
"$FLEETCON" frobnicate >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || fail "unknown command: exit $rc"
"$FLEETCON" </dev/null >/dev/null 2>"$T/noargs"; rc=$?
set -e
[ $rc -eq 2 ] || fail "no arguments: exit $rc"
grep -q 'use a command' "$T/noargs" || fail "no arguments: no hint"

# A database made by fleetcon, at the default place.
"$FLEETCON" range list >/dev/null 2>&1 || fail "range list on a new database"
db=$XDG_DATA_HOME/fleetcon/fleetcon.db
[ -f "$db" ] || fail "no database at $db"
[ "$(sqlite3 "$db" 'PRAGMA journal_mode')" = wal ] || fail "journal_mode is not wal"
[ "$(sqlite3 "$db" 'PRAGMA user_version')" -gt 0 ] || fail "user_version is 0"
[ "$(stat -c %a "$db")" = 600 ] || fail "database mode is $(stat -c %a "$db")"

# A damaged database is refused with its name, and left alone.
printf 'not a database at all, just text' >"$T/broken.db"
sum=$(sha256sum <"$T/broken.db")
set +e
msg=$("$FLEETCON" --db "$T/broken.db" devices 2>&1); rc=$?
set -e
[ $rc -ne 0 ] || fail "damaged database accepted"
echo "$msg" | grep -q "$T/broken.db" || fail "damaged database not named: $msg"
[ "$(sha256sum <"$T/broken.db")" = "$sum" ] || fail "damaged database was written to"
echo "cli foundation: ok"
