"""Link layer, framing: COBS + CRC-32 frames on a byte stream (SPEC.md §2). Pure: no I/O, no CBOR.

A frame on the wire is ``COBS(payload ‖ CRC32LE(payload)) ‖ 0x00``. :class:`FrameDecoder` turns an
arbitrary byte stream (boot text, noise, frames) into the payloads of the frames that pass every
check of SPEC.md §2; everything else is dropped and counted, never raised, because a receiver must
resynchronise at the next 0x00 and carry on.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from partycard.errors import FramingError
from partycard.link.codes import MAX_PAYLOAD

DELIMITER = b"\x00"
_CRC_LEN = 4
# SPEC.md §2 rule 4: a decoded run shorter than one payload byte plus its CRC is not a message.
_MIN_DECODED = _CRC_LEN + 1
# COBS (Cheshire and Baker 1999): code byte 0xFF announces 254 data bytes and no implied zero.
_BLOCK = 254


def max_encoded_len(max_payload: int = MAX_PAYLOAD) -> int:
    """Longest run between delimiters that can hold a valid frame (SPEC.md §2 rule 2)."""
    decoded = max_payload + _CRC_LEN
    return decoded + decoded // _BLOCK + 1


def cobs_encode(data: bytes) -> bytes:
    """COBS-encode ``data`` so that the result contains no 0x00 byte."""
    out = bytearray()
    segments = bytes(data).split(b"\x00")
    last = len(segments) - 1
    for index, segment in enumerate(segments):
        # Each segment ended by a zero becomes blocks of up to 254 bytes, each behind its code byte.
        # The last segment ends in an implied zero that is not sent, so a full 254-byte final
        # block needs no code byte after it.
        start = 0
        while len(segment) - start > _BLOCK or (len(segment) - start == _BLOCK and index != last):
            out.append(0xFF)
            out += segment[start : start + _BLOCK]
            start += _BLOCK
        rest = len(segment) - start
        out.append(0xFF if rest == _BLOCK else rest + 1)
        out += segment[start:]
    return bytes(out)


def cobs_decode(run: bytes) -> bytes:
    """Decode one COBS run (without its delimiter); raises :class:`FramingError` if it is not COBS."""
    out = bytearray()
    pos = 0
    end = len(run)
    while pos < end:
        code = run[pos]
        if code == 0:
            raise FramingError("COBS run contains a 0x00 byte")
        nxt = pos + code
        if nxt > end:
            # SPEC.md §2 rule 3: a code byte pointing past the end of the run.
            raise FramingError("COBS code byte points past the end of the run")
        out += run[pos + 1 : nxt]
        pos = nxt
        if code != 0xFF and pos < end:
            out.append(0)
    return bytes(out)


def crc32_le(payload: bytes) -> bytes:
    """The 4-byte little-endian CRC-32 (ISO-HDLC, as zlib.crc32) of ``payload`` (SPEC.md §2)."""
    return struct.pack("<I", zlib.crc32(payload))


def encode_frame(payload: bytes, *, max_payload: int = MAX_PAYLOAD) -> bytes:
    """The wire frame of ``payload``, delimiter included. Raises :class:`FramingError` if it cannot be one."""
    if not payload:
        raise FramingError("an empty payload is not a message (SPEC.md §2)")
    if len(payload) > max_payload:
        raise FramingError(f"payload of {len(payload)} bytes exceeds the limit of {max_payload}")
    return cobs_encode(bytes(payload) + crc32_le(payload)) + DELIMITER


def decode_frame(run: bytes, *, max_payload: int = MAX_PAYLOAD) -> bytes:
    """Check one run (the bytes between two delimiters) and return its payload.

    Raises :class:`FramingError` for each failure SPEC.md §2 names: oversize, invalid COBS, too
    short, CRC mismatch.
    """
    payload, reason = _check_run(run, max_payload)
    if payload is None:
        raise FramingError(_REASON_TEXT[reason])
    return payload


_REASON_TEXT = {
    "oversize": "run is longer than any frame (SPEC.md §2 rule 2)",
    "bad_cobs": "run is not valid COBS (SPEC.md §2 rule 3)",
    "short": "decoded frame is shorter than a payload byte and its CRC (SPEC.md §2 rule 4)",
    "bad_crc": "CRC-32 mismatch (SPEC.md §2 rule 4)",
}


def _check_run(run: bytes, max_payload: int) -> tuple[bytes | None, str]:
    """The payload of ``run`` and "", or None and the reason (a key of _REASON_TEXT)."""
    if len(run) > max_encoded_len(max_payload):
        return None, "oversize"
    try:
        decoded = cobs_decode(run)
    except FramingError:
        return None, "bad_cobs"
    if len(decoded) < _MIN_DECODED:
        return None, "short"
    payload, crc = decoded[:-_CRC_LEN], decoded[-_CRC_LEN:]
    if len(payload) > max_payload:
        return None, "oversize"
    if crc32_le(payload) != crc:
        return None, "bad_crc"
    return payload, ""


@dataclass
class FrameStats:
    """Why runs were dropped (SPEC.md §2: each side SHOULD count them)."""

    oversize: int = 0
    bad_cobs: int = 0
    short: int = 0
    bad_crc: int = 0


class FrameDecoder:
    """Incremental receiver for the frame stream of SPEC.md §2.

    ``feed`` accepts any chunk of bytes and returns the payloads completed by it. A run that fails
    any check is dropped and counted in :attr:`dropped` (by reason in :attr:`stats`); an oversize
    run is not even buffered: bytes are discarded until the next delimiter.
    """

    def __init__(self, max_payload: int = MAX_PAYLOAD) -> None:
        self._max_payload = max_payload
        self._max_run = max_encoded_len(max_payload)
        self._buf = bytearray()
        self._discarding = False
        self.stats = FrameStats()
        #: Every run dropped so far, whatever the reason.
        self.dropped = 0
        #: Payloads delivered so far.
        self.frames = 0

    def feed(self, data: bytes) -> list[bytes]:
        """Consume ``data`` and return the payloads of every valid frame it completes, in order."""
        out: list[bytes] = []
        start = 0
        end = len(data)
        while start < end:
            zero = data.find(0, start)
            if zero < 0:
                self._accumulate(data[start:])
                break
            self._accumulate(data[start:zero])
            self._end_run(out)
            start = zero + 1
        return out

    def reset(self) -> None:
        """Forget a partly received run (e.g. after reopening the port)."""
        self._buf.clear()
        self._discarding = False

    def _accumulate(self, chunk: bytes) -> None:
        if self._discarding:
            return
        if len(self._buf) + len(chunk) > self._max_run:
            # SPEC.md §2 rule 2: drop now and keep discarding until the next 0x00, so an endless
            # run of noise cannot grow the buffer.
            self._buf.clear()
            self._discarding = True
            return
        self._buf += chunk

    def _end_run(self, out: list[bytes]) -> None:
        if self._discarding:
            self._discarding = False
            self._count("oversize")
            return
        if not self._buf:
            return  # SPEC.md §2 rule 1: an empty run is ignored, not counted.
        run = bytes(self._buf)
        self._buf.clear()
        payload, reason = _check_run(run, self._max_payload)
        if payload is None:
            self._count(reason)
            return
        self.frames += 1
        out.append(payload)

    def _count(self, reason: str) -> None:
        self.dropped += 1
        setattr(self.stats, reason, getattr(self.stats, reason) + 1)

