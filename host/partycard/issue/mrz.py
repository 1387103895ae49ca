"""Issuance layer: TD1 MRZ (9303-5) and the BAC/PACE key string; must not know files or keys.

The TD1 machine readable zone (ICAO 9303-5) and the BAC/PACE key string.

Must not know about files or keys; pure text rules. Check digits per ICAO 9303-3 §4.9 (weights
7, 3, 1); transliteration per 9303-3 §6 (diacritics dropped, Đ → D).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from partycard.errors import ConfigError

_WEIGHTS = (7, 3, 1)


def check_digit(field: str) -> str:
    """ICAO 9303-3 §4.9: digits count as themselves, A–Z as 10–35, filler '<' as 0."""
    total = 0
    for i, ch in enumerate(field):
        if ch.isdigit():
            v = int(ch)
        elif "A" <= ch <= "Z":
            v = ord(ch) - ord("A") + 10
        elif ch == "<":
            v = 0
        else:
            raise ConfigError(f"character {ch!r} is not allowed in an MRZ field")
        total += v * _WEIGHTS[i % 3]
    return str(total % 10)


def transliterate(text: str) -> str:
    """Latin letters without diacritics, upper case, other characters as filler (9303-3 §6)."""
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    base = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    return "".join(c if ("A" <= c <= "Z" or c.isdigit()) else "<" for c in base)


def _fit(text: str, width: int) -> str:
    return (text + "<" * width)[:width]


@dataclass(frozen=True)
class TD1:
    """A TD1 MRZ: three lines of 30 characters, and the BAC/PACE key input derived from it."""

    line1: str
    line2: str
    line3: str
    mrz_information: str  # ICAO 9303-11 §9.7.2: document number ‖ cd ‖ DOB ‖ cd ‖ DOE ‖ cd

    @property
    def text(self) -> str:
        return self.line1 + self.line2 + self.line3


def build_td1(
    *,
    document_code: str,
    issuing_state: str,
    document_number: str,
    date_of_birth: str,  # YYMMDD
    sex: str,  # "M", "F" or "X" (X is written as filler, 9303-4 §4.2.2)
    date_of_expiry: str,  # YYMMDD
    nationality: str,
    primary_identifier: str,
    secondary_identifier: str,
) -> TD1:
    """Lay out a TD1 MRZ (9303-5 §4.2.2), long document numbers per 9303-5 §4.2.4 note j."""
    number = transliterate(document_number)
    number_cd = check_digit(number)
    if len(number) <= 9:
        number_field = _fit(number, 9) + number_cd
        optional1 = "<" * 15
    else:
        # Overflow: 9 characters, a filler where the check digit would be, then the rest of the
        # number and its check digit at the start of the optional data.
        number_field = number[:9] + "<"
        optional1 = _fit(number[9:] + number_cd, 15)
    line1 = _fit(document_code, 2) + issuing_state + number_field + optional1
    sex_char = sex if sex in ("M", "F") else "<"
    line2_head = date_of_birth + check_digit(date_of_birth) + sex_char
    line2_head += date_of_expiry + check_digit(date_of_expiry) + nationality + "<" * 11
    composite = line1[5:30] + line2_head[0:7] + line2_head[8:15] + line2_head[18:29]
    line2 = line2_head + check_digit(composite)
    primary = transliterate(primary_identifier).strip("<")
    name = primary + "<<" + transliterate(secondary_identifier).strip("<")
    line3 = _fit(name, 30)
    info = (_fit(number, 9) if len(number) <= 9 else number) + number_cd
    info += date_of_birth + check_digit(date_of_birth) + date_of_expiry + check_digit(date_of_expiry)
    for line in (line1, line2, line3):
        if len(line) != 30:
            raise ConfigError("MRZ line is not 30 characters")
    return TD1(line1, line2, line3, info)


def mrz_information_from_text(mrz: str) -> str:
    """The key string of 9303-11 §9.7.2 from a TD1 (90) or TD3 (88) / TD2 (72) MRZ as stored in DG1."""
    if len(mrz) == 90:
        number = mrz[5:14]
        if mrz[14] == "<":  # long document number: the rest sits in the optional data
            tail = mrz[15:30].rstrip("<")
            number, cd = number + tail[:-1], tail[-1:]
        else:
            cd = mrz[14]
        dob, dob_cd, doe, doe_cd = mrz[30:36], mrz[36], mrz[38:44], mrz[44]
    elif len(mrz) in (72, 88):
        second = mrz[len(mrz) // 2 :]
        number, cd = second[0:9], second[9]
        dob, dob_cd, doe, doe_cd = second[13:19], second[19], second[21:27], second[27]
    else:
        raise ConfigError(f"an MRZ of {len(mrz)} characters is not TD1, TD2 or TD3")
    return number + cd + dob + dob_cd + doe + doe_cd
