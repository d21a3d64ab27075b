#!/usr/bin/env bash
# Discovery and poll of fleetcon's own recordings (tests/fixtures/printers, see its README) served
# as a fleet: the colour MFP with alerts and vendor counters, the mono printer, the nearly full
# receptacle, the special levels, the switch that is not a printer, the hostile strings, the
# vendor total that disagrees, the Ricoh private levels. Then the poll of one device with the
# hints a caller passes from the last poll (alert table skipped, vendor scalars in the first GET).
set -u
cd "$(dirname "$0")/../.."
. tests/lib/snmpsim.sh
snmpsim_require || exit 77
BUILD=${FLEETCON_BUILD:-build}
DRIVE=$BUILD/tools/snmp_drive
[ -x "$DRIVE" ] || { echo "FAIL: $DRIVE is not built (make tools)"; exit 1; }
out=$(mktemp -d)
trap 'snmpsim_stop; rm -rf "$out"' EXIT

D=tests/fixtures/printers
files=(aruba_2540_switch.snmprec brother_hl2350dw_mono.snmprec brother_hl8360_levels.snmprec
       canon_iradv_c5535.snmprec hostile_strings.snmprec hp_clj_m479fdw.snmprec
       konica_c300i_wastefull.snmprec kyocera_p3150dn.snmprec ricoh_imc3000.snmprec
       xerox_altalink_c8045.snmprec)
snmpsim_start_fleet "$D" "${files[@]}" || { echo "FAIL: fleet did not start"; exit 1; }
for i in "${!files[@]}"; do
	echo "${SNMPSIM_ADDRS[$i]%:*} ${files[$i]%.snmprec}" >>"$out/map"
done
"$DRIVE" -c public -t 1000 -r 1 --no-port-probe discover "${SNMPSIM_ADDRS[@]}" >"$out/d.json" ||
	{ echo "FAIL: discover exited $?"; exit 1; }

# The colour MFP again with what a caller knows from the last poll: prtAlertAllEvents unchanged
# (17) and its sysObjectID/sysDescr (the vendor's counters ride in the first GET); then with a
# changed alert count.
xerox=${SNMPSIM_ADDRS[9]}
descr=$(snmpget -v2c -c public -Oqv "$xerox" 1.3.6.1.2.1.1.1.0 | tr -d '"')
"$DRIVE" -c public -t 1000 -r 1 --prev-alerts 17 --prev-oid 1.3.6.1.4.1.253.8.62.1.31.6.1.1.1 \
	--prev-descr "$descr" poll "$xerox" >"$out/same.json" || { echo "FAIL: poll exited $?"; exit 1; }
"$DRIVE" -c public -t 1000 -r 1 --prev-alerts 16 poll "$xerox" >"$out/moved.json" ||
	{ echo "FAIL: poll exited $?"; exit 1; }
# SNMPv1: no GETBULK, noSuchName for what is missing; the same device comes out.
"$DRIVE" -v 1 -c public -t 1000 -r 1 poll "$xerox" >"$out/v1.json" || { echo "FAIL: v1 poll exited $?"; exit 1; }

/usr/bin/python3 - "$out" <<'EOF'
import json, sys
out = sys.argv[1]
d = json.load(open(f"{out}/d.json"))
names = dict(l.split() for l in open(f"{out}/map"))
P = {names[p["address"]]: p for p in d["printers"]}
failures = []

def check(cond, msg):
    if not cond:
        failures.append(msg)

def supply(p, idx):
    return next(s for s in p["supplies"] if s["index"] == idx)

def meter(p, name):
    return next((m for m in p["meters"]["sources"] if m["name"] == name), None)

c = d["counts"]
print("counts:", json.dumps(c, sort_keys=True))
check(c["answered"] == 10 and c["printers"] == 9 and c["not_printers"] == 1, f"counts {c}")
check("aruba_2540_switch" not in P, "the switch was taken for a printer")
for name, p in sorted(P.items()):
    print(f"  {name}: {p['packets']} packets, {p['elapsed_ms']} ms, complete={p['complete']}, "
          f"warnings={p['warnings']}")
    check(p["complete"] and p["poll_error"] is None, f"{name}: {p['poll_error']}")

x = P["xerox_altalink_c8045"]
check(x["vendor"] == "Xerox" and x["serial"] == "3363419873", f"xerox identity {x['vendor']} {x['serial']}")
check(x["mac"] == "9c:93:4e:6a:21:c4", f"xerox mac {x['mac']}")
check((x["meters"]["total"], x["meters"]["black"], x["meters"]["color"]) == (187422, 125617, 61805),
      f"xerox meters {x['meters']}")
check(meter(x, "total")["unit"] == 7, "xerox life count unit")
check(meter(x, "black")["oid"] == "1.3.6.1.4.1.253.8.53.13.2.1.6.1.20.34", "xerox black oid")
check([supply(x, i)["state"] for i in (1, 2, 3, 4)] == ["ok", "low", "ok", "empty"],
      f"xerox toner states {[supply(x, i)['state'] for i in (1, 2, 3, 4)]}")
check(supply(x, 1)["colorant"] == "black", "xerox colorant join")
check(supply(x, 6)["class"] == 4 and supply(x, 6)["state"] == "ok", "xerox waste container")
check(x["status"]["device"] == "warning" and x["status"]["printer"] == "idle", f"xerox status {x['status']}")
check(x["status"]["errors"] == ["low toner"], f"xerox errors {x['status']['errors']}")
alerts = {a["index"]: a for a in x["alerts"]}
check(sorted(alerts) == [14, 15, 16, 17], f"xerox alerts {sorted(alerts)}")
want = {14: ("critical", 11, 1101), 15: ("warning", 11, 1104), 16: ("critical", 6, 3), 17: ("warning", 8, 808)}
for i, (sev, group, code) in want.items():
    a = alerts.get(i, {})
    check((a.get("severity"), a.get("group"), a.get("code")) == (sev, group, code), f"xerox alert {i}: {a}")
check(alerts.get(16, {}).get("description") == "Left Door is open.", "xerox alert 16 text")
check(x["alerts_read"] and x["alert_all_events"] == 17, "xerox alert count")
covers = {cv["description"]: cv["status"] for cv in x["covers"]}
check(covers.get("Left Door") == 3 and all(s == 4 for n, s in covers.items() if n != "Left Door"),
      f"xerox covers {covers}")
check(len(x["trays"]) == 5, f"xerox trays {len(x['trays'])}")
check(x["panel"] and x["panel"].count(" | ") == 2, f"xerox panel {x['panel']!r}")
check(x["warnings"] == [], f"xerox warnings {x['warnings']}")

k = P["kyocera_p3150dn"]
check((k["model"], k["serial"], k["firmware"]) == ("ECOSYS P3150dn", "VCF8Z04117", "2V5_S000.002.211"),
      f"kyocera identity {k['model']} {k['serial']} {k['firmware']}")
check((k["meters"]["total"], k["meters"]["black"], k["meters"]["color"]) == (58214, 58214, 0), f"kyocera {k['meters']}")
check(supply(k, 1)["percent"] == 35, "kyocera toner 35 %")
check(supply(k, 2)["state"] == "some-remaining" and supply(k, 2)["percent"] is None, "kyocera waste -3")
check(k["status"]["error_bits"] == 0 and k["status"]["errors"] == [], "kyocera one-octet error state")

w = P["konica_c300i_wastefull"]
box = next(s for s in w["supplies"] if s["class"] == 4)
# A receptacle's level is the room left: 4 of 100 left is nearly full ("low" room), not 4 % toner.
check(box["level"] == 4 and box["percent"] == 4 and box["state"] == "low", f"waste box {box}")
check(w["status"]["errors"] == ["output near full"], f"konica errors {w['status']['errors']}")
check([a["code"] for a in w["alerts"]] == [1107], f"konica alerts {w['alerts']}")
check((w["meters"]["total"], w["meters"]["black"], w["meters"]["color"]) == (42771, 27031, 15740), f"konica {w['meters']}")

b = P["brother_hl8360_levels"]
states = {s["index"]: (s["state"], s["percent"]) for s in b["supplies"]}
check(states == {1: ("some-remaining", None), 2: ("ok", None), 3: ("unknown", None),
                 4: ("no-restriction", None), 5: ("ok", 59), 6: ("ok", None),
                 7: ("some-remaining", None), 8: ("empty", 0)}, f"brother levels {states}")
check((b["meters"]["total"], b["meters"]["black"], b["meters"]["color"]) == (12409, 7716, 4693), f"brother {b['meters']}")
check(meter(b, "duplex")["value"] == 2210 and meter(b, "black")["raw"].startswith("0x0001"), "brother blob")
trays = {t["index"]: (t["max"], t["level"]) for t in b["trays"]}
check(trays.get(1) == (-2, -2) and trays.get(2, (0, 0))[1] == -3, f"brother trays {trays}")

m = P["brother_hl2350dw_mono"]
check((m["meters"]["total"], m["meters"]["black"], m["meters"]["color"]) == (8802, 8802, None), f"mono {m['meters']}")

h = P["hp_clj_m479fdw"]
check((h["meters"]["total"], meter(h, "vendor-total")["value"]) == (31240, 31247), f"hp {h['meters']}")
check(h["warnings"] == [], "hp: a life count 7 behind (updated every 10) is no warning")

cn = P["canon_iradv_c5535"]
check(any("differs from prtMarkerLifeCount" in x for x in cn["warnings"]), f"canon warnings {cn['warnings']}")
check((cn["meters"]["black"], cn["meters"]["color"]) == (95431, 56573), f"canon {cn['meters']}")
check(cn["status"]["printer"] == "printing", "canon printing")

r = P["ricoh_imc3000"]
check([supply(r, i)["percent"] for i in (1, 2, 3, 4)] == [60, 20, 0, 90], "ricoh private levels")
check(supply(r, 3)["state"] == "empty", "ricoh magenta empty")
check((r["meters"]["total"], r["meters"]["black"], r["meters"]["color"]) == (77418, 50211, 27207), f"ricoh {r['meters']}")

hs = P["hostile_strings"]
def strings(o):
    if isinstance(o, str):
        yield o
    elif isinstance(o, dict):
        for v in o.values():
            yield from strings(v)
    elif isinstance(o, list):
        for v in o:
            yield from strings(v)
for s in strings(hs):
    check(len(s.encode()) <= 1023, f"hostile: a string of {len(s.encode())} bytes")
    bad = [ch for ch in s if ord(ch) < 0x20 or 0x7f <= ord(ch) < 0xa0 or ch in "\u202e\u202c\u200b\ufeff"]
    check(not bad, f"hostile: control or bidi characters left in {s[:60]!r}")
check(len(hs["alerts"]) <= 300, "hostile alerts bounded")
print(f"  hostile: model {hs['model']!r}, {len(hs['alerts'])} alerts, warnings {hs['warnings']}")

same = json.load(open(f"{out}/same.json"))["devices"][0]
moved = json.load(open(f"{out}/moved.json"))["devices"][0]
check(not same["alerts_read"] and same["alerts"] == [], "unchanged prtAlertAllEvents: alert table not walked")
check(moved["alerts_read"] and len(moved["alerts"]) == 4, "moved prtAlertAllEvents: alert table walked")
check(same["meters"]["black"] == 125617, "vendor counters read with the hint")
check(same["packets"] < moved["packets"], f"hints save packets: {same['packets']} vs {moved['packets']}")
print(f"xerox: {same['packets']} packets with the last poll's hints, {moved['packets']} without")
v1 = json.load(open(f"{out}/v1.json"))["devices"][0]
check(v1["complete"] and v1["serial"] == "3363419873", f"v1: {v1['poll_error']} {v1['serial']}")
check((v1["meters"]["total"], v1["meters"]["black"], v1["meters"]["color"]) == (187422, 125617, 61805), f"v1 meters {v1['meters']}")
check(len(v1["supplies"]) == 8 and len(v1["alerts"]) == 4 and len(v1["trays"]) == 5, "v1 tables")
print(f"xerox over SNMPv1: {v1['packets']} packets")

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
EOF
