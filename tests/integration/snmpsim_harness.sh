#!/usr/bin/env bash
# Checks the test harness itself (tests/lib/snmpsim.sh): a fleet of two recordings answers on two
# addresses with their own data, a v3-only instance answers v3 and ignores v2c, the misbehaving
# agent starts, and snmpsim_stop leaves no process and no temp folder behind.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/snmpsim.sh
trap snmpsim_stop EXIT
snmpsim_require || exit 77

fail() {
	echo "FAIL: $*"
	exit 1
}

D=tests/fixtures/printers
snmpsim_start_fleet "$D" kyocera_p3150dn.snmprec xerox_altalink_c8045.snmprec || fail "fleet did not start"
[ ${#SNMPSIM_ADDRS[@]} -eq 2 ] || fail "expected 2 addresses, got ${SNMPSIM_ADDRS[*]}"
[ "${SNMPSIM_ADDRS[0]}" != "${SNMPSIM_ADDRS[1]}" ] || fail "both recordings on one address"
echo "fleet: ${SNMPSIM_ADDRS[*]} (pid $SNMPSIM_PID)"

get() { snmpget -v2c -c public -On -Oqv -t 2 -r 1 "$@"; }
v=$(get "${SNMPSIM_ADDRS[0]}" 1.3.6.1.2.1.43.5.1.1.17.1) || fail "snmpget ${SNMPSIM_ADDRS[0]}"
[ "$v" = '"VCF8Z04117"' ] || fail "first address serial: $v"
v=$(get "${SNMPSIM_ADDRS[1]}" 1.3.6.1.2.1.43.5.1.1.17.1) || fail "snmpget ${SNMPSIM_ADDRS[1]}"
[ "$v" = '"3363419873"' ] || fail "second address serial: $v"
v=$(get "${SNMPSIM_ADDRS[1]}" 1.3.6.1.4.1.253.8.53.13.2.1.6.1.20.34) || fail "xerox black counter"
[ "$v" = 125617 ] || fail "xerox black counter: $v"
# Another community gets no answer at all.
if snmpget -v2c -c private -t 0.5 -r 0 "${SNMPSIM_ADDRS[0]}" 1.3.6.1.2.1.1.1.0 >/dev/null 2>&1; then
	fail "community 'private' answered"
fi

snmpsim_start_v3 "$D" lexmark_cx725_v3.snmprec || fail "v3 instance did not start"
echo "v3: $SNMPSIM_V3_ADDR (pid $SNMPSIM_V3_PID)"
v=$(snmpget -v3 -l authPriv -u "$SNMPSIM_V3_USER" -a "$SNMPSIM_V3_NETSNMP_AUTH" \
	-A "$SNMPSIM_V3_AUTH_KEY" -x "$SNMPSIM_V3_NETSNMP_PRIV" -X "$SNMPSIM_V3_PRIV_KEY" \
	-On -Oqv -t 2 -r 1 "$SNMPSIM_V3_ADDR" 1.3.6.1.2.1.43.5.1.1.17.1) || fail "v3 get"
[ "$v" = '"7528630M5Z1Q"' ] || fail "v3 serial: $v"
if snmpget -v2c -c public -t 0.5 -r 0 "$SNMPSIM_V3_ADDR" 1.3.6.1.2.1.1.1.0 >/dev/null 2>&1; then
	fail "the v3-only instance answered v2c"
fi
if snmpget -v3 -l authPriv -u "$SNMPSIM_V3_USER" -a "$SNMPSIM_V3_NETSNMP_AUTH" -A wrong-auth-key \
	-x "$SNMPSIM_V3_NETSNMP_PRIV" -X "$SNMPSIM_V3_PRIV_KEY" -t 0.5 -r 0 "$SNMPSIM_V3_ADDR" \
	1.3.6.1.2.1.1.1.0 >/dev/null 2>&1; then
	fail "a wrong v3 key was accepted"
fi

badagent_start fixed || fail "badagent did not start"
out=$(snmpwalk -v2c -c public -On -t 1 -r 0 "$BADAGENT_ADDR" 1.3.6.1.2.1.43.11 2>&1)
case $out in *"not increasing"*) ;; *) fail "badagent walk did not show a non-increasing OID: $out" ;; esac

pids=("$SNMPSIM_PID" "$SNMPSIM_V3_PID" "$BADAGENT_PID")
dirs=("${SNMPSIM_DIRS[@]}")
snmpsim_stop
for p in "${pids[@]}"; do
	if kill -0 "$p" 2>/dev/null; then
		fail "pid $p still runs after snmpsim_stop"
	fi
done
for d in "${dirs[@]}"; do
	[ ! -e "$d" ] || fail "$d still exists after snmpsim_stop"
done
snmpsim_stop # a second call (the EXIT trap) is harmless
echo "ok: fleet, v3 and badagent started, answered and stopped"
