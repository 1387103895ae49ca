"""Bounded fuzz smoke of the CBOR decoder and the frame receiver: seeded, a few thousand cases.

Every input must either decode or raise a ReaderFault subclass; MemoryError, RecursionError or
any other exception fails the test. Set FW_FUZZ_CASES for a longer run (the ``fuzz`` marker).
"""

import os

from reader.errors import ReaderFault
from reader.link import cbor
from reader.link.framing import Encoder, Receiver

_getenv = getattr(os, "getenv", None)
CASES = int((_getenv("FW_FUZZ_CASES") if _getenv else None) or "3000")

# Seeds: requests of every shape in the subset, so mutations reach deep decoder paths.
SEEDS = (
    "a5000101000201036568656c6c6f04a0",
    "a5000101000203036470696e6704a16464617461440001feff",
    "a5000101000207036a617064752e626174636804a2656170647573824400a4040042b0006863"
    + "6f6e74696e756581199000",
    "a300f401f50283203903e73bffffffffffffffff",
    "a16161a1616283818180816063e6b0b4",
)


class Rng:
    """xorshift32 (Marsaglia 2003): the same sequence on MicroPython and CPython."""

    def __init__(self, seed):
        self.s = seed

    def next(self):
        s = self.s
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        self.s = s
        return s

    def below(self, n):
        return self.next() % n

    def data(self, n):
        return bytes(self.next() & 0xFF for _ in range(n))


def _mutate(rng, data):
    buf = bytearray(data)
    for _ in range(1 + rng.below(3)):
        op = rng.below(5)
        i = rng.below(len(buf) + 1)
        if op == 0 and buf:
            buf[i % len(buf)] ^= 1 << rng.below(8)
        elif op == 1:
            buf[i:i] = rng.data(1 + rng.below(4))
        elif op == 2:
            buf[i : i + 1 + rng.below(4)] = b""
        elif op == 3:
            buf = buf[:i]
        elif buf:
            buf[i % len(buf)] = (0x18, 0x19, 0x1A, 0x1B, 0x1F, 0x5F, 0x9F, 0xBF, 0xFF)[rng.below(9)]
    return bytes(buf)


def _decode(data):
    try:
        cbor.decode(data)
    except ReaderFault:
        return False
    return True


def test_decoder_random_and_mutated_inputs():
    from binascii import unhexlify

    rng = Rng(0x2545F491)
    seeds = [unhexlify(s) for s in SEEDS]
    for seed in seeds:
        assert _decode(seed), seed
    ok = 0
    for n in range(CASES):
        if n % 3 == 0:
            data = rng.data(rng.below(48))
        else:
            data = _mutate(rng, seeds[rng.below(len(seeds))])
        if _decode(data):
            ok += 1
            # Whatever decodes is deterministic, so it re-encodes to the same bytes.
            assert bytes(cbor.encode(cbor.decode(data))) == data, data
    assert 0 < ok < CASES


def test_decoder_deep_and_wide_headers():
    for data in (b"\x81" * 500, b"\xa1\x00" * 300, b"\x9b" + b"\xff" * 8, b"\x5b" + b"\x7f" * 8):
        assert not _decode(data)


def test_receiver_random_streams_resync():
    rng = Rng(0x9E3779B9)
    sink = []

    class Sink:
        def write(self, buf):
            sink.append(bytes(buf))

    Encoder().write_frame(Sink(), b"\xa0marker")
    marker = b"".join(sink)
    rx = Receiver()
    for _ in range(CASES // 10):
        noise = bytearray(rng.data(rng.below(300)))
        if rng.below(2):
            noise[rng.below(len(noise) + 1) :] = b""
            noise.append(0)  # noise always ends in a delimiter: the next frame is clean
        else:
            noise = bytearray(_mutate(rng, marker)) + b"\x00"
        stream = bytes(noise) + marker
        pos = 0
        got = []
        while pos < len(stream):
            step = 1 + rng.below(64)
            end = min(len(stream), pos + step)
            while pos < end:
                pos = rx.feed(stream, pos, end)
                p = rx.take()
                if p is not None:
                    got.append(bytes(p))
        assert got[-1:] == [b"\xa0marker"], got
    assert rx.dropped > 0
