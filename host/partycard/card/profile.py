"""Card layer, the card profile as data (ICAO 9303-10 §4.6; protocol/card-profile.md).

A published specification changes these values, not the code. No logic lives here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: LDS1 eMRTD application (ICAO 9303-10 §3.10.2).
LDS1_AID = bytes.fromhex("A0000002471001")

#: name → (file id, short EF id) (ICAO 9303-10 §4.6 table 39).
FILES: dict[str, tuple[int, int]] = {
    "EF.CardAccess": (0x011C, 0x1C),
    "EF.COM": (0x011E, 0x1E),
    "EF.SOD": (0x011D, 0x1D),
    **{f"DG{n}": (0x0100 + n, n) for n in range(1, 17)},
}

#: Plaintext bytes per READ BINARY under SM, first choice then fall-backs (PN532 frame limit:
#: 0xDF keeps a protected response ≤ 255 bytes; chip-card-anchors §1.3).
CHUNK_SIZES = (0xDF, 0x80, 0x40, 0x20)


@dataclass(frozen=True)
class ReadPolicy:
    chunk_sizes: tuple[int, ...] = CHUNK_SIZES
    #: Commands per apdu.batch. The reader answers a batch only while its reply is sure to fit
    #: MAX_PAYLOAD: it reserves room for each APDU's response by its Le before running it (256 +
    #: SW + CBOR header for the Le 00 of a secure-messaging READ BINARY, SPEC.md §4), so 7 fit
    #: where 8 would come back as 7 plus one more round trip.
    max_batch: int = 7
    max_retries_per_file: int = 6
    #: The largest file read (its TLV header is checked before the rest is asked for). A hostile
    #: chip declaring 16 MiB of DG2 would hold a kiosk for some 77,000 APDUs; real face images
    #: (9303-10 §4.7.2) are tens of kilobytes, the party card's 15 KiB. Raise it to read fingerprints
    #: or high-resolution portraits.
    max_file_bytes: int = 256 * 1024
    #: Files read when the caller does not name any (besides EF.COM): SOD and EF.COM's DGs.
    default_extra: tuple[str, ...] = field(default=("EF.SOD",))
