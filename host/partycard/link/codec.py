"""Link layer, message codec: deterministic CBOR encoding and strict decoding (SPEC.md §3.1).

Pure: no I/O, no framing, no knowledge of the envelope. Decoding walks the item headers first, so
that every length, count and depth is checked against the limits and against the bytes actually
present before anything is allocated for it; only then does cbor2 build the values, and the
result must re-encode to exactly the input bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import cbor2

from partycard.errors import DecodeError, ProtocolError
from partycard.link.codes import MAX_DEPTH, MAX_ENTRIES, MAX_ITEMS, MAX_PAYLOAD, ErrorCode

_MAJOR_UINT: Final = 0
_MAJOR_NINT: Final = 1
_MAJOR_BYTES: Final = 2
_MAJOR_TEXT: Final = 3
_MAJOR_ARRAY: Final = 4
_MAJOR_MAP: Final = 5
_MAJOR_TAG: Final = 6
_MAJOR_SIMPLE: Final = 7

# RFC 8949 §3.3: simple values 20, 21, 22 are false, true, null; the subset allows no others.
_FALSE: Final = 20
_TRUE: Final = 21
_NULL: Final = 22
_ARG_LIMIT: Final = 1 << 64
# RFC 8949 §4.2.1 preferred serialisation: the smallest argument each additional-info value may
# carry (anything smaller had to use a shorter form).
_MIN_ARG: Final = {24: 24, 25: 1 << 8, 26: 1 << 16, 27: 1 << 32}

Value = None | bool | int | bytes | str | list["Value"] | dict["Value", "Value"]


def _cbor_error(message: str) -> DecodeError:
    return DecodeError(message, code=ErrorCode.E_CBOR)


def _limit_error(message: str) -> DecodeError:
    return DecodeError(message, code=ErrorCode.E_LIMIT)


# --- encoding ----------------------------------------------------------------------------


def _head(major: int, arg: int) -> bytes:
    """Initial byte and argument in preferred (shortest) form (RFC 8949 §4.2.1)."""
    if arg < 24:
        return bytes([major << 5 | arg])
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * size):
            return bytes([major << 5 | ai]) + arg.to_bytes(size, "big")
    raise ProtocolError(f"integer argument {arg} does not fit in 64 bits")


def encode(value: object) -> bytes:
    """Deterministic CBOR (RFC 8949 §4.2.1) of ``value``, restricted to the subset of SPEC.md §3.1.

    Accepts None, bool, int, bytes-like, str, list/tuple and mappings. Raises
    :class:`ProtocolError` for anything else (floats included) and for nesting or counts beyond
    the limits a reader would reject.
    """
    out = bytearray()
    _encode(value, out, 0)
    if _entries(value) > MAX_ENTRIES:
        raise ProtocolError(f"more than {MAX_ENTRIES} entries in one message")
    return bytes(out)


def _entries(value: object) -> int:
    """Array elements and map pairs at every level (``_encode`` has checked the types)."""
    if isinstance(value, list | tuple):
        return len(value) + sum(_entries(v) for v in value)
    if isinstance(value, Mapping):
        return len(value) + sum(_entries(k) + _entries(v) for k, v in value.items())
    return 0


def _encode(value: object, out: bytearray, depth: int) -> None:
    if value is None:
        out.append(0xE0 | _NULL)
    elif isinstance(value, bool):
        out.append(0xE0 | (_TRUE if value else _FALSE))
    elif isinstance(value, int):
        out += _head(_MAJOR_UINT, value) if value >= 0 else _head(_MAJOR_NINT, -1 - value)
    elif isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        out += _head(_MAJOR_BYTES, len(raw)) + raw
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        out += _head(_MAJOR_TEXT, len(raw)) + raw
    elif isinstance(value, list | tuple):
        _check_container(len(value), depth)
        out += _head(_MAJOR_ARRAY, len(value))
        for item in value:
            _encode(item, out, depth + 1)
    elif isinstance(value, Mapping):
        _check_container(len(value), depth)
        _encode_map(value, out, depth + 1)
    else:
        raise ProtocolError(f"cannot encode {type(value).__name__} (not in the CBOR subset of SPEC.md §3.1)")


def _check_container(count: int, depth: int) -> None:
    if depth + 1 > MAX_DEPTH:
        raise ProtocolError(f"nesting deeper than {MAX_DEPTH}")
    if count > MAX_ITEMS:
        raise ProtocolError(f"{count} entries exceed the limit of {MAX_ITEMS}")


def _encode_map(value: Mapping[object, object], out: bytearray, depth: int) -> None:
    pairs: list[tuple[bytes, object]] = []
    for key, item in value.items():
        if isinstance(key, bool) or not isinstance(key, int | str):
            raise ProtocolError(f"a map key is an integer or a text string, not {type(key).__name__} (SPEC.md §3.1)")
        key_out = bytearray()
        _encode(key, key_out, depth)
        pairs.append((bytes(key_out), item))
    # RFC 8949 §4.2.1: keys sorted by the bytewise lexicographic order of their encodings.
    pairs.sort(key=lambda pair: pair[0])
    out += _head(_MAJOR_MAP, len(pairs))
    previous: bytes | None = None
    for encoded_key, item in pairs:
        if encoded_key == previous:
            raise ProtocolError("duplicate map key")
        previous = encoded_key
        out += encoded_key
        _encode(item, out, depth)


# --- decoding ----------------------------------------------------------------------------


def decode(data: bytes) -> object:
    """Decode one payload strictly (SPEC.md §3.1). Raises :class:`DecodeError` with E_CBOR or E_LIMIT."""
    data = bytes(data)
    if len(data) > MAX_PAYLOAD:
        raise _limit_error(f"payload of {len(data)} bytes exceeds {MAX_PAYLOAD}")
    if not data:
        raise _cbor_error("empty payload")
    end = _walk(data, 0, len(data), 0, [0])
    if end != len(data):
        raise _cbor_error(f"{len(data) - end} bytes after the top-level item")
    try:
        value: object = cbor2.loads(data)
    except Exception as exc:  # cbor2's failure modes, translated once, here
        raise _cbor_error(f"cbor2 rejected the payload: {exc}") from exc
    if encode(value) != data:
        raise _cbor_error("encoding is not deterministic (RFC 8949 §4.2.1)")
    return value


def _read_head(data: bytes, pos: int, end: int) -> tuple[int, int, int, int]:
    """(major, additional info, argument, next position) of the item at ``pos``."""
    if pos >= end:
        raise _cbor_error("truncated item")
    initial = data[pos]
    major, info = initial >> 5, initial & 0x1F
    pos += 1
    if major == _MAJOR_TAG:
        raise _cbor_error("tags are not allowed")
    if major == _MAJOR_SIMPLE:
        if info not in (_FALSE, _TRUE, _NULL):
            raise _cbor_error(f"simple value or float 0x{initial:02x} is not allowed")
        return major, info, info, pos
    if info < 24:
        return major, info, info, pos
    if info == 31:
        raise _cbor_error("indefinite lengths are not allowed")
    if info > 27:
        raise _cbor_error(f"reserved additional information {info}")
    size = 1 << (info - 24)
    if pos + size > end:
        raise _cbor_error("truncated argument")
    arg = int.from_bytes(data[pos : pos + size], "big")
    if arg < _MIN_ARG[info]:
        raise _cbor_error("argument not in its shortest form")
    return major, info, arg, pos + size


def _walk(data: bytes, pos: int, end: int, depth: int, entries: list[int]) -> int:
    """Check the item at ``pos`` and everything inside it; return the position after it.
    ``entries[0]`` counts the entries declared so far in the whole message (MAX_ENTRIES)."""
    major, _info, arg, pos = _read_head(data, pos, end)
    if major in (_MAJOR_UINT, _MAJOR_NINT, _MAJOR_SIMPLE):
        return pos
    if major in (_MAJOR_BYTES, _MAJOR_TEXT):
        if arg > MAX_PAYLOAD:
            raise _limit_error(f"string of {arg} bytes exceeds {MAX_PAYLOAD}")
        if pos + arg > end:
            raise _cbor_error("string runs past the end of the payload")
        if major == _MAJOR_TEXT:
            try:
                data[pos : pos + arg].decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _cbor_error("text string is not valid UTF-8") from exc
        return pos + arg
    _container_head(major, arg, end - pos, depth, entries)
    if major == _MAJOR_ARRAY:
        for _ in range(arg):
            pos = _walk(data, pos, end, depth + 1, entries)
        return pos
    return _walk_map(data, pos, end, depth + 1, arg, entries=entries)


def _container_head(major: int, count: int, left: int, depth: int, entries: list[int]) -> None:
    """Arrays and maps: depth and count are checked on the declaration, before any entry is read."""
    if depth + 1 > MAX_DEPTH:
        raise _limit_error(f"nesting deeper than {MAX_DEPTH}")
    if count > MAX_ITEMS:
        raise _limit_error(f"{count} entries exceed {MAX_ITEMS}")
    entries[0] += count
    if entries[0] > MAX_ENTRIES:
        raise _limit_error(f"more than {MAX_ENTRIES} entries in the message")
    # SPEC.md §3.1: the count against the bytes left (an element takes at least one, a pair two),
    # as a decoder that allocates for the entries must check it.
    if count * (2 if major == _MAJOR_MAP else 1) > left:
        raise _cbor_error(f"{count} entries cannot fit the {left} bytes left")


def _walk_map(data: bytes, pos: int, end: int, depth: int, count: int, *, entries: list[int]) -> int:
    previous = b""
    for index in range(count):
        # SPEC.md §3.1: keys are integers or text strings, told from the first byte.
        if pos < end and data[pos] >> 5 not in (_MAJOR_UINT, _MAJOR_NINT, _MAJOR_TEXT):
            raise _cbor_error("a map key is an integer or a text string")
        key_start = pos
        pos = _walk(data, pos, end, depth, entries)
        key = data[key_start:pos]
        # RFC 8949 §4.2.1: strictly increasing bytewise order also rules out duplicates.
        if index and key <= previous:
            raise _cbor_error("map keys out of order or duplicated")
        previous = key
        pos = _walk(data, pos, end, depth, entries)
    return pos
