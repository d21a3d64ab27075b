#!/usr/bin/env bash
# E-mail alerts when the mail server cannot take them: STARTTLS required but not offered, a
# password that would travel unencrypted, a login refused, the server down. Each gets a clear
# error and no message, and leaves the alerts unrecorded, so that they go, once each, when the
# problem is fixed.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/smtpd.sh
smtpd_require || exit 77

build=${FLEETCON_BUILD:-build}
driver=$build/tools/alert_driver
[ -x "$driver" ] || { echo "FAIL: $driver is not built (make BUILD=$build tools)"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fleetcon-mailfail.XXXXXX")
cleanup() {
	smtpd_stop_all
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}

smtpd_make_ca "$tmp/ca" || fail "cannot make the test CA"
from=fleetcon@example.com
to="ops@example.com"

# write_config FILE URL STARTTLS [USER PASSWORD]
write_config() {
	{
		printf '[site]\nname = Lab\n[smtp]\nurl = %s\nstarttls = %s\n' "$2" "$3"
		printf 'from = %s\nto = %s\n' "$from" "$to"
		[ $# -ge 5 ] && printf 'user = %s\npassword = %s\n' "$4" "$5"
	} >"$1"
	chmod 600 "$1"
}

run_driver() {
	local name=$1
	shift
	"$driver" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	local rc=$?
	echo "  $name: exit $rc: $(cat "$tmp/$name.out") $(cat "$tmp/$name.err")"
	return $rc
}

# expect_failure NAME PATTERN ARGS...: the run fails, says PATTERN, and reports nothing mailed.
expect_failure() {
	local name=$1 pattern=$2
	shift 2
	if run_driver "$name" "$@"; then
		fail "$name: the run succeeded"
	fi
	grep -q -- "$pattern" "$tmp/$name.err" || fail "$name: the error does not say '$pattern'"
	grep -q ' mails=0 ' "$tmp/$name.out" || fail "$name: something was reported mailed"
}

"$driver" --db "$tmp/a.db" --seed-fixture || fail "seeding"

echo "== STARTTLS required, the server does not offer it"
smtpd_start "$tmp/plain" || fail "smtpd did not start"
plain_port=$SMTPD_PORT
write_config "$tmp/need-tls.conf" "smtp://127.0.0.1:$plain_port" yes
expect_failure no-starttls "does not offer STARTTLS" --db "$tmp/a.db" --config "$tmp/need-tls.conf" \
	--ca-file "$tmp/ca/ca.pem"
[ "$(smtpd_count "$tmp/plain")" = 0 ] || fail "a message went without STARTTLS"

echo "== a password never travels unencrypted"
write_config "$tmp/plain-login.conf" "smtp://127.0.0.1:$plain_port" no fleetcon s3cret-pass
expect_failure plain-login "without encryption" --db "$tmp/a.db" --config "$tmp/plain-login.conf"
[ "$(smtpd_count "$tmp/plain")" = 0 ] || fail "a message went with a cleartext login"

echo "== login refused"
smtpd_start "$tmp/auth" --cert "$tmp/ca/server.pem" --key "$tmp/ca/server.key" --auth fleetcon:s3cret-pass ||
	fail "smtpd did not start"
write_config "$tmp/bad-pass.conf" "smtp://127.0.0.1:$SMTPD_PORT" yes fleetcon wrong-password
expect_failure bad-login "refused the login" --db "$tmp/a.db" --config "$tmp/bad-pass.conf" \
	--ca-file "$tmp/ca/ca.pem"
[ "$(smtpd_count "$tmp/auth")" = 0 ] || fail "a message went with a refused login"

echo "== the server is down"
smtpd_start "$tmp/down" || fail "smtpd did not start"
down_port=$SMTPD_PORT
smtpd_stop "$SMTPD_PID"
write_config "$tmp/down.conf" "smtp://127.0.0.1:$down_port" no
expect_failure down "cannot connect" --db "$tmp/a.db" --config "$tmp/down.conf"
grep -q ' deferred=5' "$tmp/down.out" || fail "the alerts were not left for the next run"

echo "== the server is back (plain SMTP, the admin's choice): every alert, once"
write_config "$tmp/back.conf" "smtp://127.0.0.1:$plain_port" no
run_driver back --db "$tmp/a.db" --config "$tmp/back.conf" || fail "the run after the outage failed"
grep -q 'mails=5 mailed=5 ' "$tmp/back.out" || fail "not all alerts went after the outage"
site="[fleetcon Lab]"
smtpd_check "$tmp/plain" false "$from" "$to" \
	"$site 10.20.0.1: critical: paper jam" "$site 10.20.0.2: critical: paper jam" \
	"$site device 4: not answering (5 polls)" "$site 10.20.0.1: black toner low (5 %)" \
	"$site 10.20.0.2: toner low (3 %)" || fail "messages after the outage"
run_driver after --db "$tmp/a.db" --config "$tmp/back.conf" || fail "the next run failed"
grep -q 'new=0 mails=0 ' "$tmp/after.out" || fail "the next run mailed again"
[ "$(smtpd_count "$tmp/plain")" = 5 ] || fail "expected exactly 5 messages"

echo "ok"
