"""Simulator layer, virtual card: SELECT and READ BINARY; must not import partycard.card.

SELECT and READ BINARY over the card's file system.

Must not import ``partycard.card`` (independent card-side implementation). ISO/IEC 7816-4 §11.1
(SELECT: P1 00/02/04, P2 00/04/0C) and §11.2 (READ BINARY with offset or short EF id); the LDS1
files need an access-control session (ICAO 9303-11 §4), EF.CardAccess does not.
"""

from __future__ import annotations

from partycard.sim.card import apdu as sw
from partycard.sim.card.apdu import CardStatus, Command
from partycard.sim.card.fs import DF, EF, MF_FID
from partycard.sim.card.knobs import READ_BYTE_S, CardQuirks
from partycard.sim.card.tlv import tlv


class FileHandler:
    """The file commands of the card OS (mixed into VirtualCard, which owns the state)."""

    mf: DF
    app: DF
    current_df: DF
    current_ef: EF | None
    quirks: CardQuirks
    _cost_s: float

    def _find_ef(self, fid: int, *, also_mf: bool) -> EF | None:
        ef = self.current_df.efs.get(fid)
        if ef is None and also_mf and self.current_df is not self.mf:
            ef = self.mf.efs.get(fid)
        return ef

    def _select(self, cmd: Command, protected: bool) -> tuple[bytes, int]:
        if cmd.p2 not in (0x00, 0x04, 0x0C):
            raise CardStatus(sw.SW_INCORRECT_P1P2)
        if cmd.p2 == 0x0C and cmd.le is not None and self.quirks.select_rejects_le:
            raise CardStatus(sw.SW_WRONG_LENGTH)
        if cmd.p1 == 0x04:  # by DF name (AID)
            if cmd.data != self.app.aid:
                raise CardStatus(sw.SW_NOT_FOUND)
            self.current_df, self.current_ef = self.app, None
            return self._fci(cmd, self._df_info(self.app)), sw.SW_OK
        if cmd.p1 not in (0x00, 0x02):
            raise CardStatus(sw.SW_INCORRECT_P1P2)
        if cmd.p1 == 0x00 and cmd.data in (b"", MF_FID.to_bytes(2, "big")):
            if self.quirks.select_mf_status is not None:
                raise CardStatus(self.quirks.select_mf_status)
            self.current_df, self.current_ef = self.mf, None
            return self._fci(cmd, tlv(0x83, MF_FID.to_bytes(2, "big"))), sw.SW_OK
        if len(cmd.data) != 2:
            raise CardStatus(sw.SW_WRONG_DATA)
        ef = self._find_ef(int.from_bytes(cmd.data, "big"), also_mf=cmd.p1 == 0x00)
        if ef is None:
            raise CardStatus(sw.SW_NOT_FOUND)
        self.current_ef = ef
        return self._fci(cmd, self._ef_info(ef)), sw.SW_OK

    @staticmethod
    def _df_info(df: DF) -> bytes:
        return tlv(0x82, b"\x38") + tlv(0x84, df.aid or b"")

    @staticmethod
    def _ef_info(ef: EF) -> bytes:
        # File size, descriptor (transparent EF), file id, short EF id (ISO/IEC 7816-4 §7.4.3).
        info = tlv(0x80, len(ef.data).to_bytes(2, "big")) + tlv(0x82, b"\x01")
        info += tlv(0x83, ef.fid.to_bytes(2, "big"))
        if ef.sfi is not None:
            info += tlv(0x88, bytes([ef.sfi << 3]))
        return info

    @staticmethod
    def _fci(cmd: Command, info: bytes) -> bytes:
        """P2=04: FCP template 62; P2=00: FCI template 6F; P2=0C: nothing. Only when Le asks."""
        if cmd.p2 == 0x0C or cmd.le is None:
            return b""
        template = tlv(0x62 if cmd.p2 == 0x04 else 0x6F, info)
        return template[: cmd.le]

    def _read_binary(self, cmd: Command, protected: bool) -> tuple[bytes, int]:
        if cmd.p1 & 0x80:  # short EF id in P1 b5–b1, offset in P2 (ISO/IEC 7816-4 §11.2.2)
            if cmd.p1 & 0x60:
                raise CardStatus(sw.SW_INCORRECT_P1P2)
            sfi = cmd.p1 & 0x1F
            ef = self.current_df.by_sfi(sfi) or (self.mf.by_sfi(sfi) if sfi == 0x1C else None)
            if ef is None:
                raise CardStatus(sw.SW_NOT_FOUND)
            self.current_ef, offset = ef, cmd.p2
        else:
            if self.current_ef is None:
                raise CardStatus(0x6986)  # command not allowed: no current EF
            ef, offset = self.current_ef, (cmd.p1 << 8) | cmd.p2
        if ef.needs_sm and not protected:
            raise CardStatus(sw.SW_SECURITY)
        if cmd.le is None or cmd.le > self.quirks.max_le:
            raise CardStatus(sw.SW_WRONG_LENGTH)
        if offset >= len(ef.data):
            raise CardStatus(sw.SW_WRONG_P1P2)
        chunk = ef.data[offset : offset + cmd.le]
        self._cost_s += READ_BYTE_S * len(chunk)
        if len(chunk) == cmd.le or self.quirks.eof_status == sw.SW_OK:
            return chunk, sw.SW_OK
        if self.quirks.eof_status == sw.SW_WRONG_P1P2:
            raise CardStatus(sw.SW_WRONG_P1P2)
        return chunk, sw.SW_EOF_WARNING
