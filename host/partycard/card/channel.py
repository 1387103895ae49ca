"""Card layer, the one APDU channel interface (reader client, virtual card, later PC/SC).

It must not interpret status words beyond the batch stop rule (SPEC.md ``apdu.batch``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class APDUChannel(Protocol):
    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU; return response data ‖ SW1SW2."""
        ...

    def transmit_batch(self, apdus: Sequence[bytes], continue_sw: Sequence[int] = (0x9000,)) -> list[bytes]:
        """Send commands back to back; stop after the first response whose SW is not in continue_sw."""
        ...


class _Transmitter(Protocol):
    def transmit(self, apdu: bytes) -> bytes: ...


class DirectChannel:
    """Adapts any object with ``transmit(apdu) -> bytes`` (e.g. a virtual card) to ``APDUChannel``."""

    def __init__(self, card: _Transmitter) -> None:
        self._card = card
        #: Statistics: commands sent, and round trips (one per ``transmit`` or per batch).
        self.commands_sent = 0
        self.round_trips = 0
        self.batches_sent = 0

    def transmit(self, apdu: bytes) -> bytes:
        self.round_trips += 1
        self.commands_sent += 1
        return bytes(self._card.transmit(bytes(apdu)))

    def transmit_batch(self, apdus: Sequence[bytes], continue_sw: Sequence[int] = (0x9000,)) -> list[bytes]:
        self.round_trips += 1
        self.batches_sent += 1
        out: list[bytes] = []
        for apdu in apdus:
            self.commands_sent += 1
            resp = bytes(self._card.transmit(bytes(apdu)))
            out.append(resp)
            if len(resp) < 2 or int.from_bytes(resp[-2:], "big") not in continue_sw:
                break
        return out
