"""partycard: reader firmware link, chip reading, verification and forwarding for the party card.

The names below are the integrator's API; they are imported on first use, so that ``import
partycard`` (and the command line) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_LAZY = {
    "open_reader": "partycard.link.client",
    "ReaderClient": "partycard.link.client",
    "read_document": "partycard.card.reader",
    "DocumentRead": "partycard.card.reader",
    "MRZKey": "partycard.card.reader",
    "DirectChannel": "partycard.card.channel",
    "parse_dg1": "partycard.card.lds.dg1",
    "parse_dg13": "partycard.card.lds.dg13",
    "parse_dg2": "partycard.card.lds.dg2",
    "DocumentVerifier": "partycard.kiosk.compose",
    "member_summary": "partycard.kiosk.compose",
    "verify_document": "partycard.verify",
    "Verdict": "partycard.verify",
    "PartycardError": "partycard.errors",
}

__all__ = [
    "DirectChannel",
    "DocumentRead",
    "DocumentVerifier",
    "MRZKey",
    "PartycardError",
    "ReaderClient",
    "Verdict",
    "__version__",
    "member_summary",
    "open_reader",
    "parse_dg1",
    "parse_dg2",
    "parse_dg13",
    "read_document",
    "verify_document",
]

if TYPE_CHECKING:
    from partycard.card.channel import DirectChannel
    from partycard.card.lds.dg1 import parse_dg1
    from partycard.card.lds.dg2 import parse_dg2
    from partycard.card.lds.dg13 import parse_dg13
    from partycard.card.reader import DocumentRead, MRZKey, read_document
    from partycard.errors import PartycardError
    from partycard.kiosk.compose import DocumentVerifier, member_summary
    from partycard.link.client import ReaderClient, open_reader
    from partycard.verify import Verdict, verify_document


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'partycard' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
