"""Issuance layer: curves, PACE parameter ids and OIDs as a table; must not sign or touch files.

The elliptic curves a card may use, with their PACE parameter ids and OIDs.

Must not sign or touch files; a pure table. Parameter ids are ICAO 9303-11 §9.5.1 (table of
standardized domain parameters); OIDs are RFC 5639 (brainpool) and SEC 2 (NIST).
"""

from __future__ import annotations

from dataclasses import dataclass

import ecdsa.curves
from cryptography.hazmat.primitives.asymmetric import ec

from partycard.errors import ConfigError


@dataclass(frozen=True)
class CurveInfo:
    """One named prime curve and how each library spells it."""

    name: str  # our name, as on the command line ("brainpoolP256r1", "P-256")
    oid: str
    pace_param_id: int  # ICAO 9303-11 §9.5.1
    ecdsa_curve: ecdsa.curves.Curve
    crypto_curve: ec.EllipticCurve | None  # None: cryptography cannot compute on it

    @property
    def size(self) -> int:
        """Field element length in bytes."""
        return int(self.ecdsa_curve.baselen)

    @property
    def order(self) -> int:
        return int(self.ecdsa_curve.order)


CURVES: tuple[CurveInfo, ...] = (
    CurveInfo("brainpoolP224r1", "1.3.36.3.3.2.8.1.1.5", 11, ecdsa.curves.BRAINPOOLP224r1, None),
    CurveInfo("P-256", "1.2.840.10045.3.1.7", 12, ecdsa.curves.NIST256p, ec.SECP256R1()),
    CurveInfo("brainpoolP256r1", "1.3.36.3.3.2.8.1.1.7", 13, ecdsa.curves.BRAINPOOLP256r1,
              ec.BrainpoolP256R1()),
    CurveInfo("brainpoolP320r1", "1.3.36.3.3.2.8.1.1.9", 14, ecdsa.curves.BRAINPOOLP320r1, None),
    CurveInfo("P-384", "1.3.132.0.34", 15, ecdsa.curves.NIST384p, ec.SECP384R1()),
    CurveInfo("brainpoolP384r1", "1.3.36.3.3.2.8.1.1.11", 16, ecdsa.curves.BRAINPOOLP384r1,
              ec.BrainpoolP384R1()),
    CurveInfo("brainpoolP512r1", "1.3.36.3.3.2.8.1.1.13", 17, ecdsa.curves.BRAINPOOLP512r1,
              ec.BrainpoolP512R1()),
    CurveInfo("P-521", "1.3.132.0.35", 18, ecdsa.curves.NIST521p, ec.SECP521R1()),
)

#: The curves PACE may be issued with (the profile's list; see protocol/card-profile.md).
PACE_CURVES = ("brainpoolP256r1", "brainpoolP384r1", "P-256", "P-384")


def curve_by_name(name: str) -> CurveInfo:
    for c in CURVES:
        if c.name.lower() == name.lower():
            return c
    raise ConfigError(f"unknown curve {name!r}; known: {', '.join(c.name for c in CURVES)}")


def curve_by_oid(oid: str) -> CurveInfo:
    for c in CURVES:
        if c.oid == oid:
            return c
    raise ConfigError(f"unknown curve OID {oid}")


def curve_by_param_id(param_id: int) -> CurveInfo:
    for c in CURVES:
        if c.pace_param_id == param_id:
            return c
    raise ConfigError(f"unknown PACE standardized domain parameter id {param_id}")


def curve_by_parameters(params: tuple[int, int, int, int, int, int]) -> CurveInfo:
    """The named curve whose explicit parameters (p, a, b, Gx, Gy, n; 9303-12 §4.1.6.3) are these."""
    p, a, b, gx, gy, n = params
    for c in CURVES:
        cv = c.ecdsa_curve.curve
        g = c.ecdsa_curve.generator
        if (cv.p(), cv.a() % cv.p(), cv.b(), g.x(), g.y(), c.order) == (p, a % p, b, gx, gy, n):
            return c
    raise ConfigError("explicit EC domain parameters match no known curve")
