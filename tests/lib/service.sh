# shellcheck shell=bash
# Helpers for the service's integration tests (tests/integration/service_*.sh). Source it after
# tests/receiver/lib.sh (receiver_stat), then:
#
#   svc_start DB LOG ARGS...    # $FLEETCON ARGS run ... 2>>LOG in the background; waits until
#                               # DB.sock listens; sets SVC_PID (fails when it does not listen)
#   svc_until 20 CMD ARGS...    # runs CMD every 0.2 s until it succeeds, for at most 20 s
#   svc_stored_is 1             # the receiver in $RECEIVER_DIR stored exactly 1 report
#   svc_requests_at_least 2     # the receiver got at least 2 requests for reports
#   svc_kill                    # SIGKILL to a service left running (for an EXIT trap)

SVC_PID=

svc_until() {
	local limit=$(($1 * 5)) i
	shift
	for ((i = 0; i < limit; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}

svc_stored_is() { [ "$(receiver_stat stored 2>/dev/null)" = "$1" ]; }

svc_requests_at_least() { [ "$(receiver_requests)" -ge "$1" ]; }

svc_start() {
	local db=$1 log=$2
	shift 2
	"$FLEETCON" "$@" 2>>"$log" &
	SVC_PID=$!
	svc_until 20 test -S "$db.sock" && return 0
	echo "the service did not listen on $db.sock:" >&2
	cat "$log" >&2
	return 1
}

svc_kill() {
	[ -n "$SVC_PID" ] && kill -9 "$SVC_PID" 2>/dev/null
	SVC_PID=
	return 0
}
