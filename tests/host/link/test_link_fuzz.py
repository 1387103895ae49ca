"""Hypothesis smoke on the codec, the envelope parser and the framer: random and mutated input may
only ever produce the typed errors (DecodeError, FramingError) and must never hang. The default
run is bounded; ``-m fuzz`` runs the same properties much longer."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partycard.errors import DecodeError, FramingError
from partycard.link import codec
from partycard.link.framing import FrameDecoder, decode_frame, encode_frame
from partycard.link.messages import from_payload

SMOKE = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=20_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_ints = st.integers(-(1 << 64), (1 << 64) - 1)
_scalars = st.none() | st.booleans() | _ints | st.binary(max_size=40) | st.text(max_size=20)
_keys = st.text(max_size=8) | st.integers(0, 30)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=25,
)


def _mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    out = bytearray(data)
    for kind, where, value in edits:
        if not out:
            out.append(value)
            continue
        pos = where % len(out)
        if kind == 0:
            out[pos] = value
        elif kind == 1:
            del out[pos]
        else:
            out.insert(pos, value)
    return bytes(out)


_edit = st.tuples(st.integers(0, 2), st.integers(0, 1 << 16), st.integers(0, 255))
_edits = st.lists(_edit, min_size=1, max_size=6)


def _as_decoded(value: Any) -> Any:
    """What a decoder returns for ``value``: tuples come back as lists."""
    if isinstance(value, list | tuple):
        return [_as_decoded(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_decoded(v) for k, v in value.items()}
    return value


def _decode_only_typed(data: bytes) -> None:
    try:
        value = codec.decode(data)
    except DecodeError:
        return
    assert codec.encode(value) == data  # whatever is accepted is deterministic
    try:
        from_payload(data)
    except DecodeError:
        pass


def _frames_only_typed(stream: bytes) -> None:
    decoder = FrameDecoder()
    for payload in decoder.feed(stream):
        assert 1 <= len(payload) <= 2048
    try:
        decode_frame(stream.split(b"\x00")[0])
    except FramingError:
        pass


@pytest.mark.timeout(120)
@SMOKE
@given(st.binary(max_size=300))
def test_codec_random_bytes(data: bytes) -> None:
    _decode_only_typed(data)


@pytest.mark.timeout(120)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_values, _edits)
def test_codec_mutated_valid_items(value: Any, edits: list[tuple[int, int, int]]) -> None:
    try:
        encoded = codec.encode(value)
    except Exception as exc:  # only the subset's own refusals are expected here
        assert type(exc).__name__ == "ProtocolError", exc
        return
    assert codec.decode(encoded) == _as_decoded(value)
    _decode_only_typed(_mutate(encoded, edits))


@pytest.mark.timeout(120)
@SMOKE
@given(st.binary(max_size=600))
def test_framer_random_bytes(stream: bytes) -> None:
    _frames_only_typed(stream)


@pytest.mark.timeout(120)
@SMOKE
@given(st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=4), _edits)
def test_framer_mutated_frames(payloads: list[bytes], edits: list[tuple[int, int, int]]) -> None:
    stream = b"".join(encode_frame(p) for p in payloads)
    decoder = FrameDecoder()
    assert decoder.feed(stream) == payloads
    _frames_only_typed(_mutate(stream, edits))


@pytest.mark.fuzz
@pytest.mark.timeout(3600)
@LONG
@given(st.binary(max_size=2100))
def test_fuzz_codec_long(data: bytes) -> None:
    _decode_only_typed(data)


@pytest.mark.fuzz
@pytest.mark.timeout(3600)
@LONG
@given(_values, _edits)
def test_fuzz_codec_mutated_long(value: Any, edits: list[tuple[int, int, int]]) -> None:
    try:
        encoded = codec.encode(value)
    except Exception:  # values outside the subset are not the subject here
        return
    _decode_only_typed(_mutate(encoded, edits))


@pytest.mark.fuzz
@pytest.mark.timeout(3600)
@LONG
@given(st.lists(st.binary(min_size=1, max_size=2048), min_size=1, max_size=3), _edits)
def test_fuzz_framer_long(payloads: list[bytes], edits: list[tuple[int, int, int]]) -> None:
    _frames_only_typed(_mutate(b"".join(encode_frame(p) for p in payloads), edits))
