"""Link layer: the CBOR subset of SPEC.md §3.1. Pure: no I/O, no machine, no envelope semantics.

Supported: unsigned and negative integers (64-bit range), byte strings, text strings, arrays,
maps (integer or text keys), false, true, null. Nothing else is encoded or accepted.

``encode`` is deterministic (RFC 8949 §4.2.1): shortest arguments, definite lengths, map keys in
the bytewise order of their encodings. ``decode`` is strict and bounded: it raises a ``ReaderFault``
E_CBOR for anything malformed or outside the subset and E_LIMIT past MAX_DEPTH, MAX_ITEMS,
MAX_ENTRIES or MAX_PAYLOAD, and checks every declared length against the bytes that are actually
left before it allocates anything.

Decoded byte strings are ``bytes`` copies, never memoryviews: the frame buffer they come from is
reused by the receiver while a handler still holds its arguments (cancel and busy replies are
read while a request runs, SPEC.md §6).

The code is kept to few functions on purpose: on the board every function object costs RAM.
"""

import struct

from micropython import const

from reader.errors import ReaderFault
from reader.link import codes
from reader.link.codes import MAX_DEPTH, MAX_ENTRIES, MAX_ITEMS, MAX_PAYLOAD

_BSTR = const(2)
_TSTR = const(3)
_ARRAY = const(4)
_MAP = const(5)
# Additional info 24..27: the argument follows in 1, 2, 4 or 8 bytes; each form is only allowed
# for values the next shorter one cannot hold (RFC 8949 §4.2.1, preferred serialization).
_ARG = ((">B", 24), (">H", 0x100), (">I", 0x10000), (">Q", 0x100000000))
_SIMPLE = {0xF4: False, 0xF5: True, 0xF6: None}  # RFC 8949 §3.3: the only simple values kept


# ---------------------------------------------------------------- encoder


def _head(mv, pos, major, arg):
    mt = major << 5
    if arg < 24:
        mv[pos] = mt | arg
        return pos + 1
    for i in range(4):
        if arg < 1 << (8 << i):  # the shortest of 1, 2, 4 or 8 argument bytes that holds it
            end = pos + 1 + (1 << i)
            if end > len(mv):
                raise IndexError  # as a write past the end does (CPython's pack_into has its own)
            struct.pack_into(">B" + _ARG[i][0][1], mv, pos, mt | (24 + i), arg)
            return end
    raise ReaderFault("integer out of 64-bit range", code=codes.E_CBOR)


def _enc(mv, pos, obj, depth):
    # Writes ``obj`` at ``pos`` and returns the position after it. ``depth`` is the nesting level
    # ``obj`` has if it is a container (the top item is 1).
    if obj is None or obj is True or obj is False:
        mv[pos] = 0xF6 if obj is None else 0xF5 if obj else 0xF4
        return pos + 1
    if isinstance(obj, int):
        return _head(mv, pos, 0, obj) if obj >= 0 else _head(mv, pos, 1, -1 - obj)
    if isinstance(obj, str):
        obj = obj.encode("utf-8")
        pos = _head(mv, pos, _TSTR, len(obj))
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        pos = _head(mv, pos, _BSTR, len(obj))
    elif isinstance(obj, (list, tuple, dict)):
        if depth > MAX_DEPTH:
            raise ReaderFault("nesting deeper than MAX_DEPTH", code=codes.E_LIMIT)
        if isinstance(obj, dict):
            return _enc_map(mv, pos, obj, depth)
        pos = _head(mv, pos, _ARRAY, len(obj))
        for item in obj:
            pos = _enc(mv, pos, item, depth + 1)
        return pos
    else:
        raise ReaderFault("type not in the CBOR subset", code=codes.E_CBOR)
    end = pos + len(obj)
    mv[pos:end] = obj  # a memoryview slice: ValueError past the end, never a resize
    return end


def _enc_map(mv, pos, obj, depth):
    # Keys are encoded once and sorted as bytes (RFC 8949 §4.2.1); maps here are small. Each key
    # is encoded where the map will go, then copied out, so no buffer is grown for it.
    pairs = []
    for key in obj:
        if not isinstance(key, (int, str)) or key is True or key is False:
            raise ReaderFault("map key must be an integer or text", code=codes.E_CBOR)
        pairs.append((bytes(mv[pos : _enc(mv, pos, key, depth + 1)]), obj[key]))
    pairs.sort(key=lambda kv: kv[0])
    pos = _head(mv, pos, _MAP, len(pairs))
    for kb, value in pairs:
        end = pos + len(kb)
        mv[pos:end] = kb
        pos = _enc(mv, end, value, depth + 1)
    return pos


def encode_into(buf, obj, limit=MAX_PAYLOAD):
    """Deterministic encoding of ``obj`` written into ``buf`` from its start; returns its length.

    Nothing is allocated for the encoding itself: a board's heap cannot afford a payload-sized
    buffer that grows (and leaves its earlier sizes behind as fragments) for every reply.
    E_CBOR for values outside the subset; E_LIMIT when it is longer than ``limit`` or ``buf``.
    """
    mv = memoryview(buf)
    if len(mv) > limit:
        mv = mv[:limit]
    try:
        return _enc(mv, 0, obj, 1)
    except (IndexError, ValueError):  # a write past the end of ``mv``
        raise ReaderFault("message longer than MAX_PAYLOAD", code=codes.E_LIMIT) from None


def encode(obj, limit=MAX_PAYLOAD):
    """Deterministic encoding of ``obj`` (a new bytearray of at most ``limit`` bytes)."""
    buf = bytearray(limit)
    return buf[: encode_into(buf, obj, limit)]


# ---------------------------------------------------------------- decoder


def _utf8_ok(buf, pos, end):
    # RFC 3629 §4 well-formed UTF-8: no overlongs, no surrogates, nothing above U+10FFFF.
    # MicroPython's own str() check lets all three through, so it is not relied upon.
    while pos < end:
        b = buf[pos]
        pos += 1
        if b < 0x80:
            continue
        if 0xC2 <= b <= 0xDF:
            n, lo, hi = 1, 0x80, 0xBF
        elif 0xE0 <= b <= 0xEF:
            n, lo, hi = 2, 0xA0 if b == 0xE0 else 0x80, 0x9F if b == 0xED else 0xBF
        elif 0xF0 <= b <= 0xF4:
            n, lo, hi = 3, 0x90 if b == 0xF0 else 0x80, 0x8F if b == 0xF4 else 0xBF
        else:
            return False
        if pos + n > end or not lo <= buf[pos] <= hi:
            return False
        for i in range(pos + 1, pos + n):
            if buf[i] & 0xC0 != 0x80:
                return False
        pos += n
    return True


class _Decoder:
    def __init__(self, data):
        self.buf = memoryview(data)
        self.pos = 0
        self.end = len(data)
        self.entries = 0

    def item(self, depth):  # noqa: C901 - one function for the whole item grammar saves RAM
        buf = self.buf
        pos = self.pos
        if pos >= self.end:
            raise ReaderFault("truncated", code=codes.E_CBOR)
        ib = buf[pos]
        pos += 1
        major = ib >> 5
        ai = ib & 0x1F
        if major >= 6:
            if ib in _SIMPLE:
                self.pos = pos
                return _SIMPLE[ib]
            raise ReaderFault("tag, float or simple value outside the subset", code=codes.E_CBOR)
        if ai > 27:
            # 28..30 are reserved; 31 is an indefinite length or a break: both outside the subset.
            raise ReaderFault("indefinite length or reserved additional info", code=codes.E_CBOR)
        arg = ai
        if ai >= 24:
            fmt, low = _ARG[ai - 24]
            size = 1 << (ai - 24)
            if pos + size > self.end:
                raise ReaderFault("truncated", code=codes.E_CBOR)
            arg = struct.unpack_from(fmt, buf, pos)[0]
            pos += size
            if arg < low:
                raise ReaderFault("argument not in shortest form", code=codes.E_CBOR)
        self.pos = pos
        if major < 2:
            return arg if major == 0 else -1 - arg
        left = self.end - pos
        # Declared sizes are checked against the limits and the bytes left before allocating.
        if major < _ARRAY:
            if arg > MAX_PAYLOAD:
                raise ReaderFault("string longer than MAX_PAYLOAD", code=codes.E_LIMIT)
            if arg > left:
                raise ReaderFault("truncated", code=codes.E_CBOR)
            self.pos = pos + arg
            if major == _BSTR:
                return bytes(buf[pos : pos + arg])
            if not _utf8_ok(buf, pos, pos + arg):
                raise ReaderFault("invalid UTF-8", code=codes.E_CBOR)
            return str(bytes(buf[pos : pos + arg]), "utf-8")
        if depth >= MAX_DEPTH:
            raise ReaderFault("nesting deeper than MAX_DEPTH", code=codes.E_LIMIT)
        if arg > MAX_ITEMS:
            raise ReaderFault("more than MAX_ITEMS entries", code=codes.E_LIMIT)
        # Counted as declared, before anything is built: a 2 KB message of empty arrays would
        # otherwise be some 2,000 objects, more than the heap holds (SPEC.md §3.1).
        self.entries += arg
        if self.entries > MAX_ENTRIES:
            raise ReaderFault("more than MAX_ENTRIES entries in the message", code=codes.E_LIMIT)
        if arg * (major - 3) > left:  # an entry takes at least 1 byte, a map pair 2
            raise ReaderFault("truncated", code=codes.E_CBOR)
        if major == _ARRAY:
            return [self.item(depth + 1) for _ in range(arg)]
        return self._map(arg, depth + 1)

    def _map(self, count, depth):
        out = {}
        prev = None
        for _ in range(count):
            start = self.pos
            # SPEC.md §3.1: a key is an integer or a text string, told from its first byte before
            # anything is built for it (a key declared as a long array is E_CBOR, not E_LIMIT).
            if start < self.end and (self.buf[start] >> 5) not in (0, 1, 3):
                raise ReaderFault("map key must be an integer or text", code=codes.E_CBOR)
            key = self.item(depth)
            # RFC 8949 §4.2.1: encoded keys strictly ascending, bytewise (no duplicates).
            kb = bytes(self.buf[start : self.pos])
            if prev is not None and not prev < kb:
                raise ReaderFault("map keys out of order or duplicated", code=codes.E_CBOR)
            prev = kb
            out[key] = self.item(depth)
        return out


def decode(data):
    """Decode exactly one item from ``data`` (bytes-like); raises a ReaderFault E_CBOR or E_LIMIT."""
    if len(data) > MAX_PAYLOAD:
        raise ReaderFault("payload longer than MAX_PAYLOAD", code=codes.E_LIMIT)
    dec = _Decoder(data)
    obj = dec.item(0)
    if dec.pos != dec.end:
        raise ReaderFault("bytes after the top-level item", code=codes.E_CBOR)
    return obj
