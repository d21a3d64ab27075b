#!/usr/bin/env bash
# Secrets (issue 9, item 8): canary pass phrases in the configuration (SNMPv3 auth and priv, the
# server's password, the SMTP password) are used for real (an SNMPv3-only snmpsim, the reference
# receiver, aiosmtpd with STARTTLS and a login), and then looked for everywhere they must not be:
# the output of every command, the console's log, the database and its WAL (strings), the reports
# (the outbox and what the receiver stored), the exports, the e-mails, the argv and environment of
# fleetcon and its children while a command runs (ps, /proc), and a core dump of a running upload
# (gcore). Also looked for: the Basic credentials as they go on the wire (base64 of user:password).
# The core dump may hold what the process must keep in memory while it works; see
# docs/robustness.md for what is wiped or kept out of dumps and what is not.
set -u
cd "$(dirname "$0")/../.."
top=$PWD
: "${FLEETCON:?}"
. tests/lib/snmpsim.sh
snmpsim_require || exit 77
. tests/lib/smtpd.sh
smtpd_require || exit 77
. tests/receiver/lib.sh
AUTH=CanaryAuth-7Q2xW1
PRIV=CanaryPriv-9Z4kR3
SRV=CanarySrv-3M8wT5
SMTP=CanarySmtp-5K1vJ8
RECEIVER_PASSWORD=$SRV
uplink_init || exit $?
up_pid=
trap 'kill -9 $up_pid 2>/dev/null; snmpsim_stop; smtpd_stop_all; uplink_cleanup' EXIT
canaries=("$AUTH" "$PRIV" "$SRV" "$SMTP" "$(printf '%s:%s' "$RECEIVER_USER" "$SRV" | base64 -w0)")
# snmpsimd and the receiver hold the secrets on their own command lines: only fleetcon is checked.
snmpsim_start_v3 tests/fixtures/printers brother_hl8360_levels.snmprec konica_c300i_wastefull.snmprec \
	-- canary SHA256 "$AUTH" AES "$PRIV" >/dev/null || fail "snmpsim v3 did not start"
# snmpsim.sh exports the keys for its own use; fleetcon must not inherit them from this shell.
export -n SNMPSIM_V3_AUTH_KEY SNMPSIM_V3_PRIV_KEY
receiver_start good || exit 1
smtpd_make_ca "$UP/mailca" || fail "mail CA"
smtpd_start "$UP/smtp" --cert "$UP/mailca/server.pem" --key "$UP/mailca/server.key" --auth "fleetcon:$SMTP" ||
	fail "smtpd did not start"
export HOME=$UP/home XDG_CONFIG_HOME=$UP/home/.config XDG_DATA_HOME=$UP/home/.local/share
mkdir -p "$HOME"
conf=$UP/fleetcon.conf
uplink_write_config "$conf" "https://localhost:$RECEIVER_PORT/reports" \
	"[poll]" "port = ${SNMPSIM_V3_ADDR##*:}" \
	"[profile lab]" "version = 3" "user = canary" "auth = SHA-256" "auth_password = $AUTH" "priv = AES" \
	"priv_password = $PRIV" \
	"[smtp]" "url = smtp://127.0.0.1:$SMTPD_PORT" "starttls = yes" "user = fleetcon" "password = $SMTP" \
	"ca_file = $UP/mailca/ca.pem" "from = fleetcon@example.com" "to = ops@example.com"
F=("$FLEETCON" --config "$conf")
v3=("${SNMPSIM_V3_ADDRS[@]%:*}")
mkdir "$UP/logs" "$UP/out"

# run NAME ARGS...: one command, its output kept for the search.
run() {
	local name=$1
	shift
	"${F[@]}" "$@" >"$UP/logs/$name.out" 2>"$UP/logs/$name.err"
	echo "  $name: exit $?"
}
run discover discover "${v3[0]}-${v3[1]}" --profile lab
grep -q "2 printers" "$UP/logs/discover.out" || { cat "$UP/logs/discover."*; fail "SNMPv3 discovery with the canary pass phrases found nothing"; }
run poll poll "${v3[@]}"
run poll-again poll "${v3[@]}"
run show show "${v3[0]}" --json
run show-raw show "${v3[0]}" --raw
run devices devices --json
run preview report --preview --json
run upload upload
run status status --json
run config config check
run export-html export --format html --output "$UP/out/report.html"
run export-csv export --format csv --output "$UP/out/csv"
run siteinfo siteinfo --json
[ "$(receiver_stat stored)" -ge 1 ] || fail "no report reached the receiver"
[ "$(smtpd_count "$UP/smtp")" -ge 1 ] || { cat "$UP/logs/poll.err"; fail "no alert e-mail went out (the SMTP password was not used)"; }

# The console, briefly, with its stderr and log kept.
if command -v tmux >/dev/null 2>&1; then
	. tests/lib/console.sh
	if con_require >/dev/null; then
		con_start 100 30 "TERM=xterm-256color LANG=C.UTF-8" --config "$conf"
		con_wait "devices" && con_keys 7 && con_wait "Log" && con_keys 4 && con_wait "Sync"
		con_quit || true
		cp "$CON_DIR"/stderr.* "$UP/logs/" 2>/dev/null
		con_cleanup
	fi
fi

# While a command runs: its argv and environment, and those of its children, if any.
receiver_control hang --count 1 --seconds 60
"${F[@]}" upload >"$UP/logs/hung.out" 2>"$UP/logs/hung.err" &
up_pid=$!
for _ in $(seq 1500); do
	grep -q '"fault": "hang"' "$RECEIVER_DIR/requests.jsonl" 2>/dev/null && break
	sleep 0.02
done
grep -q '"fault": "hang"' "$RECEIVER_DIR/requests.jsonl" || fail "the upload never reached the hanging receiver"
{
	ps -o pid,args --ppid "$up_pid" -p "$up_pid" ww
	for p in $up_pid $(pgrep -P "$up_pid"); do
		tr '\0' '\n' <"/proc/$p/environ"
		tr '\0' ' ' <"/proc/$p/cmdline"
	done
} >"$UP/logs/ps.txt"
grep -q "fleetcon" "$UP/logs/ps.txt" || fail "ps did not see the running upload"

# A core dump of that running upload (gcore keeps the process running; it is killed after).
core_state="no gdb"
# (Not under the sanitizers: their shadow memory makes a core of terabytes.)
if [ "${FLEETCON_VARIANT:-plain}" != plain ]; then
	core_state="skipped under ${FLEETCON_VARIANT}"
elif command -v gcore >/dev/null 2>&1; then
	if gcore -o "$UP/core" "$up_pid" >/dev/null 2>&1; then
		core_state="taken"
	else
		core_state="gcore failed"
	fi
fi
kill -9 "$up_pid"
wait "$up_pid" 2>/dev/null
up_pid=

# The search: everywhere but the core must be clean.
found=0
search() {
	local what=$1
	shift
	local c hits
	for c in "${canaries[@]}"; do
		hits=$(for f in "$@"; do [ -e "$f" ] && { strings -a "$f" 2>/dev/null; cat "$f" 2>/dev/null; } ; done | grep -c -F -- "$c")
		if [ "$hits" -gt 0 ]; then
			echo "  LEAK: ${c:0:12}... in $what ($hits)"
			found=$((found + 1))
		fi
	done
}
search "command output" "$UP"/logs/*.out "$UP"/logs/*.err "$UP"/logs/stderr.*
search "argv and environment of the running command" "$UP/logs/ps.txt"
db=$UP/fleetcon.db
search "the database (with -wal)" "$db" "$db-wal" "$db-shm"
sqlite3 "$db" "SELECT body FROM outbox" >"$UP/outbox.gz" 2>/dev/null
search "the outbox" "$UP/outbox.gz"
search "what the receiver stored" $(find "$RECEIVER_DIR" -type f)
search "exports" "$UP/out/report.html" "$UP"/out/csv/*
search "e-mails" $(find "$UP/smtp/mail" -type f)
[ $found -eq 0 ] || fail "$found canaries found outside memory"
echo "  no canary in logs, database, reports, exports, e-mails, argv or environment"

# The core: report what is there, and hold what fleetcon promises (docs/robustness.md).
if [ "$core_state" = taken ]; then
	core=$(ls "$UP"/core.* | head -1)
	for c in "${canaries[@]}"; do
		n=$(strings -a "$core" | grep -c -F -- "$c")
		echo "  core dump: ${c:0:12}... $n times"
		printf '%s %s\n' "$c" "$n" >>"$UP/core.counts"
	done
	rm -f "$core"
	# The configuration lives in memory kept out of core dumps (MADV_DONTDUMP): the SNMP pass
	# phrases and the SMTP password must not be in the dump. The server's password is, while an
	# upload runs: libcurl and OpenSSL keep their own copies (and the Basic header) in their heap.
	for c in "$AUTH" "$PRIV" "$SMTP"; do
		[ "$(grep -F -- "$c" "$UP/core.counts" | cut -d' ' -f2)" = 0 ] || fail "core dump: ${c:0:12}... is in it"
	done
else
	echo "  core dump: $core_state (not checked)"
fi
echo "ok: secrets stay out of logs, database, reports, exports, e-mails, ps and (see above) core dumps"
