"""Protocol tools: frames to drop and payloads breaking SPEC.md §3.1 (vectors/invalid.jsonl). Pure data."""

from __future__ import annotations

from protocol.tools.cases_messages import MAX_DEPTH, MAX_ENTRIES, MAX_ITEMS, MAX_PAYLOAD, config_at_depth, req
from protocol.tools.vectorlib import encode
from protocol.tools.wire import MAX_RUN, cobs_encode, crc32le, encode_frame

# (id, bytes, error, note): the error is "drop" for frames, E_CBOR or E_LIMIT for payloads.
RawCase = tuple[str, bytes, str, str]

PING = encode(req(7, "ping", {"data": b"\x01\x02"}))  # the valid request most cases mutate


def _with_crc(decoded: bytes) -> bytes:
    return cobs_encode(decoded) + b"\x00"


def frames() -> list[RawCase]:
    good = encode_frame(PING)
    bad_crc = bytearray(PING + crc32le(PING))
    bad_crc[-1] ^= 0x01
    too_long = bytes(range(1, 256)) * 9  # a 2049-byte payload: no zeros, so the worst COBS overhead
    too_long_payload = too_long[: MAX_PAYLOAD + 1]
    return [
        ("frame-bad-crc", _with_crc(bytes(bad_crc)), "drop", "last CRC byte flipped"),
        (
            "frame-payload-bit-flip",
            good[:3] + bytes([good[3] ^ 0x10]) + good[4:],
            "drop",
            "one payload bit flipped",
        ),
        (
            "frame-cobs-past-end",
            bytes.fromhex("0511223300"),
            "drop",
            "code 0x05 needs 4 more bytes, 3 follow",
        ),
        (
            "frame-cobs-ff-short",
            b"\xff" + bytes(range(1, 100)) + b"\x00",
            "drop",
            "code 0xFF with 99 bytes after it",
        ),
        (
            "frame-empty-payload",
            _with_crc(crc32le(b"")),
            "drop",
            "the CRC of the empty payload (00000000) is correct, but an empty payload is not a message",
        ),
        ("frame-decoded-4", bytes.fromhex("05a1b2c3d400"), "drop", "decoded length 4, below 5"),
        ("frame-decoded-1", bytes.fromhex("02a100"), "drop", "decoded length 1"),
        (
            "frame-run-too-long",
            encode_frame(too_long_payload),
            "drop",
            f"COBS and CRC fine, {MAX_PAYLOAD + 1} payload bytes: run {MAX_RUN + 1} > {MAX_RUN}",
        ),
        ("frame-run-very-long", b"\x41" * 5000 + b"\x00", "drop", "5000 bytes of text without a delimiter"),
        (
            "frame-boot-log",
            b"ets Jun  8 2016 00:22:57\r\nrst:0x1 (POWERON_RESET),boot:0x13\r\n\x00",
            "drop",
            "ESP32 ROM log text ended by a stray 0x00",
        ),
        (
            "frame-banner",
            b"partycard-reader 0.1.0 serial=SIM-0001 protocol=1\n\x00",
            "drop",
            "the start-up banner is not a frame",
        ),
        (
            "frame-truncated",
            good[: len(good) // 2] + b"\x00",
            "drop",
            "first half of a frame, then the delimiter",
        ),
        ("frame-empty-runs", b"\x00\x00\x00", "drop", "empty runs are ignored"),
    ]


def _replace(payload: bytes, old: bytes, new: bytes) -> bytes:
    assert payload.count(old) == 1, old  # noqa: S101 - the generator's own precondition.
    return payload.replace(old, new)


def cbor() -> list[RawCase]:
    # Everything up to the body of PING: {0: 1, 1: 0, 2: 7, 3: "ping", 4:
    env_prefix = bytes.fromhex("a500010100020703") + bytes.fromhex("6470696e6704")
    assert PING.startswith(env_prefix), PING.hex()  # noqa: S101 - the generator's own precondition.

    def ping_with(data_item: bytes) -> bytes:
        return env_prefix + bytes.fromhex("a16464617461") + data_item

    def ping_key(key_item: bytes) -> bytes:
        return env_prefix + b"\xa1" + key_item + b"\x42\x01\x02"

    deep = encode(req(7, "config.set", {"config": config_at_depth(MAX_DEPTH + 1)}))
    wide = encode(req(7, "config.set", {"config": {f"k{i:02d}": i for i in range(MAX_ITEMS + 1)}}))
    big = encode(req(4, "ping", {"data": bytes(MAX_PAYLOAD - 22)}))
    many = encode(req(7, "config.set", {"config": {f"k{i:02d}": [0] * (25 if i == 0 else 24) for i in range(10)}}))
    return [
        (
            "cbor-indefinite-map",
            b"\xbf" + PING[1:] + b"\xff",
            "E_CBOR",
            "envelope as an indefinite-length map",
        ),
        (
            "cbor-indefinite-bstr",
            ping_with(bytes.fromhex("5f41014102ff")),
            "E_CBOR",
            "data as an indefinite byte string of two chunks",
        ),
        (
            "cbor-indefinite-tstr",
            _replace(PING, b"\x64ping", bytes.fromhex("7f627069626e67ff")),
            "E_CBOR",
            "op as an indefinite text string",
        ),
        (
            "cbor-indefinite-array",
            encode(req(7, "apdu.batch", {"apdus": []})).replace(b"\x80", b"\x9f\xff"),
            "E_CBOR",
            "apdus as an indefinite array",
        ),
        (
            "cbor-non-shortest-id",
            _replace(PING, b"\x02\x07", b"\x02\x18\x07"),
            "E_CBOR",
            "id 7 in a one-byte argument",
        ),
        (
            "cbor-non-shortest-id-2",
            _replace(PING, b"\x02\x07", b"\x02\x19\x00\x07"),
            "E_CBOR",
            "id 7 in two bytes",
        ),
        (
            "cbor-non-shortest-id-8",
            _replace(PING, b"\x02\x07", b"\x02\x1b" + (7).to_bytes(8, "big")),
            "E_CBOR",
            "id 7 in eight bytes",
        ),
        (
            "cbor-non-shortest-key",
            _replace(PING, b"\x00\x01\x01\x00", b"\x18\x00\x01\x01\x00"),
            "E_CBOR",
            "envelope key 0 in a one-byte argument",
        ),
        (
            "cbor-non-shortest-length",
            _replace(PING, b"\x64ping", b"\x78\x04ping"),
            "E_CBOR",
            "text length 4 in one byte",
        ),
        ("cbor-non-shortest-map", b"\xb8\x05" + PING[1:], "E_CBOR", "map count 5 in one byte"),
        (
            "cbor-keys-unsorted",
            _replace(PING, b"\x00\x01\x01\x00", b"\x01\x00\x00\x01"),
            "E_CBOR",
            "envelope keys 1, 0",
        ),
        (
            "cbor-body-keys-unsorted",
            encode(req(7, "apdu.batch", {"apdus": [], "continue": []})).replace(
                b"\x65apdus\x80\x68continue\x80", b"\x68continue\x80\x65apdus\x80"
            ),
            "E_CBOR",
            "continue before apdus: length-first order puts the 5-byte key first",
        ),
        (
            "cbor-key-duplicate",
            b"\xa6" + _replace(PING[1:], b"\x02\x07", b"\x02\x07\x02\x07"),
            "E_CBOR",
            "key 2 twice",
        ),
        ("cbor-key-bstr", ping_key(b"\x44data"), "E_CBOR", "body key data as a byte string"),
        ("cbor-key-true", ping_key(b"\xf5"), "E_CBOR", "body key true"),
        ("cbor-key-null", ping_key(b"\xf6"), "E_CBOR", "body key null"),
        ("cbor-key-array", ping_key(b"\x80"), "E_CBOR", "body key an empty array"),
        ("cbor-key-map", ping_key(b"\xa0"), "E_CBOR", "body key an empty map"),
        (
            "cbor-key-array-over-limits",
            ping_key(b"\x99\xff\xff"),
            "E_CBOR",
            "a key declared as an array of 65535: its type is refused before its count",
        ),
        ("cbor-tag", _replace(PING, b"\x02\x07", b"\x02\xc1\x07"), "E_CBOR", "id wrapped in tag 1"),
        (
            "cbor-tag-bignum",
            _replace(PING, b"\x02\x07", b"\x02\xc2\x41\x07"),
            "E_CBOR",
            "id as a bignum (tag 2)",
        ),
        (
            "cbor-float16",
            _replace(PING, b"\x02\x07", b"\x02\xf9\x47\x00"),
            "E_CBOR",
            "id 7.0 as a half float",
        ),
        (
            "cbor-float64",
            _replace(PING, b"\x02\x07", b"\x02\xfb" + bytes.fromhex("401c000000000000")),
            "E_CBOR",
            "id 7.0 as a double",
        ),
        ("cbor-undefined", ping_with(b"\xf7"), "E_CBOR", "data undefined"),
        ("cbor-simple-16", ping_with(b"\xf0"), "E_CBOR", "unassigned simple value 16"),
        ("cbor-simple-32", ping_with(b"\xf8\x20"), "E_CBOR", "simple value 32 in a one-byte argument"),
        (
            "cbor-simple-20-long",
            ping_with(b"\xf8\x14"),
            "E_CBOR",
            "false in a one-byte argument: not well-formed",
        ),
        ("cbor-reserved-info", ping_with(b"\x5c"), "E_CBOR", "additional information 28 is reserved"),
        ("cbor-lone-break", ping_with(b"\xff"), "E_CBOR", "a break outside any indefinite item"),
        ("cbor-utf8-invalid", _replace(PING, b"\x64ping", b"\x64p\xffng"), "E_CBOR", "0xFF is never UTF-8"),
        (
            "cbor-utf8-overlong",
            _replace(PING, b"\x64ping", b"\x64pi\xc1\xae"),
            "E_CBOR",
            "overlong encoding of '.'",
        ),
        (
            "cbor-utf8-surrogate",
            _replace(PING, b"\x64ping", b"\x65p\xed\xa0\x80g"),
            "E_CBOR",
            "an encoded UTF-16 surrogate",
        ),
        (
            "cbor-utf8-truncated",
            _replace(PING, b"\x64ping", b"\x64pin\xc3"),
            "E_CBOR",
            "a two-byte sequence cut short",
        ),
        ("cbor-trailing-byte", PING + b"\x00", "E_CBOR", "one byte after the item"),
        ("cbor-two-items", PING + PING, "E_CBOR", "two complete requests in one payload"),
        ("cbor-truncated", PING[:-1], "E_CBOR", "last byte missing"),
        (
            "cbor-bstr-past-end",
            ping_with(b"\x4a\x01\x02"),
            "E_CBOR",
            "byte string declares 10 bytes, 2 remain",
        ),
        (
            "cbor-array-past-end",
            encode(req(7, "apdu.batch", {"apdus": []}))[:-1] + b"\x83\x40",
            "E_CBOR",
            "array declares 3 items, 1 follows",
        ),
        (
            "cbor-head-truncated",
            ping_with(b"\x5a\x00\x01"),
            "E_CBOR",
            "four-byte length argument cut after two bytes",
        ),
        (
            "cbor-bstr-2-32",
            ping_with(b"\x5b" + (1 << 32).to_bytes(8, "big") + b"\x01\x02"),
            "E_LIMIT",
            "byte string declares 2^32 bytes: above MAX_PAYLOAD, rejected before any allocation",
        ),
        (
            "cbor-tstr-above-max",
            ping_with(b"\x79" + (MAX_PAYLOAD + 1).to_bytes(2, "big") + b"ab"),
            "E_LIMIT",
            "text string declares MAX_PAYLOAD + 1 bytes",
        ),
        (
            "cbor-array-2-32",
            encode(req(7, "apdu.batch", {"apdus": []}))[:-1] + b"\x9a\xff\xff\xff\xff",
            "E_LIMIT",
            "array declares 2^32 - 1 items",
        ),
        ("cbor-depth-over", deep, "E_LIMIT", f"an empty array at depth {MAX_DEPTH + 1}"),
        ("cbor-items-over", wide, "E_LIMIT", f"a map of {MAX_ITEMS + 1} entries"),
        ("cbor-entries-over", many, "E_LIMIT", f"{MAX_ENTRIES + 1} entries in all, none over MAX_ITEMS"),
        (
            "cbor-payload-over",
            big,
            "E_LIMIT",
            f"a well-formed request of {len(big)} bytes, one above MAX_PAYLOAD",
        ),
    ]
