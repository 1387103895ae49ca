"""Simulator layer, virtual card: quirk/fault knobs, card-removed error; must not hold card logic.

Quirk and fault knobs, and the card-removed exception.

Must not import ``partycard.card`` (independent card-side implementation). Quirks are behaviour
real cards show (research: chip-card anchors §1.3, §2, §4); faults are things that happen to a
card in the field (tearing, a corrupted response).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from partycard.errors import CardRemoved


class CardRemovedFromField(CardRemoved):
    """The card left the RF field (tearing): ``transmit`` raises this until ``activate`` again.

    The virtual PN532 turns it into its RF error status; nothing partial is returned.
    """


#: Modelled card processing time per instruction byte, in seconds (typical contactless eMRTD
#: chips; an estimate for the timing model, not a measurement). READ BINARY adds per-byte time.
DEFAULT_PROCESSING_S: dict[int, float] = {
    0xA4: 0.004,  # SELECT
    0xB0: 0.005,  # READ BINARY (+ READ_BYTE_S per byte)
    0x84: 0.004,  # GET CHALLENGE
    0x82: 0.030,  # EXTERNAL AUTHENTICATE (BAC: 3DES and key derivation)
    0x22: 0.003,  # MSE
    0x86: 0.010,  # GENERAL AUTHENTICATE, plus EC_MULT_S per scalar multiplication
    0x88: 0.010,  # INTERNAL AUTHENTICATE, plus the signature time
}
READ_BYTE_S = 0.00002
EC_MULT_S = 0.060
RSA_SIGN_S = 0.250
SM_OVERHEAD_S = 0.002


@dataclass
class CardQuirks:
    """How this card deviates from the textbook (each default is the ISO/ICAO behaviour)."""

    #: Largest Le READ BINARY accepts; a larger one (or Le=00 meaning 256) gets 6700.
    max_le: int = 256
    #: Accept extended-length APDUs (ISO/IEC 7816-4 §5.1); without it they get 6700.
    extended_length: bool = True
    #: READ BINARY that runs past the end of the file: 0x6282 (the available bytes and 6282),
    #: 0x6B00 (no data, 6B00) or 0x9000 (the available bytes and 9000).
    eof_status: int = 0x6282
    #: SELECT with P2=0C (no response data) and an Le byte is refused with 6700.
    select_rejects_le: bool = False
    #: SELECT of the MF (3F00) answers this status instead of selecting (CCCD answers 6D00).
    select_mf_status: int | None = None
    #: Multiplies every modelled processing time (a slow chip).
    slow_factor: float = 1.0
    #: Added to every command's processing time.
    extra_processing_s: float = 0.0
    #: PACE with the CAN: tries before the CAN is blocked (None: unlimited). A failed session
    #: costs one try (63Cx); a session that succeeds does not and restores the counter.
    can_retries: int | None = None
    #: Under secure messaging, error statuses (not 9000, 62xx, 63xx) come back unprotected: no
    #: DO99/DO8E, the SSC not advanced for the response, the session kept (seen on real
    #: passports answering an unsupported Le with a plain 6700).
    sm_plain_errors: bool = False
    #: A new random UID (first byte 08) at every activation, as privacy-minded eMRTDs do.
    random_uid: bool = False
    #: Per-instruction processing time overrides (seconds), by INS byte.
    processing_s: dict[int, float] = field(default_factory=dict)


@dataclass
class CardFaults:
    """Faults to inject, counted in APDUs since the card was made (the first APDU is 1)."""

    #: The card leaves the field when APDU k arrives: ``transmit`` raises CardRemovedFromField
    #: (the command is not executed) and keeps raising until ``activate`` is called again.
    tear_at_apdu: int | None = None
    #: The response to APDU k has one bit of its secure-messaging MAC (DO8E) flipped; when that
    #: response is not protected, its last data byte or status byte is flipped instead.
    corrupt_mac_at_apdu: int | None = None
