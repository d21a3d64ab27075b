#!/usr/bin/python3
"""Compares two fleetcon reports field for field (what the receiver stored against what
`fleetcon report --preview --json` printed) and prints every difference.

  compare.py STORED.json PREVIEW.json

The few fields that change by themselves between two moments are left out, and only those (see
docs/report-format.md, "Volatile fields"): generated_at, site.collected_at, site.host.memory_free,
site.host.disk_free, site.agent.database_bytes. Exit 0 when equal, 1 otherwise.
"""

import json
import sys

VOLATILE = [
    ("generated_at",),
    ("site", "collected_at"),
    ("site", "host", "memory_free"),
    ("site", "host", "disk_free"),
    ("site", "agent", "database_bytes"),
]


def drop(doc, path):
    for k in path[:-1]:
        doc = doc.get(k) if isinstance(doc, dict) else None
        if doc is None:
            return False
    if not isinstance(doc, dict) or path[-1] not in doc:
        return False
    del doc[path[-1]]
    return True


def diff(a, b, where, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append("%s.%s: only in the preview" % (where, k))
            elif k not in b:
                out.append("%s.%s: only in the stored report" % (where, k))
            else:
                diff(a[k], b[k], "%s.%s" % (where, k), out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append("%s: %d items stored, %d in the preview" % (where, len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, "%s[%d]" % (where, i), out)
    elif a != b or type(a) is not type(b):
        out.append("%s: stored %r, preview %r" % (where, a, b))


def main():
    with open(sys.argv[1]) as f:
        stored = json.load(f)
    with open(sys.argv[2]) as f:
        preview = json.load(f)
    for path in VOLATILE:
        for doc, name in ((stored, "stored"), (preview, "preview")):
            if not drop(doc, path):
                print("missing in the %s report: %s" % (name, ".".join(path)))
                return 1
    out = []
    diff(stored, preview, "report", out)
    for line in out:
        print(line)
    if out:
        return 1
    fields = [0]

    def count(x):
        if isinstance(x, dict):
            for v in x.values():
                count(v)
        elif isinstance(x, list):
            for v in x:
                count(v)
        else:
            fields[0] += 1
    count(stored)
    print("equal: %d fields, %d devices" % (fields[0], len(stored.get("devices", []))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
