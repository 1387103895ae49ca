"""Protocol tools: reference check of the CBOR subset and strictness of SPEC.md §3.1. Pure: no I/O.

It decides only accept or reject (with the error the reader must answer), never builds objects, so
it can run ahead of any decoder. Independent of cbor2, which accepts several things §3.1 forbids.
"""

from __future__ import annotations

from protocol.tools.wire import CODES

MAX_PAYLOAD: int = CODES["limit"]["MAX_PAYLOAD"]
MAX_DEPTH: int = CODES["limit"]["MAX_DEPTH"]
MAX_ITEMS: int = CODES["limit"]["MAX_ITEMS"]
MAX_ENTRIES: int = CODES["limit"]["MAX_ENTRIES"]

# RFC 8949 §3.3: simple values 20-22 are false, true, null; §3.1 allows nothing else in major 7.
_FALSE, _TRUE, _NULL = 20, 21, 22


class CborReject(ValueError):
    """The payload breaks SPEC.md §3.1; error is "E_CBOR" or "E_LIMIT"."""

    def __init__(self, error: str, reason: str) -> None:
        super().__init__(f"{error}: {reason}")
        self.error = error
        self.reason = reason


def _cbor(reason: str) -> CborReject:
    return CborReject("E_CBOR", reason)


def _limit(reason: str) -> CborReject:
    return CborReject("E_LIMIT", reason)


def check(payload: bytes) -> None:
    """Raise CborReject unless payload is exactly one item in the allowed, deterministic subset."""
    if len(payload) > MAX_PAYLOAD:
        raise _limit(f"payload of {len(payload)} bytes exceeds MAX_PAYLOAD")
    end = _item(payload, 0, 0, [0])
    if end != len(payload):
        raise _cbor(f"{len(payload) - end} bytes after the top-level item")


def _head(buf: bytes, pos: int) -> tuple[int, int, int, int]:
    """Read an initial byte and its argument: (major type, additional info, argument, next pos)."""
    if pos >= len(buf):
        raise _cbor("item truncated")
    major, info = buf[pos] >> 5, buf[pos] & 0x1F
    pos += 1
    if info < 24:
        return major, info, info, pos
    if info > 27:
        # 28-30 are reserved (RFC 8949 §3); 31 is an indefinite length or a break.
        raise _cbor("indefinite length or break" if info == 31 else f"reserved additional info {info}")
    if major == 7:
        return major, info, 0, pos  # simple value or float: the caller rejects it.
    size = 1 << (info - 24)
    if pos + size > len(buf):
        raise _cbor("argument truncated")
    arg = int.from_bytes(buf[pos : pos + size], "big")
    # RFC 8949 §4.2.1: the shortest form of the argument.
    if arg < (24 if size == 1 else 1 << (4 * size)):
        raise _cbor(f"argument {arg} not in its shortest form")
    return major, info, arg, pos + size


def _item(buf: bytes, pos: int, depth: int, entries: list[int]) -> int:
    """Check the item at pos inside a container at depth (0 = top level); return its end.
    entries[0]: the entries declared so far in the whole payload."""
    major, info, arg, pos = _head(buf, pos)
    if major in (0, 1):
        return pos
    if major in (2, 3):
        # Declared length against the limit first, then against the bytes that remain (§3.1).
        if arg > MAX_PAYLOAD:
            raise _limit(f"string of {arg} bytes exceeds MAX_PAYLOAD")
        if pos + arg > len(buf):
            raise _cbor(f"string of {arg} bytes runs past the end")
        if major == 3:
            try:
                buf[pos : pos + arg].decode("utf-8", errors="strict")
            except UnicodeDecodeError as exc:
                raise _cbor("invalid UTF-8 in a text string") from exc
        return pos + arg
    if major in (4, 5):
        return _container(buf, pos, major, arg, depth + 1, entries=entries)
    if major == 6:
        raise _cbor("tags are not allowed")
    if info in (_FALSE, _TRUE, _NULL):
        return pos
    raise _cbor("floats, undefined and other simple values are not allowed")


def _container(buf: bytes, pos: int, major: int, count: int, depth: int, *, entries: list[int]) -> int:
    if depth > MAX_DEPTH:
        raise _limit(f"nesting depth {depth} exceeds MAX_DEPTH")
    if count > MAX_ITEMS:
        raise _limit(f"{count} entries exceed MAX_ITEMS")
    entries[0] += count
    if entries[0] > MAX_ENTRIES:
        raise _limit(f"{entries[0]} entries in the payload exceed MAX_ENTRIES")
    # §3.1: the count against the bytes left, at one byte per element and two per pair.
    if count * (2 if major == 5 else 1) > len(buf) - pos:
        raise _cbor(f"{count} entries cannot fit the {len(buf) - pos} bytes left")
    previous: bytes | None = None
    for _ in range(count):
        if major == 5:
            start = pos
            if pos < len(buf) and buf[pos] >> 5 not in (0, 1, 3):
                raise _cbor("map key neither an integer nor a text string")
            pos = _item(buf, pos, depth, entries)
            key = buf[start:pos]
            # RFC 8949 §4.2.1: keys sorted by the bytewise order of their encodings, no duplicates.
            if previous is not None and key <= previous:
                raise _cbor("map key duplicated" if key == previous else "map keys out of order")
            previous = key
        pos = _item(buf, pos, depth, entries)
    return pos
