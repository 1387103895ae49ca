"""The vectors' own framing (protocol/tools/wire.py) against published examples, and framing.jsonl."""

from __future__ import annotations

import pytest
from protocol.tools.check_vectors import check_framing
from protocol.tools.vectorlib import Json
from protocol.tools.wire import MAX_RUN, FrameDrop, cobs_decode, cobs_encode, crc32le, decode_run, receive

from tests.protocol.conftest import records

FRAMING = records("framing.jsonl")
FRAME_DROPS = [r for r in records("invalid.jsonl") if r["layer"] == "frame"]

# The examples table of the COBS article on Wikipedia ("Consistent Overhead Byte Stuffing", examples
# 1-10), which follow Cheshire and Baker (IEEE/ACM ToN 7(2), 1999): input, encoding without delimiter.
PUBLISHED_COBS = [
    ("00", "0101"),
    ("0000", "010101"),
    ("00110000", "01021101 01".replace(" ", "")),
    ("11220033", "0311220233"),
    ("11223344", "0511223344"),
    ("11000000", "0211010101"),
    (bytes(range(1, 255)).hex(), "ff" + bytes(range(1, 255)).hex()),
    (bytes(range(0, 255)).hex(), "01ff" + bytes(range(1, 255)).hex()),
    (bytes(range(1, 256)).hex(), "ff" + bytes(range(1, 255)).hex() + "02ff"),
    (bytes(range(2, 256)).hex() + "00", "ff" + bytes(range(2, 256)).hex() + "0101"),
    (bytes(range(3, 256)).hex() + "0001", "fe" + bytes(range(3, 256)).hex() + "0201"),
]


@pytest.mark.parametrize(("data_hex", "encoded_hex"), PUBLISHED_COBS)
def test_cobs_matches_published_examples(data_hex: str, encoded_hex: str) -> None:
    assert cobs_encode(bytes.fromhex(data_hex)).hex() == encoded_hex
    assert cobs_decode(bytes.fromhex(encoded_hex)).hex() == data_hex


def test_crc_check_value() -> None:
    # CRC-32/ISO-HDLC check value over "123456789" (Williams, "A painless guide to CRC", catalogue).
    assert crc32le(b"123456789") == (0xCBF43926).to_bytes(4, "little")


def test_max_run_follows_spec_formula() -> None:
    # SPEC.md §2 rule 2 with MAX_PAYLOAD 2048: 2052 bytes, plus 2052 // 254 = 8 code bytes, plus one.
    assert MAX_RUN == 2061


def test_framing_vectors_round_trip() -> None:
    assert check_framing(FRAMING) == []


def test_framing_check_catches_a_wrong_frame() -> None:
    broken = [dict(FRAMING[0], frame_hex="02" + FRAMING[0]["frame_hex"][2:])]
    assert check_framing(broken) != []


@pytest.mark.parametrize("record", FRAME_DROPS, ids=[r["id"] for r in FRAME_DROPS])
def test_dropped_frames_are_dropped(record: dict[str, Json]) -> None:
    results = receive(bytes.fromhex(record["bytes_hex"]))
    assert all(isinstance(x, FrameDrop) for x in results)


def test_receiver_resynchronises_after_a_drop() -> None:
    # SPEC.md §2: after any drop the receiver is synchronised again at the byte after the 0x00.
    good = next(r for r in FRAMING if r["id"] == "hello-request")
    stream = b"".join(bytes.fromhex(r["bytes_hex"]) for r in FRAME_DROPS) + bytes.fromhex(good["frame_hex"])
    results = receive(stream)
    assert results[-1] == bytes.fromhex(good["payload_hex"])
    assert all(isinstance(x, FrameDrop) for x in results[:-1])


def test_decode_run_reasons() -> None:
    with pytest.raises(FrameDrop, match="past the end"):
        decode_run(bytes.fromhex("051122"))
    with pytest.raises(FrameDrop, match="below 5"):
        decode_run(bytes.fromhex("0511223344"))
    with pytest.raises(FrameDrop, match="CRC"):
        decode_run(bytes.fromhex("061122334455"))
