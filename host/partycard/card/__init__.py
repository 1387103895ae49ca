"""Card layer: APDUs, secure messaging, BAC/PACE/CA, file reading and LDS parsing (host side).

It must not verify signatures or trust (``partycard.verify`` does) nor import the simulator.
"""

from __future__ import annotations

from partycard.card.channel import APDUChannel, DirectChannel
from partycard.card.reader import AAExchange, CAOutcome, DocumentRead, MRZKey, PACEParams, read_document

__all__ = ["AAExchange", "APDUChannel", "CAOutcome", "DirectChannel", "DocumentRead", "MRZKey", "PACEParams",
           "read_document"]
