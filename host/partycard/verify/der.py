"""Verify layer: unwrap the TLV around LDS files (9303-10 §4.6); must not interpret the content.

Must not interpret the content. Lengths follow ISO/IEC 7816-4 §5.2 (BER definite form, ≤ 3 bytes).
"""

from __future__ import annotations

from partycard.errors import VerificationError

#: What asn1crypto raises on hostile input. Values are parsed lazily, so a damaged structure can
#: fail on first access with any of these (AttributeError: a universal type where a CHOICE or ANY
#: was expected; IndexError: a truncated element), not only ValueError.
ASN1_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
)


def unwrap(data: bytes, tag: int, reason: str) -> bytes:
    """The value of the TLV with ``tag`` at the start of ``data``; bytes after it are ignored
    (chips may pad files). Raise VerificationError(reason) when the TLV is damaged."""
    if len(data) < 2 or data[0] != tag:
        raise VerificationError(reason, f"file does not start with tag {tag:02X}")
    first = data[1]
    if first < 0x80:
        size, pos = first, 2
    else:
        count = first & 0x7F
        if count == 0 or count > 3 or len(data) < 2 + count:
            raise VerificationError(reason, "length field is not supported")
        size, pos = int.from_bytes(data[2 : 2 + count], "big"), 2 + count
    if pos + size > len(data):
        raise VerificationError(reason, "file is truncated")
    return data[pos : pos + size]
