"""Card layer, DG14 (ICAO 9303-10 §4.7.14): SecurityInfos for CA/PACE/TA, wrapped in tag 6E."""

from __future__ import annotations

from partycard.card import tlv
from partycard.card.lds.securityinfos import SecurityInfos, parse_security_infos


def parse_dg14(data: bytes) -> SecurityInfos:
    outer = tlv.parse_single(data, 0x6E)
    return parse_security_infos(outer.value)
