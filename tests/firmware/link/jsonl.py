"""Reads protocol/vectors/*.jsonl records in an ESP32-sized heap.

Lines run to 12.5 kB, nearly all of it hex. The file is scanned in small chunks; the hex strings
of ``*_hex`` fields and ``{"$bytes": ...}`` values are decoded to bytes on the fly and left as ""
in the JSON text, and the human-readable "diag" and "note" texts are left out the same way, so
neither a whole line nor any hex text is ever held in memory.
"""

import gc

_CHUNK = 256
# Decoded hex of one line lives here: allocated once, when this module is imported first (before
# the firmware), because compiling modules from source leaves the heap in small pieces.
_POOL = bytearray(5200)  # the longest hex of one line decodes to 5000 bytes


def _nibble(c):
    return c - 48 if c < 58 else (c | 32) - 87


def records(path):  # noqa: C901, PLR0912 - one pass over the bytes keeps the heap flat
    """Yield (text, hexes, blobs): ``text`` is the record's JSON (hex, diag and note emptied; parse
    it with ``json.loads`` when its objects are needed); ``hexes`` maps "frame_hex" etc. to
    memoryviews of the decoded bytes, valid until the next record; ``blobs`` are the
    ``{"$bytes": ...}`` values in document order (for ``value`` and ``matches``)."""
    chunk = bytearray(_CHUNK)
    text = bytearray()
    hexes = {}
    blobs = []
    pool = memoryview(_POOL)
    used = 0
    blob = None  # [key, start] of the hex string being decoded
    skip = False  # inside a "diag" or "note" string
    escaped = False
    half = -1
    with open(path, "rb") as f:
        while True:
            n = f.readinto(chunk)
            if not n:
                return
            for i in range(n):
                c = chunk[i]
                if skip:
                    if escaped:
                        escaped = False
                    elif c == 0x5C:  # a backslash escapes the next character
                        escaped = True
                    elif c == 0x22:
                        text.append(c)
                        skip = False
                    continue
                if blob is not None:
                    if c == 0x22:  # the closing quote
                        text.append(c)
                        if blob[0] == "$bytes":
                            blobs.append(pool[blob[1] : used])
                        else:
                            hexes[blob[0]] = pool[blob[1] : used]
                        blob = None
                    elif half < 0:
                        half = _nibble(c)
                    else:
                        _POOL[used] = (half << 4) | _nibble(c)
                        used += 1
                        half = -1
                    continue
                if c == 0x0A:
                    if len(text) > 0:
                        gc.collect()  # the heap is small and split: give each record all of it
                        yield text, hexes, blobs
                    text = bytearray()
                    hexes = {}
                    blobs = []
                    used = 0
                    continue
                text.append(c)
                if c == 0x22 and text[-3:] == b': "':
                    key = _key_before(text)
                    if key in ("diag", "note"):
                        skip = True
                    elif key == "$bytes" or key.endswith("_hex"):
                        blob = [key, used]


def _key_before(text):
    # text ends with '"key": "': the key of the string value that starts here.
    end = len(text) - 4
    start = end - 1
    while start >= 0 and text[start] != 0x22:
        start -= 1
    return bytes(text[start + 1 : end]).decode()


def value(v, blobs):
    """The CBOR value of the vectors' JSON form: {"$map": [[k, v], ...]}, {"$bytes": hex}."""
    if isinstance(v, dict):
        if "$map" in v:
            out = {}
            for k, x in v["$map"]:
                key = value(k, blobs)
                out[key] = value(x, blobs)
            return out
        return bytes(blobs.pop(0))
    if isinstance(v, list):
        return [value(x, blobs) for x in v]
    return v


class Expect:
    """A write-only stream that compares what is written with ``want`` as it arrives."""

    def __init__(self, want):
        self.want = want
        self.pos = 0
        self.ok = True

    def write(self, buf):
        n = len(buf)
        if bytes(buf) != bytes(self.want[self.pos : self.pos + n]):
            self.ok = False
        self.pos += n

    def matched(self):
        return self.ok and self.pos == len(self.want)


def same(a, b):
    """Whether two buffers hold the same bytes, compared a piece at a time (no big copies)."""
    if len(a) != len(b):
        return False
    for off in range(0, len(a), _CHUNK):
        if bytes(a[off : off + _CHUNK]) != bytes(b[off : off + _CHUNK]):
            return False
    return True


def feed_all(rx, data, want=()):
    """Feed ``data`` to a Receiver in small pieces; True when the payloads it completes are
    exactly ``want`` (a sequence of buffers), in order."""
    piece = bytearray(_CHUNK)
    got = 0
    ok = True
    for off in range(0, len(data), _CHUNK):
        n = min(_CHUNK, len(data) - off)
        piece[:n] = data[off : off + n]
        pos = 0
        while pos < n:
            pos = rx.feed(piece, pos, n)
            p = rx.take()
            if p is not None:
                ok = ok and got < len(want) and same(p, want[got])
                got += 1
    return ok and got == len(want)


def matches(got, v, blobs):  # noqa: PLR0911 - one early exit per kind of mismatch
    """Whether a decoded CBOR value equals the vectors' JSON form ``v``, without building the
    expected value (two copies of a 64-entry map do not fit a 64 KiB heap beside the firmware)."""
    if isinstance(v, dict):
        if "$map" not in v:
            return isinstance(got, bytes) and same(got, blobs.pop(0))
        if not isinstance(got, dict) or len(got) != len(v["$map"]):
            return False
        for k, x in v["$map"]:
            key = value(k, blobs)
            if key not in got or not matches(got[key], x, blobs):
                return False
        return True
    if isinstance(v, list):
        if not isinstance(got, list) or len(got) != len(v):
            return False
        for g, x in zip(got, v):  # noqa: B905 - MicroPython zip() has no strict=; lengths checked
            if not matches(g, x, blobs):
                return False
        return True
    return type(got) is type(v) and got == v
