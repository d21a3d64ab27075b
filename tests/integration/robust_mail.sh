#!/usr/bin/env bash
# Network faults (issue 9, item 4), mail: a mail server that accepts the connection and never says
# a word. The alert run ends within [smtp] connect_timeout (3 s here), fails, mails nothing and
# leaves every alert for the next run. A server that is
# down, refuses STARTTLS or the login is mail_failures.sh.
set -u
cd "$(dirname "$0")/../.."
top=$PWD
. tests/receiver/lib.sh
PY=/usr/bin/python3
[ -x "$PY" ] || { echo "skip: $PY is not installed"; exit 77; }
driver=${FLEETCON_BUILD:-build}/tools/alert_driver
[ -x "$driver" ] || fail "$driver is not built (make tests)"
UP=$(mktemp -d "${TMPDIR:-/tmp}/fleetcon-mail.XXXXXX")
silent_smtp_pid=
trap 'kill $silent_smtp_pid 2>/dev/null; wait $silent_smtp_pid 2>/dev/null; rm -rf "$UP"' EXIT
slack=1
[ "${FLEETCON_VARIANT:-plain}" != plain ] && slack=2

"$PY" -c '
import socket, sys, signal
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
held = []
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
while True:
    held.append(s.accept()[0])
' "$UP/smtp.port" &
silent_smtp_pid=$!
for _ in $(seq 500); do [ -s "$UP/smtp.port" ] && break; sleep 0.02; done
[ -s "$UP/smtp.port" ] || fail "the silent SMTP server did not start"
"$driver" --db "$UP/mail.db" --seed-fixture >/dev/null || fail "seeding the alerts"
(umask 077 && printf '[site]\nname = Lab\n[smtp]\nurl = smtp://127.0.0.1:%s\nstarttls = no\nfrom = a@example.com\nto = b@example.com\nconnect_timeout = 3s\ntimeout = 10s\n' \
	"$(cat "$UP/smtp.port")" >"$UP/mail.conf")
t0=$SECONDS
timeout -k 5 300 "$driver" --db "$UP/mail.db" --config "$UP/mail.conf" >"$UP/mail.out" 2>"$UP/mail.err"
rc=$? took=$((SECONDS - t0))
echo "== silent SMTP server: exit $rc in ${took}s: $(cat "$UP/mail.out" "$UP/mail.err" | head -c 400)"
[ $rc -ne 0 ] || fail "silent SMTP: the run succeeded"
[ $took -le $((20 * slack)) ] || fail "silent SMTP: took ${took}s (connect_timeout is 3 s)"
grep -q ' mails=0 ' "$UP/mail.out" || fail "silent SMTP: something was reported mailed"
grep -q ' deferred=5' "$UP/mail.out" || fail "silent SMTP: the alerts were not left for the next run"
[ $took -ge 3 ] || fail "silent SMTP: gave up after ${took}s, before connect_timeout (3 s)"
echo "ok: a silent mail server costs one connect timeout, and no alert is lost"
