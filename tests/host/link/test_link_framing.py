"""Framing (SPEC.md §2): COBS with the published examples, CRC-32 check value, the receiver's drops."""

from __future__ import annotations

import os
import zlib

import pytest

from partycard.errors import FramingError
from partycard.link.codes import MAX_PAYLOAD
from partycard.link.framing import (
    FrameDecoder,
    cobs_decode,
    cobs_encode,
    crc32_le,
    decode_frame,
    encode_frame,
    max_encoded_len,
)
from tests.host.link.peer import frame as peer_frame

# The worked examples of COBS (Cheshire and Baker 1999; the same table is reproduced in most
# descriptions of the algorithm), without the trailing delimiter.
_RUN = bytes(range(1, 0xFF))  # 01..FE, 254 non-zero bytes
COBS_EXAMPLES = [
    (b"", b"\x01"),
    (b"\x00", b"\x01\x01"),
    (b"\x00\x00", b"\x01\x01\x01"),
    (b"\x00\x11\x00", b"\x01\x02\x11\x01"),
    (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"),
    (b"\x11\x22\x33\x44", b"\x05\x11\x22\x33\x44"),
    (b"\x11\x00\x00\x00", b"\x02\x11\x01\x01\x01"),
    (_RUN, b"\xff" + _RUN),
    (b"\x00" + _RUN, b"\x01\xff" + _RUN),
    (_RUN + b"\xff", b"\xff" + _RUN + b"\x02\xff"),
    (bytes(range(2, 0x100)) + b"\x00", b"\xff" + bytes(range(2, 0x100)) + b"\x01\x01"),
    (bytes(range(3, 0x100)) + b"\x00\x01", b"\xfe" + bytes(range(3, 0x100)) + b"\x02\x01"),
]


@pytest.mark.parametrize(("data", "encoded"), COBS_EXAMPLES)
def test_cobs_published_examples(data: bytes, encoded: bytes) -> None:
    assert cobs_encode(data) == encoded
    assert cobs_decode(encoded) == data


def test_crc32_check_value() -> None:
    # The CRC-32/ISO-HDLC check value: CRC of the ASCII string "123456789" is 0xCBF43926.
    assert crc32_le(b"123456789") == bytes.fromhex("2639f4cb")


def test_encode_frame_matches_the_spec_construction() -> None:
    payload = b"\xa1\x00\x01\x00\x00"
    expected = cobs_encode(payload + zlib.crc32(payload).to_bytes(4, "little")) + b"\x00"
    assert encode_frame(payload) == expected == peer_frame(payload)
    assert b"\x00" not in encode_frame(payload)[:-1]


def test_encode_frame_refuses_empty_and_oversize() -> None:
    with pytest.raises(FramingError):
        encode_frame(b"")
    with pytest.raises(FramingError):
        encode_frame(b"\x01" * (MAX_PAYLOAD + 1))


def test_max_encoded_len_is_the_spec_bound() -> None:
    # SPEC.md §2 rule 2: MAX_PAYLOAD + 4 CRC bytes, one overhead byte per 254 and one more.
    assert max_encoded_len() == 2048 + 4 + (2052 // 254) + 1
    assert len(encode_frame(b"\x01" * MAX_PAYLOAD)) - 1 <= max_encoded_len()


def test_decoder_roundtrip_of_every_size_byte_by_byte() -> None:
    decoder = FrameDecoder()
    for size in (1, 2, 253, 254, 255, 508, 509, 1024, MAX_PAYLOAD):
        payload = os.urandom(size)
        got: list[bytes] = []
        for byte in encode_frame(payload):
            got += decoder.feed(bytes([byte]))
        assert got == [payload]
    assert decoder.dropped == 0


def test_decoder_skips_text_and_noise_between_frames() -> None:
    decoder = FrameDecoder()
    a, b = b"\xa0\x01\x02\x03\x04", os.urandom(300)
    stream = (
        b"ets Jun  8 2016 00:22:57\r\nrst:0x1 (POWERON_RESET)\r\n\x00"  # boot ROM text, then a delimiter
        + encode_frame(a)
        + b"Traceback (most recent call last):\n"  # text glued to the next frame's start
        + b"\x00\x00\x00"  # empty runs are ignored
        + encode_frame(b)
    )
    assert decoder.feed(stream) == [a, b]
    assert decoder.dropped == 2  # the boot text run and the traceback run
    assert decoder.frames == 2


@pytest.mark.parametrize(
    ("run", "reason"),
    [
        (b"\x05\x11\x22\x33", "bad_cobs"),  # code byte points past the end
        (b"\x05\xa1\xb2\xc3\xd4", "short"),  # decoded length 4
        (b"\x01\x01\x01\x01\x01", "short"),  # empty payload with its (correct) CRC
    ],
)
def test_decoder_drops_and_counts_by_reason(run: bytes, reason: str) -> None:
    decoder = FrameDecoder()
    assert decoder.feed(run + b"\x00") == []
    assert decoder.dropped == 1
    assert getattr(decoder.stats, reason) == 1
    with pytest.raises(FramingError):
        decode_frame(run)


def test_decoder_drops_bad_crc_and_resyncs() -> None:
    good = encode_frame(b"\x83\x01\x02\x03")
    bad = bytearray(good)
    bad[2] ^= 0x40
    decoder = FrameDecoder()
    assert decoder.feed(bytes(bad) + good) == [b"\x83\x01\x02\x03"]
    assert decoder.stats.bad_crc == 1


def test_decoder_discards_an_oversize_run_without_buffering_it() -> None:
    decoder = FrameDecoder()
    noise = b"\x01" * (max_encoded_len() + 10)
    for start in range(0, len(noise), 100):
        assert decoder.feed(noise[start : start + 100]) == []
    assert len(decoder._buf) == 0  # discarding, not accumulating
    payload = b"\xa0" + b"\x00" * 10
    assert decoder.feed(b"\x00" + encode_frame(payload)) == [payload]
    assert decoder.stats.oversize == 1


def test_decoder_rejects_payload_just_over_the_limit() -> None:
    payload = b"\x02" * (MAX_PAYLOAD + 1)
    frame = cobs_encode(payload + crc32_le(payload)) + b"\x00"
    decoder = FrameDecoder()
    assert decoder.feed(frame) == []
    assert decoder.dropped == 1
