# shellcheck shell=bash
# A real SMTP server on loopback for the e-mail tests (tests/lib/smtpd.py on Debian's aiosmtpd),
# and a test CA made with openssl at test time. Source it, then:
#
#   . tests/lib/smtpd.sh
#   trap smtpd_stop_all EXIT
#   smtpd_require || exit 77          # prints "skip: ..." when python3-aiosmtpd/openssl are missing
#   smtpd_make_ca "$dir"              # $dir/ca.pem, $dir/server.pem, $dir/server.key (127.0.0.1)
#   smtpd_start "$dir/a" --cert "$dir/server.pem" --key "$dir/server.key" || exit 1
#   echo "$SMTPD_PORT"; ls "$dir/a/mail"   # NNNN.eml + NNNN.json per message
#   smtpd_stop "$SMTPD_PID"
#
# Call smtpd_start in the test's own shell (not inside $(...)): it sets SMTPD_PORT and SMTPD_PID.

SMTPD_PY=${SMTPD_PY:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/smtpd.py}
SMTPD_PIDS=()

smtpd_require() {
	if ! /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; then
		echo "skip: python3-aiosmtpd is not installed (apt-get install python3-aiosmtpd)"
		return 1
	fi
	if ! command -v openssl >/dev/null 2>&1; then
		echo "skip: openssl is not installed"
		return 1
	fi
	return 0
}

# smtpd_make_ca DIR: a CA and a server certificate for 127.0.0.1 / localhost signed by it.
smtpd_make_ca() {
	local d=$1
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=fleetcon test CA" \
		-keyout "$d/ca.key" -out "$d/ca.pem" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		>/dev/null 2>&1 || { echo "openssl: cannot make the test CA" >&2; return 1; }
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$d/server.key" \
		-out "$d/server.csr" >/dev/null 2>&1 || return 1
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$d/ext.cnf"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/ext.cnf" -out "$d/server.pem" >/dev/null 2>&1 || {
		echo "openssl: cannot sign the test server certificate" >&2
		return 1
	}
}

# smtpd_start DIR [smtpd.py options...]: starts a server storing messages in DIR/mail; waits (up
# to 15 s) until it listens; sets SMTPD_PORT and SMTPD_PID.
smtpd_start() {
	local d=$1
	shift
	mkdir -p "$d/mail"
	rm -f "$d/port"
	/usr/bin/python3 "$SMTPD_PY" --dir "$d/mail" --port-file "$d/port" "$@" >"$d/smtpd.log" 2>&1 &
	SMTPD_PID=$!
	SMTPD_PIDS+=("$SMTPD_PID")
	local waited=0
	while [ ! -s "$d/port" ]; do
		if ! kill -0 "$SMTPD_PID" 2>/dev/null; then
			echo "smtpd.py exited early:" >&2
			cat "$d/smtpd.log" >&2
			return 1
		fi
		if [ $waited -ge 150 ]; then
			echo "smtpd.py did not start listening in 15 s" >&2
			return 1
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
	SMTPD_PORT=$(cat "$d/port")
}

# smtpd_stop PID: stops one server and waits for it.
smtpd_stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

smtpd_stop_all() {
	local p
	for p in "${SMTPD_PIDS[@]}"; do
		smtpd_stop "$p"
	done
	SMTPD_PIDS=()
}

# smtpd_count DIR: the number of messages the server in DIR stored.
smtpd_count() {
	local n=0 f
	for f in "$1"/mail/*.json; do
		[ -e "$f" ] && n=$((n + 1))
	done
	echo "$n"
}

# smtpd_check DIR TLS FROM TO [SUBJECT...]: checks every message the server in DIR stored: exactly
# the headers fleetcon writes, each once, none carrying "victim" or "pwned" (what the hostile
# fixtures try to inject), CRLF only, the envelope FROM and TO ("a@x,b@y"), TLS true/false, a body
# that says what and what to do with no line starting "Bcc:"; and, when subjects are given, that
# the subjects are exactly those (in any order). Prints what is wrong and returns 1.
smtpd_check() {
	/usr/bin/python3 - "$@" <<'PY'
import email, glob, json, sys
from email import policy
folder, tls, sender, rcpts = sys.argv[1], sys.argv[2] == "true", sys.argv[3], sys.argv[4].split(",")
want = sorted(sys.argv[5:])
allowed = sorted(["Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type",
                  "Content-Transfer-Encoding", "Auto-Submitted"])
problems, subjects = [], []
for eml in sorted(glob.glob(folder + "/mail/*.eml")):
    raw = open(eml, "rb").read()
    head, sep, _ = raw.partition(b"\r\n\r\n")
    if not sep:
        problems.append(eml + ": no empty line after the headers")
        continue
    bare = head.replace(b"\r\n", b"")
    if b"\n" in bare or b"\r" in bare:
        problems.append(eml + ": a bare CR or LF in the headers")
    msg = email.message_from_bytes(raw, policy=policy.default)
    if sorted(msg.keys()) != allowed:
        problems.append("%s: headers %s" % (eml, msg.keys()))
    for k, v in msg.items():
        if "victim" in str(v) or "pwned" in str(v):
            problems.append("%s: injected text in %s: %r" % (eml, k, str(v)))
    meta = json.load(open(eml[:-4] + ".json"))
    if meta["rcpt_tos"] != rcpts or meta["mail_from"] != sender:
        problems.append("%s: envelope %s -> %s" % (eml, meta["mail_from"], meta["rcpt_tos"]))
    if meta["tls"] != tls:
        problems.append("%s: TLS %s, expected %s" % (eml, meta["tls"], tls))
    text = msg.get_content()
    if "What:" not in text or "To do:" not in text:
        problems.append(eml + ": the body does not say what and what to do")
    if any(line.startswith("Bcc:") for line in text.splitlines()):
        problems.append(eml + ": a body line starts with Bcc:")
    subjects.append(str(msg["Subject"]))
if want and sorted(subjects) != want:
    problems.append("subjects:\n  got  %s\n  want %s" % (sorted(subjects), want))
for p in problems:
    print("smtpd_check: " + p)
sys.exit(1 if problems else 0)
PY
}

# smtpd_subjects DIR: the decoded subjects of the messages the server in DIR stored, one a line.
smtpd_subjects() {
	/usr/bin/python3 - "$1" <<'PY'
import email, glob, sys
from email import policy
for eml in sorted(glob.glob(sys.argv[1] + "/mail/*.eml")):
    print(email.message_from_bytes(open(eml, "rb").read(), policy=policy.default)["Subject"])
PY
}
