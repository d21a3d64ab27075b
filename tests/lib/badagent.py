#!/usr/bin/python3
"""A misbehaving SNMP v1/v2c agent for integration tests (standard library only, hand-rolled BER).

GET answers like a small printer (sysDescr, sysObjectID, hrDeviceType = printer, serial, life
count), so discovery finds it and a poll walks it. GETNEXT and GETBULK misbehave:

  --mode fixed    every next OID is the same fixed OID (--fixed-oid, default prtMarkerSupplies-
                  Description.1.1): a walk that started before it sees it once, then again (not
                  increasing); a walk that started after it sees it go backwards.
  --mode endless  every next OID increases but never leaves the subtree asked for: a table without
                  end (rows .1, .2, .3, ... of the requested column), values of --value-size bytes.
  --mode backwards every next OID is the requested OID with its last arc minus one.

  badagent.py --listen 127.0.0.1:0 --mode fixed --ready-file /tmp/x/ready

The port actually bound is written to --ready-file (atomically) and printed on stdout once the
socket is listening. A GET of 1.3.6.1.4.1.99998.9.1.0 answers the number of requests received so
far (Counter32), so a test can check how many packets a bounded walk took. Runs until SIGTERM or
SIGINT. Any community is accepted.
"""
import argparse
import os
import signal
import socket
import sys
import time

# BER tags
INTEGER, OCTETS, NULL, OID, SEQ = 0x02, 0x04, 0x05, 0x06, 0x30
COUNTER32, GAUGE32, TIMETICKS = 0x41, 0x42, 0x43
NO_SUCH_OBJECT, END_OF_MIB = 0x80, 0x82
GET, GETNEXT, RESPONSE, SET, GETBULK = 0xA0, 0xA1, 0xA2, 0xA3, 0xA5

MAX_VARBINDS = 100
MAX_RESPONSE = 60000


def enc_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([0x80 | len(b)]) + b


def tlv(tag, body):
    return bytes([tag]) + enc_len(len(body)) + body


def enc_int(tag, v):
    n = max(1, (v.bit_length() + 8) // 8)
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


class Agent:
    def __init__(self, mode, fixed_oid, value_size, port):
        self.mode = mode
        self.fixed = oid(fixed_oid)
        self.value_size = value_size
        self.requests = 0
        self.started = time.monotonic()
        self.scalars = {
            '1.3.6.1.2.1.1.1.0': (OCTETS, b'BadAgent test printer (%s OIDs)' % mode.encode()),
            '1.3.6.1.2.1.1.2.0': (OID, '1.3.6.1.4.1.99998.1'),
            '1.3.6.1.2.1.1.4.0': (OCTETS, b'fleetcon tests'),
            '1.3.6.1.2.1.1.5.0': (OCTETS, b'badagent-%s' % mode.encode()),
            '1.3.6.1.2.1.1.6.0': (OCTETS, b'loopback'),
            '1.3.6.1.2.1.2.2.1.6.1': (OCTETS, bytes.fromhex('02badaa9e0%02x' % (port & 0xFF))),
            '1.3.6.1.2.1.25.3.2.1.2.1': (OID, '1.3.6.1.2.1.25.3.1.5'),
            '1.3.6.1.2.1.25.3.2.1.3.1': (OCTETS, b'BadAgent Model 1'),
            '1.3.6.1.2.1.25.3.2.1.5.1': (INTEGER, 2),
            '1.3.6.1.2.1.25.3.5.1.1.1': (INTEGER, 3),
            '1.3.6.1.2.1.25.3.5.1.2.1': (OCTETS, b'\x00'),
            '1.3.6.1.2.1.43.5.1.1.16.1': (OCTETS, b'BadAgent Model 1'),
            '1.3.6.1.2.1.43.5.1.1.17.1': (OCTETS, b'BADAGENT-%s-%d' % (mode.encode(), port)),
            '1.3.6.1.2.1.43.5.1.1.18.1': (INTEGER, 1),
            '1.3.6.1.2.1.43.5.1.1.19.1': (INTEGER, 1),
            '1.3.6.1.2.1.43.10.2.1.3.1.1': (INTEGER, 7),
            '1.3.6.1.2.1.43.10.2.1.4.1.1': (COUNTER32, 1000),
        }

    def value(self, arcs):
        key = '.'.join(map(str, arcs))
        if key == '1.3.6.1.2.1.1.3.0':
            return TIMETICKS, int((time.monotonic() - self.started) * 100)
        if key == '1.3.6.1.4.1.99998.9.1.0':
            return COUNTER32, self.requests
        return self.scalars.get(key)

    def next_oid(self, arcs):
        if self.mode == 'fixed':
            return list(self.fixed)
        if self.mode == 'backwards':
            out = list(arcs)
            out[-1] = max(0, out[-1] - 1)
            return out
        # endless: go one level down until the OID has a row index, then count rows up
        if len(arcs) < 13:
            return list(arcs) + [1]
        return list(arcs[:-1]) + [arcs[-1] + 1]

    def next_value(self, arcs):
        found = self.value(arcs)
        if found:
            return found
        row = arcs[-1]
        text = (b'row %d ' % row) * (self.value_size // 6 + 1)
        return OCTETS, text[:self.value_size]

    @staticmethod
    def enc_value(tag, v):
        if tag == OCTETS:
            return tlv(OCTETS, v)
        if tag == OID:
            return enc_oid(oid(v))
        if tag == INTEGER:
            return enc_int(INTEGER, v)
        if tag in (COUNTER32, GAUGE32, TIMETICKS):
            return enc_uint(tag, v)
        return tlv(tag, b'')

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
                out.append((nx, self.next_value(nx)))
            reps = names[nonrep:]
            cur = list(reps)
            for _ in range(maxrep):
                if len(out) + len(cur) > MAX_VARBINDS:
                    break
                nxt = []
                for n in cur:
                    nx = self.next_oid(n)
                    out.append((nx, self.next_value(nx)))
                    nxt.append(nx)
                cur = nxt
        else:
            err_status = 5  # genErr (SET and anything else)
            out = [(n, (NULL, None)) for n in names]

        while True:
            vbl = b''.join(tlv(SEQ, enc_oid(n) + self.enc_value(*v)) for n, v in out)
            if len(vbl) < MAX_RESPONSE or len(out) <= 1:
                break
            out = out[:len(out) // 2]
        if err_status:
            vbl = b''.join(tlv(SEQ, enc_oid(n) + tlv(NULL, b'')) for n in names)
        pdu = tlv(RESPONSE, enc_int(INTEGER, reqid) + enc_int(INTEGER, err_status) +
                  enc_int(INTEGER, err_index) + tlv(SEQ, vbl))
        return tlv(SEQ, enc_int(INTEGER, version) + tlv(OCTETS, community) + pdu)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--listen', default='127.0.0.1:0', help='ADDRESS:PORT (port 0 picks one)')
    p.add_argument('--mode', choices=['fixed', 'endless', 'backwards'], default='fixed')
    p.add_argument('--fixed-oid', default='1.3.6.1.2.1.43.11.1.1.6.1.1')
    p.add_argument('--value-size', type=int, default=32, help='bytes per value in endless mode')
    p.add_argument('--ready-file', help='file that receives the bound port once listening')
    args = p.parse_args()

    host, _, port = args.listen.rpartition(':')
    sock = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host.strip('[]'), int(port)))
    bound = sock.getsockname()[1]
    agent = Agent(args.mode, args.fixed_oid, args.value_size, bound)

    def stop(signum, frame):
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    if args.ready_file:
        tmp = args.ready_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write('%d\n' % bound)
        os.rename(tmp, args.ready_file)
    print('listening %s:%d mode %s' % (host, bound, args.mode), flush=True)

    while True:
        data, peer = sock.recvfrom(65535)
        try:
            reply = agent.handle(data)
        except (ValueError, IndexError):
            continue  # not SNMP we understand: drop, as agents do
        if reply:
            sock.sendto(reply, peer)


if __name__ == '__main__':
    main()
