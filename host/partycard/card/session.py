"""Card layer, a card session: the processor plus (optionally) secure messaging.

It must not know file ids or access-control policy; it turns responses into ``ResponseAPDU``
whose status was authenticated whenever SM is on, and raises typed errors otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

from partycard.card.apdu import CommandAPDU, ResponseAPDU
from partycard.card.channel import APDUChannel
from partycard.card.processor import APDUProcessor
from partycard.card.sm import SecureMessaging, Unwrapped
from partycard.errors import SecureMessagingError

MAX_BATCH = 8


class CardSession:
    def __init__(self, channel: APDUChannel) -> None:
        self.processor = APDUProcessor(channel)
        self.sm: SecureMessaging | None = None

    def start_sm(self, sm: SecureMessaging) -> None:
        self.sm = sm

    def send(self, cmd: CommandAPDU) -> Unwrapped:
        """One command; under SM the result is authenticated, or a plain non-success status."""
        if self.sm is None:
            r = ResponseAPDU.parse(self.processor.transmit(cmd.encode()))
            return Unwrapped(r.data, r.sw, False)
        raw = self.processor.transmit(self.sm.wrap(cmd))
        return self._unwrap_checked(raw)

    def _unwrap_checked(self, raw: bytes) -> Unwrapped:
        if self.sm is None:
            raise SecureMessagingError("no secure messaging session")
        result = self.sm.unwrap(raw)
        if not result.authenticated and result.sw in (0x6987, 0x6988):
            # The card rejected our SM objects: the session is gone (ICAO 9303-11 §9.8.2).
            self.sm = None
            raise SecureMessagingError(f"card rejected secure messaging: SW {result.sw:04X}")
        return result

    def send_batch(self, cmds: Sequence[CommandAPDU]) -> list[Unwrapped]:
        """Pre-compute protected commands (the SSC is predictable) and send them as one batch.

        Returns the responses up to and including the first non-9000 one.
        """
        if len(cmds) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} commands per batch")
        if self.sm is None:
            raws = self.processor.transmit_batch([c.encode() for c in cmds])
            out = []
            for raw in raws:
                r = ResponseAPDU.parse(raw)
                out.append(Unwrapped(r.data, r.sw, False))
            return out
        base = self.sm.ssc
        # Command i uses SSC base+2i+1, its response base+2i+2 (ICAO 9303-11 §9.8.2).
        protected = [self.sm.wrap_at(c, base + 2 * i + 1) for i, c in enumerate(cmds)]
        raws = self.processor.transmit_batch(protected)
        results: list[Unwrapped] = []
        for i, raw in enumerate(raws):
            self.sm.ssc = base + 2 * i + 1
            results.append(self._unwrap_checked(raw))
        return results
