"""Link layer: COBS + CRC-32 frames of SPEC.md §2. Pure: no I/O, no machine, no CBOR.

A frame is ``COBS(payload || CRC32LE(payload)) || 0x00``. COBS is Cheshire and Baker's Consistent
Overhead Byte Stuffing (IEEE/ACM ToN 7(2), 1999) with the 254-byte block: a code byte ``n`` is
followed by ``n - 1`` data bytes and, when ``n < 0xFF`` and more data follow, an implied zero.

Both directions work block by block on buffers allocated once from MAX_PAYLOAD, with memoryview
slice copies: no allocation per byte, and no second frame-sized buffer (the receiver decodes COBS
as bytes arrive; the sender encodes through a small staging buffer).
"""

import struct
from binascii import crc32

from micropython import const

from reader.link.codes import MAX_PAYLOAD

_CRC_LEN = const(4)
_BLOCK = const(254)
_STAGE = const(260)  # one full block (255) plus a trailing empty block and the delimiter


def max_encoded(max_payload=MAX_PAYLOAD):
    """Longest run between delimiters for a payload of ``max_payload`` bytes (SPEC.md §2 rule 2)."""
    n = max_payload + _CRC_LEN
    return n + n // _BLOCK + 1


def crc_bytes(payload):
    """CRC32LE(payload): zlib's CRC-32, 4 bytes little-endian (SPEC.md §2)."""
    return struct.pack("<I", crc32(payload) & 0xFFFFFFFF)


class Encoder:
    """Writes frames to a stream; ``work`` is where callers may build a payload in place."""

    def __init__(self, max_payload=MAX_PAYLOAD):
        self.max_payload = max_payload
        self.work = bytearray(max_payload + _CRC_LEN)
        self._stage = bytearray(_STAGE)
        self._stage_mv = memoryview(self._stage)

    def write_frame(self, stream, payload, n=-1):
        """Frame ``payload[:n]`` onto ``stream``; ``payload`` may be ``self.work`` itself."""
        if n < 0:
            n = len(payload)
        if n > self.max_payload:
            raise ValueError("payload longer than max_payload")
        work = self.work
        if payload is not work:
            memoryview(work)[:n] = memoryview(payload)[:n]
        struct.pack_into("<I", work, n, crc32(memoryview(work)[:n]) & 0xFFFFFFFF)
        self._encode(stream, n + _CRC_LEN)

    def _encode(self, stream, n):
        src = self.work
        mv = memoryview(src)
        stage = self._stage_mv
        o = 0
        i = 0
        while True:
            # One block holds at most 254 data bytes; a zero inside it ends the block (implied).
            lim = i + _BLOCK if i + _BLOCK < n else n
            j = src.find(b"\x00", i, lim)
            zero = j >= 0
            if not zero:
                j = lim
            run = j - i
            if o + run + 3 > _STAGE:
                stream.write(stage[:o])
                o = 0
            stage[o] = run + 1
            stage[o + 1 : o + 1 + run] = mv[i:j]
            o += run + 1
            i = j + 1 if zero else j
            if zero and i == n:
                stage[o] = 1  # a trailing zero is implied by one more, empty, block
                o += 1
            if i >= n:
                break
        stage[o] = 0  # the delimiter
        stream.write(stage[: o + 1])


class Receiver:
    """Streaming frame receiver (SPEC.md §2): feed bytes in, take complete payloads out.

    ``feed(data, start, end)`` (data: bytes or bytearray) consumes bytes up to and including the
    first delimiter that ends a valid frame and returns the index after it; ``take()`` then
    returns that payload (a memoryview valid until the next ``feed``), or None. Bad runs are
    dropped and counted in ``dropped``.
    """

    def __init__(self, max_payload=MAX_PAYLOAD):
        self._max_run = max_encoded(max_payload)
        self._buf = bytearray(max_payload + _CRC_LEN)
        self._mv = memoryview(self._buf)
        self._ready = -1
        self.dropped = 0
        self.reset()

    def reset(self):
        """Forget a partial run (after a reconnection)."""
        self._n = 0  # decoded bytes so far
        self._run = 0  # encoded bytes so far in this run
        self._left = 0  # data bytes still due in the current block; 0: a code byte is next
        self._zero = False  # the current block ends in an implied zero
        self._bad = False  # the run is already known to be dropped

    def take(self):
        """The payload completed by the last ``feed``, or None."""
        n = self._ready
        self._ready = -1
        return None if n < 0 else self._mv[:n]

    def feed(self, data, start=0, end=-1):
        if end < 0:
            end = len(data)
        self._ready = -1
        mv = memoryview(data)
        while start < end:
            z = data.find(b"\x00", start, end)
            stop = end if z < 0 else z
            if not self._bad:
                self._decode(mv, start, stop)
            if z < 0:
                return end
            start = z + 1
            if self._finish():
                return start
        return start

    def _decode(self, mv, i, stop):
        self._run += stop - i
        if self._run > self._max_run:
            self._bad = True  # rule 2: longer than any frame; discard until the next delimiter
            return
        buf = self._mv
        cap = len(self._buf)
        n = self._n
        while i < stop:
            if self._left == 0:
                if self._zero:
                    if n >= cap:
                        self._bad = True
                        return
                    buf[n] = 0
                    n += 1
                code = mv[i]
                i += 1
                self._left = code - 1
                self._zero = code != 0xFF
                continue
            k = self._left if self._left < stop - i else stop - i
            if n + k > cap:
                self._bad = True
                return
            buf[n : n + k] = mv[i : i + k]
            n += k
            i += k
            self._left -= k
        self._n = n

    def _finish(self):
        n = self._n
        bad = self._bad or self._left != 0  # rule 3: a code byte pointed past the delimiter
        empty = self._run == 0
        self.reset()
        if empty:
            return False  # rule 1: two delimiters in a row are not a frame
        if bad or n < _CRC_LEN + 1:
            self.dropped += 1  # rule 4 covers the empty payload (nothing but a CRC)
            return False
        body = n - _CRC_LEN
        want = struct.unpack_from("<I", self._buf, body)[0]
        if crc32(self._mv[:body]) & 0xFFFFFFFF != want:
            self.dropped += 1
            return False
        self._ready = body
        return True
