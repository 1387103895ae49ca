"""Simulator layer, virtual card: command APDUs and status words; must not import partycard.card.

Command APDU parsing and status words (ISO/IEC 7816-4 §5).

Must not import ``partycard.card`` (independent card-side implementation).
"""

from __future__ import annotations

from dataclasses import dataclass

# Status words the card answers with (ISO/IEC 7816-4 §5.6, ICAO 9303-11 §9.8, TR-03110-3 B.11).
SW_OK = 0x9000
SW_EOF_WARNING = 0x6282  # end of file reached before Le bytes were read
SW_AUTH_FAILED = 0x6300
SW_WRONG_LENGTH = 0x6700
SW_SM_MISSING_DO = 0x6987
SW_SM_BAD_DO = 0x6988
SW_SECURITY = 0x6982
SW_BLOCKED = 0x6983
SW_CONDITIONS = 0x6985
SW_WRONG_DATA = 0x6A80
SW_FUNC_NOT_SUPPORTED = 0x6A81
SW_NOT_FOUND = 0x6A82
SW_INCORRECT_P1P2 = 0x6A86
SW_REF_NOT_FOUND = 0x6A88
SW_WRONG_P1P2 = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_CHAIN_LAST_EXPECTED = 0x6883


class CardStatus(Exception):
    """Raised inside command handlers to answer with a status word and no data."""

    def __init__(self, sw: int) -> None:
        super().__init__(f"SW {sw:04X}")
        self.sw = sw


@dataclass(frozen=True)
class Command:
    """A parsed command APDU. ``le`` is None when absent; 256 or 65536 when coded as zero."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None
    extended: bool

    @property
    def header(self) -> bytes:
        return bytes([self.cla, self.ins, self.p1, self.p2])


def parse_command(apdu: bytes) -> Command:  # noqa: PLR0911 - one return per ISO 7816-4 case
    """Decode the seven cases of ISO/IEC 7816-4 §5.1; raise CardStatus(6700) on a bad length."""
    if len(apdu) < 4:
        raise CardStatus(SW_WRONG_LENGTH)
    cla, ins, p1, p2 = apdu[:4]
    body = apdu[4:]
    if not body:
        return Command(cla, ins, p1, p2, b"", None, False)
    if len(body) == 1:  # case 2S
        return Command(cla, ins, p1, p2, b"", body[0] or 256, False)
    if body[0] != 0:  # short Lc
        lc = body[0]
        rest = body[1:]
        if len(rest) == lc:
            return Command(cla, ins, p1, p2, rest, None, False)
        if len(rest) == lc + 1:
            return Command(cla, ins, p1, p2, rest[:lc], rest[lc] or 256, False)
        raise CardStatus(SW_WRONG_LENGTH)
    # Extended length: 00 then two length bytes.
    if len(body) == 3:  # case 2E
        return Command(cla, ins, p1, p2, b"", int.from_bytes(body[1:3], "big") or 65536, True)
    lc = int.from_bytes(body[1:3], "big")
    rest = body[3:]
    if lc == 0:
        raise CardStatus(SW_WRONG_LENGTH)
    if len(rest) == lc:
        return Command(cla, ins, p1, p2, rest, None, True)
    if len(rest) == lc + 2:
        return Command(cla, ins, p1, p2, rest[:lc], int.from_bytes(rest[lc:], "big") or 65536, True)
    raise CardStatus(SW_WRONG_LENGTH)


def sw_bytes(sw: int) -> bytes:
    return sw.to_bytes(2, "big")
