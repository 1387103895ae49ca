"""Card layer, SecurityInfos (ICAO 9303-11 §9.2; BSI TR-03110-3 §A.1): PACEInfo, CA infos, TA,
AA info. Unknown SecurityInfo entries are kept as raw OIDs and skipped, never fatal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from partycard.card import tlv
from partycard.card.lds.asn1 import decode_oid, decode_uint
from partycard.errors import ParseError

BSI_DE = "0.4.0.127.0.7"
ID_PK = BSI_DE + ".2.2.1"
ID_TA = BSI_DE + ".2.2.2"
ID_CA = BSI_DE + ".2.2.3"
ID_PACE = BSI_DE + ".2.2.4"
ID_AA = "2.23.136.1.1.5"


@dataclass(frozen=True)
class PACEInfo:
    protocol: str
    version: int
    parameter_id: int | None


@dataclass(frozen=True)
class PACEDomainParameterInfo:
    protocol: str
    parameter_id: int | None


@dataclass(frozen=True)
class ChipAuthenticationInfo:
    protocol: str
    version: int
    key_id: int | None


@dataclass(frozen=True)
class ChipAuthenticationPublicKeyInfo:
    protocol: str
    public_key: bytes  #: SubjectPublicKeyInfo DER
    key_id: int | None


@dataclass(frozen=True)
class SecurityInfos:
    pace: list[PACEInfo] = field(default_factory=list)
    pace_domain_parameters: list[PACEDomainParameterInfo] = field(default_factory=list)
    ca: list[ChipAuthenticationInfo] = field(default_factory=list)
    ca_public_keys: list[ChipAuthenticationPublicKeyInfo] = field(default_factory=list)
    ta_versions: list[int] = field(default_factory=list)
    aa_signature_algorithms: list[str] = field(default_factory=list)
    unknown_oids: list[str] = field(default_factory=list)


def _opt_int(items: list[tlv.TLV], idx: int) -> int | None:
    if len(items) > idx and items[idx].tag == 0x02:
        return decode_uint(items[idx].value)
    return None


def parse_security_infos(set_bytes: bytes) -> SecurityInfos:
    """Parse the content of a SET OF SecurityInfo (tag 31)."""
    top = tlv.parse_single(set_bytes, 0x31)
    out = SecurityInfos()
    for entry in top.children():
        if entry.tag != 0x30:
            raise ParseError(f"SecurityInfo must be a SEQUENCE, found tag {entry.tag:X}")
        parts = entry.children()
        if not parts or parts[0].tag != 0x06 or len(parts) < 2:
            raise ParseError("SecurityInfo must start with an OBJECT IDENTIFIER and carry data")
        oid = decode_oid(parts[0].value)
        _classify(out, oid, parts)
    return out


def _classify(out: SecurityInfos, oid: str, parts: list[tlv.TLV]) -> None:
    def version() -> int:
        if parts[1].tag != 0x02:
            raise ParseError(f"SecurityInfo {oid}: version must be an INTEGER")
        return decode_uint(parts[1].value)

    if oid.startswith(ID_PACE + ".") and oid.count(".") == ID_PACE.count(".") + 1:
        # id-PACE-DH-GM etc. without cipher suffix are PACEDomainParameterInfo (§9.2.1).
        out.pace_domain_parameters.append(PACEDomainParameterInfo(oid, _opt_int(parts, 2)))
    elif oid.startswith(ID_PACE + "."):
        out.pace.append(PACEInfo(oid, version(), _opt_int(parts, 2)))
    elif oid.startswith(ID_CA + "."):
        out.ca.append(ChipAuthenticationInfo(oid, version(), _opt_int(parts, 2)))
    elif oid.startswith(ID_PK + "."):
        if parts[1].tag != 0x30:
            raise ParseError("ChipAuthenticationPublicKeyInfo needs a SubjectPublicKeyInfo")
        spki = tlv.encode(parts[1].tag, parts[1].value)
        out.ca_public_keys.append(ChipAuthenticationPublicKeyInfo(oid, spki, _opt_int(parts, 2)))
    elif oid == ID_TA:
        out.ta_versions.append(version())
    elif oid == ID_AA:
        if len(parts) > 2 and parts[2].tag == 0x06:
            out.aa_signature_algorithms.append(decode_oid(parts[2].value))
    else:
        out.unknown_oids.append(oid)
