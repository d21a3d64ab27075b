#!/usr/bin/python3
"""A misbehaving SNMP v1/v2c agent for integration tests (standard library only, hand-rolled BER).

GET answers like a small printer (system group, hrDevice/hrPrinter rows, serial, two supplies, two
trays, two covers, the life count), so discovery finds it and a poll walks it. What misbehaves
depends on --mode:

  --mode fixed      every next OID is the same fixed OID (--fixed-oid, default prtMarkerSupplies-
                    Description.1.1): a walk that started before it sees it once, then again (not
                    increasing); a walk that started after it sees it go backwards.
  --mode endless    every next OID increases but never leaves the subtree asked for: a table without
                    end (rows .1, .2, .3, ... of the requested column), values of --value-size bytes.
  --mode backwards  every next OID is the requested OID with its last arc minus one.
  --mode good       a well-behaved printer (GETNEXT / GETBULK walk its MIB in order).
  --mode wrongtypes every value in a wrong type (INTEGER for strings, strings with escapes for
                    numbers, OIDs, IpAddress, Counter64, Opaque, NULL ...), walked in order.
  --mode huge       every string (serial and MAC aside: the device stays itself) 65,000 bytes of
                    escape and control sequences; an answer that does not fit one datagram is
                    refused with tooBig (GET) or shortened (GETNEXT / GETBULK), as agents do.
  --mode counter    the life count takes the values of --counter-seq, one per poll (a GET that
                    asks sysDescr.0 starts a poll), then stays at the last: backwards, a wrap.
  --mode garbage    every answer malformed in turn: cut short, a length longer than the packet, a
                    wrong tag, a wrong request id, SNMP version 3, random bytes.
  --mode slow       well-behaved, but every answer leaves --delay-ms after the request.
  --mode silent     never answers.

With --start-good the agent is a good printer until it gets SIGUSR1, and only then takes its mode:
a test discovers it first and then lets it turn hostile.

  badagent.py --listen 127.0.0.1:0 --mode fixed --ready-file /tmp/x/ready

The port actually bound is written to --ready-file (atomically) and printed on stdout once the
socket is listening. A GET of 1.3.6.1.4.1.99998.9.1.0 answers the number of requests received so
far (Counter32), so a test can check how many packets a bounded walk took. Runs until SIGTERM or
SIGINT. Any community is accepted.
"""
import argparse
import bisect
import heapq
import os
import select
import signal
import socket
import sys
import time

# BER tags
INTEGER, OCTETS, NULL, OID, SEQ = 0x02, 0x04, 0x05, 0x06, 0x30
IPADDRESS, COUNTER32, GAUGE32, TIMETICKS, OPAQUE, COUNTER64 = 0x40, 0x41, 0x42, 0x43, 0x44, 0x46
NO_SUCH_OBJECT, END_OF_MIB = 0x80, 0x82
GET, GETNEXT, RESPONSE, SET, GETBULK = 0xA0, 0xA1, 0xA2, 0xA3, 0xA5

MAX_VARBINDS = 100
MAX_RESPONSE = 60000
MAX_DATAGRAM = 65400   # what fits in one UDP datagram over IPv4, with room for the headers

# Text a hostile device puts in its strings: clear screen, OSC 52 (write the clipboard), a title,
# an 8-bit CSI, bidi override, BEL, backspaces, a hyperlink, CR LF, NUL.
ESCAPES = (b'\x1b[2J\x1b[H\x1b]52;c;ZXZpbA==\x07\x1b]0;pwned\x1b\\\xc2\x9b31m\xe2\x80\xae'
           b'\x07\x08\x08\x1b]8;;http://evil.example/\x1b\\link\x1b]8;;\x1b\\\r\n=cmd|x\x00')


def enc_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([0x80 | len(b)]) + b


def tlv(tag, body):
    return bytes([tag]) + enc_len(len(body)) + body


def enc_int(tag, v):
    n = ((v if v >= 0 else ~v).bit_length()) // 8 + 1  # the shortest two's complement
    return tlv(tag, v.to_bytes(n, 'big', signed=True))


def enc_uint(tag, v):
    b = v.to_bytes(max(1, (v.bit_length() + 7) // 8), 'big')
    if b[0] & 0x80:
        b = b'\x00' + b
    return tlv(tag, b)


def enc_oid(arcs):
    body = bytes([arcs[0] * 40 + arcs[1]])
    for a in arcs[2:]:
        chunk = [a & 0x7F]
        a >>= 7
        while a:
            chunk.append(0x80 | (a & 0x7F))
            a >>= 7
        body += bytes(reversed(chunk))
    return tlv(OID, body)


def dec_tlv(data, pos):
    """Returns (tag, body_start, body_end) of the TLV at pos."""
    tag = data[pos]
    n = data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4:
            raise ValueError('bad length')
        n = int.from_bytes(data[pos:pos + k], 'big')
        pos += k
    if pos + n > len(data):
        raise ValueError('truncated')
    return tag, pos, pos + n


def dec_int(body):
    return int.from_bytes(body, 'big', signed=True) if body else 0


def dec_oid(body):
    if not body:
        return [0, 0]
    arcs = [body[0] // 40, body[0] % 40] if body[0] < 80 else [2, body[0] - 80]
    v = 0
    for b in body[1:]:
        v = (v << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(v)
            v = 0
    return arcs


def oid(text):
    return [int(x) for x in text.strip('.').split('.')]


def printer_mib(mode, port):
    """The MIB of a small, well-behaved printer: {dotted OID: (tag, value)}."""
    m = mode.encode()
    mib = {
        '1.3.6.1.2.1.1.1.0': (OCTETS, b'BadAgent test printer (%s OIDs)' % m),
        '1.3.6.1.2.1.1.2.0': (OID, '1.3.6.1.4.1.99998.1'),
        '1.3.6.1.2.1.1.4.0': (OCTETS, b'fleetcon tests'),
        '1.3.6.1.2.1.1.5.0': (OCTETS, b'badagent-%s' % m),
        '1.3.6.1.2.1.1.6.0': (OCTETS, b'loopback'),
        '1.3.6.1.2.1.2.2.1.6.1': (OCTETS, bytes.fromhex('02badaa9e0%02x' % (port & 0xFF))),
        '1.3.6.1.2.1.25.3.2.1.2.1': (OID, '1.3.6.1.2.1.25.3.1.5'),
        '1.3.6.1.2.1.25.3.2.1.3.1': (OCTETS, b'BadAgent Model 1'),
        '1.3.6.1.2.1.25.3.2.1.5.1': (INTEGER, 2),
        '1.3.6.1.2.1.25.3.5.1.1.1': (INTEGER, 3),
        '1.3.6.1.2.1.25.3.5.1.2.1': (OCTETS, b'\x00'),
        '1.3.6.1.2.1.43.5.1.1.16.1': (OCTETS, b'BadAgent Model 1'),
        '1.3.6.1.2.1.43.5.1.1.17.1': (OCTETS, b'BADAGENT-%s-%d' % (m, port)),
        '1.3.6.1.2.1.43.5.1.1.18.1': (INTEGER, 1),
        '1.3.6.1.2.1.43.5.1.1.19.1': (INTEGER, 1),
        '1.3.6.1.2.1.43.10.2.1.3.1.1': (INTEGER, 7),
        '1.3.6.1.2.1.43.10.2.1.4.1.1': (COUNTER32, 1000),
        '1.3.6.1.2.1.43.12.1.1.4.1.1': (OCTETS, b'black'),
    }
    # covers: descr, status (4 closed)
    for i, name in ((1, b'Front Cover'), (2, b'Rear Door')):
        mib['1.3.6.1.2.1.43.6.1.1.2.1.%d' % i] = (OCTETS, name)
        mib['1.3.6.1.2.1.43.6.1.1.3.1.%d' % i] = (INTEGER, 4)
    # trays: unit, max, level, status, media, name, description
    for i, name, level in ((1, b'Tray 1', 250), (2, b'Bypass', -3)):
        for col, val in ((8, (INTEGER, 8)), (9, (INTEGER, 500)), (10, (INTEGER, level)), (11, (INTEGER, 0)),
                         (12, (OCTETS, b'A4')), (13, (OCTETS, name)), (18, (OCTETS, name + b' paper tray'))):
            mib['1.3.6.1.2.1.43.8.2.1.%d.1.%d' % (col, i)] = val
    # supplies: class, type, description, unit, max, level
    for i, descr, typ, klass, level in ((1, b'Black Toner', 3, 3, 60), (2, b'Waste Toner Box', 4, 4, 90)):
        for col, val in ((3, (INTEGER, 1 if i == 1 else 0)), (4, (INTEGER, klass)), (5, (INTEGER, typ)),
                         (6, (OCTETS, descr)), (7, (INTEGER, 19)), (8, (INTEGER, 100)), (9, (INTEGER, level))):
            mib['1.3.6.1.2.1.43.11.1.1.%d.1.%d' % (col, i)] = val
    return mib


# Wrong types, in turn: never the type the OID really has.
WRONG = [
    (OCTETS, b'\x1b[31m42\x1b[0m\x07'), (INTEGER, -2147483648), (OID, '1.3.6.1.4.1.666.1'),
    (IPADDRESS, b'\x0a\x00\x00\x01'), (COUNTER64, 2 ** 64 - 1), (OPAQUE, b'\x9f\x78\x04\x42\xf6\x00\x00'),
    (NULL, None), (TIMETICKS, 4294967295), (GAUGE32, 4294967295), (INTEGER, 2147483647),
    (OCTETS, b'-5'), (COUNTER32, 0),
]

def hostile_mib(mode, port, good):
    """The printer's MIB turned hostile for mode (a copy; good is not changed)."""
    mib = dict(good)
    if mode == 'wrongtypes':
        for k, key in enumerate(sorted(mib, key=oid)):
            tag, _ = mib[key]
            choices = [w for w in WRONG if w[0] != tag]
            mib[key] = choices[k % len(choices)]
    elif mode == 'huge':
        for key, (tag, v) in mib.items():
            if tag == OCTETS and not key.startswith(('1.3.6.1.2.1.43.5.1.1.17.', '1.3.6.1.2.1.2.2.1.6.')):
                mib[key] = (OCTETS, (ESCAPES * (65000 // len(ESCAPES) + 1))[:65000])
    return mib


class Agent:
    def __init__(self, mode, fixed_oid, value_size, port, start_good=False, delay_ms=400,
                 counter_seq=(400, 4294967295, 5)):
        self.mode = mode
        self.fixed = oid(fixed_oid)
        self.value_size = value_size
        self.port = port
        self.requests = 0
        self.started = time.monotonic()
        self.delay = delay_ms / 1000.0
        self.counter_seq = list(counter_seq)
        self.polls = 0
        self.garbage_turn = 0
        self.good = printer_mib(mode, port)
        self.hostile = hostile_mib(mode, port, self.good)
        self.active = 'good' if start_good else mode

    def turn_hostile(self):
        self.active = self.mode
        self.polls = 0  # the counter's values start with the first poll after the turn

    def mib(self):
        return self.good if self.active == 'good' else self.hostile

    def value(self, arcs):
        key = '.'.join(map(str, arcs))
        if key == '1.3.6.1.2.1.1.3.0':
            return TIMETICKS, int((time.monotonic() - self.started) * 100)
        if key == '1.3.6.1.4.1.99998.9.1.0':
            return COUNTER32, self.requests
        if key == '1.3.6.1.2.1.43.10.2.1.4.1.1' and self.active == 'counter' and self.polls:
            return COUNTER32, self.counter_seq[min(self.polls, len(self.counter_seq)) - 1]
        return self.mib().get(key)

    def walks_in_order(self):
        return self.active not in ('fixed', 'backwards', 'endless')

    def next_oid(self, arcs):
        if self.walks_in_order():
            keys = self.sorted_keys()
            i = bisect.bisect_right(keys, tuple(arcs))
            return list(keys[i]) if i < len(keys) else None
        if self.active == 'fixed':
            return list(self.fixed)
        if self.active == 'backwards':
            out = list(arcs)
            out[-1] = max(0, out[-1] - 1)
            return out
        # endless: go one level down until the OID has a row index, then count rows up
        if len(arcs) < 13:
            return list(arcs) + [1]
        return list(arcs[:-1]) + [arcs[-1] + 1]

    def sorted_keys(self):
        mib = self.mib()
        if getattr(self, '_keys_for', None) is not mib:
            self._keys = sorted([tuple(oid(k)) for k in mib] + [tuple(oid('1.3.6.1.2.1.1.3.0'))])
            self._keys_for = mib
        return self._keys

    def next_value(self, arcs):
        if arcs is None:
            return END_OF_MIB, None
        found = self.value(arcs)
        if found:
            return found
        row = arcs[-1]
        text = (b'row %d ' % row) * (self.value_size // 6 + 1)
        return OCTETS, text[:self.value_size]

    @staticmethod
    def enc_value(tag, v):
        if tag in (OCTETS, IPADDRESS, OPAQUE):
            return tlv(tag, v)
        if tag == OID:
            return enc_oid(oid(v))
        if tag == INTEGER:
            return enc_int(INTEGER, v)
        if tag in (COUNTER32, GAUGE32, TIMETICKS, COUNTER64):
            return enc_uint(tag, v)
        return tlv(tag, b'')

    def garble(self, reply, reqid):
        """A malformed answer, a different kind each time."""
        self.garbage_turn += 1
        kind = self.garbage_turn % 6
        if kind == 0:
            return reply[:len(reply) // 2]                       # cut short
        if kind == 1:
            return bytes([SEQ, 0x84, 0x7f, 0xff, 0xff, 0xff]) + reply[2:]  # longer than the packet
        if kind == 2:
            return bytes([0x31]) + reply[1:]                     # a SET OF, not a SEQUENCE
        if kind == 3:                                            # another request's answer
            return reply.replace(enc_int(INTEGER, reqid), enc_int(INTEGER, (reqid + 7) & 0x7fffffff), 1)
        if kind == 4:
            return tlv(SEQ, enc_int(INTEGER, 3) + reply[5:])     # SNMPv3 with a v2c body
        return os.urandom(len(reply))

    def handle(self, data):
        tag, s, e = dec_tlv(data, 0)
        if tag != SEQ:
            return None
        t, vs, ve = dec_tlv(data, s)
        version = dec_int(data[vs:ve])
        if version not in (0, 1):
            return None
        t, cs, ce = dec_tlv(data, ve)
        community = data[cs:ce]
        pdu_tag, ps, pe = dec_tlv(data, ce)
        t, a, b = dec_tlv(data, ps)
        reqid = dec_int(data[a:b])
        t, a2, b2 = dec_tlv(data, b)
        nonrep = dec_int(data[a2:b2])
        t, a3, b3 = dec_tlv(data, b2)
        maxrep = dec_int(data[a3:b3])
        t, ls, le = dec_tlv(data, b3)
        names = []
        pos = ls
        while pos < le:
            t, vbs, vbe = dec_tlv(data, pos)
            t, os_, oe = dec_tlv(data, vbs)
            names.append(dec_oid(data[os_:oe]))
            pos = vbe
        self.requests += 1
        if self.active == 'silent':
            return None
        if pdu_tag == GET and [1, 3, 6, 1, 2, 1, 1, 1, 0] in names:
            self.polls += 1  # a poll starts with the scalars

        out = []
        err_status, err_index = 0, 0
        if pdu_tag == GET:
            for i, n in enumerate(names):
                found = self.value(n)
                if found:
                    out.append((n, found))
                elif version == 0:
                    err_status, err_index = 2, i + 1  # noSuchName
                    break
                else:
                    out.append((n, (NO_SUCH_OBJECT, None)))
        elif pdu_tag == GETNEXT or (pdu_tag == GETBULK and version == 1):
            if pdu_tag == GETNEXT:
                nonrep, maxrep = len(names), 0
            nonrep = max(0, min(nonrep, len(names)))
            maxrep = max(0, maxrep)
            for n in names[:nonrep]:
                nx = self.next_oid(n)
                out.append((nx or n, self.next_value(nx)))
            reps = names[nonrep:]
            cur = list(reps)
            for _ in range(maxrep):
                if len(out) + len(cur) > MAX_VARBINDS:
                    break
                nxt = []
                for n in cur:
                    nx = self.next_oid(n)
                    out.append((nx or n, self.next_value(nx)))
                    nxt.append(nx or n)
                cur = nxt
        else:
            err_status = 5  # genErr (SET and anything else)
            out = [(n, (NULL, None)) for n in names]

        limit = MAX_DATAGRAM if self.active == 'huge' else MAX_RESPONSE
        while True:
            vbl = b''.join(tlv(SEQ, enc_oid(n) + self.enc_value(*v)) for n, v in out)
            if len(vbl) < limit or len(out) <= 1:
                break
            if pdu_tag == GET:
                err_status, err_index = 1, 0  # tooBig: a GET answers all or nothing
                break
            out = out[:len(out) // 2]
        if err_status:
            vbl = b''.join(tlv(SEQ, enc_oid(n) + tlv(NULL, b'')) for n in names)
        pdu = tlv(RESPONSE, enc_int(INTEGER, reqid) + enc_int(INTEGER, err_status) +
                  enc_int(INTEGER, err_index) + tlv(SEQ, vbl))
        reply = tlv(SEQ, enc_int(INTEGER, version) + tlv(OCTETS, community) + pdu)
        if len(reply) > MAX_DATAGRAM:  # one string alone too long: say tooBig, as an agent must
            pdu = tlv(RESPONSE, enc_int(INTEGER, reqid) + enc_int(INTEGER, 1) + enc_int(INTEGER, 0) +
                      tlv(SEQ, b''.join(tlv(SEQ, enc_oid(n) + tlv(NULL, b'')) for n in names)))
            reply = tlv(SEQ, enc_int(INTEGER, version) + tlv(OCTETS, community) + pdu)
        if self.active == 'garbage':
            return self.garble(reply, reqid)
        return reply


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--listen', default='127.0.0.1:0', help='ADDRESS:PORT (port 0 picks one)')
    p.add_argument('--mode', choices=['fixed', 'endless', 'backwards', 'good', 'wrongtypes', 'huge',
                                      'counter', 'garbage', 'slow', 'silent'], default='fixed')
    p.add_argument('--fixed-oid', default='1.3.6.1.2.1.43.11.1.1.6.1.1')
    p.add_argument('--value-size', type=int, default=32, help='bytes per value in endless mode')
    p.add_argument('--start-good', action='store_true', help='a good printer until SIGUSR1')
    p.add_argument('--delay-ms', type=int, default=400, help='how late each answer leaves (slow)')
    p.add_argument('--counter-seq', default='400,4294967295,5', help='life counts, one per poll (counter)')
    p.add_argument('--ready-file', help='file that receives the bound port once listening')
    args = p.parse_args()

    host, _, port = args.listen.rpartition(':')
    sock = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    sock.bind((host.strip('[]'), int(port)))
    bound = sock.getsockname()[1]
    agent = Agent(args.mode, args.fixed_oid, args.value_size, bound, args.start_good, args.delay_ms,
                  [int(x) for x in args.counter_seq.split(',')])

    def stop(signum, frame):
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGUSR1, lambda signum, frame: agent.turn_hostile())

    if args.ready_file:
        tmp = args.ready_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write('%d\n' % bound)
        os.rename(tmp, args.ready_file)
    print('listening %s:%d mode %s' % (host, bound, args.mode), flush=True)

    pending = []  # (due, seq, reply, peer): answers held back in slow mode
    seq = 0
    while True:
        timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else None
        try:
            ready, _, _ = select.select([sock], [], [], timeout)
        except InterruptedError:
            continue
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, reply, peer = heapq.heappop(pending)
            sock.sendto(reply, peer)
        if not ready:
            continue
        data, peer = sock.recvfrom(65535)
        try:
            reply = agent.handle(data)
        except (ValueError, IndexError):
            continue  # not SNMP we understand: drop, as agents do
        if not reply:
            continue
        if agent.active == 'slow':
            seq += 1
            heapq.heappush(pending, (now + agent.delay, seq, reply, peer))
        else:
            sock.sendto(reply, peer)


if __name__ == '__main__':
    main()
