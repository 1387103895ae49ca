"""Card layer, command/response APDUs (ISO/IEC 7816-4 §5.1-5.3): encoding only, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from partycard.errors import APDUError, CardError

SHORT_MAX_LC = 255
SHORT_MAX_LE = 256
EXT_MAX_LC = 65535
EXT_MAX_LE = 65536


@dataclass(frozen=True)
class CommandAPDU:
    """A command; ``le`` None means no Le field, 256 (short) / 65536 (extended) mean "all"."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None
    extended: bool = False

    def __post_init__(self) -> None:
        for field, v in (("CLA", self.cla), ("INS", self.ins), ("P1", self.p1), ("P2", self.p2)):
            if not 0 <= v <= 0xFF:
                raise CardError(f"{field} {v} out of range")
        if len(self.data) > EXT_MAX_LC:
            raise CardError(f"command data of {len(self.data)} bytes is too long")
        if self.le is not None and not 0 < self.le <= EXT_MAX_LE:
            raise CardError(f"Le {self.le} out of range (1..65536)")

    @property
    def needs_extended(self) -> bool:
        return self.extended or len(self.data) > SHORT_MAX_LC or (self.le or 0) > SHORT_MAX_LE

    def encode(self) -> bytes:
        """Cases 1-4, short or extended length (ISO/IEC 7816-4 §5.1)."""
        out = bytes([self.cla, self.ins, self.p1, self.p2])
        if not self.needs_extended:
            if self.data:
                out += bytes([len(self.data)]) + self.data
            if self.le is not None:
                out += bytes([self.le & 0xFF])
            return out
        if self.data:
            out += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
            if self.le is not None:
                out += (self.le & 0xFFFF).to_bytes(2, "big")
        elif self.le is not None:
            out += b"\x00" + (self.le & 0xFFFF).to_bytes(2, "big")
        return out

    @property
    def header(self) -> bytes:
        return bytes([self.cla, self.ins, self.p1, self.p2])


@dataclass(frozen=True)
class ResponseAPDU:
    data: bytes
    sw: int

    @classmethod
    def parse(cls, raw: bytes) -> ResponseAPDU:
        if len(raw) < 2:
            raise CardError(f"response of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))

    def encode(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    def check(self, *accepted: int, what: str = "") -> ResponseAPDU:
        """Return self when the SW is accepted (default 9000), else raise ``APDUError``."""
        from partycard.card.sw import name

        ok = accepted or (0x9000,)
        if self.sw not in ok:
            raise APDUError(self.sw, f"{what}: {name(self.sw)}" if what else name(self.sw), self.data)
        return self


def decode_command(raw: bytes) -> CommandAPDU:  # noqa: PLR0911 - one return per ISO 7816-4 case
    """Parse an encoded command (used to re-issue with a corrected Le, ISO/IEC 7816-4 §5.1)."""
    if len(raw) < 4:
        raise CardError("command APDU shorter than its header")
    cla, ins, p1, p2 = raw[:4]
    body = raw[4:]
    if not body:
        return CommandAPDU(cla, ins, p1, p2)
    if len(body) == 1:
        return CommandAPDU(cla, ins, p1, p2, le=body[0] or 256)
    if body[0] != 0:
        lc = body[0]
        if len(body) == 1 + lc:
            return CommandAPDU(cla, ins, p1, p2, body[1:])
        if len(body) == 2 + lc:
            return CommandAPDU(cla, ins, p1, p2, body[1 : 1 + lc], body[-1] or 256)
        raise CardError("short command APDU with inconsistent Lc")
    if len(body) == 3:
        return CommandAPDU(cla, ins, p1, p2, le=int.from_bytes(body[1:], "big") or 65536, extended=True)
    lc = int.from_bytes(body[1:3], "big")
    if len(body) == 3 + lc:
        return CommandAPDU(cla, ins, p1, p2, body[3:], extended=True)
    if len(body) == 5 + lc:
        le = int.from_bytes(body[-2:], "big") or 65536
        return CommandAPDU(cla, ins, p1, p2, body[3 : 3 + lc], le, extended=True)
    raise CardError("extended command APDU with inconsistent Lc")
