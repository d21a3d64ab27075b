#!/usr/bin/python3
"""A real SMTP server for fleetcon's e-mail tests, on Debian's aiosmtpd.

It listens on 127.0.0.1 on a port the kernel picks, writes that port to --port-file once it
accepts connections, and stores every message it accepts as DIR/NNNN.eml (the DATA exactly as
received) with DIR/NNNN.json beside it (envelope sender and recipients, whether the session was
encrypted, who logged in). Both files appear atomically (written, then renamed), the .json last,
so a test that sees NNNN.json can read both.

    smtpd.py --dir DIR --port-file FILE [--cert PEM --key PEM [--implicit-tls]]
             [--auth USER:PASSWORD]

  --cert/--key     offer STARTTLS with this certificate (or, with --implicit-tls, speak TLS from
                   the first byte, as smtps:// does)
  --auth U:P       offer AUTH PLAIN/LOGIN (only after TLS when TLS is offered) and require it
Stop it with SIGTERM (by its pid).
"""
import argparse
import asyncio
import json
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Store:
    """Writes each accepted message to the folder, numbered in arrival order."""

    def __init__(self, folder, implicit_tls):
        self.folder = folder
        self.implicit_tls = implicit_tls
        self.count = 0

    def _write(self, name, data):
        tmp = os.path.join(self.folder, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.folder, name))

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        stem = "%04d" % self.count
        login = None
        if isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode("utf-8", "replace")
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": self.implicit_tls or session.ssl is not None,
            "login": login,
        }
        self._write(stem + ".eml", envelope.original_content or envelope.content)
        self._write(stem + ".json", json.dumps(meta).encode())
        return "250 OK stored as " + stem


def authenticator_for(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == user
              and auth_data.password.decode() == password)
        if ok:
            return AuthResult(success=True, auth_data=auth_data)
        # handled=False: aiosmtpd answers 535 itself (True would leave the client waiting).
        return AuthResult(success=False, handled=False)
    return check


async def serve(args):
    store = Store(args.dir, args.implicit_tls)
    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)
    kwargs = {"hostname": "smtp.test", "data_size_limit": 10 * 1024 * 1024}
    if tls and not args.implicit_tls:
        kwargs["tls_context"] = tls
    if args.auth:
        user, _, password = args.auth.partition(":")
        kwargs["authenticator"] = authenticator_for(user, password)
        kwargs["auth_required"] = True
        # Without any TLS the test wants to see a client refuse to log in, so allow it here.
        kwargs["auth_require_tls"] = tls is not None and not args.implicit_tls

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(store, loop=loop, **kwargs), host="127.0.0.1", port=0,
        ssl=tls if args.implicit_tls else None)
    port = server.sockets[0].getsockname()[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, args.port_file)

    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    await stop
    server.close()
    await server.wait_closed()


def main():
    p = argparse.ArgumentParser(description="SMTP server for fleetcon's tests")
    p.add_argument("--dir", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--auth")
    args = p.parse_args()
    if bool(args.cert) != bool(args.key) or (args.implicit_tls and not args.cert):
        p.error("--cert and --key go together; --implicit-tls needs them")
    os.makedirs(args.dir, exist_ok=True)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
