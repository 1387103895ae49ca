"""Simulator layer, virtual card: chip side of AA and CA v1; must not import partycard.card.

Active Authentication and Chip Authentication v1, chip side.

Must not import ``partycard.card`` (independent card-side implementation). AA per ICAO 9303-11
§6.1: ECDSA in plain r ‖ s over the challenge (hash from DG14's ActiveAuthenticationInfo), or RSA
with ISO/IEC 9796-2 digital signature scheme 1 (SHA-1, trailer BC; worked example Appendix F).
CA per 9303-11 §6.2 / BSI TR-03110-1 §3.4: static ECDH with the chip's DG14 key, new SM keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from partycard.issue.keys import ChipKey, EcKey, InvalidPoint, RsaKey
from partycard.sim.card import crypto
from partycard.sim.card.sm import SMSession


class ChipAuthFailure(Exception):
    """The terminal's input to AA or CA is unusable."""


def iso9796_2_sign(key: RsaKey, challenge: bytes, rng: Callable[[int], bytes]) -> bytes:
    """ISO/IEC 9796-2 scheme 1, partial recovery, SHA-1, trailer BC (9303-11 §6.1, Appendix F).

    F = 6A ‖ M1 ‖ SHA-1(M1 ‖ M2) ‖ BC with M1 chip-chosen and M2 the terminal's challenge;
    the signature is F^d mod n (``cryptography`` offers no raw RSA, so the exponentiation is here).
    """
    numbers = key.key.private_numbers()
    n = numbers.public_numbers.n
    k = (n.bit_length() + 7) // 8
    m1 = rng(k - 20 - 2)
    digest = hashlib.sha1(m1 + challenge).digest()  # noqa: S324 - ISO 9796-2 as 9303-11 uses it
    f = int.from_bytes(b"\x6a" + m1 + digest + b"\xbc", "big")
    if f >= n:
        raise ChipAuthFailure("modulus too small for the message representative")
    return pow(f, numbers.d, n).to_bytes(k, "big")


def internal_authenticate(key: ChipKey, challenge: bytes, aa_hash: str, rng: Callable[[int], bytes]) -> bytes:
    """The chip's Active Authentication signature over the terminal's challenge."""
    if isinstance(key, EcKey):
        return key.sign_plain(challenge, aa_hash)
    return iso9796_2_sign(key, challenge, rng)


def chip_authentication(key: EcKey, terminal_point: bytes, cipher: tuple[str, int]) -> SMSession:
    """CA v1: K = ECDH(SK_chip, PK_IFD); new SM keys with SSC zero (9303-11 §6.2.3)."""
    try:
        secret = key.ecdh(terminal_point)
    except InvalidPoint as exc:
        raise ChipAuthFailure(f"terminal ephemeral key is not a point of the chip's curve: {exc}") from exc
    name, bits = cipher
    ks_enc = crypto.kdf(secret, crypto.KDF_ENC, name, bits)
    ks_mac = crypto.kdf(secret, crypto.KDF_MAC, name, bits)
    ssc_len = 8 if name == "3DES" else 16
    return SMSession(name, ks_enc, ks_mac, b"\x00" * ssc_len)
