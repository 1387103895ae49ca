"""Verify layer: judges what was read (PA, trust, AA/CA, status, verdict); must not touch the card.

Must not talk to the card or the reader; it judges what was read. Entry point: ``verify_document``.
"""

from __future__ import annotations

from partycard.verify.aa import AAExchange
from partycard.verify.denylist import Denylist, load_denylist, parse_denylist, write_denylist
from partycard.verify.document import verify_document
from partycard.verify.policy import ICAO_2025, PARTY_2025, Policy, policy_by_version
from partycard.verify.trust import TrustStore
from partycard.verify.verdict import Check, Verdict

__all__ = [
    "ICAO_2025",
    "PARTY_2025",
    "AAExchange",
    "Check",
    "Denylist",
    "Policy",
    "TrustStore",
    "Verdict",
    "load_denylist",
    "parse_denylist",
    "policy_by_version",
    "verify_document",
    "write_denylist",
]
