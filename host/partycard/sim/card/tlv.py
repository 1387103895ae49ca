"""Simulator layer, virtual card: BER-TLV for the card OS; must not import partycard.card.

BER-TLV encoding and decoding as the card OS needs it.

Must not import ``partycard.card`` (independent card-side implementation). ISO/IEC 7816-4 §5.2
tags (one to three bytes) and definite lengths only; a card never emits indefinite lengths.
"""

from __future__ import annotations


class TLVError(ValueError):
    """Bytes that do not parse as definite-length BER-TLV."""


def encode_length(n: int) -> bytes:
    """Definite length in the shortest form (ISO/IEC 7816-4 §5.2.2.2)."""
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def tlv(tag: int, value: bytes) -> bytes:
    """One TLV; ``tag`` is the tag's bytes read as a big-endian integer (e.g. 0x7F49)."""
    tag_bytes = tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")
    return tag_bytes + encode_length(len(value)) + value


def read_tlv(data: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """Parse one TLV at ``pos``: return (tag, value, position after it)."""
    try:
        tag = data[pos]
        pos += 1
        if tag & 0x1F == 0x1F:  # multi-byte tag: continue while b8 is set
            while True:
                tag = (tag << 8) | data[pos]
                pos += 1
                if not data[pos - 1] & 0x80:
                    break
        first = data[pos]
        pos += 1
        if first < 0x80:
            length = first
        elif first in (0x81, 0x82, 0x83):
            n = first & 0x7F
            length = int.from_bytes(data[pos : pos + n], "big")
            if len(data[pos : pos + n]) != n:
                raise TLVError("truncated length")
            pos += n
        else:
            raise TLVError(f"unsupported length byte {first:02X}")
    except IndexError as exc:
        raise TLVError("truncated TLV") from exc
    end = pos + length
    if end > len(data):
        raise TLVError("value runs past the end of the data")
    return tag, data[pos:end], end


def parse_all(data: bytes) -> list[tuple[int, bytes]]:
    """Every TLV in a concatenation, in order."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        tag, value, pos = read_tlv(data, pos)
        out.append((tag, value))
    return out


def find(data: bytes, tag: int) -> bytes | None:
    """The value of the first TLV with ``tag`` in a concatenation, or None."""
    for t, v in parse_all(data):
        if t == tag:
            return v
    return None
