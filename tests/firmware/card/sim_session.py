"""Firmware side of the card-layer tests against the virtual PN532 (not a test module itself).

Runs the real firmware card layer (CardService -> Iso14443 -> PN532 -> HsuBus) on the unix
board's socket stream. Reads one JSON command per line on stdin and answers one line
"@@ <json>" on stdout, so that a pytest driver can change the virtual PN532's fault knobs
between steps. Usage: sim_session.py SOCKET_PATH
"""

import gc
import json
import sys
from binascii import hexlify, unhexlify

from reader import clock
from reader.card.service import CardService
from reader.errors import Cancelled, ReaderFault


def _hex(b):
    return None if b is None else hexlify(b).decode()


def _plain(v):
    if isinstance(v, (bytes, bytearray, memoryview)):
        return _hex(bytes(v))
    if isinstance(v, dict):
        return {k: _plain(v[k]) for k in v}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


class SocketStream:
    """The board Stream contract over an AF_UNIX socket (a leaner twin of the unix board's,
    so that the 64 KiB heap holds the card layer and the soak, not a second copy of the board)."""

    def __init__(self, path):
        import select
        import socket
        import struct

        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if sys.implementation.name == "micropython":
            s.connect(struct.pack("H", socket.AF_UNIX) + path.encode() + b"\x00")
        else:
            s.connect(path)
        s.setblocking(False)
        self.s = s
        self.p = select.poll()
        self.p.register(s, select.POLLIN)
        self.rx = getattr(s, "recv_into", None) or s.readinto

    def poll(self, timeout_ms):
        return bool(self.p.poll(timeout_ms))

    def readinto(self, buf):
        try:
            return self.rx(buf) or 0
        except OSError:
            return 0

    def write(self, buf):
        mv = memoryview(buf)
        while mv:
            try:
                n = self.s.send(mv)
            except OSError:
                n = 0
            if n:
                mv = mv[n:]

    def set_baudrate(self, baud):
        self.baud = baud


class Board:
    name = "sim-test"
    # The virtual PN532 is a thread in another process: allow for its scheduling on a busy
    # machine on top of the 15 ms of UM0701-02 §6.2.3.
    pn532_ack_slack_ms = 60

    def __init__(self, path, fast_baud=None):
        self.path = path
        self.pn532_fast_baud = fast_baud

    def open_pn532(self):
        return SocketStream(self.path)


class Ctx:
    def __init__(self):
        self.events = []
        self.keepalives = 0
        self.cancel_at = None

    def emit(self, op, body):
        self.events.append([op, _plain(body)])

    def keepalive(self, wait_ms=0):
        self.keepalives += 1
        if self.cancel_at is not None and self.keepalives >= self.cancel_at:
            self.cancel_at = None
            raise Cancelled("cancelled by request")
        if wait_ms:
            clock.sleep_ms(wait_ms)


def soak(svc, ctx, n, apdu, resp_len):
    """n APDUs whose answer must be bytes 0..resp_len-1 then 90 00; heap measured after a
    warm-up, so that only growth during the run counts."""
    expect = bytearray(resp_len + 2)
    for i in range(resp_len):
        expect[i] = i & 0xFF
    expect[resp_len] = 0x90
    expect = bytes(expect)
    for _ in range(50):
        svc.transmit(ctx, apdu)
    gc.collect()
    free0 = gc.mem_free() if hasattr(gc, "mem_free") else 0
    peak = 0
    bad = 0
    t0 = clock.ticks_ms()
    for _ in range(n):
        if svc.transmit(ctx, apdu) != expect:
            bad += 1
        if hasattr(gc, "mem_alloc"):
            a = gc.mem_alloc()
            peak = max(peak, a)
    ms = clock.ticks_diff(clock.ticks_ms(), t0)
    gc.collect()
    free1 = gc.mem_free() if hasattr(gc, "mem_free") else 0
    try:
        import micropython

        micropython.mem_info()
    except (ImportError, AttributeError):
        pass
    return {"n": n, "bad": bad, "free_before": free0, "free_after": free1, "peak_alloc": peak, "ms": ms}


def run(svc, ctx, cmd):  # noqa: C901, PLR0911 - one branch per driver op
    op = cmd["op"]
    if op == "start":
        svc.start()
        return svc.frontend_name()
    if op == "wait":
        return _plain(svc.wait_card(ctx, cmd["timeout_ms"]))
    if op == "apdu":
        return svc.transmit(ctx, unhexlify(cmd["hex"]))
    if op == "batch":
        apdus = [unhexlify(h) for h in cmd["apdus"]]
        return [_hex(r) for r in svc.transmit_batch(ctx, apdus, cmd.get("continue", [0x9000]))]
    if op == "release":
        svc.release(ctx)
        return None
    if op == "idle":
        t0 = clock.ticks_ms()
        while clock.ticks_diff(clock.ticks_ms(), t0) < cmd["ms"]:
            svc.idle(ctx)
            clock.sleep_ms(10)
        return None
    if op == "events":
        ev = ctx.events
        ctx.events = []
        return ev
    if op == "cancel_at":
        ctx.keepalives = 0
        ctx.cancel_at = cmd["n"]
        return None
    if op == "stats":
        c = svc.dev.chip
        return {"resends": c.resends, "acks_missed": c.acks_missed, "nacks": c.nacks, "aborts": c.aborts,
                "timeouts": c.timeouts,
                "reinits": svc.dev.reinits, "bad_frames": c.parser.bad, "active": svc.card is not None}
    if op == "mem":
        gc.collect()
        return {"alloc": gc.mem_alloc(), "free": gc.mem_free()}
    if op == "soak":
        return soak(svc, ctx, cmd["n"], unhexlify(cmd["hex"]), cmd["resp_len"])
    raise ValueError("unknown op " + op)


def main():
    svc = CardService(Board(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None))
    ctx = Ctx()
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        cmd = json.loads(line)
        if cmd["op"] == "quit":
            return
        try:
            res = run(svc, ctx, cmd)
        except ReaderFault as exc:
            out = {"err": exc.code, "name": type(exc).__name__, "message": exc.message,
                   "detail": _plain(exc.detail)}
            print("@@ " + json.dumps(out))
            continue
        if isinstance(res, bytes):
            # Hex in small pieces: one big string would fragment the 64 KiB heap more than the
            # firmware under test does.
            w = sys.stdout.write
            w('@@ {"ok": "')
            mv = memoryview(res)
            for i in range(0, len(res), 32):
                w(hexlify(mv[i : i + 32]).decode())
            w('"}\n')
            res = None
            continue
        print("@@ " + json.dumps({"ok": res}))


main()
