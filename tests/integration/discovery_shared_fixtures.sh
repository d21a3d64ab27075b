#!/usr/bin/env bash
# Discovery and poll of every shared recording of real printers (../shared/fixtures/printers),
# served as a fleet (one loopback address per recording, community "public"), compared with the
# LibreNMS oracle files (*.expected.json) where they exist. Every full recording must be found as a
# printer and polled; a stub (sysDescr/sysObjectID only) must at least be answered and counted.
# Where fleetcon's semantics differ from LibreNMS on purpose, the comparison asserts fleetcon's
# documented meaning instead (see the comments in the checker below).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/snmpsim.sh
trap snmpsim_stop EXIT

if [ -z "${FLEETCON_SHARED_FIXTURES:-}" ] || [ ! -d "${FLEETCON_SHARED_FIXTURES:-}" ]; then
	echo "skip: FLEETCON_SHARED_FIXTURES is not set or missing (the shared printer recordings)"
	exit 77
fi
snmpsim_require || exit 77
BUILD=${FLEETCON_BUILD:-build}
DRIVE=$BUILD/tools/snmp_drive
[ -x "$DRIVE" ] || { echo "FAIL: $DRIVE is not built (make tools)"; exit 1; }

cd "$FLEETCON_SHARED_FIXTURES" && files=(*.snmprec) && cd - >/dev/null || exit 1
snmpsim_start_fleet "$FLEETCON_SHARED_FIXTURES" "${files[@]}" || { echo "FAIL: fleet did not start"; exit 1; }
echo "fleet of ${#files[@]} recordings on ${SNMPSIM_ADDRS[0]} ..."

out=$(mktemp -d)
trap 'snmpsim_stop; rm -rf "$out"' EXIT
map=$out/map.txt
for i in "${!files[@]}"; do
	echo "${SNMPSIM_ADDRS[$i]%:*} ${files[$i]%.snmprec}" >>"$map"
done
# Each address as its own target; short timeout: the simulator is on loopback.
"$DRIVE" -c public -t 1000 -r 1 --no-port-probe discover "${SNMPSIM_ADDRS[@]}" >"$out/discover.json" ||
	{ echo "FAIL: snmp_drive discover exited $?"; cat "$out/discover.json"; exit 1; }

# The same fleet through the real binary: what the store keeps and `show --json` prints for
# trays is compared with the oracle too.
stored=$out/devices.json
echo "[]" >"$stored"
if [ -n "${FLEETCON:-}" ] && [ -x "${FLEETCON:-}" ]; then
	fc() { HOME=$out XDG_CONFIG_HOME=$out/.config "$FLEETCON" --db "$out/f.db" "$@"; }
	fc discover "${SNMPSIM_ADDRS[@]}" >"$out/fc-discover.txt" 2>&1 ||
		{ echo "FAIL: fleetcon discover exited $?"; cat "$out/fc-discover.txt"; exit 1; }
	ids=$(fc devices --json | /usr/bin/python3 -c 'import json,sys; print(" ".join(str(d["id"]) for d in json.load(sys.stdin)))') ||
		{ echo "FAIL: fleetcon devices --json"; exit 1; }
	{
		echo "["
		sep=""
		for id in $ids; do
			printf '%s' "$sep"
			fc show "$id" --json || { echo "FAIL: fleetcon show $id --json" >&2; exit 1; }
			sep=","
		done
		echo "]"
	} >"$stored" || exit 1
fi

/usr/bin/python3 - "$out/discover.json" "$map" "$FLEETCON_SHARED_FIXTURES" "$stored" <<'EOF'
import json, os, sys

result = json.load(open(sys.argv[1]))
names = dict(line.split() for line in open(sys.argv[2]))
fixtures = sys.argv[3]
stored = {names.get(d["address"]): d for d in json.load(open(sys.argv[4]))}
failures = []

def fail(name, msg):
    failures.append(f"{name}: {msg}")

printers = {names[p["address"]]: p for p in result["printers"]}
counts = result["counts"]
print("counts:", json.dumps(counts, sort_keys=True))
print("engine:", json.dumps(result["stats"], sort_keys=True))

# Every address answered; every full recording (more than a handful of lines) is a printer.
if counts["answered"] != len(names):
    fail("fleet", f"{counts['answered']} of {len(names)} addresses answered")
for name in names.values():
    lines = sum(1 for _ in open(os.path.join(fixtures, name + ".snmprec")))
    if lines > 20 and name not in printers:
        fail(name, "a full recording was not discovered as a printer")
for name, p in printers.items():
    if not p["is_printer"]:
        fail(name, "polled as a printer but the poll does not see one")
    if p["poll_error"]:
        # A recording that is itself broken gets a clear per-device error, never a failed run.
        print(f"  note {name}: {p['poll_error']}")
    print(f"  {name}: {p['vendor']} / {p['model']} / serial {p['serial']} / "
          f"{len(p['supplies'])} supplies, {len(p['meters']['sources'])} meters, "
          f"{p['packets']} packets, {p['elapsed_ms']} ms")

# IANA PrtMarkerSuppliesTypeTC names, as LibreNMS prints them.
TYPES = {1: "other", 2: "unknown", 3: "toner", 4: "wasteToner", 5: "ink", 6: "inkCartridge",
         7: "inkRibbon", 8: "wasteInk", 9: "opc", 10: "developer", 11: "fuserOil", 12: "solidWax",
         13: "ribbonWax", 14: "wasteWax", 15: "fuser", 16: "coronaWire", 17: "fuserOilWick",
         18: "cleanerUnit", 19: "fuserCleaningPad", 20: "transferUnit", 21: "tonerCartridge",
         22: "fuserOiler", 32: "staples"}
# LibreNMS's names of hrPrinterDetectedErrorState states, and the bit fleetcon shows for them.
ERROR_STATES = {"Normal": [], "Paper Low": ["low paper"], "Toner Low": ["low toner"],
                "Service Needed": ["service requested"]}

def squash(s):
    return "".join((s or "").split()).lower()

checked = {"supplies": 0, "trays": 0, "stored_trays": 0, "counters": 0, "states": 0}
for fn in sorted(os.listdir(fixtures)):
    if not fn.endswith(".expected.json"):
        continue
    name = fn[: -len(".expected.json")]
    oracle = json.load(open(os.path.join(fixtures, fn)))
    p = printers.get(name)
    if p is None:
        fail(name, "has an oracle but was not discovered as a printer")
        continue
    dev = (oracle.get("os", {}).get("discovery", {}).get("devices") or [{}])[0]
    if dev.get("serial") and dev["serial"] != p["serial"]:
        fail(name, f"serial {p['serial']!r}, oracle {dev['serial']!r}")
    if dev.get("sysObjectID") and dev["sysObjectID"].lstrip(".") != p["sys_object_id"]:
        fail(name, f"sysObjectID {p['sys_object_id']}, oracle {dev['sysObjectID']}")

    supplies = {s["index"]: s for s in p["supplies"]}
    trays = {t["index"]: t for t in p["trays"]}
    for o in oracle.get("printer-supplies", {}).get("discovery", {}).get("printer_supplies", []):
        idx, cur, cap = o["supply_index"], o["supply_current"], o["supply_capacity"]
        if o["supply_type"] == "input":
            checked["trays"] += 1
            t = trays.get(idx)
            if t is None:
                fail(name, f"tray {idx} ({o['supply_descr']}) missing")
                continue
            if squash(t["name"] or t["description"]) != squash(o["supply_descr"]):
                fail(name, f"tray {idx} name {t['name']!r}, oracle {o['supply_descr']!r}")
            if t["max"] > 0 and t["max"] != cap:
                fail(name, f"tray {idx} max {t['max']}, oracle {cap}")
            # Different on purpose: LibreNMS turns -3 ("some remaining") into 50 %; fleetcon
            # keeps -3 as a state.
            if t["level"] == -3:
                if cur != 50:
                    fail(name, f"tray {idx}: level -3 but oracle {cur}")
            elif t["level"] >= 0 and t["max"] > 0 and abs(round(100 * t["level"] / t["max"]) - cur) > 0:
                fail(name, f"tray {idx}: {t['level']}/{t['max']}, oracle {cur} %")
            # What the store kept, as show --json prints it: -3 is the state "some-remaining"
            # without a percentage (LibreNMS: 50 %), a known level its percentage (rounded
            # down, LibreNMS to the nearest: 1 apart).
            if stored:
                st = {x["index"]: x for x in (stored.get(name) or {}).get("trays", [])}.get(idx)
                if st is None:
                    fail(name, f"tray {idx} not kept by the store / not in devices --json")
                    continue
                checked["stored_trays"] += 1
                if (st["max"], st["level"]) != (t["max"], t["level"]):
                    fail(name, f"stored tray {idx} {st['max']}/{st['level']}, polled {t['max']}/{t['level']}")
                if st["level"] == -3:
                    if st["state"] != "some-remaining" or st["percent"] is not None or cur != 50:
                        fail(name, f"stored tray {idx}: -3 must be some-remaining without a percent")
                elif st["level"] >= 0 and st["max"] > 0:
                    if st["percent"] is None or abs(st["percent"] - cur) > 1:
                        fail(name, f"stored tray {idx}: {st['percent']} %, oracle {cur} %")
                    if (st["state"] == "empty") != (st["level"] == 0):
                        fail(name, f"stored tray {idx}: state {st['state']} for level {st['level']}")
            continue
        checked["supplies"] += 1
        s = supplies.get(idx)
        if s is None:
            fail(name, f"supply {idx} ({o['supply_descr']}) missing")
            continue
        # LibreNMS cuts descriptions at ", PN" and loses a blank when it re-joins HP's hex
        # tails; fleetcon keeps the whole cleaned text: compare without blanks, as a prefix.
        if not squash(s["description"]).startswith(squash(o["supply_descr"])):
            fail(name, f"supply {idx} description {s['description']!r}, oracle {o['supply_descr']!r}")
        # LibreNMS says "markerSupply" when the device sends no type; fleetcon keeps 0.
        want_type = 0 if o["supply_type"] == "markerSupply" else o["supply_type"]
        got_type = TYPES.get(s["type"], s["type"]) if s["type"] else 0
        if got_type != want_type:
            fail(name, f"supply {idx} type {got_type!r}, oracle {want_type!r}")
        # Capacity: LibreNMS puts 100 where the device says -1/-2 (or nothing); fleetcon keeps the
        # special value and gives no percentage.
        if s["max"] > 0:
            if s["max"] != cap:
                fail(name, f"supply {idx} max {s['max']}, oracle {cap}")
        elif cap != 100 or s["percent"] is not None:
            fail(name, f"supply {idx}: max {s['max']} should mean no percentage (oracle {cap})")
        # Level: -3 is "some remaining" (LibreNMS: 50 %), -1 "no restriction" (LibreNMS: 0 %);
        # otherwise the percentage (fleetcon rounds down, LibreNMS to the nearest: 1 apart).
        if s["level"] == -3:
            if s["state"] != "some-remaining" or s["percent"] is not None or cur != 50:
                fail(name, f"supply {idx}: -3 must be some-remaining without a percent (oracle {cur})")
        elif s["level"] == -1:
            if s["state"] != "no-restriction" or cur != 0:
                fail(name, f"supply {idx}: -1 must be no-restriction (oracle {cur})")
        elif s["level"] >= 0 and s["max"] > 0:
            if s["percent"] is None or abs(s["percent"] - cur) > 1:
                fail(name, f"supply {idx}: {s['percent']} %, oracle {cur} %")
        elif s["level"] >= 0 and s["percent"] is not None:
            fail(name, f"supply {idx}: a percentage without a known capacity")
    # LibreNMS drops a supply whose level is -2 (unknown); fleetcon keeps it as "unknown".
    listed = {o["supply_index"] for o in oracle.get("printer-supplies", {}).get("discovery", {})
              .get("printer_supplies", []) if o["supply_type"] != "input"}
    for idx, s in supplies.items():
        if idx not in listed and oracle.get("printer-supplies") is not None:
            if s["level"] != -2 or s["state"] != "unknown":
                fail(name, f"supply {idx} ({s['description']}) not in the oracle and not level -2")

    sensors = oracle.get("sensors", {}).get("discovery", {})
    states = {(x["state_name"], x["state_value"]): x["state_descr"]
              for x in sensors.get("state_indexes", [])}
    sources = {}
    for m in p["meters"]["sources"]:
        for oid, raw in zip(m["oid"].split("+"), m["raw"].split("+")):
            sources[oid] = (m["name"], raw)
    for x in sensors.get("sensors", []):
        oid = x["sensor_oid"].lstrip(".")
        if x["sensor_class"] == "count":
            if oid.startswith("1.3.6.1.2.1.43.10.2.1.5."):
                continue  # prtMarkerPowerOnCount: not a billing meter, not read
            if oid not in sources:
                if oid.startswith("1.3.6.1.2.1.43.10.2.1.4."):
                    fail(name, f"life count {oid} not read")
                else:
                    print(f"  info {name}: vendor counter {oid} ({x['sensor_descr']}) not in fleetcon's profile")
                continue
            checked["counters"] += 1
            got = sources[oid][1]
            if str(x["sensor_current"]) != got.split()[0]:
                fail(name, f"counter {oid} raw {got!r}, oracle {x['sensor_current']}")
        elif x["sensor_class"] == "state":
            checked["states"] += 1
            descr = states.get((x["state_name"], x["sensor_current"]))
            if x["sensor_type"] == "hrDeviceStatus" and p["status"]["device_code"] != x["sensor_current"]:
                fail(name, f"hrDeviceStatus {p['status']['device_code']}, oracle {x['sensor_current']}")
            if x["sensor_type"] == "hrPrinterDetectedErrorState":
                if descr not in ERROR_STATES:
                    fail(name, f"error state {descr!r} has no mapping in this test")
                elif sorted(p["status"]["errors"]) != ERROR_STATES[descr]:
                    fail(name, f"errors {p['status']['errors']}, oracle {descr!r}")
    life = [x for x in sensors.get("sensors", []) if x["sensor_oid"].lstrip(".") == "1.3.6.1.2.1.43.10.2.1.4.1.1"]
    if life and p["meters"]["total"] != life[0]["sensor_current"]:
        fail(name, f"total {p['meters']['total']}, oracle life count {life[0]['sensor_current']}")

print("checked:", json.dumps(checked, sort_keys=True))
for f in failures:
    print("FAIL:", f)
if failures:
    sys.exit(1)
print("ok: every full recording discovered and polled; oracle agrees where it should")
EOF
