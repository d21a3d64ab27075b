#!/usr/bin/env bash
# The collectors' commands on the real binary against snmpsim serving the project's recordings:
# discover (with --dry-run first), devices, show --json with its documented fields and supply
# state words, poll, include/exclude, and bad input refused with exit 2 and nothing changed.
set -u
cd "$(dirname "$0")/../.."
: "${FLEETCON:?}"
. tests/lib/snmpsim.sh
trap snmpsim_stop EXIT
snmpsim_require || exit 77
fail() { echo "FAIL: $*"; exit 1; }

recs="xerox_altalink_c8045.snmprec kyocera_p3150dn.snmprec brother_hl8360_levels.snmprec konica_c300i_wastefull.snmprec aruba_2540_switch.snmprec"
for r in $recs; do [ -f "tests/fixtures/printers/$r" ] || fail "missing recording $r"; done
# shellcheck disable=SC2086
snmpsim_start_fleet tests/fixtures/printers $recs >/dev/null || fail "snmpsim did not start"
T=$(mktemp -d)
trap 'snmpsim_stop || true; rm -rf "$T"' EXIT
export HOME=$T XDG_CONFIG_HOME=$T/.config XDG_DATA_HOME=$T/.local/share
F=("$FLEETCON" --db "$T/f.db")
first=${SNMPSIM_ADDRS[0]%:*}
last=${SNMPSIM_ADDRS[4]%:*}
port=${SNMPSIM_PORT}

out=$("${F[@]}" discover "$first-$last:$port" --dry-run) || fail "dry run: $out"
echo "$out" | grep -q "5 addresses" || fail "dry run count: $out"
echo "$out" | grep -q "nothing was sent" || fail "dry run wording: $out"
[ ! -s "$T/f.db" ] || [ "$(sqlite3 "$T/f.db" 'select count(*) from ranges')" = 0 ] || fail "dry run saved a range"

out=$("${F[@]}" discover "$first-$last:$port" 2>&1) || fail "discover: $out"
echo "$out" | grep -q "4 printers" || fail "discover should find 4 printers: $out"
echo "$out" | grep -q "1 other devices" || fail "the switch is not a printer: $out"
n=$("${F[@]}" devices --json | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 4 ] || fail "devices --json lists $n devices"
"${F[@]}" range list | grep -q "$first-$last:$port" || fail "the target joined the discovery list"

# show --json: the documented fields, and the special levels as words, never as numbers.
"${F[@]}" show "${SNMPSIM_ADDRS[2]%:*}" --json >"$T/brother.json" || fail "show --json"
/usr/bin/python3 - "$T/brother.json" <<'PY' || fail "show --json content"
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("id", "address", "vendor", "model", "serial", "firmware", "status", "meters", "supplies", "alerts"):
    assert k in d, k
for k in ("device", "printer", "errors"):
    assert k in d["status"], k
for k in ("total", "black", "color", "sources"):
    assert k in d["meters"], k
states = {"ok", "low", "empty", "unknown", "some-remaining", "no-restriction", "full"}
seen = set()
for s in d["supplies"]:
    for k in ("index", "description", "type", "class", "colorant", "unit", "max", "level", "state", "percent"):
        assert k in s, k
    assert s["state"] in states, s["state"]
    seen.add(s["state"])
    if s["state"] in ("unknown", "some-remaining", "no-restriction"):
        assert s["percent"] is None, s
    if s["percent"] is not None:
        assert 0 <= s["percent"] <= 100, s
assert {"some-remaining", "unknown", "no-restriction"} <= seen, seen
PY

out=$("${F[@]}" poll 2>&1) || fail "poll: $out"
echo "$out" | grep -q "4 devices polled, 4 answered" || fail "poll summary: $out"

# include / exclude change the counts; a typo changes nothing.
"${F[@]}" exclude 1 >/dev/null || fail "exclude"
[ "$("${F[@]}" devices --excluded --json | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] || fail "excluded count"
"${F[@]}" include 1 no-such-device >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "include with an unknown device: exit $rc"
[ "$("${F[@]}" devices --excluded --json | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] || fail "a failed include changed something"
for bad in "10.0.0.0/4" "1.2.3.4-1.2.3.1" "300.1.1.1"; do
	"${F[@]}" discover "$bad" >/dev/null 2>&1; rc=$?
	[ $rc = 2 ] || fail "discover $bad: exit $rc"
done
"${F[@]}" poll nope >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "poll of an unknown device: exit $rc"
echo "cli collectors: ok"
exit 0
