"""BER-TLV edge cases (ISO/IEC 8825-1), APDU cases (ISO/IEC 7816-4 §5.1), 61xx/6Cxx handling."""

from __future__ import annotations

import pytest

from partycard.card import tlv
from partycard.card.apdu import CommandAPDU, ResponseAPDU, decode_command
from partycard.card.channel import APDUChannel, DirectChannel
from partycard.card.processor import APDUProcessor
from partycard.card.sw import describe, name
from partycard.errors import APDUError, CardError, ParseError


@pytest.mark.parametrize(
    ("length", "encoded"),
    [(0, "00"), (0x7F, "7F"), (0x80, "8180"), (0xFF, "81FF"), (0x100, "820100"), (0x3AE7, "823AE7"),
     (0x10000, "83010000")],
)
def test_length_forms(length: int, encoded: str) -> None:
    assert tlv.encode_length(length).hex().upper() == encoded
    assert tlv.read_length(bytes.fromhex(encoded), 0) == (length, len(encoded) // 2)


def test_multibyte_tags_and_nesting() -> None:
    # DG2 header from the BSI data set: 75 82 3AE7 7F61 82 3AE2 ...
    head = bytes.fromhex("75823AE77F61823AE2")
    assert tlv.read_header(head) == (0x75, 0x3AE7, 4)
    assert tlv.read_header(head, 4) == (0x7F61, 0x3AE2, 9)
    assert tlv.total_size(head) == 0x3AE7 + 4
    nested = tlv.encode(0x7F49, tlv.encode(0x06, b"\x01") + tlv.encode(0x86, b"\x04" * 3))
    item = tlv.parse_single(nested, 0x7F49)
    assert item.constructed and [c.tag for c in item.children()] == [0x06, 0x86]
    assert item.child(0x86).value == b"\x04" * 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "tag expected"),
        ("61", "length expected"),
        ("6105AABB", "declares 5 bytes"),
        ("6180", "indefinite"),
        ("618501020304", "length field of 5 bytes"),
        ("5F", "multi-byte tag"),
        ("5F818181818101", "longer than"),
        ("61820100", "declares 256 bytes"),
        ("00", "invalid tag"),
        ("610100FF", "trailing"),
    ],
)
def test_malformed_tlv_raises_parse_error(data: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        tlv.parse_single(bytes.fromhex(data))


def test_depth_is_bounded() -> None:
    data = b"\x01"
    for _ in range(tlv.MAX_DEPTH + 3):
        data = tlv.encode(0x30, data)

    def walk(item: tlv.TLV, depth: int) -> None:
        for c in item.children(depth=depth):
            if c.constructed:
                walk(c, depth + 1)

    with pytest.raises(ParseError, match="deeper"):
        walk(tlv.parse_single(data), 0)


def test_huge_declared_length_is_refused() -> None:
    with pytest.raises(ParseError, match="exceeds"):
        tlv.read_length(bytes.fromhex("84FFFFFFFF"), 0)


@pytest.mark.parametrize(
    ("cmd", "encoded"),
    [
        (CommandAPDU(0, 0xA4, 2, 0x0C, b"\x01\x1e"), "00A4020C02011E"),
        (CommandAPDU(0, 0xB0, 0, 0, le=256), "00B0000000"),
        (CommandAPDU(0, 0x84, 0, 0, le=8), "0084000008"),
        (CommandAPDU(0, 0x88, 0, 0, b"\x11" * 8, le=256), "008800000811111111111111110" + "0"),
        (CommandAPDU(0, 0xB0, 0, 0, le=65536), "00B0000000" + "0000"),
        (CommandAPDU(0, 0xB0, 0, 0, le=0x1000), "00B0000000" + "1000"),
        (CommandAPDU(0, 0xD6, 0, 0, b"\xAA" * 300), "00D60000" + "00012C" + "AA" * 300),
        (CommandAPDU(0, 0xD6, 0, 0, b"\xAA" * 300, le=65536), "00D60000" + "00012C" + "AA" * 300 + "0000"),
    ],
)
def test_command_encoding_round_trips(cmd: CommandAPDU, encoded: str) -> None:
    assert cmd.encode().hex().upper() == encoded.upper()
    assert decode_command(bytes.fromhex(encoded)).encode() == cmd.encode()


def test_bad_commands_raise_card_error() -> None:
    with pytest.raises(CardError):
        CommandAPDU(0x100, 0, 0, 0)
    with pytest.raises(CardError):
        decode_command(bytes.fromhex("00B0000005AABB"))
    with pytest.raises(CardError):
        ResponseAPDU.parse(b"\x90")


def test_status_word_names() -> None:
    assert name(0x6982) == "security status not satisfied"
    assert "exact length is 128" in describe(0x6C80)
    assert "3 tries left" in name(0x63C3)
    with pytest.raises(APDUError) as e:
        ResponseAPDU(b"", 0x6A82).check(what="SELECT")
    assert e.value.sw == 0x6A82 and "not found" in str(e.value)


class T0LikeCard:
    """Answers like a T=0 card seen through a transparent reader: 61xx and 6Cxx procedures."""

    def __init__(self) -> None:
        self.payload = bytes(range(200))
        self.sent: list[bytes] = []
        self.pending = b""

    def transmit(self, apdu: bytes) -> bytes:
        self.sent.append(apdu)
        if apdu[1] == 0x84:  # GET CHALLENGE: wants exactly Le=8
            return b"\x6C\x08" if apdu[-1] != 8 else bytes(8) + b"\x90\x00"
        if apdu[1] == 0xCA:  # GET DATA: 200 bytes in pieces of ≤ 64
            self.pending = self.payload
        if apdu[1] in (0xCA, 0xC0):
            if apdu[1] == 0xC0 and apdu[4] != min(64, len(self.pending)):
                return b"\x67\x00"
            if apdu[1] == 0xCA:
                return b"\x61" + bytes([64])
            piece, self.pending = self.pending[:64], self.pending[64:]
            return piece + (b"\x61" + bytes([min(64, len(self.pending))]) if self.pending else b"\x90\x00")
        return b"\x90\x00"


def test_processor_handles_61xx_and_6cxx() -> None:
    card = T0LikeCard()
    proc = APDUProcessor(DirectChannel(card))
    assert isinstance(proc.channel, APDUChannel)
    r = ResponseAPDU.parse(proc.transmit(bytes.fromhex("00CA010000")))
    assert r.sw == 0x9000 and r.data == card.payload
    r = ResponseAPDU.parse(proc.transmit(bytes.fromhex("0084000000")))
    assert r.sw == 0x9000 and len(r.data) == 8
    assert card.sent[-1] == bytes.fromhex("0084000008")


def test_processor_batch_completes_61xx_and_keeps_going() -> None:
    card = T0LikeCard()
    ch = DirectChannel(card)
    out = APDUProcessor(ch).transmit_batch(
        [bytes.fromhex("00A4020C02011E"), bytes.fromhex("00CA010000"), bytes.fromhex("00A4020C02011D")]
    )
    assert [ResponseAPDU.parse(r).sw for r in out] == [0x9000, 0x9000, 0x9000]
    assert ResponseAPDU.parse(out[1]).data == card.payload
    assert ch.batches_sent == 2  # the batch stopped at 61xx, was completed, then resumed


def test_direct_channel_batch_stops_per_continue_sw() -> None:
    card = T0LikeCard()
    ch = DirectChannel(card)
    out = ch.transmit_batch([bytes.fromhex("0084000000"), bytes.fromhex("00A4020C02011E")])
    assert len(out) == 1 and out[0] == b"\x6C\x08"
    out = ch.transmit_batch([bytes.fromhex("0084000000"), bytes.fromhex("00A4020C02011E")],
                            continue_sw=(0x9000, 0x6C08))
    assert len(out) == 2
