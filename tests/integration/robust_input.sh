#!/usr/bin/env bash
# Bad input from people (issue 9, item 5): every case in tests/integration/lib/bad_input.tsv (the
# command line and the configuration: wrong types, empty and huge values, bad ranges, unknown
# devices) must exit 2 with its message, print no usage-less noise (no crash, no sanitizer
# report), and change nothing: the database's dump and the output folder are the same before and
# after each case. The console's fields are robust_console_input.sh.
set -u
cd "$(dirname "$0")/../.."
: "${FLEETCON:?}" "${FLEETCON_BUILD:?}"
SEED=$FLEETCON_BUILD/tools/seed_store
[ -x "$SEED" ] || { echo "FAIL: $SEED is not built (make tests)"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/fleetcon-input.XXXXXX")
trap 'rm -rf "$T"' EXIT
export HOME=$T/home XDG_CONFIG_HOME=$T/home/.config XDG_DATA_HOME=$T/home/.local/share
mkdir -p "$HOME"
"$SEED" --db "$T/fleetcon.db" --devices 5 --days 3 >/dev/null || { echo "FAIL: seed_store"; exit 1; }
printf '[site]\nname = input-test\n' >"$T/fleetcon.conf"
mkdir "$T/out"
echo "an earlier report" >"$T/out/existing.html"

/usr/bin/python3 - "$FLEETCON" "$T" tests/integration/lib/bad_input.tsv <<'PYEOF'
import hashlib, os, shlex, sqlite3, subprocess, sys

fleetcon, tmp, table = sys.argv[1:4]
db, conf, out = os.path.join(tmp, "fleetcon.db"), os.path.join(tmp, "fleetcon.conf"), os.path.join(tmp, "out")
subst = {"{OUT}": out, "{FILE}": os.path.join(out, "existing.html"), "{BIG}": "a" * 5000, "{NUM}": "9" * 40}

def expand(s):
    for k, v in subst.items():
        s = s.replace(k, v)
    return s

def state():
    """The database's content and the output folder's, as one digest."""
    h = hashlib.sha256()
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    for line in con.iterdump():
        h.update(line.encode())
    con.close()
    for root, dirs, files in sorted(os.walk(out)):
        for f in sorted(files + dirs):
            p = os.path.join(root, f)
            h.update(p.encode())
            if os.path.isfile(p):
                h.update(open(p, "rb").read())
    return h.hexdigest()

def run(argv):
    p = subprocess.run([fleetcon] + argv, capture_output=True, text=True, errors="replace", timeout=60,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout + p.stderr

failures, cases = [], 0
before = state()
for n, line in enumerate(open(table), 1):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    kind, want, fragment, text = line.split("\t")
    want, text = int(want), expand(text)
    runs = []
    if kind == "argv":
        runs.append(["--config", conf, "--db", db] + shlex.split(text))
    elif kind == "global":
        runs.append(shlex.split(text))
    elif kind == "config":
        bad = os.path.join(tmp, "bad.conf")
        with open(bad, "w") as f:
            f.write(text.replace("\\n", "\n") + "\n")
        os.chmod(bad, 0o600)
        runs.append(["--config", bad, "config", "check"])
        runs.append(["--config", bad, "--db", db, "devices"])
    else:
        failures.append("%s:%d: unknown kind %r" % (table, n, kind))
        continue
    for argv in runs:
        cases += 1
        rc, msg = run(argv)
        shown = " ".join(shlex.quote(a if len(a) < 60 else a[:20] + "...") for a in argv[4 if kind == "argv" else 0:])
        problems = []
        if rc != want:
            problems.append("exit %d, expected %d" % (rc, want))
        if fragment not in msg:
            problems.append("no %r in the message" % fragment)
        if "Sanitizer" in msg or "runtime error" in msg:
            problems.append("a sanitizer report")
        if len(msg) > 12000:
            problems.append("a %d-byte message" % len(msg))
        now = state()
        if now != before:
            problems.append("the database or the output folder changed")
            before = now
        if problems:
            failures.append("%s:%d: fleetcon %s: %s\n      said: %s" % (table, n, shown, "; ".join(problems), msg.strip()[:300]))
print("%d bad inputs, %d as expected" % (cases, cases - len(failures)))
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
PYEOF
