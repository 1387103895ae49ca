"""Card layer, EF.CardAccess (ICAO 9303-11 §9.2.11): the SecurityInfos of the master file."""

from __future__ import annotations

from partycard.card.lds.securityinfos import SecurityInfos, parse_security_infos


def parse_card_access(data: bytes) -> SecurityInfos:
    """EF.CardAccess is a bare DER ``SET OF SecurityInfo``; unknown entries are skipped."""
    return parse_security_infos(data)
