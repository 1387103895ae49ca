"""Codec (SPEC.md §3.1) against RFC 8949: Appendix A examples, §4.2.1 ordering, and each rejection."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import cbor2
import pytest

from partycard.errors import DecodeError, ProtocolError
from partycard.link import codec
from partycard.link.codes import MAX_DEPTH, MAX_ENTRIES, MAX_ITEMS, MAX_PAYLOAD, ErrorCode

APPENDIX_A = json.loads(
    (Path(__file__).resolve().parents[2] / "vectors" / "cbor-appendix-a" / "appendix_a.json").read_text()
)


def _supported(item: dict[str, Any]) -> bool:
    """Whether an Appendix A item lies inside the subset of SPEC.md §3.1.

    The examples marked ``roundtrip: false`` are exactly the indefinite-length and non-preferred
    encodings; of the rest, tags (major type 6) and major type 7 other than false/true/null are
    outside the subset. No example nests a float or tag inside a container.
    """
    raw = bytes.fromhex(item["hex"])
    major, info = raw[0] >> 5, raw[0] & 0x1F
    if not item["roundtrip"] or major == 6:
        return False
    return major != 7 or info in (20, 21, 22)


SUPPORTED = [i for i in APPENDIX_A if _supported(i)]
REJECTED = [i for i in APPENDIX_A if not _supported(i)]


def test_appendix_a_split_is_what_the_subset_says() -> None:
    assert len(APPENDIX_A) == 82
    assert len(SUPPORTED) + len(REJECTED) == 82
    assert len(SUPPORTED) == 37  # every integer, string, array, map example, false, true, null


@pytest.mark.parametrize("item", SUPPORTED, ids=lambda i: i["hex"][:24])
def test_appendix_a_supported_items_decode_and_reencode(item: dict[str, Any]) -> None:
    raw = base64.b64decode(item["cbor"])
    value = codec.decode(raw)
    if "decoded" in item:
        # JSON cannot hold integer map keys; compare through JSON, which turns them into text.
        assert json.loads(json.dumps(value)) == item["decoded"]
    elif item["diagnostic"].startswith("h'"):  # byte strings, in diagnostic notation
        assert value == bytes.fromhex(item["diagnostic"][2:-1])
    else:
        assert item["diagnostic"] == "{1: 2, 3: 4}"  # the one map with integer keys
        assert value == {1: 2, 3: 4}
    assert codec.encode(value) == raw


@pytest.mark.parametrize("item", REJECTED, ids=lambda i: i["hex"][:24])
def test_appendix_a_items_outside_the_subset_are_rejected_with_e_cbor(item: dict[str, Any]) -> None:
    with pytest.raises(DecodeError) as info:
        codec.decode(bytes.fromhex(item["hex"]))
    assert info.value.code == ErrorCode.E_CBOR


def test_rfc8949_deterministic_key_order() -> None:
    # RFC 8949 §4.2.1's example order, the keys the subset allows (SPEC.md §3.1): 10, 100, -1, "z", "aa".
    value = {"aa": 5, "z": 4, -1: 3, 100: 2, 10: 1}
    encoded = codec.encode(value)
    expected = "a5" "0a01" "186402" "2003" "617a04" "62616105"
    assert encoded == bytes.fromhex(expected)


@pytest.mark.parametrize("key", [False, None, b"data", (100,), 1.5], ids=repr)
def test_a_map_key_outside_the_subset_is_not_encoded(key: object) -> None:
    # SPEC.md §3.1: map keys are integers or text strings; the RFC's [100] and false are not.
    with pytest.raises(ProtocolError, match="map key"):
        codec.encode({key: 1})


def test_encode_matches_cbor2_canonical_for_envelopes() -> None:
    body = {"data": b"\x00" * 300, "a": [1, -2, None, True], "longer-key": "ü"}
    value = {4: body, 0: 1, 3: "ping", 2: 7, 1: 0}
    assert codec.encode(value) == cbor2.dumps(value, canonical=True)


@pytest.mark.parametrize(
    ("hex_", "why"),
    [
        ("1817", "23 in two bytes: not shortest"),
        ("190017", "23 in three bytes"),
        ("1a000000ff", "255 in five bytes"),
        ("1b00000000ffffffff", "2**32-1 in nine bytes"),
        ("3800", "-1 in two bytes"),
        ("5801ff", "byte string length in two bytes"),
        ("a2616201616101", "keys b, a out of order"),
        ("a2616101616102", "duplicate key a"),
        ("a20a011864", "10 then 100 but truncated"),
        ("0000", "trailing byte"),
        ("62c328", "invalid UTF-8"),
        ("63eda080", "UTF-8 encoded surrogate"),
        ("1c", "reserved additional information 28"),
        ("ff", "break outside an indefinite item"),
        ("f7", "undefined"),
        ("f818", "two-byte simple value below 32"),
        ("c0616161", "tag 0"),
        ("f93c00", "half float"),
        ("44010203", "byte string runs past the end"),
        ("83", "array truncated"),
        ("", "empty"),
    ],
)
def test_decode_rejects_with_e_cbor(hex_: str, why: str) -> None:
    with pytest.raises(DecodeError) as info:
        codec.decode(bytes.fromhex(hex_))
    assert info.value.code == ErrorCode.E_CBOR, why


def _nest(depth: int) -> bytes:
    return b"\x81" * (depth - 1) + b"\x80"


def test_depth_limit_counts_the_envelope_as_one() -> None:
    assert codec.decode(_nest(MAX_DEPTH)) is not None
    with pytest.raises(DecodeError) as info:
        codec.decode(_nest(MAX_DEPTH + 1))
    assert info.value.code == ErrorCode.E_LIMIT


def test_item_count_limit() -> None:
    ok = bytes([0x98, MAX_ITEMS]) + b"\x00" * MAX_ITEMS
    assert codec.decode(ok) == [0] * MAX_ITEMS
    over = bytes([0x98, MAX_ITEMS + 1]) + b"\x00" * (MAX_ITEMS + 1)
    with pytest.raises(DecodeError) as info:
        codec.decode(over)
    assert info.value.code == ErrorCode.E_LIMIT


def test_entry_count_over_the_whole_message() -> None:
    """MAX_ENTRIES counts array elements and map pairs at every level together (SPEC.md §3.1)."""
    at_limit = [[0] * (MAX_ENTRIES // 8 - 1)] * 8  # 8 + 8 * 31 = 256
    assert codec.decode(codec.encode(at_limit)) == at_limit
    over = [*at_limit[:-1], [0] * (MAX_ENTRIES // 8)]
    with pytest.raises(ProtocolError, match="entries in one message"):
        codec.encode(over)
    raw = bytes.fromhex("88") + b"".join(bytes.fromhex("981f") + b"\x00" * 31 for _ in range(7))
    raw += bytes.fromhex("9820") + b"\x00" * 32
    with pytest.raises(DecodeError) as info:
        codec.decode(raw)
    assert info.value.code == ErrorCode.E_LIMIT
    # Empty arrays cost nothing in the count and everything in a heap: they count as declared, so
    # a message of them is refused once the arrays holding them pass the limit.
    hollow = bytes.fromhex("981e") + (bytes.fromhex("9840") + b"\x80" * 64) * 30
    with pytest.raises(DecodeError) as info:
        codec.decode(hollow)
    assert info.value.code == ErrorCode.E_LIMIT


def test_declared_huge_lengths_are_refused_before_allocation() -> None:
    # A 9-byte payload that declares a 2**63-byte string or a 2**32-entry map.
    for raw in (bytes.fromhex("5b8000000000000000"), bytes.fromhex("bb0000000100000000")):
        with pytest.raises(DecodeError) as info:
            codec.decode(raw)
        assert info.value.code == ErrorCode.E_LIMIT


def test_payload_and_string_size_limits() -> None:
    with pytest.raises(DecodeError) as info:
        codec.decode(b"\x00" * (MAX_PAYLOAD + 1))
    assert info.value.code == ErrorCode.E_LIMIT
    fits = codec.encode(b"\x01" * (MAX_PAYLOAD - 3))
    assert len(fits) == MAX_PAYLOAD
    assert codec.decode(fits) == b"\x01" * (MAX_PAYLOAD - 3)


def test_encode_refuses_what_the_subset_excludes() -> None:
    for value in (1.5, float("nan"), {1, 2}, object(), 1 << 64, -(1 << 64) - 1, _deep(MAX_DEPTH + 1)):
        with pytest.raises(ProtocolError):
            codec.encode(value)
    with pytest.raises(ProtocolError):
        codec.encode(list(range(MAX_ITEMS + 1)))


def _deep(depth: int) -> object:
    value: object = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_64_bit_integer_range_round_trips() -> None:
    for value in (0, 23, 24, 255, 256, 65535, 65536, (1 << 32) - 1, 1 << 32, (1 << 64) - 1, -1, -(1 << 64)):
        assert codec.decode(codec.encode(value)) == value
