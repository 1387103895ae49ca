"""Board layer: picks the board module and provides the stdio Stream. The only layer near machine.

A board module defines ``Board`` with attributes ``name``, ``serial`` (text), ``link`` (a Stream),
``has_frontend`` (bool) and methods ``open_pn532()`` (a Stream or None) or ``pn532_bus()``,
``outputs(green, red, tone_hz)`` (status LEDs and buzzer), ``watchdog()`` (an object with
``feed()``) and ``reset()``. ``Board(name, stored)`` gets its pin map's name (``boards/<name>.json``)
and the stored config.

A Stream has ``write(buf)`` (writes everything), ``readinto(buf)`` (non-blocking: the count read,
0 when nothing; EOFError when the link is gone for good), ``poll(timeout_ms)`` (readable within the
timeout), ``set_baudrate(baud)`` and ``close()``.
"""

import os
import select
import sys


def load(name=None, stored=None):
    """The board ``name``, else the one named in the stored config (``reader.config``), else env
    PARTYCARD_BOARD, else the platform's: ``unix`` on a PC, an ESP32 pin map on a board (esp32.py
    picks it). ``stored`` is the config dict (None: read it)."""
    if stored is None:
        from reader import config

        stored = config.load()
    getenv = getattr(os, "getenv", None)
    name = name or stored.get("board") or (getenv("PARTYCARD_BOARD") if getenv is not None else None)
    if name == "unix" or (not name and sys.platform in ("linux", "darwin")):
        from reader.boards import unix

        return unix.Board(None, stored)  # a PC has no pins: its pin map is not read
    from reader.boards import esp32

    return esp32.Board(name, stored)


class Poller:
    """poll(timeout_ms) over one object; ipoll where it exists, as it allocates nothing."""

    def __init__(self, obj):
        self._poll = select.poll()
        self._poll.register(obj, select.POLLIN)
        self._ipoll = getattr(self._poll, "ipoll", None)

    def readable(self, timeout_ms):
        if self._ipoll is not None:
            for _ in self._ipoll(timeout_ms):
                return True
            return False
        return bool(self._poll.poll(timeout_ms))


class StdioStream:
    """The process's (or REPL port's) stdin/stdout as a raw binary Stream.

    MicroPython's ``stdin.buffer.readinto(buf)`` blocks until ``len(buf)`` bytes arrived even after
    poll said readable (micropython#16550), so bytes are taken one at a time while poll says more
    are there, into a preallocated one-byte buffer. CPython reads what is there with os.readv.
    """

    def __init__(self, rfile=None, wfile=None):
        self._in = rfile if rfile is not None else sys.stdin.buffer
        self._out = wfile if wfile is not None else sys.stdout.buffer
        self._poll = Poller(self._in)
        self._one = bytearray(1)
        self._readv = getattr(os, "readv", None)
        self._write = getattr(os, "write", None)
        self._fd_in = self._in.fileno() if self._readv is not None else -1
        self._fd_out = self._out.fileno() if self._write is not None else -1

    def poll(self, timeout_ms):
        return self._poll.readable(timeout_ms)

    def readinto(self, buf):
        if not self._poll.readable(0):
            return 0
        if self._readv is not None:
            try:
                n = self._readv(self._fd_in, [buf])
            except OSError:
                raise EOFError("link closed") from None  # a pty whose other side closed: EIO
            if n == 0:
                raise EOFError("link closed")
            return n
        return self._readinto_bytewise(buf)

    def _readinto_bytewise(self, buf):
        one = self._one
        n = 0
        cap = len(buf)
        while n < cap:
            if n and not self._poll.readable(0):
                break
            try:
                got = self._in.readinto(one)
            except OSError:
                got = 0
            if not got:
                if n:
                    break
                raise EOFError("link closed")
            buf[n] = one[0]
            n += 1
        return n

    def write(self, buf):
        try:
            if self._write is None:
                self._out.write(buf)  # MicroPython's stdio write returns only when all is written
                return
            mv = memoryview(buf)
            while len(mv) > 0:
                mv = mv[self._write(self._fd_out, mv) :]
        except OSError:
            raise EOFError("link closed") from None  # e.g. EIO: the pty's other side is gone

    def set_baudrate(self, baud):
        pass  # stdio has no line rate of its own

    def close(self):
        pass
