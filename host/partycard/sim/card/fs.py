"""Simulator layer, virtual card: file system and chip config; must not import partycard.card.

The file system (MF, LDS1 application) and the card's own config.

Must not import ``partycard.card`` (independent card-side implementation). File ids and short EF
ids per ICAO 9303-10 §4.6 (table 39); the card reads its PACE/CA/AA settings from its own
EF.CardAccess and DG14, as a personalised chip does, parsing them with its own TLV code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from partycard.sim.card.tlv import TLVError, parse_all, read_tlv

MF_FID = 0x3F00
LDS1_AID = bytes.fromhex("A0000002471001")

# OID contents (the bytes after 06 L). BSI TR-03110-3 §A.1 / ICAO 9303-11 §9.2.
PACE_ECDH_GM_PREFIX = bytes.fromhex("04007F000702020402")  # + 01 3DES, 02/03/04 AES-128/192/256
CA_ECDH_PREFIX = bytes.fromhex("04007F000702020302")  # same last-byte rule
PK_ECDH = bytes.fromhex("04007F0007020201 02".replace(" ", ""))
ID_AA = bytes.fromhex("678108010105")
ECDSA_PLAIN_PREFIX = bytes.fromhex("04007F0007010104 01".replace(" ", ""))  # + 02..05: SHA-224..512
ECDSA_PLAIN_HASH = {2: "sha224", 3: "sha256", 4: "sha384", 5: "sha512"}
CIPHERS = {1: ("3DES", 128), 2: ("AES", 128), 3: ("AES", 192), 4: ("AES", 256)}


@dataclass
class EF:
    """A transparent elementary file."""

    name: str
    fid: int
    sfi: int | None
    data: bytes
    needs_sm: bool  # readable only inside a secure-messaging session


@dataclass
class DF:
    """A dedicated file (the MF or an application) and its EFs."""

    fid: int | None
    aid: bytes | None
    efs: dict[int, EF] = field(default_factory=dict)

    def by_sfi(self, sfi: int) -> EF | None:
        return next((ef for ef in self.efs.values() if ef.sfi == sfi), None)


@dataclass(frozen=True)
class PaceOption:
    """One PACEInfo of EF.CardAccess."""

    oid: bytes
    parameter_id: int
    cipher: str
    key_bits: int


@dataclass(frozen=True)
class ChipConfig:
    """What the chip offers, read from its own EF.CardAccess and DG14."""

    pace: tuple[PaceOption, ...]
    ca_oid: bytes | None
    ca_cipher: tuple[str, int] | None
    aa_hash: str  # for ECDSA Active Authentication


def _security_infos(data: bytes) -> list[tuple[bytes, list[tuple[int, bytes]]]]:
    """SecurityInfos: a SET of SEQUENCE { OID, ... } → [(oid contents, [the other TLVs])]."""
    tag, body, _ = read_tlv(data)
    if tag != 0x31:
        raise TLVError("SecurityInfos is not a SET")
    out = []
    for t, seq in parse_all(body):
        if t != 0x30:
            continue
        items = parse_all(seq)
        if items and items[0][0] == 0x06:
            out.append((items[0][1], items[1:]))
    return out


def read_config(card_access: bytes | None, dg14: bytes | None) -> ChipConfig:
    pace: list[PaceOption] = []
    ca_oid: bytes | None = None
    aa_hash = "sha256"
    infos = _security_infos(card_access) if card_access else []
    if dg14:
        _, inner, _ = read_tlv(dg14)  # 6E { SecurityInfos }
        infos += _security_infos(inner)
    for oid, rest in infos:
        if oid[:-1] == PACE_ECDH_GM_PREFIX and oid[-1] in CIPHERS and len(rest) >= 2:
            cipher, bits = CIPHERS[oid[-1]]
            pace.append(PaceOption(oid, int.from_bytes(rest[1][1], "big"), cipher, bits))
        elif oid[:-1] == CA_ECDH_PREFIX and oid[-1] in CIPHERS:
            ca_oid = oid
        elif oid == ID_AA and len(rest) >= 2 and rest[1][1][:-1] == ECDSA_PLAIN_PREFIX:
            aa_hash = ECDSA_PLAIN_HASH.get(rest[1][1][-1], "sha256")
    return ChipConfig(tuple(pace), ca_oid, CIPHERS[ca_oid[-1]] if ca_oid else None, aa_hash)


#: (name, file id, short EF id) of every EF the card may hold (9303-10 §4.6).
LDS1_FILES = [("EF.COM", 0x011E, 0x1E), ("EF.SOD", 0x011D, 0x1D)] + [
    (f"DG{n}", 0x0100 + n, n) for n in range(1, 17)
]


def build_fs(files: dict[str, bytes]) -> tuple[DF, DF]:
    """The MF (with EF.CardAccess, readable without access control) and the LDS1 application."""
    mf = DF(MF_FID, None)
    if "EF.CardAccess" in files:
        mf.efs[0x011C] = EF("EF.CardAccess", 0x011C, 0x1C, files["EF.CardAccess"], needs_sm=False)
    app = DF(None, LDS1_AID)
    for name, fid, sfi in LDS1_FILES:
        if name in files:
            app.efs[fid] = EF(name, fid, sfi, files[name], needs_sm=True)
    return mf, app
