"""Simulator layer, virtual card: DES/AES, MACs, KDF; must not import partycard.card or know APDUs.

The card's symmetric crypto (DES/AES, MACs, key derivation).

Must not import ``partycard.card``: the virtual card is an independent implementation of the card
side, so the reader and the card cannot share a bug unnoticed. No APDU or file knowledge here.
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

DES_BLOCK = 8
AES_BLOCK = 16

#: KDF counters, ICAO 9303-11 §9.7.1: 1 = encryption key, 2 = MAC key, 3 = PACE password key.
KDF_ENC = 1
KDF_MAC = 2
KDF_PACE = 3


def pad(data: bytes, block: int) -> bytes:
    """ISO/IEC 9797-1 padding method 2 (ICAO 9303-11 §9.8.1): 0x80 then zeros to a full block."""
    data = data + b"\x80"
    return data + b"\x00" * (-len(data) % block)


def unpad(data: bytes) -> bytes:
    """Strip padding method 2; raise ValueError when it is malformed."""
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80:
        raise ValueError("bad ISO 9797-1 method 2 padding")
    return stripped[:-1]


def des_parity(key: bytes) -> bytes:
    """Set odd parity on every byte (the least significant bit is the parity bit), 9303-11 §9.7.1."""
    out = bytearray()
    for b in key:
        high = b & 0xFE
        out.append(high | ((bin(high).count("1") + 1) & 1))
    return bytes(out)


def kdf(secret: bytes, counter: int, cipher: str, key_bits: int = 128) -> bytes:
    """ICAO 9303-11 §9.7.1 key derivation: hash(secret ‖ counter) cut to the key length.

    3DES and AES-128 use SHA-1; AES-192 and AES-256 use SHA-256. 3DES keys get DES parity and
    are two-key (Ka ‖ Kb), which is how the worked examples of Appendix D print them.
    """
    data = secret + counter.to_bytes(4, "big")
    if cipher == "3DES":
        return des_parity(hashlib.sha1(data).digest()[:16])  # noqa: S324 - mandated by 9303-11
    if key_bits == 128:
        return hashlib.sha1(data).digest()[:16]  # noqa: S324 - mandated by 9303-11
    return hashlib.sha256(data).digest()[: key_bits // 8]


def _des3_key(key: bytes) -> bytes:
    # Two-key 3DES (K1 ‖ K2 ‖ K1); cryptography wants 24 bytes.
    return key + key[:8] if len(key) == 16 else key


def des3_cbc(key: bytes, data: bytes, *, decrypt: bool = False, iv: bytes = b"\x00" * 8) -> bytes:
    """3DES-CBC without padding (callers pad), ICAO 9303-11 §9.8.6.1 (IV zero)."""
    c = Cipher(TripleDES(_des3_key(key)), modes.CBC(iv))
    op = c.decryptor() if decrypt else c.encryptor()
    return op.update(data) + op.finalize()


def aes_cbc(key: bytes, data: bytes, iv: bytes, *, decrypt: bool = False) -> bytes:
    """AES-CBC without padding (callers pad)."""
    c = Cipher(algorithms.AES(key), modes.CBC(iv))
    op = c.decryptor() if decrypt else c.encryptor()
    return op.update(data) + op.finalize()


def aes_ecb_block(key: bytes, block: bytes) -> bytes:
    """One AES block in ECB mode: the SM IV is E(KSEnc, SSC), ICAO 9303-11 §9.8.6.2."""
    c = Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305 - one block, used as an IV generator
    op = c.encryptor()
    return op.update(block) + op.finalize()


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 with DES (the BAC/3DES-SM MAC), input already padded.

    Single-DES CBC with Ka over all blocks, then decrypt with Kb and encrypt with Ka on the last.
    Single DES is 3DES with K1 = K2 = K3.
    """
    ka, kb = key[:8], key[8:16]
    single_a = ka * 3
    h = des3_cbc(single_a, data)[-8:]
    h = des3_cbc(kb * 3, h, decrypt=True)
    return des3_cbc(single_a, h)


def aes_cmac(key: bytes, data: bytes) -> bytes:
    """AES-CMAC (NIST SP 800-38B), full 16 bytes; SM and PACE tokens truncate to 8."""
    c = cmac.CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()
