"""COBS + CRC-32 framing (SPEC.md §2): round trips, published COBS examples, resync and drops.

The reference encoder below is written byte by byte from Cheshire and Baker's description and is
itself checked against their published examples before it is used to check the firmware.
"""

from binascii import crc32, unhexlify

from reader.link.framing import Encoder, Receiver, crc_bytes, max_encoded


def ref_cobs(data):
    out = bytearray()
    block = bytearray()
    last = len(data) - 1
    for i, b in enumerate(data):
        if b == 0:
            out.append(len(block) + 1)  # the code byte stands for the block and one zero
            out.extend(block)
            block = bytearray()
            continue
        block.append(b)
        if len(block) == 254:
            out.append(0xFF)  # a full block: 254 data bytes, no zero
            out.extend(block)
            block = bytearray()
            if i == last:
                return bytes(out)  # nothing follows, so no (empty) block either
    out.append(len(block) + 1)
    out.extend(block)
    return bytes(out)


class Sink:
    def __init__(self):
        self.data = bytearray()

    def write(self, buf):
        self.data.extend(buf)


def _frame(payload):
    sink = Sink()
    Encoder().write_frame(sink, payload)
    return bytes(sink.data)


def _payloads(rx, data, step=0):
    got = []
    pos = 0
    n = len(data)
    while pos < n:
        end = n if step == 0 else min(n, pos + step)
        while pos < end:
            pos = rx.feed(data, pos, end)
            p = rx.take()
            if p is not None:
                got.append(bytes(p))
    return got


def test_reference_cobs_matches_published_examples():
    seq = bytes(range(1, 256))
    cases = [
        (b"\x00", "0101"),
        (b"\x00\x00", "010101"),
        (b"\x00\x11\x00", "01021101"),
        (b"\x11\x22\x00\x33", "0311220233"),
        (b"\x11\x22\x33\x44", "0511223344"),
        (b"\x11\x00\x00\x00", "0211010101"),
    ]
    for data, want in cases:
        assert ref_cobs(data) == unhexlify(want), want
    assert ref_cobs(seq[:254]) == b"\xff" + seq[:254]
    assert ref_cobs(b"\x00" + seq[:254]) == b"\x01\xff" + seq[:254]
    assert ref_cobs(seq) == b"\xff" + seq[:254] + b"\x02\xff"
    assert ref_cobs(seq[1:] + b"\x00") == b"\xff" + seq[1:] + b"\x01\x01"
    assert ref_cobs(seq[2:] + b"\x00\x01") == b"\xfe" + seq[2:] + b"\x02\x01"


def test_crc_is_zlib_crc32_little_endian():
    assert crc_bytes(b"123456789") == unhexlify("2639f4cb")  # check value 0xCBF43926
    assert crc32(b"") == 0


def test_frames_match_reference_and_round_trip():
    state = 12345
    rx = Receiver()
    sizes = list(range(1, 300))
    sizes.extend((506, 507, 508, 1000, 2047, 2048))
    for n in sizes:
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        kind = state % 4
        if kind == 0:
            payload = bytes((i * 7 + n) & 0xFF for i in range(n))
        elif kind == 1:
            payload = bytes(n)
        elif kind == 2:
            payload = bytes(1 + (i % 255) for i in range(n))
        else:
            payload = bytes((state >> (i % 23)) & 0x03 for i in range(n))
        frame = _frame(payload)
        assert frame == ref_cobs(payload + crc_bytes(payload)) + b"\x00", n
        assert _payloads(rx, frame, step=1 + n % 97) == [payload], n
    assert rx.dropped == 0


def test_longest_frame_fits_and_longer_raises():
    assert max_encoded() == 2061
    frame = _frame(b"\x01" * 2048)
    assert len(frame) == 2062  # the longest run plus its delimiter
    try:
        Encoder().write_frame(Sink(), b"\x01" * 2049)
    except ValueError:
        pass
    else:
        raise AssertionError("framed 2049 bytes")


def test_resync_after_noise_and_bad_runs():
    good = _frame(b"\xa0hello\x00world")
    bad_crc = bytearray(good)
    bad_crc[3] ^= 0x01
    noise = b"ets Jun  8 2016 00:22:57\r\nrst:0x1 (POWERON_RESET)\r\n\x00"
    stream = noise + bytes(bad_crc) + b"\x05\x11\x22\x33\x00" + good[:6] + b"\x00" + good
    rx = Receiver()
    assert _payloads(rx, stream) == [b"\xa0hello\x00world"]
    assert rx.dropped == 4  # the noise, the bad CRC, the short COBS block, the cut frame


def test_empty_runs_are_ignored_and_short_payloads_dropped():
    rx = Receiver()
    assert _payloads(rx, b"\x00\x00\x00") == []
    assert rx.dropped == 0
    assert _payloads(rx, ref_cobs(b"\x00\x00\x00\x00") + b"\x00") == []  # the empty payload
    assert _payloads(rx, b"\x05\xa1\xb2\xc3\xd4\x00") == []  # decoded length 4
    assert rx.dropped == 2


def test_oversize_run_is_dropped_until_the_next_delimiter():
    rx = Receiver()
    good = _frame(b"after")
    stream = b"A" * 5000 + b"\x00" + good
    assert _payloads(rx, stream, step=256) == [b"after"]
    assert rx.dropped == 1


def test_two_frames_in_one_chunk_and_split_byte_by_byte():
    rx = Receiver()
    a = _frame(b"first")
    b = _frame(b"\x00second\x00")
    assert _payloads(rx, a + b) == [b"first", b"\x00second\x00"]
    assert _payloads(rx, a + b, step=1) == [b"first", b"\x00second\x00"]
    rx.feed(a[:4])
    rx.reset()
    assert _payloads(rx, a[4:]) == []  # the tail alone is not a frame
    assert rx.dropped == 1
