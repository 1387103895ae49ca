"""CBOR subset (SPEC.md §3.1) against RFC 8949 Appendix A and the strictness rules of §4.2.1.

Runs on MicroPython (64 KiB heap) and CPython. The Appendix A file is read one object at a time.
"""

import json
from binascii import unhexlify

from reader.errors import ReaderFault
from reader.link import cbor, codes

APPENDIX_A = "../vectors/cbor-appendix-a/appendix_a.json"

# Appendix A items given in diagnostic notation whose value is inside the subset.
_DIAG_ACCEPTED = {"h''": b"", "h'01020304'": b"\x01\x02\x03\x04", "{1: 2, 3: 4}": {1: 2, 3: 4}}


def _appendix_items():
    # The file is a JSON array pretty-printed with two-space indents: each item starts at a line
    # "  {" and ends at "  }" or "  },", so it can be read without holding the whole array.
    with open(APPENDIX_A) as f:
        block = None
        for raw in f:
            line = raw.rstrip()
            if line == "  {":
                block = "{"
            elif block is not None:
                if line in ("  }", "  },"):
                    yield json.loads(block + "}")
                    block = None
                else:
                    block += line


def _in_subset(item):
    """Whether SPEC.md §3.1 accepts the item, from its expected value (never from our decoder)."""
    if "diagnostic" in item:
        return item["diagnostic"] in _DIAG_ACCEPTED
    if not item["roundtrip"]:
        return False  # indefinite lengths or non-preferred float encodings
    return _plain(item["decoded"])


def _plain(value):
    if isinstance(value, float):
        return False
    if isinstance(value, int) and not isinstance(value, bool):
        return -(1 << 64) <= value <= (1 << 64) - 1  # beyond: bignum tags 2 and 3
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_plain(v) for v in value.values())
    return True


def test_appendix_a_every_item():
    accepted = rejected = 0
    for item in _appendix_items():
        data = unhexlify(item["hex"])
        if _in_subset(item):
            want = item.get("decoded", _DIAG_ACCEPTED.get(item.get("diagnostic")))
            got = cbor.decode(data)
            assert got == want and type(got) is type(want), item["hex"]
            assert bytes(cbor.encode(got)) == data, item["hex"]
            accepted += 1
        else:
            try:
                cbor.decode(data)
            except ReaderFault as exc:
                assert exc.code == codes.E_CBOR, exc.code
                rejected += 1
            else:
                raise AssertionError("accepted " + item["hex"])
    # 82 items: 37 in the subset (integers, strings, arrays, maps, false/true/null), 45 not
    # (floats, tags, bignums, undefined, other simple values, indefinite lengths).
    assert (accepted, rejected) == (37, 45), (accepted, rejected)


def _rejects(hex_items, code):
    for h in hex_items:
        try:
            cbor.decode(unhexlify(h))
        except ReaderFault as exc:
            assert exc.code == code, h
        else:
            raise AssertionError("accepted " + h)


def test_rejects_non_shortest_arguments():
    # RFC 8949 §4.2.1: preferred serialization; each of these has a shorter form.
    _rejects(["1800", "1817", "190017", "1900ff", "1a0000ffff", "1b00000000ffffffff", "3817"], codes.E_CBOR)
    _rejects(["5801aa", "780161", "9800", "b800", "5900016161"], codes.E_CBOR)


def test_rejects_map_key_order_and_duplicates():
    _rejects(["a202000100", "a201000100", "a262616100616200", "a220000000"], codes.E_CBOR)


def test_accepts_length_first_key_order():
    # "b" (6162) sorts before "aa" (626161): bytewise order of encodings (RFC 8949 §4.2.1).
    assert cbor.decode(unhexlify("a261620062616101")) == {"b": 0, "aa": 1}
    assert cbor.decode(unhexlify("a300012001616102")) == {0: 1, -1: 1, "a": 2}


def test_rejects_bad_utf8():
    # RFC 3629 §4: stray continuation, overlong, surrogate, above U+10FFFF, cut short.
    _rejects(["61ff", "6180", "62c080", "63eda080", "64f4908080", "63e282", "62c3"], codes.E_CBOR)


def test_rejects_malformed_and_out_of_subset():
    cases = ["", "ff", "1c", "1d", "1e", "3f", "5f", "7f", "9f", "bf", "c000", "d9d9f700",
             "f7", "f800", "f814", "f93c00", "fa47c35000", "fb3ff199999999999a",
             "0000", "8200", "a100", "6261", "19", "1a0000", "a14000", "a1810000", "a1f500"]
    _rejects(cases, codes.E_CBOR)


def test_limits_depth_and_items():
    assert cbor.decode(unhexlify("81" * 7 + "80")) == [[[[[[[[]]]]]]]]
    _rejects(["81" * 8 + "80", "a1" + "00a1" * 8 + "0000"], codes.E_LIMIT)
    assert len(cbor.decode(unhexlify("9840" + "00" * 64))) == 64
    _rejects(["9841" + "00" * 65, "b841" + "".join(f"{i:02x}00" for i in range(24)), "9affffffff00"],
             codes.E_LIMIT)


def test_limits_lengths_checked_before_allocating():
    # Declared lengths far beyond what is there: LIMIT above MAX_PAYLOAD, else CBOR (truncated).
    _rejects(["5b0000000100000000", "5a7fffffff", "790801" + "61" * 10], codes.E_LIMIT)
    _rejects(["5a000007ff00", "5907ff" + "00" * 10, "9f", "98400000"], codes.E_CBOR)
    for data, code in ((bytes(2049), codes.E_LIMIT), (b"\x59\x07\xfd" + bytes(2044), codes.E_CBOR)):
        try:
            cbor.decode(data)  # the payload itself too long; a string one byte short
        except ReaderFault as exc:
            assert exc.code == code
        else:
            raise AssertionError("accepted")
    assert len(cbor.decode(b"\x59\x07\xfd" + bytes(2045))) == 2045


def test_encode_deterministic():
    got = bytes(cbor.encode({"aa": 2, "b": 1, 10: 0, 1: 0}))
    assert got == unhexlify("a401000a0061620162616102")
    assert bytes(cbor.encode([-1, -24, -25, -256, -257, 23, 24, 255, 256, 65535, 65536])) == unhexlify(
        "8b20373818" + "38ff390100171818" + "18ff19010019ffff1a00010000"
    )
    assert bytes(cbor.encode((1 << 64) - 1)) == unhexlify("1bffffffffffffffff")
    assert bytes(cbor.encode(-(1 << 64))) == unhexlify("3bffffffffffffffff")
    assert bytes(cbor.encode([True, False, None, b"\x00", "\u00fc"])) == unhexlify("85f5f4f6410062c3bc")


def test_encode_rejects_values_outside_the_subset():
    for value in (1 << 64, -(1 << 64) - 1, 1.5, {True: 1}, {b"k": 1}, object()):
        try:
            cbor.encode(value)
        except ReaderFault as exc:
            assert exc.code == codes.E_CBOR, exc.code
            pass
        else:
            raise AssertionError("encoded " + repr(value))
    deep = []
    for _ in range(8):
        deep = [deep]
    try:
        cbor.encode(deep)
    except ReaderFault as exc:
        assert exc.code == codes.E_LIMIT, exc.code
        pass
    else:
        raise AssertionError("encoded nine levels")


def test_decoded_byte_strings_are_copies():
    buf = bytearray(unhexlify("42abcd"))
    got = cbor.decode(buf)
    buf[1] = 0
    assert got == b"\xab\xcd" and isinstance(got, bytes)


def test_encode_into_writes_in_place_and_refuses_what_does_not_fit():
    value = {"responses": [b"\x90\x00", bytes(300)], "n": -5, "t": "\u00fc"}
    want = bytes(cbor.encode(value))
    buf = bytearray(b"\xee" * 400)
    n = cbor.encode_into(buf, value)
    assert bytes(buf[:n]) == want and buf[n:] == b"\xee" * (400 - n)
    # One byte short, through the buffer or through the limit: E_LIMIT, nothing past the end.
    for room, limit in ((n - 1, 2048), (400, n - 1)):
        buf = bytearray(b"\xee" * (room + 8))
        try:
            cbor.encode_into(memoryview(buf)[:room], value, limit)
        except ReaderFault as exc:
            assert exc.code == codes.E_LIMIT, exc.code
        else:
            raise AssertionError(f"encoded into {min(room, limit)} bytes")
        assert buf[room:] == b"\xee" * 8
    assert cbor.encode_into(bytearray(n), value) == n
    # Cut at every byte, heads of 1, 2, 3, 5 and 9 bytes among them: always E_LIMIT, on either
    # runtime (CPython's struct.pack_into has an error type of its own).
    value = [1000, 70000, 1 << 40, -(1 << 40), "\u00fc" * 30, {"k": b"\x00" * 300}]
    n = len(cbor.encode(value))
    for limit in range(n):
        try:
            cbor.encode_into(bytearray(n), value, limit)
        except ReaderFault as exc:
            assert exc.code == codes.E_LIMIT, (limit, exc.code)
        else:
            raise AssertionError(f"encoded in {limit} bytes")
