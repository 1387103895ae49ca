"""Card images for the read-flow tests, built by hand from the profile (ICAO 9303-10 §4.6)."""

from __future__ import annotations

from pathlib import Path

from ecdsa import curves

from .cardfixture import tl

BSI = Path(__file__).resolve().parents[2] / "vectors" / "bsi-reference-dataset"

OID_PACE_GM_AES128 = bytes.fromhex("04007F00070202040202")  # 0.4.0.127.0.7.2.2.4.2.2
OID_CA_ECDH_AES128 = bytes.fromhex("04007F00070202030202")  # 0.4.0.127.0.7.2.2.3.2.2
OID_PK_ECDH = bytes.fromhex("04007F000702020102")  # 0.4.0.127.0.7.2.2.1.2
OID_EC_PUBLIC_KEY = bytes.fromhex("2A8648CE3D0201")
OID_BRAINPOOL_P256 = bytes.fromhex("2B2403030208010107")

NAME = "Nguyễn Thị Minh Khai"
COMMITTEE = "Ban Tổ chức Trung ương"
ORGANISATION = "Đảng bộ phường Ba Đình, Hà Nội"

DG13_FIELDS = [
    (0x80, b"\x01"),
    (0x81, b"DV0012345678"),
    (0x82, b"0012345678"),
    (0x83, NAME.encode("utf-8")),
    (0x84, b"19800102"),
    (0x85, b"F"),
    (0x86, b"001180012345"),
    (0x87, b"20050203"),
    (0x88, b"20060203"),
    (0x89, ORGANISATION.encode("utf-8")),
    (0x8A, COMMITTEE.encode("utf-8")),
    (0x8B, b"20250818"),
]


def card_access(param_id: int = 13, oid: bytes = OID_PACE_GM_AES128) -> bytes:
    return tl(0x31, tl(0x30, tl(0x06, oid) + tl(0x02, b"\x02") + tl(0x02, bytes([param_id]))))


def dg13(fields: list[tuple[int, bytes]] | None = None) -> bytes:
    return tl(0x6D, b"".join(tl(t, v) for t, v in (fields or DG13_FIELDS)))


def dg1_td1() -> bytes:
    # ICAO 9303-11 Appendix D.2 TD1 example with the corrected composite digit (see PROVENANCE.md).
    mrz = "I<UTOL898902C<3<<<<<<<<<<<<<<<" "6908061F9406236UTO<<<<<<<<<<<2" "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"
    return tl(0x61, tl(0x5F1F, mrz.encode()))


MRZ_INFO_TD1 = "L898902C<369080619406236"


def dg14(ca_private: int) -> bytes:
    c = curves.BRAINPOOLP256r1
    p = c.generator * ca_private
    point = b"\x04" + int(p.x()).to_bytes(32, "big") + int(p.y()).to_bytes(32, "big")
    alg = tl(0x30, tl(0x06, OID_EC_PUBLIC_KEY) + tl(0x06, OID_BRAINPOOL_P256))
    spki = tl(0x30, alg + tl(0x03, b"\x00" + point))
    pk_info = tl(0x30, tl(0x06, OID_PK_ECDH) + spki)
    ca_info = tl(0x30, tl(0x06, OID_CA_ECDH_AES128) + tl(0x02, b"\x01"))
    return tl(0x6E, tl(0x31, pk_info + ca_info))


def com(tags: bytes = b"\x61\x75\x6d\x6e\x6f") -> bytes:
    return tl(0x60, tl(0x5F01, b"0107") + tl(0x5F36, b"040000") + tl(0x5C, tags))


CA_PRIVATE = 0x1D2C3B4A5968778695A4B3C2D1E0F00112233445566778899AABBCCDDEEFF001


def party_card(param_id: int = 13, *, with_card_access: bool = True) -> dict[str, bytes]:
    files = {
        "EF.COM": com(),
        "EF.SOD": (BSI / "EF_SOD.bin").read_bytes(),
        "DG1": dg1_td1(),
        "DG2": (BSI / "Datagroup2.bin").read_bytes(),
        "DG13": dg13(),
        "DG14": dg14(CA_PRIVATE),
        "DG15": (BSI / "Datagroup15.bin").read_bytes(),
    }
    if with_card_access:
        files["EF.CardAccess"] = card_access(param_id)
    return files


def bsi_card() -> dict[str, bytes]:
    """The BSI TR-03105-5 data set as a BAC-only card (no EF.CardAccess)."""
    names = {"EF.COM": "EF_COM.bin", "EF.SOD": "EF_SOD.bin", "DG1": "Datagroup1.bin", "DG2": "Datagroup2.bin",
             "DG3": "Datagroup3.bin", "DG4": "Datagroup4.bin", "DG14": "Datagroup14.bin"}
    return {k: (BSI / v).read_bytes() for k, v in names.items()}
