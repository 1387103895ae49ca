"""Card layer, secure messaging (ICAO 9303-11 §9.8): wrap commands, check-then-unwrap responses.

It must not select files or decide policy. The MAC of a response is verified before its status
or data is believed (§9.8.5); a response without DO'8E' is never accepted as a success.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import Enum

from partycard.card import crypto, tlv
from partycard.card.apdu import CommandAPDU, ResponseAPDU
from partycard.errors import ParseError, SecureMessagingError


class Cipher(Enum):
    """SM cipher suites (ICAO 9303-11 §9.8.6; key lengths in bytes)."""

    DES3 = ("3DES", 16, 8)
    AES128 = ("AES-128", 16, 16)
    AES192 = ("AES-192", 24, 16)
    AES256 = ("AES-256", 32, 16)

    def __init__(self, label: str, key_len: int, block: int) -> None:
        self.label = label
        self.key_len = key_len
        self.block = block


KDF_ENC, KDF_MAC, KDF_PACE = 1, 2, 3


def kdf(secret: bytes, counter: int, cipher: Cipher) -> bytes:
    """Key derivation function of ICAO 9303-11 §9.7.1 (SHA-1 for 3DES/AES-128, SHA-256 above)."""
    d = secret + counter.to_bytes(4, "big")
    if cipher is Cipher.DES3:
        return crypto.des_adjust_parity(crypto.sha1(d)[:16])
    if cipher is Cipher.AES128:
        return crypto.sha1(d)[:16]
    return crypto.sha256(d)[: cipher.key_len]


@dataclass(frozen=True)
class Unwrapped:
    """A response after SM processing. ``authenticated`` False: a plain status the card sent
    without DO'8E' (never a success; the SSC was not advanced for it, gmrtd#457 interop)."""

    data: bytes
    sw: int
    authenticated: bool

    @property
    def response(self) -> ResponseAPDU:
        return ResponseAPDU(self.data, self.sw)


class SecureMessaging:
    """Session keys and the send sequence counter of one SM session."""

    def __init__(self, cipher: Cipher, ks_enc: bytes, ks_mac: bytes, ssc: int = 0) -> None:
        if len(ks_enc) != cipher.key_len or len(ks_mac) != cipher.key_len:
            raise SecureMessagingError(f"{cipher.label} needs {cipher.key_len}-byte session keys")
        self.cipher = cipher
        self._enc = ks_enc
        self._mac = ks_mac
        self.ssc = ssc

    @property
    def block(self) -> int:
        return self.cipher.block

    def _ssc_bytes(self, ssc: int) -> bytes:
        return (ssc % (1 << (8 * self.block))).to_bytes(self.block, "big")

    def mac(self, ssc: int, data: bytes) -> bytes:
        """MAC over pad(SSC ‖ data) (ICAO 9303-11 §9.8.6.2), 8 bytes."""
        msg = crypto.pad_iso9797_m2(self._ssc_bytes(ssc) + data, self.block)
        if self.cipher is Cipher.DES3:
            return crypto.retail_mac(self._mac, msg)
        return crypto.aes_cmac(self._mac, msg)[:8]

    def _iv(self, ssc: int) -> bytes:
        if self.cipher is Cipher.DES3:
            return bytes(8)
        return crypto.aes_ecb_encrypt(self._enc, self._ssc_bytes(ssc))  # §9.8.6.1: IV = E(KSEnc, SSC)

    def _crypt(self, ssc: int, data: bytes, encrypt: bool) -> bytes:
        if self.cipher is Cipher.DES3:
            return crypto.des3_cbc(self._enc, data, encrypt=encrypt, iv=self._iv(ssc))
        return crypto.aes_cbc(self._enc, data, encrypt=encrypt, iv=self._iv(ssc))

    # --- commands ------------------------------------------------------------------------

    def wrap_at(self, cmd: CommandAPDU, ssc: int) -> bytes:
        """Protected command for send sequence counter ``ssc`` (ICAO 9303-11 §9.8.4)."""
        if cmd.cla & 0x0C:
            raise SecureMessagingError("command is already secure-messaging protected")
        cla = cmd.cla | 0x0C
        header = bytes([cla, cmd.ins, cmd.p1, cmd.p2])
        body = b""
        if cmd.data:
            crypt = self._crypt(ssc, crypto.pad_iso9797_m2(cmd.data, self.block), True)
            # Odd INS carries BER-TLV data: DO'85' without the padding-content indicator.
            body += tlv.encode(0x85, crypt) if cmd.ins & 1 else tlv.encode(0x87, b"\x01" + crypt)
        if cmd.le is not None:
            ext = cmd.le > 256 or cmd.extended
            le_bytes = (cmd.le & 0xFFFF).to_bytes(2, "big") if ext else bytes([cmd.le & 0xFF])
            body += tlv.encode(0x97, le_bytes)
        cc = self.mac(ssc, crypto.pad_iso9797_m2(header, self.block) + body)
        body += tlv.encode(0x8E, cc)
        ext = len(body) > 255 or (cmd.le or 0) > 256 or cmd.extended
        return CommandAPDU(cla, cmd.ins, cmd.p1, cmd.p2, body, 65536 if ext else 256, ext).encode()

    def wrap(self, cmd: CommandAPDU) -> bytes:
        self.ssc += 1
        return self.wrap_at(cmd, self.ssc)

    # --- responses -----------------------------------------------------------------------

    def unwrap_at(self, raw: bytes, ssc: int) -> Unwrapped:
        """Check and decrypt a protected response computed with ``ssc`` (ICAO 9303-11 §9.8.5)."""
        resp = ResponseAPDU.parse(raw)
        if not resp.data:
            if resp.sw == 0x9000 or resp.sw >> 8 == 0x61:
                raise SecureMessagingError(f"success status {resp.sw:04X} without secure messaging objects")
            return Unwrapped(b"", resp.sw, False)
        try:
            items = tlv.parse_all(resp.data)
        except ParseError as e:
            raise SecureMessagingError(f"protected response is not BER-TLV: {e}") from e
        if not items or items[-1].tag != 0x8E:
            raise SecureMessagingError("protected response has no DO'8E' (MAC) as its last object")
        pos = 0
        for _ in items[:-1]:
            _, pos = tlv.parse_one(resp.data, pos)
        mac_input = resp.data[:pos]  # every object before DO'8E', as sent (§9.8.5)
        expected = self.mac(ssc, mac_input)
        if not crypto_equal(expected, items[-1].value):
            raise SecureMessagingError("response MAC does not verify (ICAO 9303-11 §9.8.5)")
        # Only now are the data objects believed.
        return self._believe(items[:-1], ssc, resp.sw)

    def _believe(self, items: list[tlv.TLV], ssc: int, plain_sw: int) -> Unwrapped:
        data = b""
        sw: int | None = None
        for it in items:
            if it.tag == 0x87:
                if not it.value or it.value[0] != 0x01:
                    raise SecureMessagingError("DO'87' without padding-content indicator 01")
                data = self._decrypt(ssc, it.value[1:], padded=True)
            elif it.tag == 0x85:
                data = self._decrypt(ssc, it.value, padded=True)
            elif it.tag == 0x99:
                if len(it.value) != 2:
                    raise SecureMessagingError("DO'99' must hold exactly SW1 SW2")
                sw = int.from_bytes(it.value, "big")
            else:
                raise SecureMessagingError(f"unexpected data object {it.tag:X} in protected response")
        if sw is None:
            raise SecureMessagingError("protected response has no DO'99' (status)")
        if sw != plain_sw:
            raise SecureMessagingError(f"plain status {plain_sw:04X} differs from protected DO'99' {sw:04X}")
        return Unwrapped(data, sw, True)

    def _decrypt(self, ssc: int, crypt: bytes, *, padded: bool) -> bytes:
        if not crypt or len(crypt) % self.block:
            raise SecureMessagingError("encrypted response data is not whole cipher blocks")
        plain = self._crypt(ssc, crypt, False)
        return crypto.unpad_iso9797_m2(plain) if padded else plain

    def unwrap(self, raw: bytes) -> Unwrapped:
        """Unwrap the response to the last wrapped command and advance the SSC when authenticated."""
        result = self.unwrap_at(raw, self.ssc + 1)
        if result.authenticated:
            self.ssc += 1
        return result


def crypto_equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)
