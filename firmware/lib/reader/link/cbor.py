"""Link layer: the CBOR subset of SPEC.md §3.1. Pure: no I/O, no machine, no envelope semantics.

Supported: unsigned and negative integers (64-bit range), byte strings, text strings, arrays,
maps (integer or text keys), false, true, null. Nothing else is encoded or accepted.

``encode`` is deterministic (RFC 8949 §4.2.1): shortest arguments, definite lengths, map keys in
the bytewise order of their encodings. ``decode`` is strict and bounded: it raises ``CborFault``
(E_CBOR) for anything malformed or outside the subset and ``LimitFault`` (E_LIMIT) past
MAX_DEPTH, MAX_ITEMS, MAX_ENTRIES or MAX_PAYLOAD, and checks every declared length against the bytes that are
actually left before it allocates anything.

Decoded byte strings are ``bytes`` copies, never memoryviews: the frame buffer they come from is
reused by the receiver while a handler still holds its arguments (cancel and busy replies are
read while a request runs, SPEC.md §6).

The code is kept to few functions on purpose: on the board every function object costs RAM.
"""

import struct

from micropython import const

from reader.errors import CborFault, LimitFault
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


def _head(out, major, arg):
    mt = major << 5
    if arg < 24:
        out.append(mt | arg)
        return
    for i in range(4):
        if arg < 1 << (8 << i):  # the shortest of 1, 2, 4 or 8 argument bytes that holds it
            out.extend(struct.pack(">B" + _ARG[i][0][1], mt | (24 + i), arg))
            return
    raise CborFault("integer out of 64-bit range")


def _enc(out, obj, depth):
    # ``depth`` is the nesting level ``obj`` has if it is a container (the top item is 1).
    if obj is None or obj is True or obj is False:
        out.append(0xF6 if obj is None else 0xF5 if obj else 0xF4)
    elif isinstance(obj, int):
        if obj >= 0:
            _head(out, 0, obj)
        else:
            _head(out, 1, -1 - obj)
    elif isinstance(obj, str):
        obj = obj.encode("utf-8")
        _head(out, _TSTR, len(obj))
        out.extend(obj)
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        _head(out, _BSTR, len(obj))
        out.extend(obj)
    elif isinstance(obj, (list, tuple, dict)):
        if depth > MAX_DEPTH:
            raise LimitFault("nesting deeper than MAX_DEPTH")
        if isinstance(obj, dict):
            _enc_map(out, obj, depth)
            return
        _head(out, _ARRAY, len(obj))
        for item in obj:
            _enc(out, item, depth + 1)
    else:
        raise CborFault("type not in the CBOR subset")


def _enc_map(out, obj, depth):
    # Keys are encoded once and sorted as bytes (RFC 8949 §4.2.1); maps here are small.
    pairs = []
    for key in obj:
        if not isinstance(key, (int, str)) or key is True or key is False:
            raise CborFault("map key must be an integer or text")
        kb = bytearray()
        _enc(kb, key, depth + 1)
        pairs.append((bytes(kb), obj[key]))
    pairs.sort(key=lambda kv: kv[0])
    _head(out, _MAP, len(pairs))
    for kb, value in pairs:
        out.extend(kb)
        _enc(out, value, depth + 1)


def encode(obj):
    """Deterministic encoding of ``obj`` (a bytearray); CborFault for values outside the subset."""
    out = bytearray()
    _enc(out, obj, 1)
    return out


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
            raise CborFault("truncated")
        ib = buf[pos]
        pos += 1
        major = ib >> 5
        ai = ib & 0x1F
        if major >= 6:
            if ib in _SIMPLE:
                self.pos = pos
                return _SIMPLE[ib]
            raise CborFault("tag, float or simple value outside the subset")
        if ai > 27:
            # 28..30 are reserved; 31 is an indefinite length or a break: both outside the subset.
            raise CborFault("indefinite length or reserved additional info")
        arg = ai
        if ai >= 24:
            fmt, low = _ARG[ai - 24]
            size = 1 << (ai - 24)
            if pos + size > self.end:
                raise CborFault("truncated")
            arg = struct.unpack_from(fmt, buf, pos)[0]
            pos += size
            if arg < low:
                raise CborFault("argument not in shortest form")
        self.pos = pos
        if major < 2:
            return arg if major == 0 else -1 - arg
        left = self.end - pos
        # Declared sizes are checked against the limits and the bytes left before allocating.
        if major < _ARRAY:
            if arg > MAX_PAYLOAD:
                raise LimitFault("string longer than MAX_PAYLOAD")
            if arg > left:
                raise CborFault("truncated")
            self.pos = pos + arg
            if major == _BSTR:
                return bytes(buf[pos : pos + arg])
            if not _utf8_ok(buf, pos, pos + arg):
                raise CborFault("invalid UTF-8")
            return str(bytes(buf[pos : pos + arg]), "utf-8")
        if depth >= MAX_DEPTH:
            raise LimitFault("nesting deeper than MAX_DEPTH")
        if arg > MAX_ITEMS:
            raise LimitFault("more than MAX_ITEMS entries")
        # Counted as declared, before anything is built: a 2 KB message of empty arrays would
        # otherwise be some 2,000 objects, more than the heap holds (SPEC.md §3.1).
        self.entries += arg
        if self.entries > MAX_ENTRIES:
            raise LimitFault("more than MAX_ENTRIES entries in the message")
        if arg * (major - 3) > left:  # an entry takes at least 1 byte, a map pair 2
            raise CborFault("truncated")
        if major == _ARRAY:
            return [self.item(depth + 1) for _ in range(arg)]
        return self._map(arg, depth + 1)

    def _map(self, count, depth):
        out = {}
        prev = None
        for _ in range(count):
            start = self.pos
            key = self.item(depth)
            if not isinstance(key, (int, str)) or key is True or key is False:
                raise CborFault("map key must be an integer or text")
            # RFC 8949 §4.2.1: encoded keys strictly ascending, bytewise (no duplicates).
            kb = bytes(self.buf[start : self.pos])
            if prev is not None and not prev < kb:
                raise CborFault("map keys out of order or duplicated")
            prev = kb
            out[key] = self.item(depth)
        return out


def decode(data):
    """Decode exactly one item from ``data`` (bytes-like); raises CborFault or LimitFault."""
    if len(data) > MAX_PAYLOAD:
        raise LimitFault("payload longer than MAX_PAYLOAD")
    dec = _Decoder(data)
    obj = dec.item(0)
    if dec.pos != dec.end:
        raise CborFault("bytes after the top-level item")
    return obj
