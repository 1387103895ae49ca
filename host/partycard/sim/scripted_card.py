"""Simulator layer: a minimal scriptable contactless card for tests. No PN532, no link, no I/O.

It implements the two methods the virtual PN532's card slot needs: ``activate()`` (what
InListPassiveTarget reports) and ``transmit(apdu)`` (one ISO 7816-4 command/response).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

Script = Mapping[bytes, bytes] | Callable[[bytes], bytes]

DEFAULT_UID = bytes.fromhex("08123456")
# ATS: TL=05, T0=78 (TA, TB, TC present, FSCI 8 = 256 bytes), TA=80 (106 kbit/s only), TB, TC.
DEFAULT_ATS = bytes.fromhex("0578807002")
SW_INS_NOT_SUPPORTED = b"\x6d\x00"  # ISO/IEC 7816-4 §5.6


class ScriptedCard:
    """A card answering from a script: a map of exact command APDU -> response, or a function.

    ``received`` logs every command; ``activations`` counts activations; ``processing_s`` is
    reported to the timing model as ``last_processing_s``.
    """

    def __init__(
        self,
        script: Script | None = None,
        *,
        kind: str = "A",
        uid: bytes = DEFAULT_UID,
        ats: bytes | None = DEFAULT_ATS,
        atqb: bytes | None = None,
        processing_s: float = 0.0,
    ) -> None:
        if kind not in ("A", "B"):
            raise ValueError("kind must be 'A' or 'B'")
        self.script: Script = script if script is not None else {}
        self.kind = kind
        self.uid = uid
        self.ats = ats if kind == "A" else None
        if kind == "B" and atqb is None:
            # ATQB (ISO 14443-3 §7.9): 50, PUPI, application data, protocol info 00 81 85
            # (ISO 14443-4 compliant, FSCI 8).
            atqb = b"\x50" + uid[:4] + b"\x00\x00\x00\x00" + b"\x00\x81\x85"
        self.atqb = atqb if kind == "B" else None
        self.processing_s = processing_s
        self.last_processing_s = 0.0
        self.received: list[bytes] = []
        self.activations = 0

    def activate(self) -> dict[str, object]:
        self.activations += 1
        return {"type": self.kind, "uid": self.uid, "ats": self.ats, "atqb": self.atqb}

    def transmit(self, apdu: bytes) -> bytes:
        self.received.append(bytes(apdu))
        self.last_processing_s = self.processing_s
        if callable(self.script):
            return bytes(self.script(bytes(apdu)))
        return bytes(self.script.get(bytes(apdu), SW_INS_NOT_SUPPORTED))
