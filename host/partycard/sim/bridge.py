"""Simulator, noisy line: a relay between two ptys that corrupts, drops and inserts bytes.

Stands in for a bad USB cable or a UART with interference, to test that the link never accepts
a damaged message. Knows nothing of frames or messages. Seeded, so a failing run can be repeated.
"""

from __future__ import annotations

import os
import random
import select
import threading
import tty
from dataclasses import dataclass

from partycard.sim.pty import PtyPair

_CHUNK = 4096


@dataclass
class LineFaults:
    """Bytes passed and faults injected in one direction."""

    bytes: int = 0
    corrupted: int = 0
    dropped: int = 0
    inserted: int = 0


class NoisyBridge:
    """Relays between ``upstream`` (a reader's port path) and a new pty at :attr:`port`.

    Each byte, in each direction, is hit with probability ``error_rate`` by one fault chosen at
    random: flipped to another value, dropped, or preceded by an inserted random byte.
    """

    def __init__(self, upstream: str, *, error_rate: float = 0.01, seed: int = 0) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - noise for tests, not cryptography
        self.error_rate = error_rate
        self._upstream = os.open(upstream, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self._upstream)
        self._pair = PtyPair()
        self.port = self._pair.path
        self.to_reader = LineFaults()
        self.to_host = LineFaults()
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="noisy-bridge", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        host, reader = self._pair.master, self._upstream
        while True:
            ready, _, _ = select.select([host, reader, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            try:
                if host in ready:
                    os.write(reader, self._mangle(os.read(host, _CHUNK), self.to_reader))
                if reader in ready:
                    os.write(host, self._mangle(os.read(reader, _CHUNK), self.to_host))
            except OSError:
                return  # either side went away: the line is cut

    def _mangle(self, data: bytes, faults: LineFaults) -> bytes:
        out = bytearray()
        rng, rate = self._rng, self.error_rate
        for byte in data:
            faults.bytes += 1
            if rng.random() >= rate:
                out.append(byte)
                continue
            kind = rng.randrange(3)
            if kind == 0:
                faults.corrupted += 1
                out.append(byte ^ rng.randrange(1, 256))
            elif kind == 1:
                faults.dropped += 1
            else:
                faults.inserted += 1
                out.append(rng.randrange(256))
                out.append(byte)
        return bytes(out)

    def close(self) -> None:
        """Stop relaying and close both sides."""
        os.write(self._stop_w, b"x")
        self._thread.join(timeout=2.0)
        for fd in (self._upstream, self._stop_r, self._stop_w):
            os.close(fd)
        self._pair.close()

    def __enter__(self) -> NoisyBridge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
