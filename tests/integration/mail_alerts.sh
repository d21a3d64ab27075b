#!/usr/bin/env bash
# E-mail alerts through a real SMTP server (Debian's aiosmtpd, tests/lib/smtpd.py) on loopback
# with a test CA made by openssl: the right messages arrive once each over STARTTLS with login and
# over smtps://, a second run sends nothing, headers stay clean although device strings carry
# CR/LF and "Bcc:" lines, an untrusted certificate gets nothing sent (and the alerts go once it
# is trusted), and a seeded fleet with hostile strings is mailed within the hourly limit.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/smtpd.sh
smtpd_require || exit 77

build=${FLEETCON_BUILD:-build}
driver=$build/tools/alert_driver
seed_store=$build/tools/seed_store
[ -x "$driver" ] || { echo "FAIL: $driver is not built (make BUILD=$build tools)"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fleetcon-mail.XXXXXX")
cleanup() {
	smtpd_stop_all
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}

smtpd_make_ca "$tmp/ca" || fail "cannot make the test CA"
cert=(--cert "$tmp/ca/server.pem" --key "$tmp/ca/server.key")
from=fleetcon@example.com
to="ops@example.com,boss@example.com"

# write_config FILE URL STARTTLS [USER PASSWORD]
write_config() {
	{
		printf '[site]\nname = Zürich lab\n[smtp]\nurl = %s\nstarttls = %s\n' "$2" "$3"
		printf 'from = %s\nto = ops@example.com, boss@example.com\n' "$from"
		[ $# -ge 5 ] && printf 'user = %s\npassword = %s\n' "$4" "$5"
	} >"$1"
	chmod 600 "$1"
}

# Every fixture condition, once (tests/tools/alert_driver.c lists the fleet).
site="[fleetcon Zürich lab]"
expected=(
	"$site 10.20.0.1: critical: paper jam"
	"$site 10.20.0.2: critical: paper jam"
	"$site device 4: not answering (5 polls)"
	"$site 10.20.0.1: black toner low (5 %)"
	"$site 10.20.0.2: toner low (3 %)"
)

# run_driver NAME ARGS...: runs the driver, keeps its output in $tmp/NAME.{out,err}, returns its status.
run_driver() {
	local name=$1
	shift
	"$driver" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	local rc=$?
	echo "  $name: exit $rc: $(cat "$tmp/$name.out") $(cat "$tmp/$name.err")"
	return $rc
}

echo "== STARTTLS with login"
smtpd_start "$tmp/starttls" "${cert[@]}" --auth fleetcon:s3cret-pass || fail "smtpd did not start"
write_config "$tmp/starttls.conf" "smtp://127.0.0.1:$SMTPD_PORT" yes fleetcon s3cret-pass
"$driver" --db "$tmp/a.db" --seed-fixture || fail "seeding"
run_driver first --db "$tmp/a.db" --config "$tmp/starttls.conf" --ca-file "$tmp/ca/ca.pem" || fail "first run"
grep -q 'mails=5 mailed=5 ' "$tmp/first.out" || fail "the first run did not report 5 e-mails"
[ "$(smtpd_count "$tmp/starttls")" = 5 ] || fail "expected 5 messages, got $(smtpd_count "$tmp/starttls")"
smtpd_check "$tmp/starttls" true "$from" "$to" "${expected[@]}" || fail "messages over STARTTLS"
grep -q '"login": "fleetcon"' "$tmp/starttls/mail/0001.json" || fail "not logged in"

for i in 2 3; do
	run_driver "again$i" --db "$tmp/a.db" --config "$tmp/starttls.conf" --ca-file "$tmp/ca/ca.pem" ||
		fail "run $i"
	grep -q 'new=0 mails=0 ' "$tmp/again$i.out" || fail "run $i sent something"
done
[ "$(smtpd_count "$tmp/starttls")" = 5 ] || fail "a later run mailed again"

echo "== untrusted certificate: nothing sent, and sent once trusted"
"$driver" --db "$tmp/b.db" --seed-fixture || fail "seeding"
if run_driver untrusted --db "$tmp/b.db" --config "$tmp/starttls.conf"; then
	fail "a certificate from an unknown CA was accepted"
fi
grep -q 'certificate' "$tmp/untrusted.err" || fail "the error does not name the certificate"
[ "$(smtpd_count "$tmp/starttls")" = 5 ] || fail "something was sent over an untrusted connection"
run_driver trusted --db "$tmp/b.db" --config "$tmp/starttls.conf" --ca-file "$tmp/ca/ca.pem" || fail "trusted run"
grep -q 'mails=5 ' "$tmp/trusted.out" || fail "the alerts were not sent once the CA was trusted"
[ "$(smtpd_count "$tmp/starttls")" = 10 ] || fail "expected 10 messages in all"

echo "== smtps:// (TLS from the first byte)"
smtpd_start "$tmp/smtps" "${cert[@]}" --implicit-tls --auth fleetcon:s3cret-pass || fail "smtpd did not start"
write_config "$tmp/smtps.conf" "smtps://127.0.0.1:$SMTPD_PORT" yes fleetcon s3cret-pass
"$driver" --db "$tmp/c.db" --seed-fixture || fail "seeding"
run_driver smtps --db "$tmp/c.db" --config "$tmp/smtps.conf" --ca-file "$tmp/ca/ca.pem" || fail "smtps run"
smtpd_check "$tmp/smtps" true "$from" "$to" "${expected[@]}" || fail "messages over smtps"

echo "== a seeded fleet with hostile strings, under the hourly limit"
if [ -x "$seed_store" ]; then
	"$seed_store" --db "$tmp/fleet.db" --devices 200 --days 3 --hostile >/dev/null || fail "seed_store"
	run_driver fleet --db "$tmp/fleet.db" --config "$tmp/starttls.conf" --ca-file "$tmp/ca/ca.pem" \
		--max-per-hour 6 || fail "fleet run"
	mails=$(sed -n 's/.* mails=\([0-9]*\) .*/\1/p' "$tmp/fleet.out")
	new=$(sed -n 's/.* new=\([0-9]*\) .*/\1/p' "$tmp/fleet.out")
	mailed=$(sed -n 's/.* mailed=\([0-9]*\) .*/\1/p' "$tmp/fleet.out")
	[ "$new" -gt 6 ] || fail "the seeded fleet should have more than 6 conditions (has $new)"
	[ "$mails" = 6 ] && [ "$mailed" = "$new" ] || fail "expected 6 e-mails carrying all $new conditions"
	[ "$(smtpd_count "$tmp/starttls")" = 16 ] || fail "expected 16 messages in all"
	smtpd_check "$tmp/starttls" true "$from" "$to" || fail "fleet messages"
	smtpd_subjects "$tmp/starttls" >"$tmp/subjects"
	grep -qxF "$site $((new - 5)) new alerts (digest)" "$tmp/subjects" || fail "no digest of the $((new - 5)) others"
	run_driver fleet2 --db "$tmp/fleet.db" --config "$tmp/starttls.conf" --ca-file "$tmp/ca/ca.pem" \
		--max-per-hour 6 || fail "second fleet run"
	grep -q 'new=0 mails=0 ' "$tmp/fleet2.out" || fail "the second fleet run sent something"
else
	echo "  (seed_store not built: fleet part not run)"
fi

echo "ok"
