"""A small scripted reader for client tests: speaks SPEC.md §2–§3 on the master side of a real pty.

Written independently of partycard.link (COBS from the Cheshire–Baker description, zlib's CRC-32,
cbor2's canonical encoder), so that the client is checked against the spec, not against itself.
"""

from __future__ import annotations

import os
import pty
import queue
import select
import struct
import threading
import tty
import zlib
from collections.abc import Callable
from typing import Any

import cbor2


def cobs(data: bytes) -> bytes:
    # Each zero-terminated segment becomes blocks of at most 254 bytes; the last segment ends in a
    # phantom zero that is not encoded, so a full 254-byte last block needs no trailing code byte.
    out = bytearray()
    segments = data.split(b"\x00")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        seg = segment
        while len(seg) > 254 or (len(seg) == 254 and not last):
            out += b"\xff" + seg[:254]
            seg = seg[254:]
        out += (b"\xff" if len(seg) == 254 else bytes([len(seg) + 1])) + seg
    return bytes(out)


def uncobs(run: bytes) -> bytes | None:
    out = bytearray()
    i = 0
    while i < len(run):
        code = run[i]
        if code == 0 or i + code > len(run):
            return None
        out += run[i + 1 : i + code]
        i += code
        if code < 0xFF and i < len(run):
            out.append(0)
    return bytes(out)


def frame(payload: bytes) -> bytes:
    return cobs(payload + struct.pack("<I", zlib.crc32(payload))) + b"\x00"


def unframe(run: bytes) -> bytes | None:
    raw = uncobs(run)
    if raw is None or len(raw) < 5:
        return None
    payload, crc = raw[:-4], raw[-4:]
    return payload if struct.pack("<I", zlib.crc32(payload)) == crc else None


def msg(
    kind: int,
    ident: int | None,
    op: str | None,
    *,
    body: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
    version: int = 1,
) -> bytes:
    env: dict[int, Any] = {0: version, 1: kind}
    if ident is not None:
        env[2] = ident
    if op is not None:
        env[3] = op
    if body is not None:
        env[4] = body
    if error is not None:
        env[5] = error
    return cbor2.dumps(env, canonical=True)


def response(req: dict[int, Any], body: dict[str, Any]) -> bytes:
    return frame(msg(1, req[2], req[3], body=body))


def error(req: dict[int, Any] | None, code: int, message: str = "x", **detail: Any) -> bytes:
    ident = req[2] if req is not None else None
    op = req[3] if req is not None else None
    return frame(msg(3, ident, op, error={"code": code, "message": message, **detail}))


def event(seq: int, op: str, body: dict[str, Any]) -> bytes:
    return frame(msg(2, seq, op, body=body))


HELLO_BODY: dict[str, Any] = {
    "protocol": 1,
    "firmware": "0.0-test",
    "serial": "PEER-1",
    "max_payload": 2048,
    "frontend": None,
    "ops": ["hello", "ping"],
    "boot_id": b"\x01" * 8,
    "board": "peer",
}

Handler = Callable[["Peer", dict[int, Any]], None]


class Peer:
    """Serves requests read from a pty with ``handler(peer, request_envelope)``.

    ``requests`` records every decoded request. ``send(raw)`` writes raw bytes (frames or noise).
    """

    def __init__(self, handler: Handler) -> None:
        self.master, slave = pty.openpty()
        tty.setraw(slave)
        self._slave = slave
        self.port = os.ttyname(slave)
        self.handler = handler
        self.requests: list[dict[int, Any]] = []
        self.received: queue.Queue[dict[int, Any]] = queue.Queue()
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def send(self, raw: bytes) -> None:
        os.write(self.master, raw)

    def _run(self) -> None:
        buf = bytearray()
        while True:
            ready, _, _ = select.select([self.master, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            buf += data
            while b"\x00" in buf:
                run, _, rest = bytes(buf).partition(b"\x00")
                buf = bytearray(rest)
                payload = unframe(run) if run else None
                if payload is None:
                    continue
                req = cbor2.loads(payload)
                self.requests.append(req)
                self.received.put(req)
                self.handler(self, req)

    def hang_up(self) -> None:
        """Close every descriptor of the pty, as an unplugged reader does."""
        self.close()

    def close(self) -> None:
        if self._stop_w < 0:
            return
        os.write(self._stop_w, b"x")
        self._thread.join(timeout=2)
        for fd in (self.master, self._slave, self._stop_r, self._stop_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._stop_w = -1


def hello_then(handler: Handler) -> Handler:
    """Answer hello with HELLO_BODY and pass every other request to ``handler``."""

    def serve(peer: Peer, req: dict[int, Any]) -> None:
        if req[3] == "hello":
            peer.send(response(req, HELLO_BODY))
        else:
            handler(peer, req)

    return serve
