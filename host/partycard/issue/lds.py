"""Issuance layer: LDS1 files of the party card (9303-10 §4.6–4.7); must not sign or hold keys.

The LDS1 elementary files of the party card (ICAO 9303-10 §4.6–4.7).

Must not sign or hold private keys; it lays out bytes. DG13 follows the provisional profile in
protocol/card-profile.md (context-specific primitive TLVs 80–8B, UTF-8 NFC text).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from partycard.issue import asn1
from partycard.issue.curves import CurveInfo
from partycard.issue.keys import ChipKey, EcKey
from partycard.issue.member import Member
from partycard.issue.mrz import TD1, build_td1

#: Data group number → the tag of its template (9303-10 §4.6.1, table of LDS tags).
DG_TAGS = {1: 0x61, 2: 0x75, 3: 0x63, 4: 0x76, 5: 0x65, 6: 0x66, 7: 0x67, 8: 0x68, 9: 0x69, 10: 0x6A,
           11: 0x6B, 12: 0x6C, 13: 0x6D, 14: 0x6E, 15: 0x6F, 16: 0x70}
DG13_RECORD_VERSION = 1
LDS_VERSION = b"0108"  # LDS 1.8
UNICODE_VERSION = b"040000"


def tlv(tag: int, value: bytes) -> bytes:
    """Definite-length BER TLV with a one- or two-byte tag."""
    tag_bytes = tag.to_bytes(2 if tag > 0xFF else 1, "big")
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return tag_bytes + length + value


def ef_com(data_groups: list[int]) -> bytes:
    """EF.COM (9303-10 §4.6.1): LDS version, Unicode version, tag list."""
    tags = bytes(DG_TAGS[n] for n in sorted(data_groups))
    return tlv(0x60, tlv(0x5F01, LDS_VERSION) + tlv(0x5F36, UNICODE_VERSION) + tlv(0x5C, tags))


def member_td1(member: Member) -> TD1:
    """The TD1 MRZ of a party card: document number = card number, nationality VNM."""
    words = member.full_name.split()
    return build_td1(
        document_code="I<",
        issuing_state="VNM",
        document_number=member.card_number,
        date_of_birth=member.date_of_birth.strftime("%y%m%d"),
        sex=member.sex,
        date_of_expiry=member.date_of_expiry.strftime("%y%m%d"),
        nationality="VNM",
        primary_identifier=words[0],  # Vietnamese order: family name first
        secondary_identifier=" ".join(words[1:]),
    )


def dg1(mrz: TD1) -> bytes:
    """DG1 (9303-10 §4.7.1): 61 { 5F1F MRZ }."""
    return tlv(0x61, tlv(0x5F1F, mrz.text.encode("ascii")))


def synthetic_jpeg(seed: bytes, size: int = 15_000) -> bytes:
    """A deterministic JPEG-framed byte string of ``size`` bytes (SOI, APP0 JFIF, COM…, EOI).

    Not a decodable picture: a stand-in that has the framing and size of a card portrait, so
    that reading DG2 costs what it would on a real card.
    """
    app0 = b"\xff\xe0" + (16).to_bytes(2, "big") + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    head, tail = b"\xff\xd8" + app0, b"\xff\xd9"
    body = b""
    remaining = size - len(head) - len(tail)
    counter = 0
    while remaining > 4:
        chunk = min(remaining - 4, 0xFFFF - 2)
        filler = hashlib.shake_256(seed + counter.to_bytes(4, "big")).digest(chunk)
        filler = filler.replace(b"\xff", b"\xfe")  # no marker bytes inside a segment
        body += b"\xff\xfe" + (chunk + 2).to_bytes(2, "big") + filler
        remaining -= chunk + 4
        counter += 1
    return head + body + b"\x00" * remaining + tail


def _face_record(image: bytes) -> bytes:
    """ISO/IEC 19794-5:2005 facial record: general header, one facial information block, image."""
    info_block = (
        (20).to_bytes(4, "big")  # facial record data length is patched below
        + (0).to_bytes(2, "big")  # feature points
        + bytes([0, 0, 0])  # gender, eye colour, hair colour unspecified
        + (0).to_bytes(3, "big")  # feature mask
        + (0).to_bytes(2, "big")  # expression unspecified
        + bytes(6)  # pose angle and its uncertainty
    )
    image_info = bytes([1, 0]) + (480).to_bytes(2, "big") + (640).to_bytes(2, "big") + bytes([1, 2])
    image_info += (0).to_bytes(2, "big") + (0).to_bytes(2, "big")  # device type, quality
    facial = info_block + image_info + image
    facial = len(facial).to_bytes(4, "big") + facial[4:]
    header = b"FAC\x00" + b"010\x00" + (14 + len(facial)).to_bytes(4, "big") + (1).to_bytes(2, "big")
    return header + facial


def dg2(image: bytes) -> bytes:
    """DG2 (9303-10 §4.7.2): biometric information group template around one face record."""
    bht = tlv(0x80, b"\x01\x01") + tlv(0x81, b"\x02") + tlv(0x87, b"\x01\x01") + tlv(0x88, b"\x00\x08")
    bit = tlv(0x7F60, tlv(0xA1, bht) + tlv(0x5F2E, _face_record(image)))
    return tlv(0x75, tlv(0x7F61, tlv(0x02, b"\x01") + bit))


def _ymd(d: dt.date) -> bytes:
    return d.strftime("%Y%m%d").encode("ascii")


def dg13(member: Member) -> bytes:
    """DG13 of the party card (protocol/card-profile.md): tags 80–8B in order, each once."""
    values = [
        bytes([DG13_RECORD_VERSION]),
        member.card_number.encode("ascii"),
        member.member_id.encode("ascii"),
        member.full_name.encode("utf-8"),
        _ymd(member.date_of_birth),
        member.sex.encode("ascii"),
        member.citizen_id.encode("ascii"),
        _ymd(member.date_admitted),
        _ymd(member.date_official),
        member.organisation.encode("utf-8"),
        member.issuing_committee.encode("utf-8"),
        _ymd(member.issue_date),
    ]
    return tlv(0x6D, b"".join(tlv(0x80 + i, v) for i, v in enumerate(values)))


def dg14(ca_key: EcKey | None, ca_aes_bits: int, aa_key: ChipKey | None, aa_hash: str) -> bytes:
    """DG14 (9303-10 §4.7.14): SecurityInfos for Chip Authentication and ECDSA Active Authentication."""
    infos: list[bytes] = []
    if ca_key is not None:
        infos.append(asn1.ca_public_key_info(ca_key.spki_der()))
        infos.append(asn1.ca_info(asn1.ID_CA_ECDH_AES[ca_aes_bits]))
    if isinstance(aa_key, EcKey):
        infos.append(asn1.aa_info(asn1.ECDSA_PLAIN[aa_hash]))
    return tlv(0x6E, asn1.der_set_of(infos))


def dg15(aa_key: ChipKey) -> bytes:
    """DG15 (9303-10 §4.7.15): the Active Authentication public key as SubjectPublicKeyInfo."""
    return tlv(0x6F, aa_key.spki_der())


def ef_card_access(pace_curve: CurveInfo, pace_aes_bits: int, ca_aes_bits: int | None) -> bytes:
    """EF.CardAccess (9303-11 §9.2.1): PACEInfo, and ChipAuthenticationInfo when CA is on."""
    infos = [asn1.pace_info(asn1.ID_PACE_ECDH_GM_AES[pace_aes_bits], pace_curve.pace_param_id)]
    if ca_aes_bits is not None:
        infos.append(asn1.ca_info(asn1.ID_CA_ECDH_AES[ca_aes_bits]))
    return asn1.der_set_of(infos)
