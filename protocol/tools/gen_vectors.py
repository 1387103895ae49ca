"""Protocol tools, command line: generate protocol/vectors/ from the case modules; writes nothing else.

Usage: python protocol/tools/gen_vectors.py [--out-dir DIR]

Deterministic: the same sources give the same bytes, which tests/protocol/test_vectors_stable.py
checks. CBOR comes from cbor2 (canonical); COBS and CRC from wire.py, written from SPEC.md §2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

# Run as a script, this file sees only its own folder; the tools import each other as protocol.tools.*.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from protocol.tools import (
    cases_invalid,
    cases_messages,
    cases_refused,
    cases_sessions,
)
from protocol.tools.vectorlib import Json, diag, encode, to_json
from protocol.tools.wire import MAX_PAYLOAD, crc32le, encode_frame

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def _tuned(prefix: bytes, want: Callable[[bytes], bool]) -> bytes:
    """prefix plus the first tail (one byte 1..255, then two) for which want(payload ‖ CRC) holds."""
    from itertools import product

    for width in (1, 2):
        for tail in product(range(1, 256), repeat=width):
            payload = prefix + bytes(tail)
            if want(payload + crc32le(payload)):
                return payload
    raise RuntimeError("no tuning tail found")


def _nonzero(n: int) -> bytes:
    """n bytes without a zero, not periodic in 254, so COBS blocks are easy to tell apart."""
    return bytes(i % 251 + 1 for i in range(n))


def framing_cases() -> list[tuple[str, bytes, str]]:
    no_zero_crc: Callable[[bytes], bool] = lambda d: 0 not in d[-4:]  # noqa: E731
    return [
        ("single-zero", b"\x00", "one zero byte"),
        ("all-zero-2", bytes(2), "two zero bytes: one code byte each"),
        ("all-zero-8", bytes(8), "eight zero bytes"),
        ("zero-first", b"\x00ABC", "zero at the start"),
        ("zero-last", b"ABC\x00", "zero at the end of the payload (the CRC follows)"),
        ("crc-ends-in-zero", _tuned(b"ABC", lambda d: d[-1] == 0), "the encoded input ends in 0x00"),
        ("crc-zero-run", _tuned(b"AB", lambda d: d[-4:].count(0) >= 2), "two zeros inside the CRC"),
        ("all-ff", b"\xff" * 10, "0xFF data bytes are not code bytes"),
        ("run-253", _tuned(_nonzero(248), no_zero_crc), "payload and CRC: 253 non-zero bytes, code 0xFE"),
        (
            "run-254",
            _tuned(_nonzero(249), no_zero_crc),
            "254 non-zero bytes: one 0xFF block and no code byte after it",
        ),
        ("run-255", _tuned(_nonzero(250), no_zero_crc), "255 non-zero bytes: 0xFF block, then code 0x02"),
        ("run-253-zero", _nonzero(253) + b"\x00A", "253 non-zero, then a zero: code 0xFE"),
        ("run-254-zero", _nonzero(254) + b"\x00A", "254 non-zero, then a zero: 0xFF block, then code 0x01"),
        ("run-255-zero", _nonzero(255) + b"\x00A", "255 non-zero, then a zero"),
        ("run-508", _tuned(_nonzero(503), no_zero_crc), "two full 0xFF blocks end the frame"),
        ("every-byte", bytes(range(256)), "each byte value once"),
        (
            "max-payload-nonzero",
            _tuned(_nonzero(MAX_PAYLOAD - 1), no_zero_crc),
            "MAX_PAYLOAD bytes, no zero anywhere: the longest run a receiver accepts",
        ),
        ("max-payload-zero", bytes(MAX_PAYLOAD), "MAX_PAYLOAD zero bytes"),
        (
            "max-payload-mixed",
            bytes(i % 256 for i in range(MAX_PAYLOAD)),
            "MAX_PAYLOAD bytes counting 0..255",
        ),
        ("hello-request", encode(cases_messages.req(1, "hello", {})), "the hello request of messages.jsonl"),
    ]


def framing_records() -> list[dict[str, Json]]:
    return [
        {"id": cid, "payload_hex": payload.hex(), "frame_hex": encode_frame(payload).hex(), "note": note}
        for cid, payload, note in framing_cases()
    ]


def message_records() -> list[dict[str, Json]]:
    records: list[dict[str, Json]] = []
    for cid, item, note in cases_messages.all_cases():
        kind = item[1]
        records.append(
            {
                "id": cid,
                "direction": "host>reader" if kind == cases_messages.REQUEST else "reader>host",
                "type": cases_messages.TYPE_NAMES[kind],
                "op": item.get(3),
                "value": to_json(item),
                "cbor_hex": encode(item).hex(),
                "diag": diag(item),
                "note": note,
            }
        )
    return records


def invalid_records() -> list[dict[str, Json]]:
    records: list[dict[str, Json]] = []
    for layer, raw_cases in (("frame", cases_invalid.frames()), ("cbor", cases_invalid.cbor())):
        records += [
            {"id": cid, "layer": layer, "bytes_hex": data.hex(), "error": err, "note": note}
            for cid, data, err, note in raw_cases
        ]
    for layer, reply_cases in (("envelope", cases_refused.envelopes()), ("body", cases_refused.bodies())):
        records += [
            {
                "id": cid,
                "layer": layer,
                "bytes_hex": data.hex(),
                "error": err,
                "reply_id": rid,
                "reply_op": rop,
                "note": note,
            }
            for cid, data, err, rid, rop, note in reply_cases
        ]
    return records


def _jsonl(records: list[dict[str, Json]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=True) + "\n" for r in records)


def render() -> dict[Path, str]:
    """Every generated file, by path relative to protocol/vectors/."""
    files = {
        Path("framing.jsonl"): _jsonl(framing_records()),
        Path("messages.jsonl"): _jsonl(message_records()),
        Path("invalid.jsonl"): _jsonl(invalid_records()),
    }
    for name, lines in cases_sessions.sessions().items():
        files[Path("sessions") / f"{name}.jsonl"] = _jsonl(lines)
    return files


def generate(out_dir: Path) -> list[Path]:
    """Write every vector file below out_dir and return their paths."""
    written = []
    for rel, text in render().items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", type=Path, default=VECTORS)
    args = parser.parse_args()
    for path in generate(args.out_dir):
        print(path)


if __name__ == "__main__":
    main()
