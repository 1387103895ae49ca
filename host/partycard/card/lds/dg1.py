"""Card layer, DG1 (ICAO 9303-10 §4.7.1): the MRZ, TD1/TD2/TD3 (ICAO 9303-4/5/6 layouts).

Check digits are recomputed and mismatches reported as data (``check_digit_errors``); judging
them is verify's job. The object's repr hides personal data.
"""

from __future__ import annotations

from dataclasses import dataclass

from partycard.card import tlv
from partycard.errors import ParseError

_WEIGHTS = (7, 3, 1)


def check_digit(field: str) -> str:
    """ICAO 9303-3 §4.9 (7-3-1 weights; '<' = 0, A-Z = 10-35)."""
    total = 0
    for i, ch in enumerate(field):
        if ch.isdigit():
            v = int(ch)
        elif "A" <= ch <= "Z":
            v = ord(ch) - 55
        elif ch == "<":
            v = 0
        else:
            raise ParseError(f"character {ch!r} is not allowed in an MRZ")
        total += v * _WEIGHTS[i % 3]
    return str(total % 10)


@dataclass(frozen=True, repr=False)
class DG1:
    mrz: str  #: the MRZ lines concatenated, as stored
    format: str  #: "TD1", "TD2" or "TD3"
    document_type: str
    issuing_state: str
    document_number: str
    date_of_birth: str  #: YYMMDD
    date_of_expiry: str  #: YYMMDD
    sex: str
    nationality: str
    primary_identifier: str
    secondary_identifier: str
    optional_data: str
    check_digit_errors: tuple[str, ...]

    @property
    def name(self) -> str:
        """Secondary then primary identifier, fillers as spaces ("ERIKA MUSTERMANN")."""
        return " ".join(p for p in (self.secondary_identifier, self.primary_identifier) if p)

    @property
    def lines(self) -> list[str]:
        width = {"TD1": 30, "TD2": 36, "TD3": 44}[self.format]
        return [self.mrz[i : i + width] for i in range(0, len(self.mrz), width)]

    def __repr__(self) -> str:
        return f"DG1(format={self.format}, <personal data redacted>)"


def _text(s: str) -> str:
    return " ".join(s.replace("<", " ").split())


def _names(field: str) -> tuple[str, str]:
    primary, _, secondary = field.partition("<<")
    return _text(primary), _text(secondary)


def parse_dg1(data: bytes) -> DG1:
    outer = tlv.parse_single(data, 0x61)
    mrz_tlv = outer.find(0x5F1F)
    if mrz_tlv is None:
        raise ParseError("DG1 has no MRZ (tag 5F1F)")
    try:
        mrz = mrz_tlv.value.decode("ascii")
    except UnicodeDecodeError as e:
        raise ParseError("DG1 MRZ is not ASCII") from e
    if any(not (c.isdigit() or "A" <= c <= "Z" or c == "<") for c in mrz):
        raise ParseError("DG1 MRZ has characters outside A-Z, 0-9 and '<'")
    if len(mrz) == 90:
        return _td1(mrz)
    if len(mrz) in (72, 88):
        return _td23(mrz, "TD2" if len(mrz) == 72 else "TD3")
    raise ParseError(f"DG1 MRZ of {len(mrz)} characters is neither TD1 (90), TD2 (72) nor TD3 (88)")


def _check(errors: list[str], label: str, field: str, digit: str) -> None:
    if check_digit(field) != digit:
        errors.append(label)


def _td1(mrz: str) -> DG1:
    l1, l2, l3 = mrz[:30], mrz[30:60], mrz[60:]
    errors: list[str] = []
    number, number_cd, optional1 = l1[5:14], l1[14], l1[15:30]
    if number_cd == "<":  # ICAO 9303-5 §4.2.2 note j: number longer than 9 characters
        tail = optional1.split("<", 1)[0]
        if not tail:
            raise ParseError("TD1 long document number has no continuation")
        number, number_cd, optional1 = number + tail[:-1], tail[-1], optional1[len(tail):]
    _check(errors, "document number", number, number_cd)
    _check(errors, "date of birth", l2[0:6], l2[6])
    _check(errors, "date of expiry", l2[8:14], l2[14])
    _check(errors, "composite", l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29])
    primary, secondary = _names(l3)
    return DG1(mrz, "TD1", _text(l1[0:2]), l1[2:5].replace("<", ""), number.rstrip("<"), l2[0:6], l2[8:14],
               l2[7], l2[15:18].replace("<", ""), primary, secondary,
               _text(optional1 + " " + l2[18:29]), tuple(errors))


def _td23(mrz: str, fmt: str) -> DG1:
    w = len(mrz) // 2
    l1, l2 = mrz[:w], mrz[w:]
    errors: list[str] = []
    _check(errors, "document number", l2[0:9], l2[9])
    _check(errors, "date of birth", l2[13:19], l2[19])
    _check(errors, "date of expiry", l2[21:27], l2[27])
    if fmt == "TD3":
        optional = l2[28:42]
        if l2[42] not in ("<", check_digit(optional)) or (l2[42] == "<" and optional.strip("<")):
            errors.append("optional data")
        _check(errors, "composite", l2[0:10] + l2[13:20] + l2[21:43], l2[43])
    else:
        optional = l2[28:35]
        _check(errors, "composite", l2[0:10] + l2[13:20] + l2[21:35], l2[35])
    primary, secondary = _names(l1[5:])
    return DG1(mrz, fmt, _text(l1[0:2]), l1[2:5].replace("<", ""), l2[0:9].rstrip("<"), l2[13:19],
               l2[21:27], l2[20], l2[10:13].replace("<", ""), primary, secondary, _text(optional),
               tuple(errors))
