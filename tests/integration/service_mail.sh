#!/usr/bin/env bash
# E-mail alerts from the agent itself: snmpsim serves a printer with a low and an empty toner,
# `fleetcon poll` (the agent's poll handler) mails them to a real SMTP server (aiosmtpd over
# STARTTLS with a test CA) once, and a second poll mails nothing more. Also `discover --community`
# (a v2c community given on the spot, exclusive with --profile).
set -u
cd "$(dirname "$0")/../.."
: "${FLEETCON:?}"
. tests/lib/snmpsim.sh
. tests/lib/smtpd.sh
snmpsim_require || exit 77
smtpd_require || exit 77
T=$(mktemp -d "${TMPDIR:-/tmp}/fleetcon-svcmail.XXXXXX")
cleanup() {
	smtpd_stop_all
	snmpsim_stop || true
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
export HOME=$T XDG_CONFIG_HOME=$T/.config XDG_DATA_HOME=$T/.local/share

snmpsim_start_fleet tests/fixtures/printers xerox_altalink_c8045.snmprec >/dev/null || fail "snmpsim did not start"
smtpd_make_ca "$T/ca" || fail "cannot make the test CA"
smtpd_start "$T/smtp" --cert "$T/ca/server.pem" --key "$T/ca/server.key" || fail "smtpd did not start"
(umask 077 && cat >"$T/fleetcon.conf" <<CONF
[site]
name = mail lab
[database]
path = $T/f.db
[profile lab]
version = 2c
community = lab-community
[smtp]
url = smtp://127.0.0.1:$SMTPD_PORT
starttls = yes
ca_file = $T/ca/ca.pem
from = fleetcon@example.com
to = ops@example.com
CONF
)
F=("$FLEETCON" --config "$T/fleetcon.conf")
addr=${SNMPSIM_ADDRS[0]}

echo "== discover --community"
out=$("${F[@]}" discover "$addr" --community public --profile lab 2>&1) && fail "--community with --profile: $out"
echo "$out" | grep -q "exclude each other" || fail "the refusal does not say why: $out"
out=$("${F[@]}" discover "$addr" 2>&1)
echo "$out" | grep -q "0 printers" || fail "the configured profile (lab-community) should find nothing: $out"
out=$("${F[@]}" discover "$addr" --community public 2>&1) || fail "discover --community: $out"
echo "$out" | grep -q "1 printers" || fail "--community public should find the printer: $out"
[ "$(smtpd_count "$T/smtp")" = 0 ] || fail "a discovery mailed"

# Later polls use the configured profiles: give the printer's community a profile of its own.
printf '[profile public]\nversion = 2c\ncommunity = public\n' >>"$T/fleetcon.conf"
"${F[@]}" include 1 >/dev/null || fail "include"
sqlite3 "$T/f.db" "update devices set profile = 'public'" || fail "setting the profile"

echo "== a poll mails the low and the empty toner, once"
out=$("${F[@]}" poll 2>&1) || fail "poll: $out"
n=$(smtpd_count "$T/smtp")
[ "$n" -ge 1 ] || fail "the poll sent no e-mail: $out"
smtpd_subjects "$T/smtp" >"$T/subjects"
grep -qi "toner.*\(low\|empty\)" "$T/subjects" || fail "no supply alert among: $(cat "$T/subjects")"
smtpd_check "$T/smtp" true fleetcon@example.com ops@example.com || fail "the messages"
out=$("${F[@]}" poll 2>&1) || fail "second poll: $out"
[ "$(smtpd_count "$T/smtp")" = "$n" ] || fail "the second poll mailed again ($(smtpd_count "$T/smtp") messages, was $n)"
echo "ok ($n messages: $(tr '\n' ';' <"$T/subjects"))"
