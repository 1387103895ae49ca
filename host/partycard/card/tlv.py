"""Card layer, BER-TLV codec (ISO/IEC 7816-4 §5.2, ISO/IEC 8825-1 definite lengths only).

Pure bytes in, bytes out: it must not do I/O, crypto or interpret tags. Every malformed input
raises ``ParseError`` naming the offset; depth and lengths are bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from partycard.errors import ParseError

MAX_DEPTH = 16
MAX_LENGTH = 1 << 24  # 16 MiB: far above any LDS file, far below memory trouble
MAX_TAG_BYTES = 4


@dataclass(frozen=True)
class TLV:
    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        return is_constructed(self.tag)

    def children(self, *, depth: int = 0) -> list[TLV]:
        if not self.constructed:
            raise ParseError(f"tag {self.tag:X} is primitive, it has no children")
        return parse_all(self.value, depth=depth + 1)

    def child(self, tag: int) -> TLV:
        for c in self.children():
            if c.tag == tag:
                return c
        raise ParseError(f"tag {tag:X} not found inside {self.tag:X}")

    def find(self, tag: int) -> TLV | None:
        for c in self.children():
            if c.tag == tag:
                return c
        return None


def _first_tag_byte(tag: int) -> int:
    return tag >> (8 * ((tag.bit_length() - 1) // 8)) if tag else 0


def is_constructed(tag: int) -> bool:
    return bool(_first_tag_byte(tag) & 0x20)


def read_tag(data: bytes, offset: int) -> tuple[int, int]:
    """Return (tag, offset after the tag)."""
    if offset >= len(data):
        raise ParseError(f"TLV truncated: tag expected at offset {offset}")
    first = data[offset]
    if first in (0x00, 0xFF):
        raise ParseError(f"invalid tag byte {first:02X} at offset {offset}")
    tag, pos = first, offset + 1
    if first & 0x1F == 0x1F:
        while True:
            if pos >= len(data):
                raise ParseError(f"TLV truncated inside a multi-byte tag at offset {offset}")
            b = data[pos]
            tag = (tag << 8) | b
            pos += 1
            if pos - offset > MAX_TAG_BYTES:
                raise ParseError(f"tag longer than {MAX_TAG_BYTES} bytes at offset {offset}")
            if not b & 0x80:
                break
    return tag, pos


def read_length(data: bytes, offset: int) -> tuple[int, int]:
    """Return (length, offset after the length field); long form up to 4 bytes (0x84)."""
    if offset >= len(data):
        raise ParseError(f"TLV truncated: length expected at offset {offset}")
    first = data[offset]
    if first < 0x80:
        return first, offset + 1
    if first == 0x80:
        raise ParseError(f"indefinite length at offset {offset} is not allowed here")
    n = first & 0x7F
    if n > 4:
        raise ParseError(f"length field of {n} bytes at offset {offset}")
    if offset + 1 + n > len(data):
        raise ParseError(f"TLV truncated inside a length field at offset {offset}")
    length = int.from_bytes(data[offset + 1 : offset + 1 + n], "big")
    if length > MAX_LENGTH:
        raise ParseError(f"length {length} at offset {offset} exceeds {MAX_LENGTH}")
    return length, offset + 1 + n


def read_header(data: bytes, offset: int = 0) -> tuple[int, int, int]:
    """Return (tag, value length, value offset) without requiring the value to be present.

    The file reader uses this on the first chunk of a file to learn its total size.
    """
    tag, pos = read_tag(data, offset)
    length, pos = read_length(data, pos)
    return tag, length, pos


def parse_one(data: bytes, offset: int = 0) -> tuple[TLV, int]:
    tag, length, pos = read_header(data, offset)
    end = pos + length
    if end > len(data):
        raise ParseError(f"TLV {tag:X} at offset {offset} declares {length} bytes, {len(data) - pos} present")
    return TLV(tag, bytes(data[pos:end])), end


def iter_tlv(data: bytes) -> Iterator[TLV]:
    pos = 0
    while pos < len(data):
        item, pos = parse_one(data, pos)
        yield item


def parse_all(data: bytes, *, depth: int = 0) -> list[TLV]:
    if depth > MAX_DEPTH:
        raise ParseError(f"TLV nesting deeper than {MAX_DEPTH}")
    return list(iter_tlv(data))


def parse_single(data: bytes, expected_tag: int | None = None, *, allow_trailing: bool = False) -> TLV:
    """Parse exactly one TLV occupying ``data`` (trailing bytes are an error unless allowed)."""
    item, end = parse_one(data, 0)
    if expected_tag is not None and item.tag != expected_tag:
        raise ParseError(f"expected tag {expected_tag:X}, found {item.tag:X}")
    if end != len(data) and not allow_trailing:
        raise ParseError(f"{len(data) - end} trailing bytes after tag {item.tag:X}")
    return item


def encode_tag(tag: int) -> bytes:
    if tag <= 0:
        raise ParseError("tag must be positive")
    return tag.to_bytes((tag.bit_length() + 7) // 8, "big")


def encode_length(length: int) -> bytes:
    if length < 0 or length > MAX_LENGTH:
        raise ParseError(f"length {length} cannot be encoded")
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def encode(tag: int, value: bytes) -> bytes:
    return encode_tag(tag) + encode_length(len(value)) + value


def total_size(header: bytes) -> int:
    """Total encoded size (header + value) of the TLV starting ``header``."""
    _, length, pos = read_header(header, 0)
    return pos + length
