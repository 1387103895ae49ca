"""Card layer, EF.COM (ICAO 9303-10 §4.6.1): LDS/Unicode versions and the data-group tag list."""

from __future__ import annotations

from dataclasses import dataclass

from partycard.card import tlv
from partycard.errors import ParseError

#: Data-group tag → name (ICAO 9303-10 §4.6.1 table).
DG_TAGS: dict[int, str] = {
    0x61: "DG1", 0x75: "DG2", 0x63: "DG3", 0x76: "DG4", 0x65: "DG5", 0x66: "DG6", 0x67: "DG7",
    0x68: "DG8", 0x69: "DG9", 0x6A: "DG10", 0x6B: "DG11", 0x6C: "DG12", 0x6D: "DG13", 0x6E: "DG14",
    0x6F: "DG15", 0x70: "DG16",
}


@dataclass(frozen=True)
class COM:
    lds_version: str  #: "0107" → "1.7"
    unicode_version: str  #: "040000" → "4.0.0"
    tags: list[int]

    @property
    def data_groups(self) -> list[str]:
        """Names of the listed data groups; unknown tags are reported as hex."""
        return [DG_TAGS.get(t, f"tag{t:02X}") for t in self.tags]


def _dotted(raw: bytes, width: int, what: str) -> str:
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as e:
        raise ParseError(f"EF.COM {what} is not ASCII") from e
    if len(text) != 2 * width or not text.isdigit():
        raise ParseError(f"EF.COM {what} {text!r} is not {2 * width} digits")
    return ".".join(str(int(text[i : i + 2])) for i in range(0, len(text), 2))


def parse_com(data: bytes) -> COM:
    outer = tlv.parse_single(data, 0x60)
    lds = outer.find(0x5F01)
    uni = outer.find(0x5F36)
    tag_list = outer.find(0x5C)
    if lds is None or uni is None or tag_list is None:
        raise ParseError("EF.COM needs 5F01, 5F36 and 5C")
    return COM(_dotted(lds.value, 2, "LDS version"), _dotted(uni.value, 3, "Unicode version"),
               list(tag_list.value))
