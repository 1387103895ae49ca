"""Protocol tools: reference framing of SPEC.md §2 (COBS + CRC-32). Pure: no I/O, no imports of partycard.

This is the vectors' own implementation, written from the spec alone so that it can check the host's
and the firmware's independently. It favours plainness over speed.
"""

from __future__ import annotations

import tomllib
import zlib
from pathlib import Path
from typing import Any

CODES: dict[str, Any] = tomllib.loads(
    (Path(__file__).resolve().parents[1] / "codes.toml").read_text(encoding="utf-8")
)
MAX_PAYLOAD: int = CODES["limit"]["MAX_PAYLOAD"]
CRC_LEN = 4
MIN_DECODED = CRC_LEN + 1  # SPEC.md §2 rule 4: an empty payload is not a message.
# SPEC.md §2 rule 2: MAX_PAYLOAD + CRC, plus one code byte per 254 and one more.
MAX_RUN = MAX_PAYLOAD + CRC_LEN + (MAX_PAYLOAD + CRC_LEN) // 254 + 1


class FrameDrop(ValueError):
    """A received run must be dropped (SPEC.md §2); the message names the rule."""


def crc32le(data: bytes) -> bytes:
    """CRC-32/ISO-HDLC of data as 4 bytes little-endian (SPEC.md §2)."""
    return (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "little")


def cobs_encode(data: bytes) -> bytes:
    """COBS-encode data (Cheshire and Baker 1999), without the 0x00 delimiter.

    A block of 254 non-zero bytes gets code 0xFF and no implied zero. When such a block ends the
    input, no further code byte follows: this is the shortest encoding, and the one vectors carry.
    """
    out = bytearray()
    block = bytearray()
    ended_on_full_block = False
    for byte in data:
        ended_on_full_block = False
        if byte == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
            continue
        block.append(byte)
        if len(block) == 254:
            out.append(0xFF)
            out += block
            block.clear()
            ended_on_full_block = True
    if not ended_on_full_block:
        out.append(len(block) + 1)
        out += block
    return bytes(out)


def cobs_decode(run: bytes) -> bytes:
    """Decode one COBS run (without its delimiter); raise FrameDrop when a code points past the end."""
    out = bytearray()
    i = 0
    while i < len(run):
        code = run[i]
        if code == 0:
            raise FrameDrop("0x00 inside a run")
        end = i + code
        if end > len(run):
            raise FrameDrop("COBS code points past the end of the run")
        out += run[i + 1 : end]
        i = end
        # Every block but a 0xFF one ends in an implied zero, except the frame's last block.
        if code != 0xFF and i < len(run):
            out.append(0)
    return bytes(out)


def encode_frame(payload: bytes) -> bytes:
    """Return COBS(payload ‖ CRC32LE(payload)) ‖ 0x00 (SPEC.md §2)."""
    return cobs_encode(payload + crc32le(payload)) + b"\x00"


def decode_run(run: bytes) -> bytes:
    """Apply the receiver rules 2-4 of SPEC.md §2 to one non-empty run; return the payload."""
    if len(run) > MAX_RUN:
        raise FrameDrop(f"run of {len(run)} bytes exceeds {MAX_RUN}")
    decoded = cobs_decode(run)
    if len(decoded) < MIN_DECODED:
        raise FrameDrop(f"decoded length {len(decoded)} is below {MIN_DECODED}")
    payload, crc = decoded[:-CRC_LEN], decoded[-CRC_LEN:]
    if crc32le(payload) != crc:
        raise FrameDrop("CRC mismatch")
    return payload


def receive(stream: bytes) -> list[bytes | FrameDrop]:
    """Split a byte stream at 0x00 and decode each run: payloads, or the FrameDrop for a dropped run.

    Empty runs are ignored (rule 1); bytes after the last 0x00 are still accumulating and ignored.
    """
    results: list[bytes | FrameDrop] = []
    for run in stream.split(b"\x00")[:-1]:
        if not run:
            continue
        try:
            results.append(decode_run(run))
        except FrameDrop as drop:
            results.append(drop)
    return results
