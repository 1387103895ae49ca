"""Verify layer: the one signature adapter over cryptography; must not decide trust or policy.

Must not decide trust or policy; it loads public keys, names signature schemes and verifies one
signature, translating every third-party exception into ``SignatureInvalid``/``VerificationError``
exactly once. Strictness is deliberate: DER signatures must be minimal DER, plain r‖s must have
exactly 2·|n| bytes (BSI TR-03111 §5.2.1), PKCS#1 v1.5 is checked by encode-and-compare
(RFC 8017 §8.2.2) so a DigestInfo without the NULL parameter is rejected.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

import ecdsa
import ecdsa.util
from asn1crypto import algos, keys
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from partycard.errors import SignatureInvalid, VerificationError
from partycard.verify.curves import Curve, curve_from_parameters
from partycard.verify.der import ASN1_ERRORS

HashName = Literal["sha1", "sha224", "sha256", "sha384", "sha512"]
HASHES: tuple[HashName, ...] = ("sha1", "sha224", "sha256", "sha384", "sha512")
_CRYPTO_HASH: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
# DER DigestInfo prefixes, RFC 8017 §9.2 note 1 (AlgorithmIdentifier with an explicit NULL).
_DIGEST_INFO_PREFIX: dict[str, bytes] = {
    "sha1": bytes.fromhex("3021300906052b0e03021a05000414"),
    "sha224": bytes.fromhex("302d300d06096086480165030402040500041c"),
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}
_NATIVE_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "secp224r1": ec.SECP224R1,
    "secp256r1": ec.SECP256R1,
    "secp384r1": ec.SECP384R1,
    "secp521r1": ec.SECP521R1,
    "brainpoolP256r1": ec.BrainpoolP256R1,
    "brainpoolP384r1": ec.BrainpoolP384R1,
    "brainpoolP512r1": ec.BrainpoolP512R1,
}
_ECDSA_CURVES = {
    "brainpoolP224r1": ecdsa.curves.BRAINPOOLP224r1,
    "brainpoolP320r1": ecdsa.curves.BRAINPOOLP320r1,
}
# BSI TR-03111 §5.2.1 / ICAO 9303-11 §6.1: ecdsa-plain-signatures, r‖s instead of DER.
_PLAIN_ECDSA_OIDS: dict[str, HashName] = {
    "0.4.0.127.0.7.1.1.4.1.1": "sha1",
    "0.4.0.127.0.7.1.1.4.1.2": "sha224",
    "0.4.0.127.0.7.1.1.4.1.3": "sha256",
    "0.4.0.127.0.7.1.1.4.1.4": "sha384",
    "0.4.0.127.0.7.1.1.4.1.5": "sha512",
}
_ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"


def hash_name(name: str) -> HashName:
    """Our name for a digest algorithm (asn1crypto native names are the same); raise if unknown."""
    for h in HASHES:
        if h == name:
            return h
    raise VerificationError("crypto.hash_unsupported", f"digest algorithm {name} is not supported")


def digest(name: HashName, data: bytes) -> bytes:
    return hashlib.new(name, data).digest()


@dataclass(frozen=True)
class PssParams:
    hash: HashName
    mgf_hash: HashName
    salt_len: int


@dataclass(frozen=True)
class SignatureScheme:
    """A signature mechanism with every parameter verification needs."""

    kind: Literal["rsa-pkcs1v15", "rsa-pss", "ecdsa", "dsa"]
    hash: HashName
    ecdsa_encoding: Literal["der", "plain"] = "der"
    pss: PssParams | None = None

    def describe(self) -> str:
        extra = f"/{self.ecdsa_encoding}" if self.kind == "ecdsa" else ""
        return f"{self.kind}-{self.hash}{extra}"


@dataclass(frozen=True, eq=False)
class PublicKey:
    """A loaded verification key. ``bits``: RSA modulus / DSA p / EC order size."""

    kind: Literal["rsa", "ec", "dsa"]
    bits: int
    curve: Curve | None
    pss: PssParams | None
    native: object  # cryptography public key, or an ecdsa.VerifyingKey for curves cryptography lacks
    rsa_n: int = 0
    rsa_e: int = 0


def _pss_from_asn1(params: algos.RSASSAPSSParams) -> PssParams:
    mgf = params["mask_gen_algorithm"]
    if mgf["algorithm"].native != "mgf1":
        raise VerificationError("crypto.algorithm_unsupported", "PSS mask generation other than MGF1")
    if params["trailer_field"].native not in (None, 1, "trailer_field_bc"):
        raise VerificationError("crypto.algorithm_unsupported", "PSS trailer field other than 0xBC")
    return PssParams(
        hash=hash_name(params["hash_algorithm"]["algorithm"].native),
        mgf_hash=hash_name(mgf["parameters"]["algorithm"].native),
        salt_len=int(params["salt_length"].native),
    )


def load_public_key(spki: bytes | keys.PublicKeyInfo) -> PublicKey:
    """Load a SubjectPublicKeyInfo; explicit EC parameters are mapped onto the named curve they equal."""
    try:
        info = keys.PublicKeyInfo.load(spki) if isinstance(spki, bytes) else spki
        algo = info["algorithm"]["algorithm"].native
        if algo in ("rsa", "rsassa_pss"):
            return _load_rsa(info, algo)
        if algo == "ec":
            return _load_ec(info)
        if algo == "dsa":
            key = serialization.load_der_public_key(info.dump())
            if not isinstance(key, dsa.DSAPublicKey):
                raise VerificationError("key.malformed", "DSA key did not load as DSA")
            return PublicKey("dsa", key.key_size, None, None, key)
    except VerificationError:
        raise
    except ASN1_ERRORS as exc:
        raise VerificationError("key.malformed", f"public key does not load: {exc}") from exc
    except (UnsupportedAlgorithm, AssertionError) as exc:
        raise VerificationError("key.malformed", f"public key does not load: {exc}") from exc
    raise VerificationError("key.unsupported", f"public key algorithm {algo} is not supported")


def _load_rsa(info: keys.PublicKeyInfo, algo: str) -> PublicKey:
    pss = None
    if algo == "rsassa_pss" and info["algorithm"]["parameters"].native is not None:
        pss = _pss_from_asn1(info["algorithm"]["parameters"])
    raw = keys.RSAPublicKey.load(bytes(info["public_key"]))
    n, e = int(raw["modulus"].native), int(raw["public_exponent"].native)
    key = rsa.RSAPublicNumbers(e, n).public_key()
    return PublicKey("rsa", n.bit_length(), None, pss, key, rsa_n=n, rsa_e=e)


def _load_ec(info: keys.PublicKeyInfo) -> PublicKey:
    curve = curve_from_parameters(info["algorithm"]["parameters"])
    point = bytes(info["public_key"])
    native: object
    if curve.name in _NATIVE_CURVES:
        native = ec.EllipticCurvePublicKey.from_encoded_point(_NATIVE_CURVES[curve.name](), point)
    else:
        try:
            native = ecdsa.VerifyingKey.from_string(point, curve=_ECDSA_CURVES[curve.name])
        except (ecdsa.errors.MalformedPointError, AssertionError) as exc:
            raise VerificationError("key.malformed", "EC point is not on the curve") from exc
    return PublicKey("ec", curve.n.bit_length(), curve, None, native)


def scheme_from_algorithm(
    alg: algos.SignedDigestAlgorithm, *, digest_hint: str | None = None
) -> SignatureScheme:
    """The scheme an AlgorithmIdentifier names (X.509, CMS SignerInfo); ``digest_hint`` is the
    CMS digestAlgorithm, used when the identifier names only the key type (RFC 5754 §3.2 / ICAO
    SODs that say rsaEncryption or id-ecPublicKey)."""
    oid = alg["algorithm"].dotted
    if oid in _PLAIN_ECDSA_OIDS:
        return SignatureScheme("ecdsa", _PLAIN_ECDSA_OIDS[oid], "plain")
    name = alg["algorithm"].native
    if name == "rsassa_pss":
        pss = _pss_from_asn1(alg["parameters"])
        return SignatureScheme("rsa-pss", pss.hash, pss=pss)
    if oid == _ID_EC_PUBLIC_KEY or name in ("rsassa_pkcs1v15", "ecdsa", "dsa"):
        if digest_hint is None:
            raise VerificationError("crypto.algorithm_unsupported", f"{oid} needs a digest algorithm")
        kind = {"rsassa_pkcs1v15": "rsa-pkcs1v15", "dsa": "dsa"}.get(name, "ecdsa")
        return SignatureScheme(kind, hash_name(digest_hint))  # type: ignore[arg-type]
    for suffix, kind in (("_rsa", "rsa-pkcs1v15"), ("_ecdsa", "ecdsa"), ("_dsa", "dsa")):
        if isinstance(name, str) and name.endswith(suffix):
            return SignatureScheme(kind, hash_name(name[: -len(suffix)]))  # type: ignore[arg-type]
    raise VerificationError("crypto.algorithm_unsupported", f"signature algorithm {oid} is not supported")


def _der_length(sig: bytes, pos: int) -> tuple[int, int]:
    """A definite, minimal DER length at ``pos`` (X.690 §10.1): (value, position after it)."""
    if pos >= len(sig):
        raise ValueError("truncated")
    first = sig[pos]
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    if count == 0 or count > 2 or pos + 1 + count > len(sig):
        raise ValueError("bad length")
    value = int.from_bytes(sig[pos + 1 : pos + 1 + count], "big")
    if value < 0x80 or value.bit_length() <= 8 * (count - 1):
        raise ValueError("non-minimal length")
    return value, pos + 1 + count


def _der_integer(sig: bytes, pos: int) -> tuple[int, int]:
    """A positive, minimally encoded INTEGER at ``pos`` (X.690 §8.3.2)."""
    if pos >= len(sig) or sig[pos] != 0x02:
        raise ValueError("not an INTEGER")
    size, pos = _der_length(sig, pos + 1)
    body = sig[pos : pos + size]
    if size == 0 or len(body) != size or body[0] & 0x80:
        raise ValueError("empty or negative INTEGER")
    if size > 1 and body[0] == 0 and not body[1] & 0x80:
        raise ValueError("non-minimal INTEGER")
    return int.from_bytes(body, "big"), pos + size


def _strict_der_rs(sig: bytes) -> tuple[int, int]:
    """Decode ECDSA-Sig-Value / Dss-Sig-Value as minimal DER, positive integers only."""
    if not sig or sig[0] != 0x30:
        raise ValueError("not a SEQUENCE")
    size, pos = _der_length(sig, 1)
    if pos + size != len(sig):
        raise ValueError("trailing or missing bytes")
    r, pos = _der_integer(sig, pos)
    s, pos = _der_integer(sig, pos)
    if pos != len(sig):
        raise ValueError("extra content")
    return r, s


def _verify_ec(key: PublicKey, scheme: SignatureScheme, message: bytes, signature: bytes) -> None:
    if key.curve is None:
        raise SignatureInvalid("sig.key_mismatch", "EC key without a curve")
    if scheme.ecdsa_encoding == "plain":
        size = key.curve.order_bytes
        if len(signature) != 2 * size:
            raise SignatureInvalid("sig.encoding", "plain ECDSA signature has the wrong length")
        r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
    else:
        try:
            r, s = _strict_der_rs(signature)
        except ValueError as exc:
            raise SignatureInvalid("sig.encoding", f"ECDSA signature is not DER: {exc}") from exc
    if not (0 < r < key.curve.n and 0 < s < key.curve.n):
        raise SignatureInvalid("sig.invalid", "r or s out of range")
    if isinstance(key.native, ec.EllipticCurvePublicKey):
        try:
            key.native.verify(encode_dss_signature(r, s), message, ec.ECDSA(_CRYPTO_HASH[scheme.hash]()))
        except InvalidSignature as exc:
            raise SignatureInvalid("sig.invalid", "ECDSA signature does not verify") from exc
        return
    if not isinstance(key.native, ecdsa.VerifyingKey):
        raise SignatureInvalid("sig.key_mismatch", "EC key is not loaded")
    size = key.curve.order_bytes
    raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    try:
        key.native.verify_digest(
            raw, digest(scheme.hash, message), sigdecode=ecdsa.util.sigdecode_string, allow_truncate=True
        )
    except (ecdsa.BadSignatureError, ecdsa.errors.MalformedPointError, AssertionError, TypeError) as exc:
        # TypeError: python-ecdsa reaches the point at infinity (u1·G + u2·Q = O), i.e. invalid.
        raise SignatureInvalid("sig.invalid", "ECDSA signature does not verify") from exc


def rsa_public_operation(key: PublicKey, signature: bytes) -> bytes:
    """RSAVP1 (RFC 8017 §5.2.2): s^e mod n as k bytes; for ISO 9796-2 message recovery."""
    if key.kind != "rsa":
        raise SignatureInvalid("sig.key_mismatch", "not an RSA key")
    k = (key.rsa_n.bit_length() + 7) // 8
    s = int.from_bytes(signature, "big")
    if len(signature) != k or s >= key.rsa_n:
        raise SignatureInvalid("sig.encoding", "RSA signature has the wrong length or is out of range")
    return pow(s, key.rsa_e, key.rsa_n).to_bytes(k, "big")


def _verify_rsa(key: PublicKey, scheme: SignatureScheme, message: bytes, signature: bytes) -> None:
    if scheme.kind == "rsa-pkcs1v15":
        em = rsa_public_operation(key, signature)
        t = _DIGEST_INFO_PREFIX[scheme.hash] + digest(scheme.hash, message)
        # RFC 8017 §9.2 steps 4-5: EM = 00 01 FF..FF 00 T with at least 8 bytes of FF.
        expected = b"\x00\x01" + b"\xff" * (len(em) - len(t) - 3) + b"\x00" + t
        if len(em) - len(t) - 3 < 8 or em != expected:
            raise SignatureInvalid("sig.invalid", "PKCS#1 v1.5 signature does not verify")
        return
    if scheme.pss is None or not isinstance(key.native, rsa.RSAPublicKey):
        raise SignatureInvalid("sig.key_mismatch", "RSASSA-PSS needs PSS parameters and an RSA key")
    if key.pss is not None and key.pss != scheme.pss:
        raise SignatureInvalid("sig.pss_params_mismatch", "PSS parameters differ from the key's")
    pad = padding.PSS(mgf=padding.MGF1(_CRYPTO_HASH[scheme.pss.mgf_hash]()), salt_length=scheme.pss.salt_len)
    try:
        key.native.verify(signature, message, pad, _CRYPTO_HASH[scheme.hash]())
    except (InvalidSignature, ValueError) as exc:
        raise SignatureInvalid("sig.invalid", "RSASSA-PSS signature does not verify") from exc


def verify_signature(key: PublicKey, scheme: SignatureScheme, message: bytes, signature: bytes) -> None:
    """Verify ``signature`` over ``message``; return None on success, raise SignatureInvalid otherwise."""
    expected = {"rsa-pkcs1v15": "rsa", "rsa-pss": "rsa", "ecdsa": "ec", "dsa": "dsa"}[scheme.kind]
    if key.kind != expected:
        raise SignatureInvalid("sig.key_mismatch", f"{scheme.describe()} cannot use a {key.kind} key")
    if key.kind == "ec":
        _verify_ec(key, scheme, message, signature)
    elif key.kind == "rsa":
        _verify_rsa(key, scheme, message, signature)
    else:
        try:
            r, s = _strict_der_rs(signature)
        except ValueError as exc:
            raise SignatureInvalid("sig.encoding", f"DSA signature is not DER: {exc}") from exc
        if not isinstance(key.native, dsa.DSAPublicKey):
            raise SignatureInvalid("sig.key_mismatch", "DSA key is not loaded")
        try:
            key.native.verify(encode_dss_signature(r, s), message, _CRYPTO_HASH[scheme.hash]())
        except InvalidSignature as exc:
            raise SignatureInvalid("sig.invalid", "DSA signature does not verify") from exc
