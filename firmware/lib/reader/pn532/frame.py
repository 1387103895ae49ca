"""PN532 frame codec (pure): builds and parses host-interface frames. No I/O, no clock, no faults.

Frame layouts are those of UM0701-02 §6.2.1: normal information frame
``00 00 FF LEN LCS TFI PD.. DCS 00``, extended information frame
``00 00 FF FF FF LENm LENl LCS TFI PD.. DCS 00`` (§6.2.1.2), ACK ``00 00 FF 00 FF 00``,
NACK ``00 00 FF FF 00 00`` and the application-level error frame ``00 00 FF 01 FF 7F 81 00``.
The parser works on a byte stream: it skips noise and any number of preamble zeros (§6.2.1.6 says
the preamble may be of undetermined length), does not require the postamble (SetParameters
fNoAMBLE), and accepts an ACK and a response arriving in the same read.
"""

from micropython import const

TFI_HOST = const(0xD4)  # host -> PN532
TFI_CHIP = const(0xD5)  # PN532 -> host
TFI_ERROR = const(0x7F)  # syntax-error frame (UM0701-02 §6.2.1.5)

_NORMAL_MAX = const(255)  # LEN counts TFI + PD; a normal frame carries at most 255
_EXTENDED_MAX = const(265)  # firmware limit: 264 data bytes + TFI (UM0701-02 §6.2.1.2)
_OVERHEAD_MAX = const(11)  # 00 00 FF FF FF LENm LENl LCS .. DCS 00
FRAME_MAX = const(276)  # _EXTENDED_MAX + _OVERHEAD_MAX

ACK = b"\x00\x00\xff\x00\xff\x00"
NACK = b"\x00\x00\xff\xff\x00\x00"

# parse() results
NEED_MORE = const(0)
GOT_ACK = const(1)
GOT_NACK = const(2)
GOT_ERROR = const(3)  # syntax-error frame
GOT_DATA = const(4)  # information frame; payload (TFI + PD) at .start, length .length
GOT_BAD = const(5)  # a frame header or body failed LCS/DCS; the bytes were skipped


def checksum(buf, start, end):
    """Two's-complement checksum of buf[start:end]: the byte that makes the sum 0 mod 256."""
    s = 0
    for i in range(start, end):
        s += buf[i]
    return (-s) & 0xFF


def encode_into(out, tfi, head, data=None, extended=False):
    """Build an information frame in ``out`` from ``head`` (command code + small params) and
    optional ``data`` (bytes-like, no copy made). Returns the frame length.

    A normal frame is used when TFI+PD fits 255 bytes, an extended one otherwise or when
    ``extended`` is true (the host may use extended frames for short data too, §6.2.1.2).
    Raises ValueError when the data exceed the firmware limit.
    """
    nd = len(data) if data is not None else 0
    length = 1 + len(head) + nd
    if length > _EXTENDED_MAX:
        raise ValueError("frame data too long")
    out[0] = 0
    out[1] = 0
    out[2] = 0xFF
    if length > _NORMAL_MAX or extended:
        out[3] = 0xFF
        out[4] = 0xFF
        out[5] = length >> 8
        out[6] = length & 0xFF
        out[7] = (-(out[5] + out[6])) & 0xFF
        p = 8
    else:
        out[3] = length
        out[4] = (-length) & 0xFF
        p = 5
    first = p
    out[p] = tfi
    p += 1
    for b in head:
        out[p] = b
        p += 1
    if nd:
        out[p : p + nd] = data
        p += nd
    out[p] = checksum(out, first, p)
    out[p + 1] = 0
    return p + 2


def encode(tfi, head, data=None, extended=False):
    """Convenience form of encode_into returning a new bytes object (not for hot paths)."""
    out = bytearray(FRAME_MAX)
    n = encode_into(out, tfi, head, data, extended)
    return bytes(out[:n])


class FrameParser:
    """Stream parser over one preallocated buffer.

    Bytes go in at ``buf[fill:]`` (``space()`` gives a memoryview of the free room for readinto,
    then ``added(n)``); ``parse()`` finds the next complete frame. After GOT_DATA the payload
    (TFI, then PD) is ``buf[start:start+length]`` and stays valid until the next ``parse()``.
    """

    def __init__(self, size=FRAME_MAX + 64):
        self.buf = bytearray(size)
        self.mv = memoryview(self.buf)
        self.head = 0  # first unparsed byte
        self.fill = 0  # end of valid bytes
        self.start = 0
        self.length = 0
        self.bad = 0  # frames dropped for LCS/DCS errors (diagnostics)

    def reset(self):
        self.head = 0
        self.fill = 0

    def pending(self):
        return self.fill - self.head

    def space(self):
        """Free room at the end of the buffer, compacting first when needed."""
        if self.head == self.fill:
            self.head = 0
            self.fill = 0
        elif self.fill == len(self.buf) and self.head:
            self._compact()
        elif self.fill == len(self.buf):
            # A full buffer with no frame start consumed is noise: keep the last two bytes,
            # which may be the beginning of a start code.
            self.head = self.fill - 2
            self._compact()
        return self.mv[self.fill :]

    def added(self, n):
        self.fill += n

    def feed(self, data):
        """Copy bytes in (tests and buses without readinto). Returns how many fitted."""
        room = self.space()
        n = min(len(room), len(data))
        room[:n] = data[:n]
        self.fill += n
        return n

    def _compact(self):
        b = self.buf
        h = self.head
        n = self.fill - h
        for i in range(n):  # forward copy is safe for an overlapping move to the left
            b[i] = b[h + i]
        self.head = 0
        self.fill = n

    def parse(self):  # noqa: C901 - a flat scanner is cheaper than helpers on MicroPython
        """Return the kind of the next complete frame (GOT_*) or NEED_MORE."""
        b = self.buf
        while True:
            i = self.head
            end = self.fill
            # Find the start code 00 FF; everything before it is preamble or noise.
            while i + 1 < end and not (b[i] == 0 and b[i + 1] == 0xFF):
                i += 1
            self.head = i
            if i + 4 > end:
                return NEED_MORE
            a = b[i + 2]
            c = b[i + 3]
            if a == 0 and c == 0xFF:
                self.head = i + 4
                return GOT_ACK
            if a == 0xFF and c == 0:
                self.head = i + 4
                return GOT_NACK
            if a == 0xFF and c == 0xFF:
                if i + 7 > end:
                    return NEED_MORE
                length = (b[i + 4] << 8) | b[i + 5]
                if (b[i + 4] + b[i + 5] + b[i + 6]) & 0xFF or length == 0 or length > _EXTENDED_MAX:
                    self.head = i + 1
                    self.bad += 1
                    return GOT_BAD
                first = i + 7
            else:
                if (a + c) & 0xFF or a == 0:
                    self.head = i + 1
                    if i + 5 <= end and b[i + 4] == TFI_CHIP:
                        # A response whose LEN/LCS got corrupted: worth a NACK (§6.2.1.4).
                        self.bad += 1
                        return GOT_BAD
                    continue  # not a header: the 00 FF was noise
                length = a
                first = i + 4
            if first + length + 1 > end:
                if first + length + 1 > len(b):
                    # Cannot ever fit: drop the header.
                    self.head = i + 1
                    self.bad += 1
                    return GOT_BAD
                return NEED_MORE
            s = 0
            for k in range(first, first + length + 1):
                s += b[k]
            if s & 0xFF:
                self.head = i + 1
                self.bad += 1
                return GOT_BAD
            self.head = first + length + 1
            self.start = first
            self.length = length
            if b[first] == TFI_ERROR and length == 1:
                return GOT_ERROR
            return GOT_DATA


def frame_end(buf, start, end):
    """Index just past the first complete frame in buf[start:end] (its postamble byte included
    when present), or ``end`` when none is complete. Buses that must read a fixed length (I2C,
    SPI) use it to drop what the PN532 clocks out after the frame."""
    i = start
    while i + 1 < end and not (buf[i] == 0 and buf[i + 1] == 0xFF):
        i += 1
    if i + 4 > end:
        return end
    a = buf[i + 2]
    c = buf[i + 3]
    if (a == 0 and c == 0xFF) or (a == 0xFF and c == 0):
        stop = i + 4
    elif a == 0xFF and c == 0xFF:
        if i + 7 > end:
            return end
        stop = i + 7 + ((buf[i + 4] << 8) | buf[i + 5]) + 1
    else:
        stop = i + 4 + a + 1
    if stop < end and buf[stop] == 0:
        stop += 1  # postamble
    return stop if stop <= end else end
