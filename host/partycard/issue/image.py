"""Issuance layer: the card image and its file format; must not build or sign card files.

The card image — every file of a personalised chip plus its secrets — and its file format.

Must not build or sign files (see ``issuer``); it holds and (de)serialises them. One format, JSON,
documented in protocol/card-profile.md §9: hex-encoded files, PKCS#8 PEM chip keys, CAN, MRZ key,
profile name, format version. The file holds private keys: it is written with mode 0600.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from partycard.errors import ConfigError, ParseError
from partycard.issue.keys import ChipKey, EcKey, load_private_key

IMAGE_FORMAT = "partycard-card-image"
IMAGE_VERSION = 1
PROFILE_PARTYCARD = "partycard-1"
PROFILE_ICAO_DUMP = "icao-dump"

#: File names an image may hold and their file identifiers (ICAO 9303-10 §4.6, table 39).
FILE_IDS: dict[str, int] = {"EF.CardAccess": 0x011C, "EF.COM": 0x011E, "EF.SOD": 0x011D}
FILE_IDS.update({f"DG{n}": 0x0100 + n for n in range(1, 17)})
#: Short EF identifiers (9303-10 §4.6 table): DGn → n, EF.COM 1E, EF.SOD 1D, EF.CardAccess 1C.
SHORT_IDS: dict[str, int] = {"EF.CardAccess": 0x1C, "EF.COM": 0x1E, "EF.SOD": 0x1D}
SHORT_IDS.update({f"DG{n}": n for n in range(1, 17)})

#: ATS (ISO/IEC 14443-4 §5.2) with its length byte: TL 05; T0 78 (TA, TB, TC follow; FSCI 8 = 256
#: bytes); TA 77 (212/424/848 kbit/s both ways); TB A0 (FWI 10 ≈ 309 ms, room for a PACE step);
#: TC 02 (CID supported).
DEFAULT_ATS = bytes.fromhex("057877A002")


@dataclass
class CardImage:
    """Everything a virtual card needs: files by name, keys, passwords, RF identity."""

    files: dict[str, bytes]
    can: str | None = None
    mrz_information: str | None = None  # ICAO 9303-11 §9.7.2 key string (BAC and PACE-MRZ)
    aa_key: ChipKey | None = None
    ca_key: EcKey | None = None
    profile: str = PROFILE_PARTYCARD
    bac: bool = True  # whether the chip answers BAC (ICAO 9303-11 §4.3)
    uid: bytes = bytes.fromhex("08A1B2C3")  # 08 first: a random UID per ISO/IEC 14443-3
    ats: bytes = DEFAULT_ATS
    notes: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # personal data and keys stay out of reprs and logs
        return f"CardImage(profile={self.profile!r}, files={sorted(self.files)})"

    @property
    def pace(self) -> bool:
        return "EF.CardAccess" in self.files

    def copy(self, **changes: Any) -> CardImage:
        return replace(self, files=dict(self.files), notes=dict(self.notes), **changes)

    # --- the file format ---------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": IMAGE_FORMAT,
            "version": IMAGE_VERSION,
            "profile": self.profile,
            "files": {name: data.hex().upper() for name, data in sorted(self.files.items())},
            "can": self.can,
            "mrz_information": self.mrz_information,
            "bac": self.bac,
            "aa_key": self.aa_key.private_pem() if self.aa_key is not None else None,
            "ca_key": self.ca_key.private_pem() if self.ca_key is not None else None,
            "uid": self.uid.hex().upper(),
            "ats": self.ats.hex().upper(),
            "notes": self.notes,
        }

    def save(self, path: str | Path) -> None:
        """Write the image as JSON (mode 0600: it holds the chip's private keys and CAN)."""
        data = json.dumps(self.to_json(), ensure_ascii=False, indent=1).encode("utf-8")
        tmp = Path(f"{path}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)  # all or nothing: a reader never sees half an image
        except OSError as exc:
            raise ConfigError(f"cannot write card image {path}: {exc}") from exc

    @classmethod
    def load(cls, path: str | Path) -> CardImage:
        try:
            raw = json.loads(Path(path).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ParseError(f"cannot read card image {path}: {exc}") from exc
        return cls.from_json(raw)

    @classmethod
    def from_json(cls, raw: Any) -> CardImage:
        if not isinstance(raw, dict) or raw.get("format") != IMAGE_FORMAT:
            raise ParseError(f"not a {IMAGE_FORMAT} file")
        if raw.get("version") != IMAGE_VERSION:
            raise ParseError(f"card image version {raw.get('version')!r} is not {IMAGE_VERSION}")
        try:
            files = {str(k): _hex(v, k) for k, v in raw["files"].items()}
            unknown = [k for k in files if k not in FILE_IDS]
            if unknown:
                raise ParseError(f"card image names unknown files {unknown}")
            can = raw.get("can")
            if can is not None and not (isinstance(can, str) and re.fullmatch(r"\d{6}", can)):
                raise ParseError("CAN must be six digits")
            aa = load_private_key(raw["aa_key"].encode()) if raw.get("aa_key") else None
            ca = load_private_key(raw["ca_key"].encode()) if raw.get("ca_key") else None
            if ca is not None and not isinstance(ca, EcKey):
                raise ParseError("the Chip Authentication key must be an EC key")
            return cls(
                files=files, can=can, mrz_information=raw.get("mrz_information"), aa_key=aa, ca_key=ca,
                profile=str(raw.get("profile", PROFILE_PARTYCARD)), bac=bool(raw.get("bac", True)),
                uid=_hex(raw.get("uid", "08A1B2C3"), "uid"),
                ats=_hex(raw.get("ats", DEFAULT_ATS.hex()), "ats"),
                notes={str(k): str(v) for k, v in (raw.get("notes") or {}).items()},
            )
        except (KeyError, AttributeError, TypeError) as exc:
            raise ParseError(f"card image is incomplete or mistyped: {exc}") from exc


def _hex(value: Any, what: object) -> bytes:
    if not isinstance(value, str):
        raise ParseError(f"{what}: expected a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise ParseError(f"{what}: not hex") from exc
