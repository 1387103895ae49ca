"""PN532 frame codec against the golden frames (tests/vectors/pn532) and UM0701-02 §6.2.1."""

import json
from binascii import unhexlify

from reader.pn532 import frame

VECTORS = "../vectors/pn532/golden_frames.json"


def _load():
    with open(VECTORS) as f:
        return json.load(f)


def _parse_all(data, chunk=None):
    """Feed data (in chunks of ``chunk`` bytes) and collect (kind, payload) events."""
    p = frame.FrameParser()
    events = []
    step = chunk or len(data) or 1
    for i in range(0, len(data), step):
        p.feed(data[i : i + step])
        while True:
            k = p.parse()
            if k == frame.NEED_MORE:
                break
            if k == frame.GOT_DATA:
                events.append(("data", bytes(p.buf[p.start : p.start + p.length])))
            else:
                events.append((k, b""))
    return events


def test_golden_host_frames_encode_exactly():
    n = 0
    for v in _load()["frames"]:
        if v["dir"] == "host" and "hex" in v:
            pd = unhexlify(v["pd"])
            got = frame.encode(frame.TFI_HOST, pd[:1], pd[1:])
            assert got == unhexlify(v["hex"]), v["name"]
            n += 1
    assert n >= 5


def test_golden_frames_parse():
    n = 0
    for v in _load()["frames"]:
        if "hex" not in v:
            continue
        ev = _parse_all(unhexlify(v["hex"]))
        assert len(ev) == 1, (v["name"], ev)
        kind = v.get("kind")
        if kind == "ack":
            assert ev[0][0] == frame.GOT_ACK
        elif kind == "error":
            assert ev[0][0] == frame.GOT_ERROR
        else:
            assert ev[0] == ("data", unhexlify(v["tfi"] + v["pd"])), v["name"]
        n += 1
    assert n >= 12


def test_golden_payloads_roundtrip_through_chip_frames():
    for v in _load()["frames"]:
        if "hex" in v or "pd" not in v:
            continue
        pd = unhexlify(v["pd"])
        raw = frame.encode(frame.TFI_CHIP, pd[:1], pd[1:])
        assert _parse_all(raw) == [("data", b"\xd5" + pd)], v["name"]


def test_streams_with_ack_and_response_in_one_read():
    for v in _load()["streams"]:
        data = unhexlify(v["hex"])
        for chunk in (None, 1, 3):
            ev = _parse_all(data, chunk)
            want = []
            for e in v["events"]:
                want.append((frame.GOT_ACK, b"") if e == "ack" else ("data", unhexlify(e)))
            assert ev == want, (v["name"], chunk, ev)


def test_skips_any_number_of_leading_zeros_noise_and_wake_bytes():
    resp = unhexlify("0000ff03fdd54b00e000")
    for prefix in (b"", b"\x00" * 40, b"\x55\x55\x00\x00", b"\xff\x13\x00\xff\x07\x00\xd4\x99", b"\x00\xff"):
        assert _parse_all(prefix + resp) == [("data", b"\xd5\x4b\x00")], prefix


def test_postamble_not_required():
    # SetParameters fNoAMBLE: neither preamble nor postamble (UM0701-02 §7.2.9)
    a = unhexlify("00ff03fdd54b00e0")
    b = unhexlify("00ff02fed51516")
    assert _parse_all(a + b) == [("data", b"\xd5\x4b\x00"), ("data", b"\xd5\x15")]


def test_nack_frame():
    assert _parse_all(frame.NACK) == [(frame.GOT_NACK, b"")]


def test_extended_frame_for_long_data_and_on_request():
    data = bytes(range(256)) + b"\x90\x00"  # a 258-byte APDU response
    raw = frame.encode(frame.TFI_CHIP, b"\x41\x00", data)
    assert raw[3] == 0xFF and raw[4] == 0xFF
    ln = (raw[5] << 8) | raw[6]
    assert ln == 1 + 2 + 258 and (raw[5] + raw[6] + raw[7]) & 0xFF == 0
    assert _parse_all(raw, 7) == [("data", b"\xd5\x41\x00" + data)]
    short = frame.encode(frame.TFI_HOST, b"\x02", None, True)
    assert short == unhexlify("0000ffffff0002fed4022a00")
    assert _parse_all(short) == [("data", b"\xd4\x02")]


def test_normal_frame_upper_bound_is_255():
    raw = frame.encode(frame.TFI_HOST, b"\x40\x01", bytes(252))  # TFI + 254 = 255
    assert raw[3] == 255 and len(raw) == 255 + 7
    raw = frame.encode(frame.TFI_HOST, b"\x40\x01", bytes(253))
    assert raw[3] == 0xFF and raw[4] == 0xFF


def test_too_long_raises():
    try:
        frame.encode(frame.TFI_HOST, b"\x40\x01", bytes(263))
    except ValueError:
        pass
    else:
        raise AssertionError("265+ data bytes accepted")
    frame.encode(frame.TFI_HOST, b"\x40\x01", bytes(262))  # exactly the limit


def test_bad_dcs_reported_and_next_frame_still_found():
    bad = bytearray(unhexlify("0000ff06fad50332010607e800"))
    bad[-2] ^= 1
    good = unhexlify("0000ff02fed5151600")
    ev = _parse_all(bytes(bad) + good)
    assert ev[0][0] == frame.GOT_BAD
    assert ev[-1] == ("data", b"\xd5\x15")


def test_bad_lcs_on_a_response_is_reported():
    bad = bytearray(unhexlify("0000ff06fad50332010607e800"))
    bad[4] ^= 0x10
    ev = _parse_all(bytes(bad))
    assert ev and ev[0][0] == frame.GOT_BAD and ("data", b"\xd5\x03\x32\x01\x06\x07") not in ev


def test_bad_extended_header_is_bad():
    raw = bytearray(frame.encode(frame.TFI_CHIP, b"\x41\x00", bytes(258)))
    raw[7] ^= 1
    ev = _parse_all(bytes(raw))
    assert ev[0][0] == frame.GOT_BAD
    assert not [e for e in ev if e[0] == "data"]


def test_noise_flood_does_not_wedge_the_parser():
    p = frame.FrameParser()
    noise = bytes((i * 37 + 11) & 0xFF for i in range(97))
    for _ in range(20):
        p.feed(noise)
        while p.parse() != frame.NEED_MORE:
            pass
    p.feed(unhexlify("0000ff02fed5151600"))
    k = p.parse()
    while k == frame.GOT_BAD:
        k = p.parse()
    assert k == frame.GOT_DATA and bytes(p.buf[p.start : p.start + p.length]) == b"\xd5\x15"


def test_encode_into_preallocated_buffer():
    out = bytearray(frame.FRAME_MAX)
    n = frame.encode_into(out, frame.TFI_HOST, b"\x4a\x01\x00")
    assert bytes(out[:n]) == unhexlify("0000ff04fcd44a0100e100")
    n = frame.encode_into(out, frame.TFI_HOST, b"\x40\x01", memoryview(b"\x00\xa4\x04\x00"))
    assert frame.checksum(out, 5, n - 2) == out[n - 2]
