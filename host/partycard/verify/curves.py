"""Verify layer: map explicit EC parameters onto named curves; must not verify signatures.

Must not verify signatures or touch trust; it only identifies curves. ICAO 9303-12 §4.1.6.3 requires
CSCA/DS keys to carry explicit domain parameters, which ``cryptography`` cannot load; we accept such a
key only when every parameter (p, a, b, G, n, h) equals one curve we know, and reject anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

import ecdsa.curves  # the parameter values of the standard curves (SEC 2, RFC 5639)
from asn1crypto import keys

from partycard.errors import VerificationError


@dataclass(frozen=True)
class Curve:
    """A named prime curve: its OID, parameters, and the library that can verify on it."""

    name: str  # our name, as used in the algorithm policy (e.g. "brainpoolP256r1")
    oid: str
    p: int
    a: int
    b: int
    gx: int
    gy: int
    n: int
    h: int
    #: True when ``cryptography`` supports the curve; otherwise python-ecdsa verifies on it.
    native: bool

    @property
    def order_bytes(self) -> int:
        """Length of one of r, s in a plain (TR-03111 §5.2.1) signature."""
        return (self.n.bit_length() + 7) // 8

    @property
    def field_bytes(self) -> int:
        return (self.p.bit_length() + 7) // 8


def _from_ecdsa(name: str, src: ecdsa.curves.Curve, *, native: bool) -> Curve:
    cv = src.curve
    return Curve(
        name=name,
        oid=".".join(str(x) for x in src.oid),
        p=cv.p(),
        a=cv.a() % cv.p(),  # python-ecdsa keeps a = -3 for the NIST curves
        b=cv.b(),
        gx=src.generator.x(),
        gy=src.generator.y(),
        n=src.order,
        h=cv.cofactor(),
        native=native,
    )


CURVES: tuple[Curve, ...] = (
    _from_ecdsa("secp224r1", ecdsa.curves.NIST224p, native=True),
    _from_ecdsa("secp256r1", ecdsa.curves.NIST256p, native=True),
    _from_ecdsa("secp384r1", ecdsa.curves.NIST384p, native=True),
    _from_ecdsa("secp521r1", ecdsa.curves.NIST521p, native=True),
    _from_ecdsa("brainpoolP224r1", ecdsa.curves.BRAINPOOLP224r1, native=False),
    _from_ecdsa("brainpoolP256r1", ecdsa.curves.BRAINPOOLP256r1, native=True),
    _from_ecdsa("brainpoolP320r1", ecdsa.curves.BRAINPOOLP320r1, native=False),
    _from_ecdsa("brainpoolP384r1", ecdsa.curves.BRAINPOOLP384r1, native=True),
    _from_ecdsa("brainpoolP512r1", ecdsa.curves.BRAINPOOLP512r1, native=True),
)
_BY_OID = {c.oid: c for c in CURVES}


def curve_by_oid(oid: str) -> Curve:
    try:
        return _BY_OID[oid]
    except KeyError:
        raise VerificationError("key.curve_unsupported", f"named curve {oid} is not supported") from None


def _decode_base_point(curve: Curve, data: bytes) -> tuple[int, int] | None:
    """The generator from an ECPoint (SEC 1 §2.3.4); None when it is not a well-formed point."""
    size = curve.field_bytes
    if len(data) == 1 + 2 * size and data[0] == 0x04:
        return int.from_bytes(data[1 : 1 + size], "big"), int.from_bytes(data[1 + size :], "big")
    if len(data) == 1 + size and data[0] in (0x02, 0x03):
        # A compressed generator: only the parity is needed to compare with the known G.
        x = int.from_bytes(data[1:], "big")
        y = curve.gy if (curve.gy & 1) == (data[0] & 1) else curve.p - curve.gy
        return x, y
    return None


def curve_from_parameters(params: keys.ECDomainParameters) -> Curve:
    """The named curve an ECParameters value denotes; raise when it is not exactly a known one."""
    if params.name == "named":
        return curve_by_oid(params.chosen.dotted)
    if params.name != "specified":
        raise VerificationError("key.curve_unsupported", "implicitlyCA EC parameters are not accepted")
    spec = params.chosen
    if spec["field_id"]["field_type"].native != "prime_field":
        raise VerificationError("key.curve_unsupported", "only prime-field curves are accepted")
    p = int(spec["field_id"]["parameters"].native)
    a = int.from_bytes(spec["curve"]["a"].native, "big")
    b = int.from_bytes(spec["curve"]["b"].native, "big")
    n = int(spec["order"].native)
    cofactor = spec["cofactor"].native
    base = bytes(spec["base"].native)
    for curve in CURVES:
        if (curve.p, curve.a, curve.b, curve.n) != (p, a, b, n):
            continue
        if cofactor is not None and int(cofactor) != curve.h:
            continue
        if _decode_base_point(curve, base) == (curve.gx, curve.gy):
            return curve
    raise VerificationError("key.curve_unsupported", "explicit EC parameters match no known named curve")
