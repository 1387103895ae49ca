"""Benchmark, counters: bytes on the host link and APDU sizes, counted where they really pass.

Both are pass-through wrappers around the real objects (a transport, a reader client): nothing is
simulated here, they only add up what goes through.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from partycard.card.channel import APDUChannel
from partycard.transport.base import Transport


@dataclass(frozen=True)
class LinkCount:
    """Host-link totals at one moment; subtract two to get a window."""

    bytes_out: int
    bytes_in: int
    writes: int

    @property
    def total(self) -> int:
        return self.bytes_out + self.bytes_in

    def __sub__(self, other: LinkCount) -> LinkCount:
        return LinkCount(self.bytes_out - other.bytes_out, self.bytes_in - other.bytes_in, self.writes - other.writes)


class CountingTransport:
    """A :class:`Transport` that counts the bytes written and read (frames, events, noise: all)."""

    def __init__(self, inner: Transport) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._out = 0
        self._in = 0
        self._writes = 0  # one per frame: the client writes each request in one call

    def read(self, timeout_s: float) -> bytes:
        data = self._inner.read(timeout_s)
        with self._lock:
            self._in += len(data)
        return data

    def write(self, data: bytes) -> None:
        self._inner.write(data)
        with self._lock:
            self._out += len(data)
            self._writes += 1

    def close(self) -> None:
        self._inner.close()

    def snapshot(self) -> LinkCount:
        with self._lock:
            return LinkCount(self._out, self._in, self._writes)


@dataclass
class ApduCount:
    """APDUs relayed and their command and response bytes."""

    apdus: int = 0
    command_bytes: int = 0
    response_bytes: int = 0
    round_trips: int = 0
    #: Batches the reader answered only in part although every answer was 9000: it stopped for
    #: room in its reply (SPEC.md §4 lets it) and the rest went in another round trip.
    cut_batches: int = 0
    #: INS byte of every command answered, in order (the same under secure messaging).
    ins: list[int] = field(default_factory=list)

    @property
    def payload(self) -> int:
        return self.command_bytes + self.response_bytes


class CountingChannel:
    """An :class:`APDUChannel` over another that counts APDUs, their bytes and the round trips."""

    def __init__(self, inner: APDUChannel) -> None:
        self._inner = inner
        self.count = ApduCount()

    def transmit(self, apdu: bytes) -> bytes:
        resp = self._inner.transmit(apdu)
        self._add([apdu], [resp])
        return resp

    def transmit_batch(self, apdus: Sequence[bytes], continue_sw: Sequence[int] = (0x9000,)) -> list[bytes]:
        out = self._inner.transmit_batch(apdus, continue_sw)
        self._add(list(apdus[: len(out)]), out)
        if 0 < len(out) < len(apdus) and int.from_bytes(out[-1][-2:], "big") in continue_sw:
            self.count.cut_batches += 1
        return out

    def _add(self, commands: Sequence[bytes], responses: Sequence[bytes]) -> None:
        c = self.count
        c.round_trips += 1
        c.apdus += len(responses)
        c.command_bytes += sum(len(a) for a in commands)
        c.response_bytes += sum(len(r) for r in responses)
        c.ins += [a[1] for a in commands[: len(responses)]]
