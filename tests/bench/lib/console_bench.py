"""Times the console on a virtual terminal (a pty of our own, 120x40, TERM=xterm-256color): from
start to the first complete Devices screen, then filter keystrokes, each from the moment the key is
written to the last byte of the redraw it causes. A burst of output ends when the terminal has been
quiet for --quiet seconds; the time reported is that of its last byte, not of the end of the quiet.

    console_bench.py --quiet 0.08 --repeat 3 -- COMMAND...

Prints "start_ms X", "open_filter_ms X" and one "key_ms X" per filter keystroke."""
import argparse
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time


def burst(fd, quiet, first_timeout=30.0, need=b""):
    """Reads until `need` was seen (if given) and then `quiet` seconds pass without output.
    Returns (time of the last byte, bytes read)."""
    data = b""
    last = None
    deadline = time.monotonic() + first_timeout
    while True:
        wait = quiet if (last is not None and need in data) else max(0.0, deadline - time.monotonic())
        r, _, _ = select.select([fd], [], [], wait)
        if not r:
            if last is not None and need in data:
                return last, data
            raise SystemExit("console_bench: no (complete) output in time")
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            raise SystemExit("console_bench: the console went away")
        if not chunk:
            raise SystemExit("console_bench: the console went away")
        data += chunk
        last = time.monotonic()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quiet", type=float, default=0.08)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--expect", default="Devices", help="text the first screen shows")
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()

    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "xterm-256color"
        os.environ.setdefault("LANG", "C.UTF-8")
        os.environ["ESCDELAY"] = "25"
        os.execvp(a.cmd[0], a.cmd)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    t0 = time.monotonic()
    try:
        last, _ = burst(fd, a.quiet * 3, need=a.expect.encode())
        print("start_ms %.1f" % ((last - t0) * 1000))
        keys = [b"h", b"p", b"\x7f", b"\x7f"]
        os.write(fd, b"/")
        t = time.monotonic()
        last, _ = burst(fd, a.quiet, first_timeout=10)
        print("open_filter_ms %.1f" % ((last - t) * 1000))
        for _ in range(a.repeat):
            for k in keys:
                t = time.monotonic()
                os.write(fd, k)
                last, _ = burst(fd, a.quiet, first_timeout=10)
                print("key_ms %.1f" % ((last - t) * 1000))
        os.write(fd, b"\x1b")
        burst(fd, a.quiet, first_timeout=10)
        os.write(fd, b"q")
        try:
            burst(fd, a.quiet, first_timeout=3)
        except SystemExit:
            pass
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
            for _ in range(50):
                if os.waitpid(pid, os.WNOHANG)[0]:
                    break
                time.sleep(0.02)
            else:
                continue
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
