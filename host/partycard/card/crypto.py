"""Card layer, crypto adapter: the one place that touches `cryptography` and `ecdsa`.

It must not know about APDUs or files; it translates third-party exceptions into
``SecureMessagingError``/``AccessControlError`` exactly once, here.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidKey, UnsupportedAlgorithm
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from ecdsa import curves as _ec_curves
from ecdsa import ellipticcurve as _ec

from partycard.errors import AccessControlError, SecureMessagingError

_ZERO8 = bytes(8)
_ZERO16 = bytes(16)


def sha1(data: bytes) -> bytes:
    return hashlib.sha1(data, usedforsecurity=True).digest()  # noqa: S324 - ICAO 9303-11 §9.7.1 mandates SHA-1


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def random_bytes(n: int) -> bytes:
    return secrets.token_bytes(n)


def pad_iso9797_m2(data: bytes, block: int) -> bytes:
    """ISO/IEC 9797-1 padding method 2 (ICAO 9303-11 §9.8.3): 0x80 then zeros to the block size."""
    padded = data + b"\x80"
    return padded + bytes(-len(padded) % block)


def unpad_iso9797_m2(data: bytes) -> bytes:
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80:
        raise SecureMessagingError("bad ISO 9797-1 method 2 padding in decrypted data")
    return stripped[:-1]


def des_adjust_parity(key: bytes) -> bytes:
    """Set the DES odd-parity bit of every key byte (ICAO 9303-11 §9.7.1, Appendix D.1)."""
    out = bytearray()
    for b in key:
        hi = b & 0xFE
        out.append(hi | ((bin(hi).count("1") + 1) & 1))
    return bytes(out)


def _run(cipher: Cipher[Any], data: bytes, encrypt: bool) -> bytes:
    ctx = cipher.encryptor() if encrypt else cipher.decryptor()
    return ctx.update(data) + ctx.finalize()


def _check_blocks(data: bytes, block: int) -> None:
    if len(data) % block:
        raise SecureMessagingError(f"cipher input of {len(data)} bytes is not a multiple of {block}")


def _des_key(key: bytes) -> bytes:
    """Expand 8/16-byte DES keys to the 24-byte form (K1‖K2‖K1), which means the same cipher."""
    if len(key) == 8:
        return key * 3
    if len(key) == 16:
        return key + key[:8]
    return key


def des3_cbc(key: bytes, data: bytes, *, encrypt: bool, iv: bytes = _ZERO8) -> bytes:
    """2-key 3DES in CBC mode (ICAO 9303-11 §9.8.6.1: IV = 0 for BAC SM)."""
    _check_blocks(data, 8)
    try:
        return _run(Cipher(TripleDES(_des_key(key)), modes.CBC(iv)), data, encrypt)
    except (ValueError, UnsupportedAlgorithm) as e:
        raise SecureMessagingError(f"3DES failed: {e}") from e


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 with DES (ICAO 9303-11 §9.8.6.2); ``data`` is already padded."""
    _check_blocks(data, 8)
    if len(key) != 16:
        raise SecureMessagingError("retail MAC needs a 16-byte key")
    ka, kb = key[:8], key[8:]
    try:
        h = _run(Cipher(TripleDES(_des_key(ka)), modes.CBC(_ZERO8)), data, True)[-8:]
        h = _run(Cipher(TripleDES(_des_key(kb)), modes.ECB()), h, False)  # noqa: S305 - ISO 9797-1 alg 3 final step
        return _run(Cipher(TripleDES(_des_key(ka)), modes.ECB()), h, True)  # noqa: S305 - one block
    except (ValueError, UnsupportedAlgorithm) as e:
        raise SecureMessagingError(f"retail MAC failed: {e}") from e


def aes_cbc(key: bytes, data: bytes, *, encrypt: bool, iv: bytes = _ZERO16) -> bytes:
    _check_blocks(data, 16)
    try:
        return _run(Cipher(algorithms.AES(key), modes.CBC(iv)), data, encrypt)
    except ValueError as e:
        raise SecureMessagingError(f"AES failed: {e}") from e


def aes_ecb_encrypt(key: bytes, block: bytes) -> bytes:
    _check_blocks(block, 16)
    try:
        return _run(Cipher(algorithms.AES(key), modes.ECB()), block, True)  # noqa: S305 - SM IV, one block
    except ValueError as e:
        raise SecureMessagingError(f"AES failed: {e}") from e


def aes_cmac(key: bytes, data: bytes) -> bytes:
    """AES-CMAC (NIST SP 800-38B), full 16 bytes; callers truncate to 8 (ICAO 9303-11 §9.8.6.2)."""
    try:
        c = cmac.CMAC(algorithms.AES(key))
        c.update(data)
        return c.finalize()
    except (ValueError, InvalidKey) as e:
        raise SecureMessagingError(f"AES-CMAC failed: {e}") from e


# --- elliptic curves (PACE generic mapping, Chip Authentication) ---------------------------

_CURVES: dict[str, Any] = {
    "brainpoolP256r1": _ec_curves.BRAINPOOLP256r1,
    "brainpoolP384r1": _ec_curves.BRAINPOOLP384r1,
    "brainpoolP512r1": _ec_curves.BRAINPOOLP512r1,
    "brainpoolP224r1": _ec_curves.BRAINPOOLP224r1,
    "secp256r1": _ec_curves.NIST256p,
    "secp384r1": _ec_curves.NIST384p,
    "secp521r1": _ec_curves.NIST521p,
    "secp224r1": _ec_curves.NIST224p,
}


@dataclass(frozen=True)
class Point:
    """An affine point on a named curve; ``None`` coordinates never occur (infinity is rejected)."""

    curve: str
    x: int
    y: int


class Curve:
    """A named prime curve: generator, order, scalar multiplication and point addition."""

    def __init__(self, name: str) -> None:
        if name not in _CURVES:
            raise AccessControlError(f"unsupported curve {name}")
        self.name = name
        self._c = _CURVES[name]
        self.order: int = int(self._c.order)
        self.prime: int = int(self._c.curve.p())
        self.byte_len: int = (int(self._c.curve.p()).bit_length() + 7) // 8
        self.generator = Point(name, int(self._c.generator.x()), int(self._c.generator.y()))

    def _pt(self, p: Point) -> Any:
        if p.curve != self.name:
            raise AccessControlError(f"point on {p.curve} used with {self.name}")
        return _ec.PointJacobi(self._c.curve, p.x, p.y, 1, self.order)

    def _out(self, q: Any) -> Point:
        if q == _ec.INFINITY or q.x() is None:
            raise AccessControlError("point at infinity in EC computation")
        return Point(self.name, int(q.x()), int(q.y()))

    def mul(self, k: int, p: Point) -> Point:
        if not 0 < k < self.order:
            raise AccessControlError("scalar out of range")
        return self._out(self._pt(p) * k)

    def add(self, p: Point, q: Point) -> Point:
        return self._out(self._pt(p) + self._pt(q))

    def random_scalar(self) -> int:
        return secrets.randbelow(self.order - 1) + 1

    def encode(self, p: Point) -> bytes:
        """Uncompressed encoding 04‖X‖Y (BSI TR-03111 §3.2.1)."""
        n = self.byte_len
        return b"\x04" + p.x.to_bytes(n, "big") + p.y.to_bytes(n, "big")

    def decode(self, data: bytes) -> Point:
        """Decode an uncompressed point and check it lies on the curve (TR-03111 §3.2.1, §5.2.1)."""
        n = self.byte_len
        if len(data) != 1 + 2 * n or data[0] != 0x04:
            raise AccessControlError(f"EC point is not an uncompressed {self.name} point")
        x, y = int.from_bytes(data[1 : 1 + n], "big"), int.from_bytes(data[1 + n :], "big")
        if not self._c.curve.contains_point(x, y):
            raise AccessControlError("EC point is not on the curve")
        return Point(self.name, x, y)

    def x_bytes(self, p: Point) -> bytes:
        return p.x.to_bytes(self.byte_len, "big")
