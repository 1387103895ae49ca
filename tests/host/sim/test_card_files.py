"""SELECT and READ BINARY on the virtual card with test-written APDUs, and the file-system quirks.

Expected statuses are ISO/IEC 7816-4 §5.6 / §11 and the behaviours the research notes record for
real chips (Le caps, end-of-file statuses, SELECT with Le, CCCD's MF quirk).
"""

from __future__ import annotations

import pytest

from partycard.issue.image import CardImage
from partycard.sim.card import CardQuirks, VirtualCard

from .test_card_terminal import WORKED, Terminal, h

G1 = WORKED["pace_gm_ecdh_G1"]
CARD_ACCESS = h(G1["EF_CardAccess"])  # 22 bytes, in the MF
COM = h(WORKED["secure_messaging_3des_D4"]["EF_COM"])
DG13 = bytes(range(256)) * 3  # 768 bytes: offsets past one byte of P2


def card(**quirks: object) -> VirtualCard:
    image = CardImage(files={"EF.CardAccess": CARD_ACCESS, "EF.COM": COM, "DG13": DG13},
                      mrz_information="L898902C<369080619406236")
    c = VirtualCard(image, CardQuirks(**quirks))  # type: ignore[arg-type]
    c.activate()
    return c


def rx(c: VirtualCard, apdu: str) -> tuple[str, str]:
    r = c.transmit(h(apdu))
    return r[:-2].hex().upper(), r[-2:].hex().upper()


def authenticated(**quirks: object) -> tuple[VirtualCard, Terminal]:
    c = card(**quirks)
    t = Terminal(c)
    t.select_app()
    t.bac("L898902C<369080619406236")
    return c, t


def test_card_access_by_file_id_and_by_short_id_without_any_session() -> None:
    c = card()
    assert rx(c, "00A4020C02011C") == ("", "9000")
    assert rx(c, "00B0000000") == (CARD_ACCESS.hex().upper(), "6282")  # Le 256 > 22 bytes
    assert rx(c, "00B0000016") == (CARD_ACCESS.hex().upper(), "9000")
    assert rx(c, "00B0000504") == (CARD_ACCESS[5:9].hex().upper(), "9000")
    assert rx(c, "00B09C0204") == (CARD_ACCESS[2:6].hex().upper(), "9000")  # P1 = 80 | 1C


def test_select_variants() -> None:
    c = card()
    assert rx(c, "00A40000023F00") == ("", "9000")  # MF, case 3: no data
    assert rx(c, "00A4000C") == ("", "9000")  # MF by an empty path (ISO/IEC 7816-4 §11.1.1)
    assert rx(c, "00A4040C07A0000002471001") == ("", "9000")
    fci, status = rx(c, "00A4040007A000000247100100")  # P2=00 with Le: FCI template
    assert status == "9000" and fci == "6F0C" + "820138" + "8407A0000002471001"
    fcp, status = rx(c, "00A4020402010D00")
    assert status == "9000"
    assert fcp == "620E" + "80020300" + "820101" + "8302010D" + "880168"  # size 768, SFI 0D<<3
    assert rx(c, "00A4020C02011C") == ("", "6A82")  # EF.CardAccess lives in the MF, not here
    assert rx(c, "00A4000C02011C") == ("", "9000")  # P1=00 also searches the MF
    assert rx(c, "00A4040C07A0000002471002") == ("", "6A82")
    assert rx(c, "00A4080C02011C") == ("", "6A86")
    assert rx(c, "00A4020102010D") == ("", "6A86")


def test_select_refusing_le_quirk() -> None:
    assert rx(card(), "00A4020C02011C00") == ("", "9000")
    assert rx(card(select_rejects_le=True), "00A4020C02011C00") == ("", "6700")


def test_select_mf_quirk_as_cccd_chips_do() -> None:
    c = card(select_mf_status=0x6D00)
    assert rx(c, "00A40000023F00") == ("", "6D00")
    assert rx(c, "00B09C0004") == (CARD_ACCESS[:4].hex().upper(), "9000")  # SFI still works


def test_read_binary_offsets_and_end_of_file_under_sm() -> None:
    _, t = authenticated()
    t.ok(h("00A4020C"), h("010D"))
    assert t.send(h("00B00000"), le=0xDF) == (DG13[:0xDF], 0x9000)
    assert t.send(h("00B00123"), le=0x10) == (DG13[0x123:0x133], 0x9000)  # offset > 255
    assert t.send(h("00B002F8"), le=0x20) == (DG13[0x2F8:], 0x6282)  # runs past the end
    assert t.send(h("00B00300"), le=0x01) == (b"", 0x6B00)  # offset at the end
    assert t.send(h("00B08D10"), le=0x08) == (DG13[0x10:0x18], 0x9000)  # SFI 0D, offset in P2
    assert t.send(h("00B00000"), le=None) == (b"", 0x6700)
    assert t.send(h("00B0C000"), le=0x08) == (b"", 0x6A86)  # SFI form with b6 set


@pytest.mark.parametrize(("status", "expected"), [(0x6B00, (b"", 0x6B00)), (0x9000, (DG13[0x2F8:], 0x9000))])
def test_end_of_file_status_quirk(status: int, expected: tuple[bytes, int]) -> None:
    _, t = authenticated(eof_status=status)
    t.ok(h("00A4020C"), h("010D"))
    assert t.send(h("00B002F8"), le=0x20) == expected


def test_largest_le_quirk() -> None:
    c, t = authenticated(max_le=0xC0)
    t.ok(h("00A4020C"), h("010D"))
    assert t.send(h("00B00000"), le=0xC0) == (DG13[:0xC0], 0x9000)
    assert t.send(h("00B00000"), le=0xC1) == (b"", 0x6700)
    assert t.send(h("00B00000"), le=0x00) == (b"", 0x6700)  # Le 00 means 256
    assert c.sm is not None  # an error status is protected and keeps the session


def test_extended_length_read_and_its_quirk() -> None:
    c = card()
    assert rx(c, "00A4020C02011C") == ("", "9000")
    assert rx(c, "00B00000000016") == (CARD_ACCESS.hex().upper(), "9000")
    c = card(extended_length=False)
    c.transmit(h("00A4020C02011C"))
    assert rx(c, "00B00000000016") == ("", "6700")


def test_malformed_apdus_get_status_words_not_exceptions() -> None:
    c = card()
    assert rx(c, "00A4") == ("", "6700")
    assert rx(c, "00A4040C09A000") == ("", "6700")  # Lc larger than the data
    assert rx(c, "80A4040C07A0000002471001") == ("", "6E00")  # proprietary class
    assert rx(c, "00CA000000") == ("", "6D00")
    assert rx(c, "00B0000004") == ("", "6986")  # no current EF
    assert rx(c, "0CB0000004") == ("", "6988")  # SM bits without a session
    assert rx(c, "0022C1A4037C0181") == ("", "6A80")  # truncated data object


def test_plain_error_status_under_sm_quirk() -> None:
    c, t = authenticated(sm_plain_errors=True, max_le=0xDF)
    t.ok(h("00A4020C"), h("010D"))
    assert t.sm is not None and c.sm is not None
    before = c.sm.ssc
    answer = c.transmit(t.sm.protect(h("00B00000"), b"", 0x00))  # Le 256 > 223
    assert answer == h("6700") and c.sm is not None
    assert c.sm.ssc == before + 1  # counted the command, not the (plain) response
    assert t.send(h("00B00000"), le=0x10) == (DG13[:0x10], 0x9000)  # the session goes on


def test_random_uid_quirk() -> None:
    c = card(random_uid=True)
    uids = {bytes(c.activate()["uid"]) for _ in range(4)}  # type: ignore[arg-type]
    assert all(len(u) == 4 and u[0] == 0x08 for u in uids) and len(uids) > 1


def test_the_card_side_never_imports_the_reading_side() -> None:
    """The virtual card and the issuer must stay independent of ``partycard.card`` (architecture)."""
    import ast
    from pathlib import Path

    host = Path(__file__).resolve().parents[3] / "host" / "partycard"
    sources = [*(host / "sim" / "card").glob("*.py"), *(host / "issue").glob("*.py")]
    assert len(sources) >= 15
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not (name == "partycard.card" or name.startswith("partycard.card.")), (path.name, name)
