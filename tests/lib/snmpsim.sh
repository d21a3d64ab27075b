# shellcheck shell=bash
# Serves SNMP recordings with Debian's snmpsim 0.4.5 (`snmpsimd`) for integration tests and the
# demo: a fleet with one loopback address per recording (like real printers, same community), and
# an SNMPv3-only instance. Source it, then:
#
#   . tests/lib/snmpsim.sh
#   trap snmpsim_stop EXIT                  # stops every instance started, removes temp folders
#   snmpsim_require || exit 77              # prints "skip: ..." when snmpsimd/snmpget are missing
#   snmpsim_start_fleet DIR a.snmprec b.snmprec || exit 1
#   snmpget -v2c -c public "${SNMPSIM_ADDRS[0]}" 1.3.6.1.2.1.1.1.0
#
# Call the start functions in the test's own shell (not inside $(...)): they set globals.
# After snmpsim_start_fleet:  SNMPSIM_ADDRS (array of "127.77.X.Y:PORT", in the order of the
#   files), SNMPSIM_PORT, SNMPSIM_PID, SNMPSIM_COMMUNITY (public), SNMPSIM_DIR (its temp folder,
#   with snmpsimd.log).
# After snmpsim_start_v3:  SNMPSIM_V3_ADDRS (array), SNMPSIM_V3_ADDR (the first), SNMPSIM_V3_PID,
#   SNMPSIM_V3_USER, SNMPSIM_V3_AUTH_PROTO/KEY, SNMPSIM_V3_PRIV_PROTO/KEY (empty context name).
# After snmpsim_start_v6:  SNMPSIM_V6_ADDR ("[::1]:PORT"), SNMPSIM_V6_PID.
# After badagent_start:    BADAGENT_ADDR, BADAGENT_PID (tests/lib/badagent.py, an agent that
#   returns non-increasing OIDs or endless tables).
# Addresses come from 127.77.0.0/16; the port is chosen at random among 20000-29999 (below the
# ephemeral range) and must be free on every address used. SNMPSIM_START_TIMEOUT (seconds, default
# 90) bounds the wait for snmpsimd's indexing.

SNMPSIM_PIDS=()
SNMPSIM_DIRS=()
SNMPSIM_COMMUNITY=public

# snmpsim_require: 0 when the tools are here, else prints a skip line and returns 1.
snmpsim_require() {
	local t
	for t in snmpsimd snmpget; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "skip: $t is not installed (apt-get install snmpsim snmp)"
			return 1
		fi
	done
	return 0
}

# Options that make snmpsimd drop root (it refuses to run as root without them).
_snmpsim_user_opts() {
	if [ "$(id -u)" = 0 ]; then
		echo "--process-user=nobody --process-group=nogroup"
	fi
}

# _snmpsim_tmpdir: sets _snmpsim_dir to a fresh folder readable by nobody, with a cache folder
# nobody can write (not called in $(...), so that snmpsim_stop knows the folder).
_snmpsim_tmpdir() {
	_snmpsim_dir=$(mktemp -d "${TMPDIR:-/tmp}/fleetcon-snmpsim.XXXXXX") || return 1
	SNMPSIM_DIRS+=("$_snmpsim_dir")
	chmod 755 "$_snmpsim_dir"
	mkdir -p "$_snmpsim_dir/data" "$_snmpsim_dir/cache"
	chmod 755 "$_snmpsim_dir/data"
	chmod 777 "$_snmpsim_dir/cache"
}

# _snmpsim_port_free PORT: no UDP socket is bound to PORT on 127.77.*, 127.0.0.0/8 wildcards or
# any address (a listener on 0.0.0.0:PORT or [::]:PORT would take our packets too).
_snmpsim_port_free() {
	! ss -Huln "sport = :$1" 2>/dev/null | grep -q .
}

# _snmpsim_pick_port: prints a free port.
_snmpsim_pick_port() {
	local i p
	for i in $(seq 1 50); do
		p=$((20000 + RANDOM % 10000))
		if _snmpsim_port_free "$p"; then
			echo "$p"
			return 0
		fi
	done
	echo "snmpsim: no free UDP port found in 20000-29999" >&2
	return 1
}

# _snmpsim_answers ADDR SNMPGET-OPTIONS...: the agent sent any response (even noSuchObject).
_snmpsim_answers() {
	local addr=$1 out
	shift
	out=$(snmpget -On -t 0.5 -r 0 "$@" "$addr" 1.3.6.1.2.1.1.2.0 2>&1)
	case $out in
	*Timeout* | *"No Response"* | *"Unknown host"*) return 1 ;;
	esac
	[ -n "$out" ]
}

# _snmpsim_wait PID LOG ADDR-ARRAY-NAME SNMPGET-OPTIONS...: waits until every address answers or
# the deadline passes or snmpsimd dies. Then checks that only PID holds the port.
_snmpsim_wait() {
	local pid=$1 log=$2 arr=$3
	shift 3
	local -n _addrs=$arr
	local deadline=$((SECONDS + ${SNMPSIM_START_TIMEOUT:-90}))
	local a pending=("${_addrs[@]}") still
	while [ ${#pending[@]} -gt 0 ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "snmpsim: snmpsimd (pid $pid) exited while starting; its log:" >&2
			tail -n 20 "$log" >&2
			return 1
		fi
		if [ $SECONDS -ge $deadline ]; then
			echo "snmpsim: ${pending[*]} did not answer within ${SNMPSIM_START_TIMEOUT:-90}s; log:" >&2
			tail -n 20 "$log" >&2
			return 1
		fi
		still=()
		for a in "${pending[@]}"; do
			_snmpsim_answers "$a" "$@" || still+=("$a")
		done
		pending=("${still[@]}")
	done
	# Another process bound to the same address and port (UDP allows it with SO_REUSEADDR)
	# would get part of our packets: refuse rather than run a flaky test.
	local port=${_addrs[0]##*:}
	if ss -Hulnp "sport = :$port" 2>/dev/null | grep -v "pid=$pid," | grep -q .; then
		echo "snmpsim: port $port is shared with another process" >&2
		return 2
	fi
	return 0
}

# _snmpsim_launch LOG ARGS...: starts snmpsimd in the background; sets _snmpsim_pid.
_snmpsim_launch() {
	local log=$1
	shift
	# shellcheck disable=SC2046
	snmpsimd $(_snmpsim_user_opts) "$@" >"$log" 2>&1 </dev/null &
	_snmpsim_pid=$!
	SNMPSIM_PIDS+=("$_snmpsim_pid")
}

# _snmpsim_kill PID: TERM, then KILL if it is still there after 5 s; reaps it.
_snmpsim_kill() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# snmpsim_start_fleet DATA_DIR FILE...: serves each recording (path relative to DATA_DIR, or
# absolute) on its own address 127.77.X.Y:PORT, community "public". Returns 0, or 1 with a
# message on stderr.
snmpsim_start_fleet() {
	local data=$1
	shift
	if [ $# -eq 0 ]; then
		echo "snmpsim_start_fleet: no recordings given" >&2
		return 1
	fi
	if [ $# -gt 2500 ]; then
		echo "snmpsim_start_fleet: at most 2500 recordings" >&2
		return 1
	fi
	local attempt
	for attempt in 1 2 3; do
		local dir port x k f src rc
		_snmpsim_tmpdir || return 1
		dir=$_snmpsim_dir
		mkdir -p "$dir/data/public"
		port=$(_snmpsim_pick_port) || return 1
		x=$((RANDOM % (256 - ($# / 250 + 1))))
		local addrs=() endpoints=()
		k=0
		for f in "$@"; do
			case $f in /*) src=$f ;; *) src=$data/$f ;; esac
			if [ ! -r "$src" ]; then
				echo "snmpsim_start_fleet: cannot read $src" >&2
				return 1
			fi
			install -m 644 "$src" "$dir/data/public/1.3.6.1.6.1.1.$k.snmprec"
			addrs+=("127.77.$((x + k / 250)).$((k % 250 + 1)):$port")
			endpoints+=("--agent-udpv4-endpoint=${addrs[$k]}")
			k=$((k + 1))
		done
		_snmpsim_launch "$dir/snmpsimd.log" --v2c-arch --data-dir="$dir/data" \
			--cache-dir="$dir/cache" "${endpoints[@]}"
		_snmpsim_wait "$_snmpsim_pid" "$dir/snmpsimd.log" addrs -v2c -c public
		rc=$?
		if [ $rc -eq 0 ]; then
			SNMPSIM_ADDRS=("${addrs[@]}")
			SNMPSIM_PORT=$port
			SNMPSIM_PID=$_snmpsim_pid
			SNMPSIM_DIR=$dir
			export SNMPSIM_PORT SNMPSIM_PID SNMPSIM_DIR SNMPSIM_COMMUNITY
			return 0
		fi
		_snmpsim_kill "$_snmpsim_pid"
		[ $rc -eq 2 ] || return 1 # only a shared port is worth another try
	done
	return 1
}

# snmpsim_start_v3 DATA_DIR FILE... [-- USER AUTH_PROTO AUTH_KEY PRIV_PROTO PRIV_KEY]: an
# SNMPv3-only instance (no v1/v2c answer), one address per file as for the fleet, empty context
# name. Defaults: user fleetcon, SHA256 / "fleetcon-auth-key", AES / "fleetcon-priv-key".
snmpsim_start_v3() {
	local data=$1
	shift
	local files=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		files+=("$1")
		shift
	done
	[ "${1:-}" = -- ] && shift
	SNMPSIM_V3_USER=${1:-fleetcon}
	SNMPSIM_V3_AUTH_PROTO=${2:-SHA256}
	SNMPSIM_V3_AUTH_KEY=${3:-fleetcon-auth-key}
	SNMPSIM_V3_PRIV_PROTO=${4:-AES}
	SNMPSIM_V3_PRIV_KEY=${5:-fleetcon-priv-key}
	if [ ${#files[@]} -eq 0 ]; then
		echo "snmpsim_start_v3: no recordings given" >&2
		return 1
	fi
	# Net-SNMP spells the protocols differently from snmpsimd for the longer SHA variants.
	local nauth=$SNMPSIM_V3_AUTH_PROTO npriv=$SNMPSIM_V3_PRIV_PROTO
	case $nauth in SHA224) nauth=SHA-224 ;; SHA256) nauth=SHA-256 ;; SHA384) nauth=SHA-384 ;; SHA512) nauth=SHA-512 ;; esac
	case $npriv in AES128) npriv=AES ;; esac
	local attempt
	for attempt in 1 2 3; do
		local dir port x k f src rc
		_snmpsim_tmpdir || return 1
		dir=$_snmpsim_dir
		port=$(_snmpsim_pick_port) || return 1
		x=$((RANDOM % 250))
		local addrs=() endpoints=()
		k=0
		for f in "${files[@]}"; do
			case $f in /*) src=$f ;; *) src=$data/$f ;; esac
			if [ ! -r "$src" ]; then
				echo "snmpsim_start_v3: cannot read $src" >&2
				return 1
			fi
			# With an empty context name snmpsimd picks the file named after the endpoint.
			install -m 644 "$src" "$dir/data/1.3.6.1.6.1.1.$k.snmprec"
			addrs+=("127.77.$x.$((k % 250 + 1)):$port")
			endpoints+=("--agent-udpv4-endpoint=${addrs[$k]}")
			k=$((k + 1))
		done
		_snmpsim_launch "$dir/snmpsimd.log" --v3-only --data-dir="$dir/data" \
			--cache-dir="$dir/cache" \
			--v3-user="$SNMPSIM_V3_USER" \
			--v3-auth-key="$SNMPSIM_V3_AUTH_KEY" --v3-auth-proto="$SNMPSIM_V3_AUTH_PROTO" \
			--v3-priv-key="$SNMPSIM_V3_PRIV_KEY" --v3-priv-proto="$SNMPSIM_V3_PRIV_PROTO" \
			"${endpoints[@]}"
		_snmpsim_wait "$_snmpsim_pid" "$dir/snmpsimd.log" addrs -v3 -l authPriv \
			-u "$SNMPSIM_V3_USER" -a "$nauth" -A "$SNMPSIM_V3_AUTH_KEY" \
			-x "$npriv" -X "$SNMPSIM_V3_PRIV_KEY"
		rc=$?
		if [ $rc -eq 0 ]; then
			SNMPSIM_V3_ADDRS=("${addrs[@]}")
			SNMPSIM_V3_ADDR=${addrs[0]}
			SNMPSIM_V3_PID=$_snmpsim_pid
			SNMPSIM_V3_DIR=$dir
			SNMPSIM_V3_NETSNMP_AUTH=$nauth
			SNMPSIM_V3_NETSNMP_PRIV=$npriv
			export SNMPSIM_V3_ADDR SNMPSIM_V3_PID SNMPSIM_V3_DIR SNMPSIM_V3_USER \
				SNMPSIM_V3_AUTH_PROTO SNMPSIM_V3_AUTH_KEY SNMPSIM_V3_PRIV_PROTO \
				SNMPSIM_V3_PRIV_KEY SNMPSIM_V3_NETSNMP_AUTH SNMPSIM_V3_NETSNMP_PRIV
			return 0
		fi
		_snmpsim_kill "$_snmpsim_pid"
		[ $rc -eq 2 ] || return 1
	done
	return 1
}

# snmpsim_start_v6 DATA_DIR FILE: one recording on [::1]:PORT, community "public" (for IPv6
# manual addresses). Returns 1 with a message when the host has no IPv6 loopback.
snmpsim_start_v6() {
	local data=$1 f=$2 src
	if ! ip -6 addr show lo 2>/dev/null | grep -q '::1'; then
		echo "snmpsim_start_v6: no IPv6 loopback (::1) on this host" >&2
		return 1
	fi
	case $f in /*) src=$f ;; *) src=$data/$f ;; esac
	local attempt
	for attempt in 1 2 3; do
		local dir port rc
		_snmpsim_tmpdir || return 1
		dir=$_snmpsim_dir
		port=$(_snmpsim_pick_port) || return 1
		# snmpsimd 0.4.5 fails on IPv6 endpoints with --v2c-arch (a NameError at start-up);
		# without it the community is the file's base name.
		install -m 644 "$src" "$dir/data/public.snmprec" || return 1
		local addrs=("udp6:[::1]:$port")
		_snmpsim_launch "$dir/snmpsimd.log" --data-dir="$dir/data" \
			--cache-dir="$dir/cache" "--agent-udpv6-endpoint=[::1]:$port"
		_snmpsim_wait "$_snmpsim_pid" "$dir/snmpsimd.log" addrs -v2c -c public
		rc=$?
		if [ $rc -eq 0 ]; then
			SNMPSIM_V6_ADDR="[::1]:$port"
			SNMPSIM_V6_PID=$_snmpsim_pid
			export SNMPSIM_V6_ADDR SNMPSIM_V6_PID
			return 0
		fi
		_snmpsim_kill "$_snmpsim_pid"
		[ $rc -eq 2 ] || return 1
	done
	return 1
}

# badagent_start MODE [ADDRESS:PORT] [badagent.py options...]: starts tests/lib/badagent.py (a
# misbehaving agent: MODE fixed, endless or backwards; see its header) on ADDRESS:PORT (default
# 127.0.0.1 and a free port; give e.g. "127.77.$x.200:$SNMPSIM_PORT" to place it inside a fleet's
# range). Sets BADAGENT_ADDR ("ADDRESS:PORT") and BADAGENT_PID; snmpsim_stop stops it.
badagent_start() {
	local mode=$1 listen=${2:-127.0.0.1:0}
	shift
	[ $# -gt 0 ] && shift
	local here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	_snmpsim_tmpdir || return 1
	local ready=$_snmpsim_dir/ready
	/usr/bin/python3 "$here/badagent.py" --listen "$listen" --mode "$mode" --ready-file "$ready" \
		"$@" >"$_snmpsim_dir/badagent.log" 2>&1 </dev/null &
	BADAGENT_PID=$!
	SNMPSIM_PIDS+=("$BADAGENT_PID")
	local deadline=$((SECONDS + 20))
	while [ ! -s "$ready" ]; do
		if ! kill -0 "$BADAGENT_PID" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
			echo "badagent_start: badagent.py did not start; its log:" >&2
			cat "$_snmpsim_dir/badagent.log" >&2
			return 1
		fi
		sleep 0.05
	done
	BADAGENT_ADDR="${listen%:*}:$(cat "$ready")"
	export BADAGENT_ADDR BADAGENT_PID
	return 0
}

# snmpsim_stop: stops every instance this shell started and removes their folders. Safe to call
# twice and when nothing was started (so it can sit in an EXIT trap).
snmpsim_stop() {
	local pid d
	for pid in "${SNMPSIM_PIDS[@]}"; do
		_snmpsim_kill "$pid"
	done
	SNMPSIM_PIDS=()
	for d in "${SNMPSIM_DIRS[@]}"; do
		case $d in */fleetcon-snmpsim.*) rm -rf -- "$d" ;; esac
	done
	SNMPSIM_DIRS=()
	return 0
}
