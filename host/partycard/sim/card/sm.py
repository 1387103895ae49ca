"""Simulator layer, virtual card: card side of secure messaging; must not import partycard.card.

The card side of secure messaging (ICAO 9303-11 §9.8).

Must not import ``partycard.card`` (independent card-side implementation). Unwraps protected
commands (DO85/DO87, DO97, DO8E) and wraps responses (DO87, DO99, DO8E) for 3DES (§9.8.6.1) and
AES (§9.8.6.2) sessions; any MAC or structure failure raises ``SMFailure`` and the caller ends the
session, as 9303-11 §9.8.4 requires ("the chip MUST abort SM").
"""

from __future__ import annotations

from partycard.sim.card import crypto
from partycard.sim.card.apdu import SW_SM_BAD_DO, SW_SM_MISSING_DO, Command
from partycard.sim.card.tlv import TLVError, read_tlv, tlv


class SMFailure(Exception):
    """A protected command failed verification; ``sw`` is the plain status to answer with."""

    def __init__(self, sw: int, reason: str) -> None:
        super().__init__(reason)
        self.sw = sw


class SMSession:
    """One secure-messaging session: session keys and the send sequence counter (SSC)."""

    def __init__(self, cipher: str, ks_enc: bytes, ks_mac: bytes, ssc: bytes) -> None:
        if cipher not in ("3DES", "AES"):
            raise ValueError(f"unknown SM cipher {cipher}")
        self.cipher = cipher
        self.ks_enc = ks_enc
        self.ks_mac = ks_mac
        self.block = crypto.DES_BLOCK if cipher == "3DES" else crypto.AES_BLOCK
        self.ssc_len = len(ssc)
        self.ssc = int.from_bytes(ssc, "big")

    # --- primitives --------------------------------------------------------------------

    def _ssc_bytes(self) -> bytes:
        return self.ssc.to_bytes(self.ssc_len, "big")

    def _next_ssc(self) -> bytes:
        # 9303-11 §9.8.2: the SSC is incremented before each command and each response.
        self.ssc = (self.ssc + 1) % (1 << (8 * self.ssc_len))
        return self._ssc_bytes()

    def mac(self, data: bytes) -> bytes:
        """The 8-byte MAC over pad(data): retail MAC (3DES) or truncated CMAC (AES)."""
        padded = crypto.pad(data, self.block)
        if self.cipher == "3DES":
            return crypto.retail_mac(self.ks_mac, padded)
        return crypto.aes_cmac(self.ks_mac, padded)[:8]

    def _iv(self, ssc: bytes) -> bytes:
        return crypto.aes_ecb_block(self.ks_enc, ssc)

    def encrypt(self, plain: bytes, ssc: bytes) -> bytes:
        padded = crypto.pad(plain, self.block)
        if self.cipher == "3DES":
            return crypto.des3_cbc(self.ks_enc, padded)
        return crypto.aes_cbc(self.ks_enc, padded, self._iv(ssc))

    def decrypt(self, cryptogram: bytes, ssc: bytes) -> bytes:
        if not cryptogram or len(cryptogram) % self.block:
            raise SMFailure(SW_SM_BAD_DO, "cryptogram is not a whole number of blocks")
        if self.cipher == "3DES":
            plain = crypto.des3_cbc(self.ks_enc, cryptogram, decrypt=True)
        else:
            plain = crypto.aes_cbc(self.ks_enc, cryptogram, self._iv(ssc), decrypt=True)
        try:
            return crypto.unpad(plain)
        except ValueError as exc:
            raise SMFailure(SW_SM_BAD_DO, "bad padding in the cryptogram") from exc

    # --- commands and responses --------------------------------------------------------

    def unwrap(self, cmd: Command) -> Command:
        """Verify and decrypt a protected command (CLA with b4 b3 set) into the plain command."""
        ssc = self._next_ssc()
        dos: list[tuple[int, bytes, bytes]] = []  # (tag, value, raw encoding)
        pos = 0
        try:
            while pos < len(cmd.data):
                start = pos
                tag, value, pos = read_tlv(cmd.data, pos)
                dos.append((tag, value, cmd.data[start:pos]))
        except TLVError as exc:
            raise SMFailure(SW_SM_BAD_DO, f"malformed SM data objects: {exc}") from exc
        if not dos or dos[-1][0] != 0x8E:
            raise SMFailure(SW_SM_MISSING_DO, "DO8E (cryptographic checksum) missing")
        tags = [t for t, _, _ in dos[:-1]]
        if any(t not in (0x85, 0x87, 0x97) for t in tags) or len(set(tags)) != len(tags):
            raise SMFailure(SW_SM_BAD_DO, "unexpected or repeated SM data object")
        header = crypto.pad(cmd.header, self.block)
        covered = b"".join(raw for _, _, raw in dos[:-1])
        if self.mac(ssc + header + covered) != dos[-1][1]:
            raise SMFailure(SW_SM_BAD_DO, "command MAC does not verify")
        data = b""
        le: int | None = None
        for tag, value, _ in dos[:-1]:
            if tag == 0x87:
                if not value or value[0] != 0x01:
                    raise SMFailure(SW_SM_BAD_DO, "DO87 without padding-content indicator 01")
                data = self.decrypt(value[1:], ssc)
            elif tag == 0x85:
                data = self.decrypt(value, ssc)
            else:
                le = int.from_bytes(value, "big") or (256 if len(value) <= 1 else 65536)
        cla = cmd.cla & ~0x0C & 0xFF
        return Command(cla, cmd.ins, cmd.p1, cmd.p2, data, le, cmd.extended)

    def wrap(self, data: bytes, sw: int) -> bytes:
        """Protect a response: DO87 (when there is data) ‖ DO99 ‖ DO8E, then the status word."""
        ssc = self._next_ssc()
        body = b""
        if data:
            body += tlv(0x87, b"\x01" + self.encrypt(data, ssc))
        body += tlv(0x99, sw.to_bytes(2, "big"))
        body += tlv(0x8E, self.mac(ssc + body))
        return body + sw.to_bytes(2, "big")
