"""Simulator layer, virtual card: chip side of BAC; must not import partycard.card or do I/O.

The chip side of Basic Access Control (ICAO 9303-11 §4.3, §9.7).

Must not import ``partycard.card`` (independent card-side implementation). The chip checks the
terminal's cryptogram and MAC, answers with its own, and derives the session keys and SSC
(9303-11 §9.7.4; worked example Appendix D.3).
"""

from __future__ import annotations

import hashlib

from partycard.sim.card import crypto
from partycard.sim.card.sm import SMSession


class BACFailure(Exception):
    """The terminal's EXTERNAL AUTHENTICATE did not verify (wrong MRZ key or replay)."""


def bac_keys(mrz_information: str) -> tuple[bytes, bytes]:
    """(KEnc, KMAC) from the MRZ key string: Kseed = SHA-1(MRZ_information)[:16] (§9.7.2)."""
    kseed = hashlib.sha1(mrz_information.encode("ascii")).digest()[:16]  # noqa: S324 - 9303-11
    return crypto.kdf(kseed, crypto.KDF_ENC, "3DES"), crypto.kdf(kseed, crypto.KDF_MAC, "3DES")


def external_authenticate(
    k_enc: bytes, k_mac: bytes, rnd_ic: bytes, data: bytes, k_ic: bytes
) -> tuple[bytes, SMSession]:
    """Verify E.IFD ‖ M.IFD, then return (E.IC ‖ M.IC, the new 3DES SM session)."""
    if len(data) != 40:
        raise BACFailure("EXTERNAL AUTHENTICATE data must be 40 bytes")
    e_ifd, m_ifd = data[:32], data[32:]
    if crypto.retail_mac(k_mac, crypto.pad(e_ifd, 8)) != m_ifd:
        raise BACFailure("M.IFD does not verify")
    s = crypto.des3_cbc(k_enc, e_ifd, decrypt=True)
    rnd_ifd, echoed_ic, k_ifd = s[:8], s[8:16], s[16:]
    if echoed_ic != rnd_ic:
        raise BACFailure("RND.IC echoed by the terminal differs from the challenge")
    r = rnd_ic + rnd_ifd + k_ic
    e_ic = crypto.des3_cbc(k_enc, r)
    m_ic = crypto.retail_mac(k_mac, crypto.pad(e_ic, 8))
    kseed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
    session = SMSession(
        "3DES",
        crypto.kdf(kseed, crypto.KDF_ENC, "3DES"),
        crypto.kdf(kseed, crypto.KDF_MAC, "3DES"),
        rnd_ic[4:] + rnd_ifd[4:],  # SSC, 9303-11 §9.8.2
    )
    return e_ic + m_ic, session
