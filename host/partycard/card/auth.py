"""Card layer, Active Authentication exchange (ICAO 9303-11 §6.1): INTERNAL AUTHENTICATE under SM.

It only collects the chip's signature over the host's challenge; verifying it against DG15
(and the SOD) is verify's job.
"""

from __future__ import annotations

from dataclasses import dataclass

from partycard.card.apdu import CommandAPDU
from partycard.card.session import CardSession
from partycard.card.sw import describe
from partycard.errors import APDUError, CardError


@dataclass(frozen=True)
class AAExchange:
    challenge: bytes
    signature: bytes


def internal_authenticate(session: CardSession, challenge: bytes) -> AAExchange:
    if len(challenge) != 8:
        raise CardError("the Active Authentication challenge must be 8 bytes (ICAO 9303-11 §6.1.2)")
    r = session.send(CommandAPDU(0x00, 0x88, 0x00, 0x00, challenge, le=256))
    if r.sw >> 8 == 0x6C:  # AndyQ#113: some chips want the exact Le
        r = session.send(CommandAPDU(0x00, 0x88, 0x00, 0x00, challenge, le=(r.sw & 0xFF) or 256))
    if r.sw != 0x9000 or not r.data:
        raise APDUError(r.sw, f"INTERNAL AUTHENTICATE: {describe(r.sw)}")
    return AAExchange(challenge, r.data)
