#!/usr/bin/env bash
# `fleetcon export` writes whole files or nothing: an existing report or folder is kept without
# --force and replaced with it; a missing folder and a full disk are clear errors that leave no
# file behind; a crash (kill -9) mid-export leaves no report under the final name; usage errors
# exit 2, failures 1.
set -eu
: "${FLEETCON:?}" "${FLEETCON_BUILD:?}"
T=$(mktemp -d)
MNT=""
cleanup() {
	[ -n "$MNT" ] && umount "$MNT" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_DATA_HOME=$T/home/.local/share
mkdir -p "$HOME"
fail() { echo "FAIL: $*"; exit 1; }
SEED=$FLEETCON_BUILD/tools/seed_store
[ -x "$SEED" ] || fail "no $SEED (make tools)"
if "$FLEETCON" --help 2>/dev/null | grep -q '^  export '; then
	FC=$FLEETCON
else
	FC=$FLEETCON_BUILD/tools/export_cli
	echo "note: fleetcon has no export command yet; using $FC"
fi
db=$T/fleetcon.db
"$SEED" --db "$db" --devices 40 --days 30 --seed 9 >/dev/null
fc() { "$FC" --db "$db" export "$@"; }
# expect CODE WHAT ARGS...: runs the export, checks its exit code, keeps its messages in $T/msg.
expect() {
	local want=$1 what=$2
	shift 2
	set +e
	fc "$@" >"$T/out" 2>"$T/msg"
	local rc=$?
	set -e
	[ $rc -eq "$want" ] || fail "$what: exit $rc, expected $want: $(cat "$T/msg")"
}
# Only the given names in a folder, hidden temporary files included.
only() {
	local dir=$1
	shift
	local got want
	got=$(cd "$dir" && ls -A | sort | tr '\n' ' ')
	want=""
	[ $# -gt 0 ] && want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "$dir holds '$got', expected '$want'"
}

# Usage errors: exit 2, nothing written.
mkdir "$T/out1"
expect 2 "unknown format" --format pdf --output "$T/out1/r.pdf"
grep -q 'unknown format' "$T/msg" || fail "unknown format: $(cat "$T/msg")"
expect 2 "bad date" --format html --output "$T/out1/r.html" --since 2026-13-45
grep -q 'YYYY-MM-DD' "$T/msg" || fail "bad date: $(cat "$T/msg")"
expect 2 "bad --devices" --format html --output "$T/out1/r.html" --devices some
expect 2 "--table with html" --format html --output "$T/out1/r.html" --table devices
expect 2 "unknown table" --format csv --output - --table printers
expect 2 "no --output" --format csv
expect 2 "unknown option" --format csv --output - --colour
only "$T/out1"
expect 0 "--help" --help
grep -q 'usage: fleetcon export --format html|csv --output PATH' "$T/out" || fail "--help: $(cat "$T/out")"

# An existing report is kept without --force, replaced with it.
echo "an older report" >"$T/out1/report.html"
expect 2 "existing file" --format html --output "$T/out1/report.html"
grep -q 'exists; use --force' "$T/msg" || fail "existing file: $(cat "$T/msg")"
[ "$(cat "$T/out1/report.html")" = "an older report" ] || fail "existing file was changed"
expect 0 "--force" --format html --output "$T/out1/report.html" --force
grep -q '</html>' "$T/out1/report.html" || fail "--force did not write the report"
only "$T/out1" report.html

# The same for a CSV folder; a folder holding other files is never replaced.
expect 0 "csv folder" --format csv --output "$T/out1/csv"
only "$T/out1/csv" alerts.csv devices.csv meters.csv supplies.csv syncs.csv
expect 2 "existing folder" --format csv --output "$T/out1/csv"
expect 0 "csv --force" --format csv --output "$T/out1/csv" --force
only "$T/out1" report.html csv
echo mine >"$T/out1/csv/notes.txt"
expect 1 "folder with other files" --format csv --output "$T/out1/csv" --force
grep -q 'other files' "$T/msg" || fail "folder with other files: $(cat "$T/msg")"
[ -f "$T/out1/csv/notes.txt" ] || fail "notes.txt was removed"
expect 0 "one table to a file" --format csv --table supplies --output "$T/out1/supplies.csv"
head -1 "$T/out1/supplies.csv" | grep -q '^device_id,serial,index,' || fail "--table supplies file"

# The report to standard output.
expect 0 "html to stdout" --format html --output -
tail -1 "$T/out" | grep -q '^</html>$' || fail "html to stdout"

# A missing folder: exit 1, a clear message, nothing made.
expect 1 "missing folder" --format html --output "$T/nope/report.html"
grep -q 'does not exist' "$T/msg" || fail "missing folder: $(cat "$T/msg")"
expect 1 "missing folder (csv)" --format csv --output "$T/nope/csv"
[ ! -e "$T/nope" ] || fail "the missing folder was made"

# A missing database is an error, not a new empty report.
set +e
"$FC" --db "$T/none.db" export --format html --output "$T/out1/none.html" >/dev/null 2>"$T/msg"
rc=$?
set -e
[ $rc -eq 1 ] || fail "missing database: exit $rc: $(cat "$T/msg")"
[ ! -e "$T/none.db" ] || fail "a missing database was created"

# A full disk: a 64 KiB tmpfs (needs mount rights; skipped without them).
mkdir "$T/full"
if mount -t tmpfs -o size=64k tmpfs "$T/full" 2>"$T/mount.err"; then
	MNT=$T/full
	expect 1 "full disk (html)" --format html --output "$T/full/report.html"
	grep -q 'No space left on device' "$T/msg" || fail "full disk: $(cat "$T/msg")"
	only "$T/full"
	expect 1 "full disk (csv)" --format csv --output "$T/full/csv"
	grep -q 'No space left on device' "$T/msg" || fail "full disk (csv): $(cat "$T/msg")"
	only "$T/full"
	# A report that fits is written; the next one, that does not, leaves it alone.
	expect 0 "small file on the tmpfs" --format csv --table syncs --output "$T/full/syncs.csv"
	cp "$T/full/syncs.csv" "$T/syncs.before"
	expect 1 "full disk (--force)" --format html --output "$T/full/syncs.csv" --force
	cmp -s "$T/full/syncs.csv" "$T/syncs.before" || fail "a failed --force export changed the old file"
	only "$T/full" syncs.csv
	umount "$T/full"
	MNT=""
else
	echo "skipped: full disk case (cannot mount a tmpfs: $(head -1 "$T/mount.err"))"
fi

# A crash mid-export (kill -9) never leaves a report under the final name.
big=$T/big.db
"$SEED" --db "$big" --devices 3000 --days 3 --seed 2 >/dev/null
mkdir "$T/crash"
"$FC" --db "$big" export --format html --output "$T/crash/report.html" --devices all 2>/dev/null &
pid=$!
seen=""
for _ in $(seq 1 2000); do
	if compgen -G "$T/crash/.report.html.*" >/dev/null; then
		seen=yes
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.005
done
if [ -n "$seen" ] && kill -9 "$pid" 2>/dev/null; then
	wait "$pid" 2>/dev/null || true
	[ ! -e "$T/crash/report.html" ] || fail "a killed export left report.html"
	echo "ok: killed mid-export, no report.html (leftover: $(cd "$T/crash" && ls -A))"
else
	wait "$pid" || true
	echo "skipped: crash case (the export finished before it could be killed)"
fi
echo "ok: exports are whole or absent"
