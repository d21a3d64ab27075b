#!/usr/bin/python3
"""fleetcon's reference receiver: a small communication server for tests and the demo.

It takes reports over HTTPS (Python's standard library only: http.server + ssl), checks HTTP
basic authentication, stores every report decompressed, de-duplicates by Idempotency-Key, keeps
the latest data per device, and can be told to misbehave (5xx, 429 with Retry-After, 401, hang,
drop the connection after reading the body, accept and never answer, answer slowly, redirect,
answer garbage). See README.md next to it.

  receiver.py serve --dir DIR --cert CERT --key KEY [--user U --password P] [--tls-max 1.1] [--plain]
  receiver.py control --dir DIR MODE [--count N] [--status S] [--retry-after V] [--seconds S]
  receiver.py stats --dir DIR
  receiver.py wait --dir DIR [--timeout S] [--pid PID]   (until the server listens)
"""

import argparse
import base64
import datetime
import email.utils
import gzip
import hmac
import http.server
import json
import os
import random
import socket
import struct
import socketserver
import ssl
import sys
import threading
import time
import urllib.request
import warnings
import zlib

MAX_BODY = 256 * 1024 * 1024  # a report larger than this is refused (413)
CONTROL_PATH = "/_control"
# Faults applied to a report request, after its body was read; "silent" applies to the next
# connection instead, before a byte is read or sent.
REQUEST_MODES = ("5xx", "429", "401", "403", "400", "302", "drop", "reset", "hang", "slow", "garbage")
# The modes that refuse the report (it is not stored); the others store it first.
REFUSING_MODES = ("5xx", "429", "401", "403", "400", "302", "reset", "garbage")
MODES = REQUEST_MODES + ("silent",)


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class State:
    """Everything the server knows, behind one lock; mirrored to files after every change."""

    def __init__(self, folder, user, password):
        self.dir = folder
        self.user = user
        self.password = password
        self.lock = threading.Lock()
        self.faults = []  # queued: {"mode", "count", "status", "retry_after"}
        self.keys = {}  # idempotency key -> file name
        self.stats = {"requests": 0, "reports": 0, "stored": 0, "duplicates": 0, "auth_failures": 0,
                      "faults": 0, "rejected": 0, "tls_errors": 0, "connections": 0}
        self.hang = threading.Event()  # set at shutdown: hanging handlers give up
        os.makedirs(os.path.join(folder, "reports"), exist_ok=True)
        os.makedirs(os.path.join(folder, "devices"), exist_ok=True)
        self.save_stats()

    def log(self, name, record):
        with open(os.path.join(self.dir, name), "a") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")

    def save_stats(self):
        doc = dict(self.stats)
        doc["keys"] = sorted(self.keys)
        doc["faults_pending"] = self.faults
        write_atomic(os.path.join(self.dir, "stats.json"), json.dumps(doc, indent=1).encode())

    def next_fault(self, connection=False):
        """The fault to apply to this report request (or, with connection, to this new
        connection: only "silent"), or None; consumes one count."""
        if not self.faults or (self.faults[0]["mode"] == "silent") != connection:
            return None
        f = self.faults[0]
        if f["count"] > 0:
            f["count"] -= 1
            if f["count"] == 0:
                self.faults.pop(0)
        return dict(f)

    def store(self, key, raw_json, gzip_bytes):
        """Stores a report unless its key was seen; returns (stored, file name)."""
        if key in self.keys:
            self.stats["duplicates"] += 1
            return False, self.keys[key]
        seq = self.stats["stored"] + 1
        name = "%06d-%s.json" % (seq, key)
        write_atomic(os.path.join(self.dir, "reports", name), raw_json)
        self.keys[key] = name
        self.stats["stored"] = seq
        doc = json.loads(raw_json)
        agent = (doc.get("agent") or {}).get("id", "unknown")
        devices = doc.get("devices") or []
        self.log("index.jsonl", {"seq": seq, "key": key, "file": name, "received_at": now_iso(),
                                 "bytes": len(raw_json), "gzip_bytes": gzip_bytes, "devices": len(devices),
                                 "agent": agent, "generated_at": doc.get("generated_at")})
        self.keep_latest(agent, doc.get("generated_at") or "", devices)
        return True, name

    def keep_latest(self, agent, generated_at, devices):
        """The latest data per device: one file per device, replaced by newer reports only."""
        folder = os.path.join(self.dir, "devices", "".join(c for c in agent if c.isalnum() or c == "-"))
        os.makedirs(folder, exist_ok=True)
        for d in devices:
            ident = d.get("serial") or "id-%s" % d.get("id")
            name = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(ident))[:100] + ".json"
            path = os.path.join(folder, name)
            try:
                with open(path) as f:
                    if json.load(f).get("generated_at", "") > generated_at:
                        continue
            except (OSError, ValueError):
                pass
            write_atomic(path, json.dumps({"generated_at": generated_at, "device": d}, indent=1).encode())


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fleetcon-receiver/1"

    def log_message(self, fmt, *args):  # quiet: the logs are the .jsonl files
        pass

    def setup(self):
        # Every connection is counted (a redirect test proves that a second host saw none); a
        # "silent" fault takes it and never reads or sends a byte, not even the TLS handshake.
        st = self.server.state
        with st.lock:
            st.stats["connections"] += 1
            fault = st.next_fault(connection=True)
            if fault:
                st.stats["faults"] += 1
                st.log("requests.jsonl", {"time": now_iso(), "path": None, "key": None, "bytes": 0,
                                          "answer": "silent", "fault": "silent"})
            st.save_stats()
        if fault:
            st.hang.wait(fault.get("seconds") or 3600)
            self.request.close()
            raise ConnectionAbortedError("silent fault")
        # The TLS handshake happens here, in the request's thread, so that a client that stalls
        # or fails it never blocks the accept loop; failures are logged for the tests.
        if self.server.tls_context is not None:
            try:
                self.request.settimeout(30)
                self.request = self.server.tls_context.wrap_socket(self.request, server_side=True)
                self.request.settimeout(None)
            except (ssl.SSLError, OSError) as e:
                st = self.server.state
                with st.lock:
                    st.stats["tls_errors"] += 1
                    st.log("tls-errors.jsonl", {"time": now_iso(), "error": str(e)})
                    st.save_stats()
                self.request.close()
                raise
        super().setup()

    def reply(self, status, doc, headers=None):
        body = (json.dumps(doc) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            return None
        data = b""
        while len(data) < length:
            chunk = self.rfile.read(length - len(data))
            if not chunk:
                break
            data += chunk
        return data

    def authorized(self):
        st = self.server.state
        if not st.user:
            return True
        h = self.headers.get("Authorization") or ""
        if not h.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(h[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user, st.user) and hmac.compare_digest(password, st.password)

    def do_GET(self):
        st = self.server.state
        if self.path == CONTROL_PATH + "/stats":
            with st.lock:
                doc = dict(st.stats)
                doc["keys"] = sorted(st.keys)
            self.reply(200, doc)
        else:
            self.reply(404, {"error": "only POST of reports here"})

    def do_POST(self):
        if self.path == CONTROL_PATH:
            return self.control()
        st = self.server.state
        body = self.read_body()
        key = self.headers.get("Idempotency-Key") or ""
        entry = {"time": now_iso(), "path": self.path, "key": key, "bytes": len(body or b""),
                 "encoding": self.headers.get("Content-Encoding"), "type": self.headers.get("Content-Type"),
                 "authorization": "Authorization" in self.headers}
        with st.lock:
            st.stats["requests"] += 1
            if body is None:
                entry["answer"] = 413
                st.log("requests.jsonl", entry)
                st.save_stats()
                return self.reply(413, {"error": "report too large"})
            if not self.authorized():
                st.stats["auth_failures"] += 1
                entry["answer"] = 401
                st.log("requests.jsonl", entry)
                st.save_stats()
                return self.reply(401, {"error": "bad user name or password"},
                                  {"WWW-Authenticate": 'Basic realm="fleetcon"'})
            st.stats["reports"] += 1
            fault = st.next_fault()
            if fault:
                st.stats["faults"] += 1
                entry["fault"] = fault["mode"]
            # A hang or a drop happens after the report was taken: the server has it, the agent
            # never hears so, and its retry must be recognised as a duplicate.
            refused = fault and fault["mode"] in REFUSING_MODES
            outcome = None if refused else self.accept(body, key, entry)
            entry["answer"] = fault["mode"] if fault else outcome[0]
            st.log("requests.jsonl", entry)
            st.save_stats()
        if fault:
            return self.misbehave(fault)
        return self.reply(*outcome)

    def accept(self, body, key, entry):
        """Checks and stores a report (with the lock held); returns (status, doc)."""
        st = self.server.state
        if not key:
            st.stats["rejected"] += 1
            return 400, {"error": "no Idempotency-Key header"}
        try:
            raw = gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body
            json.loads(raw)
        except (OSError, EOFError, zlib.error, ValueError) as e:
            st.stats["rejected"] += 1
            return 400, {"error": "not a gzip-compressed JSON report: %s" % e}
        stored, name = st.store(key, raw, len(body))
        entry["stored"] = stored
        return 200, {"status": "stored" if stored else "duplicate", "key": key, "file": name}

    def misbehave(self, fault):
        mode = fault["mode"]
        if mode == "5xx":
            return self.reply(fault.get("status") or 503, {"error": "temporarily unavailable (injected)"})
        if mode == "400":
            if fault.get("message"):  # as given, raw: the agent must clean what servers say
                body = fault["message"].encode("utf-8", "surrogateescape")
                self.send_response(400)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return None
            return self.reply(400, {"error": "schema version not supported (injected)"})
        if mode == "302":
            return self.reply(302, {"error": "moved"},
                              {"Location": fault.get("location") or "https://elsewhere.example.invalid/reports"})
        if mode in ("401", "403"):
            return self.reply(int(mode), {"error": "bad credentials (injected)"},
                              {"WWW-Authenticate": 'Basic realm="fleetcon"'})
        if mode == "429":
            ra = str(fault.get("retry_after") or "1")
            if ra.startswith("date+"):  # an HTTP date that many seconds ahead
                ra = email.utils.formatdate(time.time() + int(ra[5:]), usegmt=True)
            return self.reply(429, {"error": "too many requests (injected)"}, {"Retry-After": ra})
        if mode == "drop":
            # The body was read (and stored): the answer is lost, as when a link breaks.
            self.close_connection = True
            try:
                self.request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return None
        if mode == "reset":
            # The body was read but not kept: the connection is reset (RST), no answer.
            self.close_connection = True
            try:
                self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.request.close()
            except OSError:
                pass
            return None
        if mode == "hang":
            self.server.state.hang.wait(fault.get("seconds") or 3600)
            self.close_connection = True
            return None
        if mode == "slow":
            # The report was stored; the answer trickles out one byte at a time over --seconds.
            body = b'{"status": "stored", "slow": true}\n'
            raw = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                   b"Connection: close\r\n\r\n" % len(body)) + body
            step = float(fault.get("seconds") or 10) / len(raw)
            self.close_connection = True
            try:
                for i in range(len(raw)):
                    if self.server.state.hang.wait(step):
                        break
                    self.wfile.write(raw[i:i + 1])
                    self.wfile.flush()
            except OSError:
                pass  # the client gave up, as it should when this is over its timeout
            return None
        if mode == "garbage":
            # Not HTTP at all: binary noise with escape sequences, then the connection closes.
            rnd = random.Random(fault.get("status") or 7)
            noise = bytes(rnd.randrange(256) for _ in range(2048))
            self.close_connection = True
            try:
                self.wfile.write(b"\x1b[2J\x1b]0;pwned\x07GARBAGE\r\n\x00\xff" + noise + b"\r\n\r\n")
                self.wfile.flush()
            except OSError:
                pass
            return None
        return self.reply(500, {"error": "unknown fault %s" % mode})

    def control(self):
        st = self.server.state
        try:
            doc = json.loads(self.read_body() or b"{}")
            mode = doc["mode"]
        except (ValueError, KeyError):
            return self.reply(400, {"error": "control wants {\"mode\": ...}"})
        with st.lock:
            if mode == "ok":
                st.faults = []
            elif mode in MODES:
                st.faults.append({"mode": mode, "count": int(doc.get("count", 1)), "status": doc.get("status"),
                                  "retry_after": doc.get("retry_after"), "seconds": doc.get("seconds"),
                                  "message": doc.get("message"), "location": doc.get("location")})
            else:
                return self.reply(400, {"error": "unknown mode %s" % mode})
            st.save_stats()
            faults = list(st.faults)
        self.reply(200, {"faults": faults})


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # TLS failures are logged in setup(); broken connections are the tests' business


def tls_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.tls_max == "1.1":
        # Only TLS 1.0/1.1: OpenSSL 3 needs security level 0 for their ciphers, and the system's
        # MinProtocol must be lowered explicitly.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    return ctx


def serve(args):
    os.makedirs(args.dir, exist_ok=True)
    state = State(args.dir, args.user, args.password)
    server = Server(("127.0.0.1", args.port), Handler)
    server.state = state
    server.tls_context = None if args.plain else tls_context(args)
    port = server.server_address[1]
    write_atomic(os.path.join(args.dir, "server.json"),
                 json.dumps({"port": port, "tls": not args.plain, "pid": os.getpid()}).encode())
    write_atomic(os.path.join(args.dir, "port"), ("%d\n" % port).encode())
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        state.hang.set()
        server.server_close()


def server_info(folder):
    with open(os.path.join(folder, "server.json")) as f:
        return json.load(f)


def request(folder, method, path, doc=None):
    info = server_info(folder)
    scheme = "https" if info["tls"] else "http"
    ctx = None
    if info["tls"]:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False  # the control client talks to its own loopback server
        ctx.verify_mode = ssl.CERT_NONE
    data = json.dumps(doc).encode() if doc is not None else None
    req = urllib.request.Request("%s://127.0.0.1:%d%s" % (scheme, info["port"], path), data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        return json.load(r)


def main():
    p = argparse.ArgumentParser(description="fleetcon's reference receiver")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--dir", required=True)
    s.add_argument("--cert")
    s.add_argument("--key")
    s.add_argument("--user", default="")
    s.add_argument("--password", default="")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--tls-max", choices=["1.1", "default"], default="default")
    s.add_argument("--plain", action="store_true", help="plain HTTP (to test that the agent refuses it)")
    c = sub.add_parser("control")
    c.add_argument("--dir", required=True)
    c.add_argument("mode", choices=("ok",) + MODES)
    c.add_argument("--count", type=int, default=1, help="how many report requests (0 = until 'ok')")
    c.add_argument("--status", type=int, help="5xx: the status (default 503)")
    c.add_argument("--retry-after", help="429: seconds, or date+N for an HTTP date N seconds ahead")
    c.add_argument("--seconds", type=float, help="hang, silent: how long (default 3600); slow: how long the answer takes (default 10)")
    c.add_argument("--message", help="400: the error message the server gives")
    c.add_argument("--location", help="302: where it redirects")
    st = sub.add_parser("stats")
    st.add_argument("--dir", required=True)
    w = sub.add_parser("wait")
    w.add_argument("--dir", required=True)
    w.add_argument("--timeout", type=float, default=30)
    w.add_argument("--pid", type=int, help="give up at once when this process is gone")
    args = p.parse_args()

    if args.cmd == "serve":
        if not args.plain and not (args.cert and args.key):
            p.error("serve needs --cert and --key (or --plain)")
        serve(args)
    elif args.cmd == "control":
        doc = {"mode": args.mode, "count": args.count}
        for k in ("status", "retry_after", "seconds", "message", "location"):
            if getattr(args, k) is not None:
                doc[k] = getattr(args, k)
        print(json.dumps(request(args.dir, "POST", CONTROL_PATH, doc)))
    elif args.cmd == "stats":
        print(json.dumps(request(args.dir, "GET", CONTROL_PATH + "/stats"), indent=1))
    elif args.cmd == "wait":
        # The port file is written after the socket listens, so once it is there connections
        # are queued even before serve_forever() runs. (A probe connection would count as a
        # failed TLS handshake.)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            try:
                print(server_info(args.dir)["port"])
                return 0
            except (OSError, ValueError, KeyError):
                pass
            if args.pid:
                try:
                    os.kill(args.pid, 0)
                except OSError:
                    print("the receiver (pid %d) exited" % args.pid, file=sys.stderr)
                    return 1
            time.sleep(0.02)
        print("receiver did not start within %.0f s" % args.timeout, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
