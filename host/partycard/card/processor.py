"""Card layer, transport-level status handling: 61xx GET RESPONSE and 6Cxx re-issue.

Works on any ``APDUChannel`` (ISO/IEC 7816-3 §12.2.2 T=0 procedures surface as 61xx/6Cxx on
every transport). It must not know about secure messaging keys or files.
"""

from __future__ import annotations

from collections.abc import Sequence

from partycard.card.apdu import decode_command
from partycard.card.channel import APDUChannel
from partycard.errors import CardError

MAX_GET_RESPONSE = 64  # bounded: 64 × 256 bytes is far above any single response


def _sw(resp: bytes) -> int:
    if len(resp) < 2:
        raise CardError(f"response of {len(resp)} bytes has no status word")
    return int.from_bytes(resp[-2:], "big")


class APDUProcessor:
    """Wraps a channel; every response it returns is complete (no 61xx) and Le-corrected (no 6Cxx).

    6Cxx is re-issued only for plain commands: for a secure-messaging command (CLA b4/b3 set) the
    inner Le is MAC-protected, so the SM layer must rebuild the command itself.
    """

    def __init__(self, channel: APDUChannel) -> None:
        self.channel = channel

    def _complete(self, cmd: bytes, resp: bytes) -> bytes:
        sw = _sw(resp)
        if sw >> 8 == 0x6C and not cmd[0] & 0x0C:
            c = decode_command(cmd)
            fixed = type(c)(c.cla, c.ins, c.p1, c.p2, c.data, (sw & 0xFF) or 256, c.extended)
            resp = self.channel.transmit(fixed.encode())
            sw = _sw(resp)
        data = resp[:-2]
        rounds = 0
        while sw >> 8 == 0x61:
            rounds += 1
            if rounds > MAX_GET_RESPONSE:
                raise CardError("card keeps answering 61xx; giving up after bounded GET RESPONSE rounds")
            get = bytes([cmd[0] & 0x03, 0xC0, 0x00, 0x00, sw & 0xFF])
            more = self.channel.transmit(get)
            sw = _sw(more)
            data += more[:-2]
        return data + sw.to_bytes(2, "big")

    def transmit(self, apdu: bytes) -> bytes:
        return self._complete(apdu, self.channel.transmit(apdu))

    def transmit_batch(self, apdus: Sequence[bytes], continue_sw: Sequence[int] = (0x9000,)) -> list[bytes]:
        """Batch with 61xx/6Cxx completed; the stop rule applies to the completed status word."""
        out: list[bytes] = []
        pending = list(apdus)
        while pending:
            responses = self.channel.transmit_batch(pending, continue_sw)
            if not responses:
                raise CardError("reader returned no response to a batch")
            for cmd, resp in zip(pending, responses, strict=False):
                done = self._complete(cmd, resp)
                out.append(done)
                if _sw(done) not in continue_sw:
                    return out
            pending = pending[len(responses) :]
        return out
