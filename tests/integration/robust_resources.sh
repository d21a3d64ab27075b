#!/usr/bin/env bash
# Resource faults (issue 9, item 3) on the real binary, with snmpsim printers and the reference
# receiver: a full disk under the database (poll, upload, export) and under an export's output, a
# read-only database (file mode, run as nobody; and a read-only mount), a database locked by
# another process (sqlite3 holding BEGIN EXCLUSIVE), and too few file descriptors (ulimit -n).
# Each fault: a non-zero exit, a message that names the file and says what to do, the database
# unchanged (integrity_check, and its dump equal before and after), and when the fault goes away
# the same command succeeds and everything is there. Needs root for the mounts (skipped without).
set -u
cd "$(dirname "$0")/../.."
top=$PWD
: "${FLEETCON:?}"
. tests/lib/snmpsim.sh
snmpsim_require || exit 77
. tests/receiver/lib.sh
[ "$(id -u)" = 0 ] || { echo "skip: needs root to mount a small tmpfs and a read-only folder"; exit 77; }
uplink_init || exit $?
MNTS=()
holder=
cleanup() {
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	local m
	for m in "${MNTS[@]}"; do umount "$m" 2>/dev/null; done
	snmpsim_stop
	uplink_cleanup
}
trap cleanup EXIT
snmpsim_start_fleet tests/fixtures/printers brother_hl8360_levels.snmprec hp_clj_m479fdw.snmprec >/dev/null ||
	fail "snmpsim did not start"
receiver_start good || exit 1
printers=("${SNMPSIM_ADDRS[@]%:*}")
export HOME=$UP/home XDG_CONFIG_HOME=$UP/home/.config XDG_DATA_HOME=$UP/home/.local/share
mkdir -p "$HOME"

# The database lives on a 2 MiB tmpfs that a filler file can fill.
disk=$UP/disk
mkdir "$disk"
mount -t tmpfs -o size=2m,mode=0755 tmpfs "$disk" || fail "cannot mount a tmpfs"
MNTS+=("$disk")
db=$disk/fleetcon.db
conf=$UP/fleetcon.conf
uplink_write_config "$conf" "https://localhost:$RECEIVER_PORT/reports" "[poll]" "port = $SNMPSIM_PORT"
sed -i "s#^path = .*#path = $db#" "$conf"
F=("$FLEETCON" --config "$conf")
"${F[@]}" discover "${printers[0]}-${printers[1]}" >/dev/null 2>&1 || fail "discovery"
"${F[@]}" poll "${printers[@]}" >/dev/null 2>&1 || fail "first poll"

# dump DB: a checksum of the database's whole content (read by sqlite3, WAL included).
dump() { sqlite3 "${1:-$db}" .dump | sha256sum | cut -c1-16; }
# healthy DB: integrity_check says ok.
healthy() {
	local ic
	ic=$(sqlite3 "${1:-$db}" 'PRAGMA integrity_check')
	[ "$ic" = ok ] || fail "integrity_check: $ic"
}
# fault NAME PATTERN FILE CMD...: CMD fails (exit 1, never a crash), its message matches PATTERN
# (an extended regular expression) and names FILE. Output in $UP/NAME.err.
fault() {
	local name=$1 pattern=$2 file=$3
	shift 3
	"$@" >"$UP/$name.out" 2>"$UP/$name.err"
	local rc=$?
	echo "== $name: exit $rc: $(head -c 600 "$UP/$name.err")"
	[ $rc -eq 1 ] || fail "$name: exit $rc, expected 1"
	grep -Eq -- "$pattern" "$UP/$name.err" || fail "$name: the message does not say /$pattern/"
	grep -qF -- "$file" "$UP/$name.err" || fail "$name: the message does not name $file"
	if grep -Eq 'damaged|move it aside|restore it from a backup' "$UP/$name.err"; then
		fail "$name: a resource fault is called damage (the admin would throw a good database away)"
	fi
}
# works NAME CMD...: CMD succeeds.
works() {
	local name=$1
	shift
	"$@" >"$UP/$name.out" 2>"$UP/$name.err" || { cat "$UP/$name.err"; fail "$name failed after the fault went away"; }
}
last_poll() { sqlite3 "$db" 'SELECT max(read_at) FROM meters'; }

echo "### a full disk under the database"
sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
before=$(dump)
polled=$(last_poll)
dd if=/dev/zero of="$disk/filler" bs=4k 2>/dev/null
full='disk is full: free some space'
fault poll-full "$full" "$db" "${F[@]}" poll "${printers[@]}"
fault upload-full "$full" "$db" "${F[@]}" upload
fault export-full "$full" "$db" "${F[@]}" export --format html --output "$UP/report.html"
[ ! -e "$UP/report.html" ] || fail "export-full: a report was written"
rm "$disk/filler"
healthy
[ "$(dump)" = "$before" ] || fail "the full disk changed the database"
sleep 1 # meters keep whole seconds: the next read must be visibly newer
works poll-after-full "${F[@]}" poll "${printers[@]}"
[ "$(last_poll)" -gt "$polled" ] || fail "the poll after the full disk saved nothing new"
works upload-after-full "${F[@]}" upload
[ "$(outbox_count "$db")" = 0 ] || fail "the outbox is not empty after the full disk"
healthy

echo "### a full disk under an export (the database elsewhere is fine)"
out=$UP/out
mkdir "$out"
mount -t tmpfs -o size=64k tmpfs "$out" || fail "cannot mount the output tmpfs"
MNTS+=("$out")
dd if=/dev/zero of="$out/filler" bs=4k 2>/dev/null
fault export-out-full 'No space left on device' "$out/report.html" "${F[@]}" export --format html --output "$out/report.html"
[ "$(ls -A "$out")" = filler ] || fail "export-out-full left $(ls -A "$out")"
rm "$out/filler"
works export-out-after "${F[@]}" export --format html --output "$out/report.html"
[ "$(tail -c 8 "$out/report.html")" = "</html>" ] || fail "the export after the full disk is not whole"

echo "### a read-only database file (run as nobody: root ignores file modes)"
ro=$UP/ro
mkdir "$ro"
cp "$db" "$ro/fleetcon.db"
chown -R nobody:nogroup "$ro"
chmod 0755 "$UP" "$ro" # nobody must reach its folder, and the binary's
chmod 0400 "$ro/fleetcon.db"
before=$(dump "$ro/fleetcon.db")
as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$UP/nohome" XDG_CONFIG_HOME="$UP/nohome"
	"$FLEETCON" --db "$ro/fleetcon.db")
readonly_words='read-only: check the permissions'
fault poll-ro-file "$readonly_words" "$ro/fleetcon.db" "${as_nobody[@]}" poll "${printers[@]}"
fault include-ro-file "$readonly_words" "$ro/fleetcon.db" "${as_nobody[@]}" exclude "${printers[0]}"
chmod 0600 "$ro/fleetcon.db"
healthy "$ro/fleetcon.db"
[ "$(dump "$ro/fleetcon.db")" = "$before" ] || fail "the read-only file was changed"
works poll-ro-after "${as_nobody[@]}" poll "${printers[@]}"

echo "### a read-only mount"
rom=$UP/rom
mkdir "$rom"
cp "$db" "$rom/fleetcon.db"
before=$(dump "$rom/fleetcon.db")
mount --bind "$rom" "$rom" && MNTS+=("$rom") && mount -o remount,bind,ro "$rom" || fail "cannot make a read-only mount"
# SQLite cannot make the WAL's shared-memory file there: "cannot open" with the folder to check.
ro_mount_words="$readonly_words|folder exists and is writable"
fault poll-ro-mount "$ro_mount_words" "$rom/fleetcon.db" "$FLEETCON" --db "$rom/fleetcon.db" poll "${printers[@]}"
fault devices-ro-mount "$ro_mount_words" "$rom/fleetcon.db" "$FLEETCON" --db "$rom/fleetcon.db" devices
umount "$rom"
healthy "$rom/fleetcon.db"
[ "$(dump "$rom/fleetcon.db")" = "$before" ] || fail "the database on the read-only mount was changed"
works poll-rom-after "$FLEETCON" --db "$rom/fleetcon.db" poll "${printers[@]}"

echo "### a database locked by another process"
before=$(dump)
mkfifo "$UP/hold"
sqlite3 "$db" <"$UP/hold" >"$UP/holder.out" 2>&1 &
holder=$!
exec 7>"$UP/hold"
echo "BEGIN EXCLUSIVE; INSERT INTO settings VALUES ('lock-holder', 'x', 0); SELECT 'held';" >&7
for _ in $(seq 500); do grep -q held "$UP/holder.out" && break; sleep 0.02; done
grep -q held "$UP/holder.out" || fail "sqlite3 did not take the lock"
t0=$SECONDS
fault poll-locked 'Another program holds the database' "$db" "${F[@]}" poll "${printers[@]}"
took=$((SECONDS - t0))
[ $took -le 40 ] || fail "poll-locked: waited ${took}s for the lock (its busy timeout is 10 s)"
works devices-locked "${F[@]}" devices # readers are not blocked by a writer in WAL mode
echo "ROLLBACK;" >&7
exec 7>&-
wait "$holder"
holder=
healthy
[ "$(dump)" = "$before" ] || fail "the locked database was changed"
works poll-after-lock "${F[@]}" poll "${printers[@]}"

echo "### too few file descriptors"
before=$(dump)
# The smallest limits where each command gets far enough to meet the fault at different places.
for n in 4 5; do
	(ulimit -n $n && exec "${F[@]}" devices) >"$UP/fd.out" 2>"$UP/fd.err"
	rc=$?
	echo "== devices, ulimit -n $n: exit $rc: $(head -c 300 "$UP/fd.err")"
	[ $rc -eq 1 ] || fail "devices with $n descriptors: exit $rc"
	grep -q 'open files' "$UP/fd.err" || fail "devices with $n descriptors: no word on open files"
done
for n in 6 9 14; do
	(ulimit -n $n && exec "${F[@]}" poll "${printers[@]}") >"$UP/fd.out" 2>"$UP/fd.err"
	rc=$?
	echo "== poll, ulimit -n $n: exit $rc: $(head -c 300 "$UP/fd.err")"
	[ $rc -eq 1 ] || fail "poll with $n descriptors: exit $rc"
	grep -q 'open files' "$UP/fd.err" || fail "poll with $n descriptors: no word on open files"
done
healthy
[ "$(dump)" = "$before" ] || fail "running out of descriptors changed the database"
(ulimit -n 9 && exec "${F[@]}" upload) >"$UP/fd.out" 2>"$UP/fd.err"
rc=$?
echo "== upload, ulimit -n 9: exit $rc: $(grep -m1 'failed' "$UP/fd.err")"
[ $rc -eq 1 ] || fail "upload with 9 descriptors: exit $rc"
grep -q 'too many open files' "$UP/fd.err" || fail "upload with 9 descriptors: no word on open files"
[ "$(outbox_count "$db")" = 1 ] || fail "the report of the failed upload is not waiting in the outbox"
works upload-after-fd "${F[@]}" upload
[ "$(outbox_count "$db")" = 0 ] || fail "the outbox is not empty after the descriptors came back"
works poll-after-fd "${F[@]}" poll "${printers[@]}"
healthy
echo "ok: full disk, read-only file and mount, a lock held elsewhere, no descriptors: clear messages, nothing changed, recovery"
