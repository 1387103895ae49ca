"""Issuance layer: member record validation and NFC normalisation; must not log personal data.

The member record (the DG13 fields) — validation and normalisation of input.

Must not log personal data, sign, or touch files. Text is normalised to Unicode NFC because the
profile's readers reject any other form (protocol/card-profile.md, DG13).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from partycard.errors import ConfigError

#: JSON keys of a member file, in DG13 tag order (tags 81–8B; 80 is the record version).
FIELDS = (
    "card_number",
    "member_id",
    "full_name",
    "date_of_birth",
    "sex",
    "citizen_id",
    "date_admitted",
    "date_official",
    "organisation",
    "issuing_committee",
    "issue_date",
)
OPTIONAL_FIELDS = ("date_of_expiry",)

_CARD_NUMBER = re.compile(r"[A-Z0-9]{4,20}")


@dataclass(frozen=True)
class Member:
    """One member's record, validated. Dates are ``datetime.date``; text is NFC."""

    card_number: str
    member_id: str
    full_name: str
    date_of_birth: dt.date
    sex: str
    citizen_id: str
    date_admitted: dt.date
    date_official: dt.date
    organisation: str
    issuing_committee: str
    issue_date: dt.date
    date_of_expiry: dt.date

    def __repr__(self) -> str:  # never print personal data by accident (logs, tracebacks)
        return "Member(<redacted>)"


def _date(value: Any, key: str) -> dt.date:
    if not isinstance(value, str):
        raise ConfigError(f"member field {key!r} must be a date string YYYY-MM-DD")
    text = value.replace("-", "")
    if not re.fullmatch(r"\d{8}", text):
        raise ConfigError(f"member field {key!r} must be YYYY-MM-DD (or YYYYMMDD)")
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError as exc:
        raise ConfigError(f"member field {key!r} is not a calendar date") from exc


def _text(value: Any, key: str, *, max_bytes: int = 200) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"member field {key!r} must be a non-empty string")
    text = unicodedata.normalize("NFC", value.strip())
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in text):
        raise ConfigError(f"member field {key!r} contains control or unassigned characters")
    if len(text.encode("utf-8")) > max_bytes:
        raise ConfigError(f"member field {key!r} is longer than {max_bytes} bytes")
    return text


def _add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def parse_member(data: Any) -> Member:
    """Validate a member mapping (the JSON member file); raise ConfigError naming the bad key."""
    if not isinstance(data, dict):
        raise ConfigError("a member record must be a JSON object")
    missing = [k for k in FIELDS if k not in data]
    unknown = [k for k in data if k not in FIELDS and k not in OPTIONAL_FIELDS and not k.startswith("_")]
    if missing:
        raise ConfigError(f"member record lacks {', '.join(missing)}")
    if unknown:
        raise ConfigError(f"member record has unknown keys {', '.join(sorted(unknown))}")
    card_number = _text(data["card_number"], "card_number", max_bytes=20)
    if not _CARD_NUMBER.fullmatch(card_number):
        raise ConfigError("card_number must be 4–20 characters A–Z and 0–9")
    member_id = _text(data["member_id"], "member_id", max_bytes=20)
    if not member_id.isascii() or not member_id.isdigit():
        raise ConfigError("member_id must be ASCII digits")
    citizen_id = _text(data["citizen_id"], "citizen_id", max_bytes=12)
    if not re.fullmatch(r"\d{12}", citizen_id):
        raise ConfigError("citizen_id must be exactly 12 digits")
    sex = _text(data["sex"], "sex", max_bytes=1)
    if sex not in ("M", "F", "X"):
        raise ConfigError("sex must be M, F or X")
    issue_date = _date(data["issue_date"], "issue_date")
    expiry = data.get("date_of_expiry")
    return Member(
        card_number=card_number,
        member_id=member_id,
        full_name=_text(data["full_name"], "full_name"),
        date_of_birth=_date(data["date_of_birth"], "date_of_birth"),
        sex=sex,
        citizen_id=citizen_id,
        date_admitted=_date(data["date_admitted"], "date_admitted"),
        date_official=_date(data["date_official"], "date_official"),
        organisation=_text(data["organisation"], "organisation"),
        issuing_committee=_text(data["issuing_committee"], "issuing_committee"),
        issue_date=issue_date,
        # Assumption (no public specification): a card is valid 10 years unless the file says.
        date_of_expiry=_date(expiry, "date_of_expiry") if expiry is not None else _add_years(issue_date, 10),
    )
