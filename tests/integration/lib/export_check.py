#!/usr/bin/python3
"""Checks fleetcon's audit exports against the database they came from, with real parsers.

  export_check.py csv  DB FOLDER [--devices included|all] [--since EPOCH]
  export_check.py html DB FILE   [--devices included|all] [--expect-hostile]

csv: every file read back with Python's csv module equals the database (sqlite3 module), except
that a text cell starting with = + - @ TAB or CR comes back with a leading single quote and is
otherwise intact; numeric columns are plain non-negative numbers; files are UTF-8 with CRLF line
ends and a header row.
html: parsed with html.parser, the expected sections and tables are there, and no device string
produced an element, an attribute or a script: only our own tags and attributes appear, every href
is an anchor in the page, and the hostile strings are found as text.
Prints what it checked; exits 1 with the first differences on failure.
"""
import argparse
import csv
import datetime
import html.parser
import io
import re
import sqlite3
import sys

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
HOSTILE_TEXTS = ("<script>alert(1)</script>", "\" onerror=\"x", "javascript:alert(1)")

problems = []


def problem(msg):
    problems.append(msg)
    if len(problems) <= 30:
        print("  difference: " + msg)


def neutralised(value):
    """What the export must write for a text value from the database."""
    if value is None:
        return ""
    if value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def iso(t):
    if not t:
        return ""
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def opt_num(v, empty_below=0):
    return "" if v is None or v < empty_below else str(v)


def read_csv(path):
    raw = open(path, "rb").read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        problem(f"{path}: not UTF-8: {e}")
        return [], []
    if not text.endswith("\r\n"):
        problem(f"{path}: does not end with CRLF")
    header_end = text.find("\r\n")
    if header_end < 0 or "\n" in text[:header_end]:
        problem(f"{path}: the header row does not end with CRLF")
    # As a file opened with newline='': the csv module sees the CR/LF inside quoted cells.
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    if not rows:
        problem(f"{path}: empty")
        return [], []
    return rows[0], rows[1:]


def check_no_formula_cells(name, header, rows, numeric):
    count = 0
    for r in rows:
        for col, cell in zip(header, r):
            if col in numeric:
                if cell != "" and not re.fullmatch(r"[0-9]+", cell):
                    problem(f"{name}: numeric column {col} holds {cell!r}")
                continue
            if cell.startswith(FORMULA_PREFIXES):
                problem(f"{name}: cell {col}={cell!r} would run as a formula")
            if cell.startswith("'"):
                count += 1
    return count


def device_filter_sql(which):
    return "" if which == "all" else " WHERE included"


def check_csv(db, folder, which, since):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    devices = {r["id"]: r for r in con.execute("SELECT * FROM devices" + device_filter_sql(which))}
    stats = {}

    # devices.csv
    header, rows = read_csv(f"{folder}/devices.csv")
    numeric = {"id", "port", "total", "black", "color", "lowest_supply_percent", "active_alerts",
               "unreachable_polls"}
    stats["neutralised"] = check_no_formula_cells("devices.csv", header, rows, numeric)
    if len(rows) != len(devices):
        problem(f"devices.csv: {len(rows)} rows, the database has {len(devices)} devices")
    meters = {}
    for r in con.execute("SELECT device_id, name, value FROM meters"):
        meters[(r[0], r[1])] = r[2]
    active = {}
    for r in con.execute("SELECT device_id, count(*) FROM alerts WHERE cleared_at = 0 GROUP BY device_id"):
        active[r[0]] = r[1]
    text_cols = ("address", "vendor", "model", "serial", "mac", "firmware", "sys_name", "location",
                 "sys_descr", "sys_object_id", "profile", "panel_text", "poll_error")
    multiline = 0
    for row in rows:
        cell = dict(zip(header, row))
        dev = devices.get(int(cell["id"]))
        if dev is None:
            problem(f"devices.csv: id {cell['id']} is not a device of the database")
            continue
        for col in text_cols:
            if cell[col] != neutralised(dev[col]):
                problem(f"devices.csv id {dev['id']} {col}: {cell[col]!r} != {neutralised(dev[col])!r}")
            if "\n" in cell[col] or "\r" in cell[col]:
                multiline += 1
        for col in ("port", "unreachable_polls"):
            if cell[col] != str(dev[col]):
                problem(f"devices.csv id {dev['id']} {col}: {cell[col]!r} != {dev[col]!r}")
        for col in ("first_seen", "last_seen", "last_poll", "last_poll_ok"):
            if cell[col] != iso(dev[col]):
                problem(f"devices.csv id {dev['id']} {col}: {cell[col]!r} != {iso(dev[col])!r}")
        for m in ("total", "black", "color"):
            want = meters.get((dev["id"], m))
            if cell[m] != ("" if want is None else str(want)):
                problem(f"devices.csv id {dev['id']} {m}: {cell[m]!r} != {want!r}")
        if cell["included"] != ("yes" if dev["included"] else "no"):
            problem(f"devices.csv id {dev['id']} included: {cell['included']!r}")
        if cell["active_alerts"] != str(active.get(dev["id"], 0)):
            problem(f"devices.csv id {dev['id']} active_alerts: {cell['active_alerts']!r}")
        if cell["status"] not in ("ok", "warning", "fault", "unreachable", "unknown"):
            problem(f"devices.csv id {dev['id']} status: {cell['status']!r}")
    stats["multiline"] = multiline

    # meters.csv: the daily history, all of it since `since`
    header, rows = read_csv(f"{folder}/meters.csv")
    stats["neutralised"] += check_no_formula_cells("meters.csv", header, rows, {"device_id", "value"})
    want = set()
    for r in con.execute("SELECT device_id, name, day, value FROM meter_history WHERE read_at >= ?", (since,)):
        if r[0] in devices:
            want.add((r[0], r[1], r[2], r[3]))
    got = set()
    for row in rows:
        cell = dict(zip(header, row))
        did = int(cell["device_id"])
        got.add((did, cell["meter"], cell["day"], int(cell["value"])))
        if did in devices and cell["serial"] != neutralised(devices[did]["serial"]):
            problem(f"meters.csv device {did} serial: {cell['serial']!r}")
    if got != want:
        problem(f"meters.csv: {len(got - want)} rows not in the database, {len(want - got)} missing")
    if len(got) != len(rows):
        problem("meters.csv: duplicate rows")
    stats["meter_rows"] = len(rows)

    # supplies.csv
    header, rows = read_csv(f"{folder}/supplies.csv")
    stats["neutralised"] += check_no_formula_cells(
        "supplies.csv", header, rows, {"device_id", "index", "type", "class", "unit", "max", "level", "percent"})
    db_supplies = {}
    for r in con.execute("SELECT * FROM supplies"):
        if r["device_id"] in devices:
            db_supplies[(r["device_id"], r["idx"])] = r
    if len(rows) != len(db_supplies):
        problem(f"supplies.csv: {len(rows)} rows, the database has {len(db_supplies)}")
    states = {"ok", "low", "empty", "unknown", "some-remaining", "no-restriction", "full"}
    specials = 0
    for row in rows:
        cell = dict(zip(header, row))
        s = db_supplies.get((int(cell["device_id"]), int(cell["index"])))
        if s is None:
            problem(f"supplies.csv: {cell['device_id']}/{cell['index']} not in the database")
            continue
        for col in ("description", "colorant"):
            if cell[col] != neutralised(s[col]):
                problem(f"supplies.csv {cell['device_id']}/{cell['index']} {col}: {cell[col]!r}")
        if cell["level"] != opt_num(s["level"]) or cell["max"] != opt_num(s["max"]):
            problem(f"supplies.csv {cell['device_id']}/{cell['index']}: level/max {cell['level']!r}/{cell['max']!r}"
                    f" != {s['level']}/{s['max']}")
        for col, v in (("type", s["type"]), ("class", s["klass"]), ("unit", s["unit"])):
            if cell[col] != str(v):
                problem(f"supplies.csv {cell['device_id']}/{cell['index']} {col}: {cell[col]!r}")
        if cell["state"] not in states:
            problem(f"supplies.csv: state {cell['state']!r}")
        if s["level"] < 0:
            specials += 1
            want_state = {-1: "no-restriction", -2: "unknown", -3: "some-remaining"}.get(s["level"], "unknown")
            if cell["state"] != want_state:
                problem(f"supplies.csv: level {s['level']} shown as {cell['state']!r}")
    stats["special_levels"] = specials

    # alerts.csv: the active alerts
    header, rows = read_csv(f"{folder}/alerts.csv")
    stats["neutralised"] += check_no_formula_cells(
        "alerts.csv", header, rows,
        {"device_id", "severity_code", "training", "group", "group_index", "location", "code"})
    want = set()
    for r in con.execute("SELECT device_id, severity, grp, code, description, first_seen FROM alerts "
                         "WHERE cleared_at = 0"):
        if r[0] in devices:
            want.add((r[0], r[1], r[2], r[3], neutralised(r[4]), iso(r[5])))
    got = set()
    for row in rows:
        c = dict(zip(header, row))
        got.add((int(c["device_id"]), int(c["severity_code"]), int(c["group"]), int(c["code"]),
                 c["description"], c["first_seen"]))
    if got != want:
        problem(f"alerts.csv: {len(got - want)} rows not in the database, {len(want - got)} missing")
    stats["alerts"] = len(rows)

    # syncs.csv
    header, rows = read_csv(f"{folder}/syncs.csv")
    stats["neutralised"] += check_no_formula_cells(
        "syncs.csv", header, rows, {"id", "http_status", "bytes", "devices"})
    db_syncs = {r["id"]: r for r in con.execute("SELECT * FROM syncs WHERE started_at >= ?", (since,))}
    if len(rows) != len(db_syncs):
        problem(f"syncs.csv: {len(rows)} rows, the database has {len(db_syncs)}")
    for row in rows:
        c = dict(zip(header, row))
        y = db_syncs.get(int(c["id"]))
        if y is None:
            problem(f"syncs.csv: id {c['id']} not in the database")
            continue
        for col in ("trigger", "result", "report_key", "error"):
            if c[col] != neutralised(y[col]):
                problem(f"syncs.csv id {c['id']} {col}: {c[col]!r} != {neutralised(y[col])!r}")
        if c["started_at"] != iso(y["started_at"]) or c["bytes"] != str(y["bytes"]) \
                or c["devices"] != str(y["devices"]) or c["http_status"] != opt_num(y["http_status"], 1):
            problem(f"syncs.csv id {c['id']}: numbers or times differ")
    stats["syncs"] = len(rows)
    return stats


# ---- HTML ----

ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "h4", "p",
                "nav", "ul", "li", "a", "section", "table", "thead", "tbody", "tr", "th", "td", "div",
                "b", "span", "i", "article", "dl", "dt", "dd", "footer"}
ALLOWED_ATTRS = {"lang", "charset", "name", "content", "id", "class", "href", "scope", "style", "aria-hidden"}
ID_RE = re.compile(r"(summary|counts|sync|devices|details|syncs|d[0-9]+)")
CLASS_RE = re.compile(r"[a-z0-9 -]+")
STYLE_RE = re.compile(r"width:[0-9]{1,3}%")
META_NAMES = {"viewport", "generator"}


class Report(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.doctype = None
        self.tags = {}
        self.ids = set()
        self.stack = []
        self.texts = []
        self.rows = []          # rows of the device list: lists of cell texts
        self.articles = 0
        self.in_list = False
        self.cell = None
        self.row = None
        self.gauge_values = []
        self.in_gv = False

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag not in ALLOWED_TAGS:
            problem(f"html: element <{tag}> is not one the report makes")
        a = dict(attrs)
        for k, v in attrs:
            if k not in ALLOWED_ATTRS or k.startswith("on"):
                problem(f"html: attribute {k}={v!r} on <{tag}>")
        if "id" in a:
            if not ID_RE.fullmatch(a["id"] or ""):
                problem(f"html: id {a['id']!r}")
            self.ids.add(a["id"])
        if "class" in a and not CLASS_RE.fullmatch(a["class"] or ""):
            problem(f"html: class {a['class']!r}")
        if "href" in a and not (a["href"] or "").startswith("#"):
            problem(f"html: href {a['href']!r} is not an anchor in the page")
        if "style" in a and not STYLE_RE.fullmatch(a["style"] or ""):
            problem(f"html: style {a['style']!r}")
        if tag == "meta" and "name" in a and a["name"] not in META_NAMES:
            problem(f"html: meta name {a['name']!r}")
        if tag == "html" and a.get("lang") != "en":
            problem("html: <html> has no lang=\"en\"")
        if tag == "section" and a.get("id") == "devices":
            self.in_list = True
        if tag == "section" and a.get("id") != "devices":
            self.in_list = False
        if tag == "article":
            self.articles += 1
        if self.in_list and tag == "tr":
            self.row = []
        if self.in_list and tag in ("td", "th") and self.row is not None:
            self.cell = []
        if tag == "span" and a.get("class") == "gv":
            self.in_gv = True
            self.gauge_values.append("")
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        if self.in_list and tag in ("td", "th") and self.cell is not None:
            self.row.append("".join(self.cell))
            self.cell = None
        if self.in_list and tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None
        if tag == "span":
            self.in_gv = False

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "style":
            return
        self.texts.append(data)
        if self.cell is not None:
            self.cell.append(data)
        if self.in_gv:
            self.gauge_values[-1] += data


def html_text(value):
    """What the report shows for a database text: controls dropped, whitespace as in the page."""
    if value is None or value == "":
        return "–"
    v = "".join(ch for ch in value if ch in "\t\r\n" or not (ord(ch) < 0x20 or 0x7f <= ord(ch) <= 0x9f))
    return " ".join(v.split()) or "–"


def check_html(db, path, which, expect_hostile):
    raw = open(path, "rb").read()
    text = raw.decode("utf-8")
    p = Report()
    p.feed(text)
    p.close()
    if (p.doctype or "").lower() != "doctype html":
        problem(f"html: doctype is {p.doctype!r}")
    for want in ("summary", "counts", "sync", "devices", "details", "syncs"):
        if want not in p.ids:
            problem(f"html: no element with id {want!r}")
    for tag in ("title", "style", "table", "footer", "article"):
        if not p.tags.get(tag):
            problem(f"html: no <{tag}>")
    for forbidden in ("script", "img", "iframe", "object", "embed", "link", "form", "svg"):
        if p.tags.get(forbidden):
            problem(f"html: <{forbidden}> appears {p.tags[forbidden]} times")

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    devices = list(con.execute("SELECT * FROM devices" + device_filter_sql(which) + " ORDER BY id"))
    body = p.rows[1:]  # the first row is the header
    if len(body) != len(devices):
        problem(f"html: the device list has {len(body)} rows, the database {len(devices)} devices")
    if p.articles != len(devices):
        problem(f"html: {p.articles} device details, the database has {len(devices)} devices")
    for row, dev in zip(body, devices):
        # Status, Address, Vendor, Model, Serial, Firmware, ...
        for i, col in ((1, "address"), (2, "vendor"), (3, "model"), (4, "serial"), (5, "firmware")):
            got = " ".join(row[i].split()) or "–"
            if got != html_text(dev[col]):
                problem(f"html: device {dev['id']} {col}: {got!r} != {html_text(dev[col])!r}")
    for v in p.gauge_values:
        if re.search(r"-[0-9]", v):
            problem(f"html: a supply level shown as a negative number: {v!r}")
    alltext = "".join(p.texts)
    found = {h: h in alltext for h in HOSTILE_TEXTS}
    if expect_hostile:
        for h, ok in found.items():
            if not ok:
                problem(f"html: hostile string {h!r} not found as text")
    return {"devices": len(body), "articles": p.articles, "elements": sum(p.tags.values()),
            "hostile_as_text": sum(found.values())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=("csv", "html"))
    ap.add_argument("db")
    ap.add_argument("path")
    ap.add_argument("--devices", choices=("included", "all"), default="included")
    ap.add_argument("--since", type=int, default=0)
    ap.add_argument("--expect-hostile", action="store_true")
    a = ap.parse_args()
    if a.kind == "csv":
        stats = check_csv(a.db, a.path, a.devices, a.since)
        if a.expect_hostile and (stats["neutralised"] == 0 or stats["multiline"] == 0):
            problem(f"csv: the hostile cells were not exercised: {stats}")
    else:
        stats = check_html(a.db, a.path, a.devices, a.expect_hostile)
    print(f"{a.kind} {a.path}: " + ", ".join(f"{k} {v}" for k, v in stats.items()))
    if problems:
        print(f"{len(problems)} difference(s)")
        sys.exit(1)


if __name__ == "__main__":
    main()
