"""Card layer, the few DER primitives the LDS needs (OID, INTEGER); no I/O."""

from __future__ import annotations

from partycard.errors import ParseError


def decode_oid(value: bytes) -> str:
    """OBJECT IDENTIFIER content octets → dotted string (X.690 §8.19)."""
    if not value or value[-1] & 0x80:
        raise ParseError("malformed OBJECT IDENTIFIER")
    arcs: list[int] = []
    n = 0
    for i, b in enumerate(value):
        if n == 0 and b == 0x80:
            raise ParseError("non-minimal OBJECT IDENTIFIER arc")
        n = (n << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(n)
            n = 0
        elif i > 64:
            raise ParseError("OBJECT IDENTIFIER too long")
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])


def encode_oid(dotted: str) -> bytes:
    """Dotted string → OBJECT IDENTIFIER content octets (no tag/length)."""
    try:
        arcs = [int(a) for a in dotted.split(".")]
    except ValueError as e:
        raise ParseError(f"bad OID {dotted!r}") from e
    if len(arcs) < 2:
        raise ParseError(f"bad OID {dotted!r}")
    out = bytearray()
    for value in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [value & 0x7F]
        rest = value >> 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def decode_int(value: bytes) -> int:
    if not value:
        raise ParseError("empty INTEGER")
    return int.from_bytes(value, "big", signed=True)


def decode_uint(value: bytes) -> int:
    v = decode_int(value)
    if v < 0:
        raise ParseError("negative INTEGER where unsigned expected")
    return v
