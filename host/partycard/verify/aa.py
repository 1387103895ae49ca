"""Verify layer: Active Authentication check (ICAO 9303-11 §6.1); must not talk to the card.

Must not talk to the card (the reading side runs INTERNAL AUTHENTICATE); it checks that the chip's
signature covers the host-chosen challenge. RSA uses ISO/IEC 9796-2 digital signature scheme 1
with partial message recovery; ECDSA uses the plain r‖s format (BSI TR-03111 §5.2.1).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from asn1crypto import core, keys

from partycard.errors import SignatureInvalid, VerificationError
from partycard.verify.der import ASN1_ERRORS, unwrap
from partycard.verify.policy import AlgorithmPolicy
from partycard.verify.signatures import (
    HashName,
    PublicKey,
    SignatureScheme,
    digest,
    load_public_key,
    rsa_public_operation,
    verify_signature,
)

CHALLENGE_BYTES = 8  # RND.IFD, 9303-11 §6.1.2
ID_AA = "2.23.136.1.1.5"  # ActiveAuthenticationInfo in DG14 (9303-11 §9.2.7)
#: ISO/IEC 10118-3 hash-function identifiers used in the two-byte trailer 0x??CC (ISO/IEC 9796-2 §8.1.2).
_TRAILER_HASH: dict[int, HashName] = {
    0x33: "sha1",
    0x38: "sha224",
    0x34: "sha256",
    0x36: "sha384",
    0x35: "sha512",
}
_PLAIN_ECDSA: dict[str, HashName] = {
    "0.4.0.127.0.7.1.1.4.1.1": "sha1",
    "0.4.0.127.0.7.1.1.4.1.2": "sha224",
    "0.4.0.127.0.7.1.1.4.1.3": "sha256",
    "0.4.0.127.0.7.1.1.4.1.4": "sha384",
    "0.4.0.127.0.7.1.1.4.1.5": "sha512",
}


@dataclass(frozen=True)
class AAExchange:
    """What the reading side did: the challenge it sent and the chip's response."""

    challenge: bytes
    signature: bytes


@dataclass(frozen=True)
class AAResult:
    """A verified response: which mechanism proved possession of the DG15 private key."""

    mechanism: str


class _SecurityInfo(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto schema
        ("protocol", core.ObjectIdentifier),
        ("required_data", core.Any),
        ("optional_data", core.Any, {"optional": True}),
    ]


class _SecurityInfos(core.SetOf):  # type: ignore[misc]
    _child_spec = _SecurityInfo


def parse_dg15(dg15: bytes) -> PublicKey:
    """DG15 = 0x6F L SubjectPublicKeyInfo (9303-10 §4.7.15)."""
    try:
        return load_public_key(keys.PublicKeyInfo.load(unwrap(dg15, 0x6F, "aa.key_malformed")))
    except VerificationError as exc:
        raise VerificationError("aa.key_malformed", str(exc)) from exc
    except ASN1_ERRORS as exc:
        raise VerificationError("aa.key_malformed", f"DG15: {exc}") from exc


def ecdsa_hash_from_dg14(dg14: bytes | None, key: PublicKey) -> HashName:
    """The ECDSA-AA hash: DG14's ActiveAuthenticationInfo names it (9303-11 §9.2.7); without one we
    take the SHA-2 whose output matches the curve order size (the common chip choice)."""
    if dg14 is not None:
        try:
            infos = _SecurityInfos.load(unwrap(dg14, 0x6E, "aa.dg14_malformed"))
            for info in infos:
                if info["protocol"].dotted == ID_AA and info["optional_data"].native is not None:
                    oid = core.ObjectIdentifier.load(info["optional_data"].dump()).dotted
                    if oid in _PLAIN_ECDSA:
                        return _PLAIN_ECDSA[oid]
                    raise VerificationError("aa.algorithm_unsupported", f"AA signature algorithm {oid}")
        except ASN1_ERRORS as exc:
            raise VerificationError("aa.dg14_malformed", f"DG14: {exc}") from exc
    size = key.bits
    return "sha224" if size <= 224 else "sha256" if size <= 256 else "sha384" if size <= 384 else "sha512"


def _verify_iso9796_2(
    key: PublicKey, challenge: bytes, signature: bytes, algorithms: AlgorithmPolicy
) -> AAResult:
    try:
        recovered = rsa_public_operation(key, signature)
    except SignatureInvalid as exc:
        raise SignatureInvalid("aa.signature_invalid", str(exc)) from exc
    value = int.from_bytes(recovered, "big")
    if value & 0x0F != 0x0C:
        # ISO/IEC 9796-2 §B.6: the signer sends min(J^d, n - J^d); undo the complement.
        value = key.rsa_n - value
    # F is as long as the modulus less one bit (ISO/IEC 9796-2 scheme 1): its header byte 0x6A
    # must sit at the top. Stripping leading zeros instead would accept shorter representatives,
    # which is what makes low-exponent signature forgeries feasible.
    size = (key.rsa_n.bit_length() + 6) // 8
    if value.bit_length() > 8 * size:
        raise SignatureInvalid("aa.signature_invalid", "ISO 9796-2 representative is out of range")
    f = value.to_bytes(size, "big")
    hash_algo = check_iso9796_2_message(f, challenge, algorithms)
    return AAResult(f"rsa-iso9796-2-{hash_algo}")


def check_iso9796_2_message(f: bytes, challenge: bytes, algorithms: AlgorithmPolicy) -> HashName:
    """Check a recovered message representative F = 6A ‖ M1 ‖ H ‖ T (9303-11 §6.1.2.2): H must be the
    hash of M1 ‖ challenge; T is 0xBC (SHA-1) or hash-id ‖ 0xCC. Return the hash used."""
    if f[-1:] == b"\xbc":
        hash_algo: HashName = "sha1"  # implicit trailer: SHA-1
        trailer = 1
    elif f[-1:] == b"\xcc" and len(f) > 2 and f[-2] in _TRAILER_HASH:
        hash_algo, trailer = _TRAILER_HASH[f[-2]], 2
    else:
        raise SignatureInvalid("aa.signature_invalid", "ISO 9796-2 trailer not recognised")
    algorithms.check_hash(hash_algo, "aa")
    hlen = len(digest(hash_algo, b""))
    if f[0] != 0x6A or len(f) < 1 + hlen + trailer + 1:
        raise SignatureInvalid("aa.signature_invalid", "ISO 9796-2 header is not partial recovery (0x6A)")
    m1 = f[1 : len(f) - hlen - trailer]
    h = f[len(f) - hlen - trailer : len(f) - trailer]
    if not hmac.compare_digest(digest(hash_algo, m1 + challenge), h):
        raise SignatureInvalid("aa.signature_invalid", "ISO 9796-2 digest does not cover this challenge")
    return hash_algo


def verify_active_authentication(
    dg15: bytes, exchange: AAExchange, *, algorithms: AlgorithmPolicy, dg14: bytes | None = None
) -> AAResult:
    """Verify the chip's response over ``exchange.challenge``; raise VerificationError("aa.*") otherwise.

    The challenge must be the one this host generated for this read: a response replayed from an
    earlier session was made over a different challenge and does not verify.
    """
    if len(exchange.challenge) != CHALLENGE_BYTES:
        raise VerificationError("aa.challenge_invalid", f"challenge must be {CHALLENGE_BYTES} bytes")
    key = parse_dg15(dg15)
    algorithms.check_key(key, "aa")
    if key.kind == "rsa":
        return _verify_iso9796_2(key, exchange.challenge, exchange.signature, algorithms)
    if key.kind != "ec":
        raise VerificationError("aa.algorithm_unsupported", f"AA with a {key.kind} key")
    hash_algo = ecdsa_hash_from_dg14(dg14, key)
    algorithms.check_hash(hash_algo, "aa")
    try:
        verify_signature(
            key, SignatureScheme("ecdsa", hash_algo, "plain"), exchange.challenge, exchange.signature
        )
    except SignatureInvalid as exc:
        raise SignatureInvalid("aa.signature_invalid", str(exc)) from exc
    return AAResult(f"ecdsa-plain-{hash_algo}")
