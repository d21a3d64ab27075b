# shellcheck shell=bash
# Shell helpers for the uplink integration tests and the demo: a work folder with a test CA and a
# seeded database, reference receivers started and stopped by pid, the agent's configuration, and
# readers of what the receiver stored. Source it from the repository's top folder:
#
#   . tests/receiver/lib.sh
#   uplink_init || exit $?          # work folder $UP, CA in $UP/ca, $FC (the command to run)
#   trap uplink_cleanup EXIT
#   uplink_seed 5                   # $UP/fleetcon.db with 5 synthetic printers (seed_store)
#   receiver_start good || exit 1   # sets RECEIVER_DIR and RECEIVER_PORT
#   uplink_config "https://127.0.0.1:$RECEIVER_PORT/reports" >"$UP/fleetcon.conf"
#   $FC --config "$UP/fleetcon.conf" upload
#
# $FC is $FLEETCON when that binary lists the upload command, otherwise the uplink_cli driver
# of the same build (tests/tools/uplink_cli.c).

top=${top:-$(pwd)}
. "$top/tests/lib/testca.sh"

PY=/usr/bin/python3
RECEIVER="$top/tests/receiver/receiver.py"
RECEIVER_PIDS=()
RECEIVER_USER=agent-test
RECEIVER_PASSWORD=s3cret-pass-word

# uplink_init: checks the tools, makes $UP with the test CA. Returns 77 (skip) or 1 on failure.
uplink_init() {
	local build=${FLEETCON_BUILD:-$top/build}
	if [ ! -x "$PY" ]; then
		echo "skip: $PY is not installed (apt-get install python3)"
		return 77
	fi
	testca_require || return 77
	if [ -n "${FLEETCON:-}" ] && [ -x "$FLEETCON" ] && "$FLEETCON" --help 2>/dev/null | grep -q '^  upload'; then
		FC=$FLEETCON
	elif [ -x "$build/tools/uplink_cli" ]; then
		FC=$build/tools/uplink_cli
	else
		echo "neither \$FLEETCON lists 'upload' nor is $build/tools/uplink_cli built (make tests)" >&2
		return 1
	fi
	SEED_STORE=$build/tools/seed_store
	if [ ! -x "$SEED_STORE" ]; then
		echo "$SEED_STORE is not built (make tests)" >&2
		return 1
	fi
	UP=$(mktemp -d "${TMPDIR:-/tmp}/fleetcon-uplink.XXXXXX") || return 1
	testca_make "$UP/ca" || return 1
	# The tests talk to loopback only: a proxy from the caller's environment must not interfere.
	unset https_proxy HTTPS_PROXY http_proxy HTTP_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
	return 0
}

# uplink_cleanup: stops every receiver this shell started and removes $UP.
uplink_cleanup() {
	local pid
	for pid in "${RECEIVER_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${RECEIVER_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	RECEIVER_PIDS=()
	[ -n "${UP:-}" ] && [ -z "${UPLINK_KEEP:-}" ] && rm -rf "$UP"
}

# uplink_seed N [DB]: a database with N synthetic printers (default $UP/fleetcon.db).
uplink_seed() {
	"$SEED_STORE" --db "${2:-$UP/fleetcon.db}" --devices "$1" --days 3 >/dev/null
}

# receiver_start CERT [ARGS...]: starts a receiver with $UP/ca/CERT.pem (or --plain when CERT is
# "plain") in a new folder; waits until it listens. Sets RECEIVER_DIR, RECEIVER_PORT, RECEIVER_PID.
receiver_start() {
	local cert=$1
	shift
	RECEIVER_DIR=$(mktemp -d "$UP/receiver-$cert.XXXXXX") || return 1
	local tls=(--cert "$UP/ca/$cert.pem" --key "$UP/ca/$cert.key")
	[ "$cert" = plain ] && tls=(--plain)
	"$PY" "$RECEIVER" serve --dir "$RECEIVER_DIR" "${tls[@]}" --user "$RECEIVER_USER" \
		--password "$RECEIVER_PASSWORD" "$@" >"$RECEIVER_DIR/receiver.log" 2>&1 &
	RECEIVER_PID=$!
	RECEIVER_PIDS+=("$RECEIVER_PID")
	RECEIVER_PORT=$("$PY" "$RECEIVER" wait --dir "$RECEIVER_DIR" --timeout 30 --pid "$RECEIVER_PID") || {
		echo "the receiver did not start:" >&2
		cat "$RECEIVER_DIR/receiver.log" >&2
		return 1
	}
}

# receiver_stop PID: stops one receiver and waits for it.
receiver_stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# receiver_control ARGS...: tells the receiver in $RECEIVER_DIR to misbehave (see receiver.py).
receiver_control() {
	"$PY" "$RECEIVER" control --dir "$RECEIVER_DIR" "$@" >/dev/null
}

# receiver_stat FIELD [DIR]: one number from the receiver's stats.json.
receiver_stat() {
	"$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
		"${2:-$RECEIVER_DIR}/stats.json" "$1"
}

# receiver_requests [DIR]: the number of HTTP requests for reports the receiver got.
receiver_requests() {
	local f=${1:-$RECEIVER_DIR}/requests.jsonl
	if [ -f "$f" ]; then wc -l <"$f"; else echo 0; fi
}

# uplink_config URL [EXTRA LINES...]: a configuration for $UP/fleetcon.db and the test CA, with
# the receiver's credentials; each extra argument is one more line (a key may appear only once:
# set UPLINK_CONNECT_TIMEOUT / UPLINK_TIMEOUT for other timeouts).
uplink_config() {
	local url=$1
	shift
	cat <<EOF
[site]
name = uplink-test
[database]
path = $UP/fleetcon.db
[server]
url = $url
user = $RECEIVER_USER
password = $RECEIVER_PASSWORD
ca_file = $UP/ca/ca.pem
connect_timeout = ${UPLINK_CONNECT_TIMEOUT:-5s}
timeout = ${UPLINK_TIMEOUT:-20s}
EOF
	local line
	for line in "$@"; do
		echo "$line"
	done
}

# uplink_write_config FILE URL [EXTRA...]: writes the configuration with mode 0600 (it holds a
# password, and fleetcon refuses a secret readable by others).
uplink_write_config() {
	local file=$1
	shift
	(umask 077 && uplink_config "$@" >"$file")
}

# outbox_count [DB]: reports waiting in the outbox.
outbox_count() {
	"$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM outbox").fetchone()[0])' \
		"${1:-$UP/fleetcon.db}"
}

# outbox_keys [DB]: their idempotency keys, oldest first.
outbox_keys() {
	"$PY" -c 'import sqlite3,sys; [print(r[0]) for r in sqlite3.connect(sys.argv[1]).execute("SELECT key FROM outbox ORDER BY created_at, id")]' \
		"${1:-$UP/fleetcon.db}"
}

# fail MESSAGE: prints and exits 1.
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
