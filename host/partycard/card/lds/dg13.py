"""Card layer, DG13 party member record (provisional profile, protocol/card-profile.md).

Tag 6D holding primitive context-specific TLVs 80..8B, each once. Unknown tags are kept raw and
never fatal; text must be valid UTF-8 in Unicode NFC, dates YYYYMMDD. repr hides personal data.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from partycard.card import tlv
from partycard.errors import ParseError

RECORD_VERSION = 1

#: tag → (field name, kind). Kinds: "u8", "ascii", "digits", "utf8", "date", "sex".
FIELDS: dict[int, tuple[str, str]] = {
    0x80: ("record_version", "u8"),
    0x81: ("card_number", "ascii"),
    0x82: ("member_id", "digits"),
    0x83: ("full_name", "utf8"),
    0x84: ("date_of_birth", "date"),
    0x85: ("sex", "sex"),
    0x86: ("citizen_id", "citizen"),
    0x87: ("date_admitted", "date"),
    0x88: ("date_official", "date"),
    0x89: ("party_organisation", "utf8"),
    0x8A: ("issuing_committee", "utf8"),
    0x8B: ("issue_date", "date"),
}


@dataclass(frozen=True, repr=False)
class MemberRecord:
    record_version: int
    card_number: str
    member_id: str
    full_name: str
    date_of_birth: str  #: YYYYMMDD
    sex: str  #: "M", "F" or "X"
    citizen_id: str  #: 12 digits
    date_admitted: str  #: YYYYMMDD, admitted to the party
    date_official: str  #: YYYYMMDD, made an official member
    party_organisation: str
    issuing_committee: str
    issue_date: str  #: YYYYMMDD, card issue date
    unknown: dict[int, bytes] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"MemberRecord(version={self.record_version}, <personal data redacted>)"


def _ascii(tag: int, raw: bytes) -> str:
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as e:
        raise ParseError(f"DG13 tag {tag:02X} is not ASCII") from e
    if not text or not text.isprintable():
        raise ParseError(f"DG13 tag {tag:02X} is empty or has control characters")
    return text


def _utf8(tag: int, raw: bytes) -> str:
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        raise ParseError(f"DG13 tag {tag:02X} is not valid UTF-8") from e
    if not unicodedata.is_normalized("NFC", text):
        raise ParseError(f"DG13 tag {tag:02X} is not in Unicode NFC")
    if not text or not text.isprintable():
        raise ParseError(f"DG13 tag {tag:02X} is empty or has control characters")
    return text


def _date(tag: int, text: str) -> str:
    if len(text) != 8 or not text.isdigit():
        raise ParseError(f"DG13 tag {tag:02X} is not a YYYYMMDD date")
    month, day = int(text[4:6]), int(text[6:8])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise ParseError(f"DG13 tag {tag:02X} is not a valid calendar date")
    return text


def _value(tag: int, kind: str, raw: bytes) -> int | str:
    if kind == "u8":
        if len(raw) != 1:
            raise ParseError("DG13 record version must be one byte")
        return raw[0]
    if kind == "utf8":
        return _utf8(tag, raw)
    text = _ascii(tag, raw)
    if kind == "digits" and not text.isdigit():
        raise ParseError(f"DG13 tag {tag:02X} must be ASCII digits")
    if kind == "citizen" and (len(text) != 12 or not text.isdigit()):
        raise ParseError("DG13 citizen id must be 12 ASCII digits")
    if kind == "sex" and text not in ("M", "F", "X"):
        raise ParseError("DG13 sex must be M, F or X")
    if kind == "date":
        return _date(tag, text)
    return text


def parse_dg13(data: bytes) -> MemberRecord:
    outer = tlv.parse_single(data, 0x6D)
    values: dict[str, int | str] = {}
    unknown: dict[int, bytes] = {}
    for item in outer.children():
        if item.tag in FIELDS:
            name, kind = FIELDS[item.tag]
            if name in values:
                raise ParseError(f"DG13 tag {item.tag:02X} appears more than once")
            values[name] = _value(item.tag, kind, item.value)
        elif item.tag in unknown:
            raise ParseError(f"DG13 unknown tag {item.tag:X} appears more than once")
        else:
            unknown[item.tag] = item.value
    missing = [f"{t:02X} ({n})" for t, (n, _) in FIELDS.items() if n not in values]
    if missing:
        raise ParseError("DG13 lacks " + ", ".join(missing))
    if values["record_version"] != RECORD_VERSION:
        raise ParseError(f"DG13 record version {values['record_version']} is not {RECORD_VERSION}")
    return MemberRecord(**values, unknown=unknown)  # type: ignore[arg-type]
