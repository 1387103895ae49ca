"""Simulator layer, virtual card: chip side of PACE-GM ECDH; must not import partycard.card.

The chip side of PACE, generic mapping, ECDH (ICAO 9303-11 §4.4).

Must not import ``partycard.card`` (independent card-side implementation). Four GENERAL
AUTHENTICATE steps (§4.4.4): encrypted nonce, mapping (Ĝ = s·G + H, §4.4.3.3.1), key agreement,
mutual authentication tokens; then AES secure messaging with SSC = 0. Point arithmetic uses the
``ecdsa`` package; the chip validates every point the terminal sends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import ecdsa
import ecdsa.ellipticcurve
import ecdsa.errors

from partycard.issue.curves import CurveInfo
from partycard.sim.card import crypto
from partycard.sim.card.fs import PaceOption
from partycard.sim.card.sm import SMSession
from partycard.sim.card.tlv import TLVError, find, parse_all, tlv

PASSWORD_MRZ = 1
PASSWORD_CAN = 2


class PACEFailure(Exception):
    """The terminal's data did not verify; ``auth_failed`` marks a wrong password (token mismatch)."""

    def __init__(self, reason: str, *, auth_failed: bool = False) -> None:
        super().__init__(reason)
        self.auth_failed = auth_failed


def password_key(password_ref: int, secret: str) -> bytes:
    """K of 9303-11 §4.4.4.1: SHA-1 of the MRZ key string, or the CAN itself."""
    if password_ref == PASSWORD_MRZ:
        return hashlib.sha1(secret.encode("ascii")).digest()  # noqa: S324 - mandated by 9303-11
    return secret.encode("ascii")


class PACEChip:
    """One PACE run on the chip; ``step`` takes each GENERAL AUTHENTICATE's dynamic data."""

    def __init__(self, option: PaceOption, curve: CurveInfo, password: bytes,
                 rng: Callable[[int], bytes]) -> None:
        self.option = option
        self.curve = curve
        self.rng = rng
        self.k_pi = crypto.kdf(password, crypto.KDF_PACE, "AES", option.key_bits)
        self.step_no = 0
        self.nonce = b""
        self.g_hat: ecdsa.ellipticcurve.PointJacobi | None = None
        self.pk_ic = b""
        self.pk_ifd = b""
        self.ks_enc = b""
        self.ks_mac = b""

    # --- helpers -----------------------------------------------------------------------

    def _scalar(self) -> int:
        n = self.curve.order
        size = (n.bit_length() + 7) // 8
        while True:  # rejection sampling: uniform in [1, n-1]
            k = int.from_bytes(self.rng(size), "big")
            if 0 < k < n:
                return k

    def _encode(self, point: ecdsa.ellipticcurve.PointJacobi) -> bytes:
        size = self.curve.size
        return b"\x04" + int(point.x()).to_bytes(size, "big") + int(point.y()).to_bytes(size, "big")

    def _decode(self, data: bytes) -> ecdsa.ellipticcurve.PointJacobi:
        if len(data) != 1 + 2 * self.curve.size or data[0] != 0x04:
            raise PACEFailure("terminal point is not an uncompressed point of the curve")
        try:
            vk = ecdsa.VerifyingKey.from_string(data, curve=self.curve.ecdsa_curve)
        except (ecdsa.errors.MalformedPointError, AssertionError) as exc:
            raise PACEFailure(f"terminal point is not on the curve: {exc}") from exc
        point = vk.pubkey.point
        return ecdsa.ellipticcurve.PointJacobi.from_affine(point)

    def _token(self, point: bytes) -> bytes:
        """Authentication token over the peer's ephemeral key (9303-11 §4.4.3.4, §9.4.4)."""
        body = tlv(0x06, self.option.oid) + tlv(0x86, point)
        return crypto.aes_cmac(self.ks_mac, tlv(0x7F49, body))[:8]

    # --- the four steps ----------------------------------------------------------------

    def step(self, data: bytes) -> bytes:
        """Answer one GENERAL AUTHENTICATE (the 7C template in and out)."""
        try:
            items = parse_all(data)
            if len(items) != 1 or items[0][0] != 0x7C:
                raise PACEFailure("dynamic authentication data must be one 7C template")
            inner = items[0][1]
        except TLVError as exc:
            raise PACEFailure(f"malformed dynamic authentication data: {exc}") from exc
        self.step_no += 1
        handler = {1: self._nonce, 2: self._map, 3: self._agree, 4: self._authenticate}.get(self.step_no)
        if handler is None:
            raise PACEFailure("PACE already completed")
        try:
            return tlv(0x7C, handler(inner))
        except TLVError as exc:
            raise PACEFailure(f"malformed data object in step {self.step_no}: {exc}") from exc

    def _nonce(self, inner: bytes) -> bytes:
        if inner:
            raise PACEFailure("step 1 carries no data")
        self.nonce = self.rng(16)
        z = crypto.aes_cbc(self.k_pi, self.nonce, b"\x00" * 16)
        return tlv(0x80, z)

    def _map(self, inner: bytes) -> bytes:
        pk_map_ifd = find(inner, 0x81)
        if pk_map_ifd is None:
            raise PACEFailure("step 2 lacks the terminal's mapping key (81)")
        peer = self._decode(pk_map_ifd)
        sk_map = self._scalar()
        g = self.curve.ecdsa_curve.generator
        pk_map_ic = g * sk_map
        h = peer * sk_map
        s = int.from_bytes(self.nonce, "big")
        self.g_hat = g * s + h
        if self.g_hat == ecdsa.ellipticcurve.INFINITY or self.g_hat.x() is None:
            raise PACEFailure("mapped generator is the point at infinity")
        return tlv(0x82, self._encode(pk_map_ic))

    def _agree(self, inner: bytes) -> bytes:
        pk_ifd = find(inner, 0x83)
        if pk_ifd is None or self.g_hat is None:
            raise PACEFailure("step 3 lacks the terminal's ephemeral key (83)")
        peer = self._decode(pk_ifd)
        sk_ic = self._scalar()
        self.pk_ic = self._encode(self.g_hat * sk_ic)
        if pk_ifd == self.pk_ic:
            raise PACEFailure("terminal ephemeral key equals the chip's (9303-11 §4.4.3.3.3)")
        self.pk_ifd = pk_ifd
        shared = peer * sk_ic
        secret = int(shared.x()).to_bytes(self.curve.size, "big")
        bits = self.option.key_bits
        self.ks_enc = crypto.kdf(secret, crypto.KDF_ENC, "AES", bits)
        self.ks_mac = crypto.kdf(secret, crypto.KDF_MAC, "AES", bits)
        return tlv(0x84, self.pk_ic)

    def _authenticate(self, inner: bytes) -> bytes:
        t_ifd = find(inner, 0x85)
        if t_ifd is None or not self.ks_mac:
            raise PACEFailure("step 4 lacks the terminal's token (85)")
        if t_ifd != self._token(self.pk_ic):
            raise PACEFailure("terminal token does not verify (wrong password)", auth_failed=True)
        return tlv(0x86, self._token(self.pk_ifd))

    @property
    def done(self) -> bool:
        return self.step_no == 4

    def session(self) -> SMSession:
        """The AES secure-messaging session PACE established (SSC starts at zero, §9.8.2)."""
        return SMSession("AES", self.ks_enc, self.ks_mac, b"\x00" * 16)
