"""Card layer, DG15 (ICAO 9303-10 §4.7.15): the Active Authentication public key."""

from __future__ import annotations

from partycard.card import tlv
from partycard.errors import ParseError


def parse_dg15(data: bytes) -> bytes:
    """Return the SubjectPublicKeyInfo DER inside tag 6F (checked to be one SEQUENCE)."""
    outer = tlv.parse_single(data, 0x6F)
    spki = tlv.parse_single(outer.value, 0x30)
    parts = spki.children()
    if len(parts) != 2 or parts[0].tag != 0x30 or parts[1].tag != 0x03:
        raise ParseError("DG15 does not hold a SubjectPublicKeyInfo")
    return outer.value
