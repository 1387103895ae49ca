"""Issuance layer: chip AA/CA key pairs and PKCS#8/SPKI encoding; must not know files or APDUs.

Chip key pairs (Active and Chip Authentication) and their PKCS#8/SPKI encoding.

Must not know about files on the card or APDUs. EC keys are held as (curve, private scalar) so that
curves ``cryptography`` cannot load (brainpoolP224r1 in the BSI data set, explicit parameters per
ICAO 9303-12 §4.1.6.3) still work: such keys compute with the ``ecdsa`` package instead.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import ecdsa
import ecdsa.util
from asn1crypto import keys as akeys
from asn1crypto import pem as apem
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from partycard.errors import ConfigError, ParseError
from partycard.issue.curves import CurveInfo, curve_by_name, curve_by_oid, curve_by_parameters

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


class InvalidPoint(ValueError):
    """A peer's public key is not a valid point of the key's curve."""


@dataclass(frozen=True)
class EcKey:
    """An EC private key: the curve and the private scalar d (1 ≤ d < n)."""

    curve: CurveInfo
    d: int

    def public_point(self) -> tuple[int, int]:
        p = self.curve.ecdsa_curve.generator * self.d
        return int(p.x()), int(p.y())

    def public_bytes(self) -> bytes:
        """Uncompressed point 04 ‖ x ‖ y (SEC 1 §2.3.3), as DG14 and CA carry it."""
        x, y = self.public_point()
        n = self.curve.size
        return b"\x04" + x.to_bytes(n, "big") + y.to_bytes(n, "big")

    def spki_der(self) -> bytes:
        """SubjectPublicKeyInfo with a named curve (RFC 5480)."""
        der = akeys.PublicKeyInfo(
            {
                "algorithm": {"algorithm": "ec", "parameters": ("named", self.curve.oid)},
                "public_key": self.public_bytes(),
            }
        ).dump()
        return bytes(der)

    def private_pem(self) -> str:
        der = akeys.PrivateKeyInfo(
            {
                "version": 0,
                "private_key_algorithm": {"algorithm": "ec", "parameters": ("named", self.curve.oid)},
                "private_key": akeys.ECPrivateKey(
                    {"version": "ecPrivkeyVer1", "private_key": self.d, "public_key": self.public_bytes()}
                ),
            }
        ).dump()
        return str(apem.armor("PRIVATE KEY", der).decode("ascii"))

    def ecdh(self, peer_point: bytes) -> bytes:
        """The x coordinate of d·P (ECKA-DH, BSI TR-03111 §4.3.1), after checking P is on the curve."""
        if self.curve.crypto_curve is not None:
            try:
                peer = ec.EllipticCurvePublicKey.from_encoded_point(self.curve.crypto_curve, peer_point)
            except ValueError as exc:
                raise InvalidPoint(str(exc)) from exc
            own = ec.derive_private_key(self.d, self.curve.crypto_curve)
            return own.exchange(ec.ECDH(), peer)
        try:
            vk = ecdsa.VerifyingKey.from_string(peer_point, curve=self.curve.ecdsa_curve)
        except (ecdsa.errors.MalformedPointError, AssertionError) as exc:
            raise InvalidPoint(str(exc)) from exc
        shared = vk.pubkey.point * self.d
        return int(shared.x()).to_bytes(self.curve.size, "big")

    def sign_plain(self, message: bytes, hash_name: str) -> bytes:
        """ECDSA in plain format r ‖ s (BSI TR-03111 §5.2.1), each padded to the order's length."""
        n_len = (self.curve.order.bit_length() + 7) // 8
        if self.curve.crypto_curve is not None:
            own = ec.derive_private_key(self.d, self.curve.crypto_curve)
            r, s = decode_dss_signature(own.sign(message, ec.ECDSA(_HASHES[hash_name]())))
            return r.to_bytes(n_len, "big") + s.to_bytes(n_len, "big")
        sk = ecdsa.SigningKey.from_secret_exponent(self.d, curve=self.curve.ecdsa_curve)
        sig = sk.sign(message, hashfunc=getattr(hashlib, hash_name), sigencode=ecdsa.util.sigencode_string)
        return bytes(sig)


@dataclass(frozen=True)
class RsaKey:
    """An RSA private key (Active Authentication with ISO/IEC 9796-2, ICAO 9303-11 §6.1)."""

    key: rsa.RSAPrivateKey

    def spki_der(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def private_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")


ChipKey = EcKey | RsaKey


def generate_ec(curve_name: str) -> EcKey:
    curve = curve_by_name(curve_name)
    return EcKey(curve, secrets.randbelow(curve.order - 1) + 1)


def generate_rsa(bits: int = 2048) -> RsaKey:
    return RsaKey(rsa.generate_private_key(public_exponent=65537, key_size=bits))


def _ec_from_pkcs8(info: akeys.PrivateKeyInfo) -> EcKey:
    params = info["private_key_algorithm"]["parameters"]
    if params.name == "named":
        curve = curve_by_oid(params.chosen.dotted)
    elif params.name == "specified":
        spec = params.chosen
        base = spec["base"].native
        half = (len(base) - 1) // 2
        curve = curve_by_parameters((
            spec["field_id"]["parameters"].native,
            int.from_bytes(spec["curve"]["a"].native, "big"),
            int.from_bytes(spec["curve"]["b"].native, "big"),
            int.from_bytes(base[1 : 1 + half], "big"),
            int.from_bytes(base[1 + half :], "big"),
            spec["order"].native,
        ))
    else:
        raise ParseError("EC key with implicitly-CA parameters cannot be used")
    d = info["private_key"].parsed["private_key"].native
    return EcKey(curve, int(d))


def load_private_key(data: bytes) -> ChipKey:
    """Load a PKCS#8 private key, PEM or DER; EC keys may carry named or explicit parameters."""
    try:
        der = apem.unarmor(data)[2] if apem.detect(data) else data
        info = akeys.PrivateKeyInfo.load(der)
        algorithm = info["private_key_algorithm"]["algorithm"].native
        if algorithm == "ec":
            return _ec_from_pkcs8(info)
        if algorithm == "rsa":
            key = serialization.load_der_private_key(der, password=None)
            if isinstance(key, rsa.RSAPrivateKey):
                return RsaKey(key)
        raise ParseError(f"unsupported chip key algorithm {algorithm}")
    except (ValueError, TypeError, KeyError, UnsupportedAlgorithm, ConfigError) as exc:
        raise ParseError(f"not a usable PKCS#8 private key: {exc}") from exc


def spki_der_of(key: ChipKey) -> bytes:
    return key.spki_der()


__all__ = ["ChipKey", "EcKey", "InvalidPoint", "RsaKey", "curve_by_name", "generate_ec", "generate_rsa",
           "load_private_key", "spki_der_of"]
