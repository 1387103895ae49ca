"""Issuance round trip: parse what ``issue_card`` wrote with asn1crypto and check it independently.

SOD (ICAO 9303-10 §4.6.2): CMS SignedData v3, LDSSecurityObject hashes equal the files, signed
attributes content-type and message-digest, signature verified with ``cryptography`` against the
embedded DS certificate, which chains to the test root. DG1 check digits per 9303-3 §4.9; DG13 per
the profile; DG14/DG15/EF.CardAccess per 9303-11 §9.2.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import stat
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import algos, cms, core
from asn1crypto import keys as akeys
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from partycard.errors import ConfigError, ParseError
from partycard.issue import CardImage, PKIPaths, clone_card, init_pki, issue_card, tamper_file
from partycard.issue.mrz import build_td1

ROOT = Path(__file__).resolve().parents[3]
MEMBER: dict[str, Any] = json.loads((ROOT / "host/partycard/issue/examples/member.json").read_text("utf-8"))
WORKED = json.loads((ROOT / "tests/vectors/icao-worked-examples/icao-9303-11-worked-examples.json")
                    .read_text("utf-8"))
NOW = dt.datetime(2025, 8, 18, 9, 0, tzinfo=dt.UTC)


class DGHash(core.Sequence):  # the LDS security object, written here from 9303-10 §4.6.2.2
    _fields = [("number", core.Integer), ("value", core.OctetString)]  # noqa: RUF012


class LDSSO(core.Sequence):
    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("hash", algos.DigestAlgorithm),
        ("hashes", core.SequenceOf, {"spec": DGHash}),
    ]


def read_tlv(data: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """(tag, value, next position) of one BER TLV with a 1- or 2-byte tag (ISO/IEC 7816-4 §5.2)."""
    i = pos + (2 if data[pos] & 0x1F == 0x1F else 1)
    tag = int.from_bytes(data[pos:i], "big")
    n = data[i]
    i += 1
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[i : i + k], "big")
        i += k
    return tag, data[i : i + n], i + n


def value_of(tlv: bytes) -> tuple[int, bytes]:
    tag, value, end = read_tlv(tlv)
    assert end == len(tlv), "trailing bytes after the TLV"
    return tag, value


def children(data: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(data):
        tag, value, pos = read_tlv(data, pos)
        out.append((tag, value))
    return out


def check_digit(field: str) -> str:
    values = [int(c) if c.isdigit() else (0 if c == "<" else ord(c) - 55) for c in field]
    return str(sum(v * (7, 3, 1)[i % 3] for i, v in enumerate(values)) % 10)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKIPaths:
    return init_pki(tmp_path_factory.mktemp("pki"), now=NOW - dt.timedelta(days=1))


@pytest.fixture(scope="module")
def image(pki: PKIPaths) -> CardImage:
    return issue_card(MEMBER, pki, now=NOW, can="123456", signer="btctw")


def open_sod(image: CardImage) -> tuple[cms.SignedData, LDSSO]:
    tag, content = value_of(image.files["EF.SOD"])
    assert tag == 0x77
    info = cms.ContentInfo.load(content)
    assert info["content_type"].native == "signed_data"
    signed = info["content"]
    assert signed["encap_content_info"]["content_type"].dotted == "2.23.136.1.1.1"
    return signed, LDSSO.load(signed["encap_content_info"]["content"].native)


def verify_sod(image: CardImage) -> x509.Certificate:
    """Verify the SOD signature; return the embedded DS certificate."""
    signed, so = open_sod(image)
    assert signed["version"].native == "v3"
    signer = signed["signer_infos"][0]
    attrs = {a["type"].native: a["values"][0] for a in signer["signed_attrs"]}
    assert set(attrs) == {"content_type", "message_digest"}
    econtent = signed["encap_content_info"]["content"].native
    assert attrs["message_digest"].native == hashlib.new(so["hash"]["algorithm"].native, econtent).digest()
    ds = x509.load_der_x509_certificate(signed["certificates"][0].chosen.dump())
    assert signer["sid"].chosen["serial_number"].native == ds.serial_number
    to_be_signed = b"\x31" + signer["signed_attrs"].dump()[1:]  # RFC 5652 §5.4: as a SET OF
    signature = signer["signature"].native
    key = ds.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        assert signer["signature_algorithm"]["algorithm"].native == "rsassa_pss"
        key.verify(signature, to_be_signed, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
    else:
        assert isinstance(key, ec.EllipticCurvePublicKey)
        key.verify(signature, to_be_signed, ec.ECDSA(hashes.SHA256()))
    return ds


def test_sod_hashes_match_the_data_groups_and_the_signature_verifies(image: CardImage, pki: PKIPaths) -> None:
    _, so = open_sod(image)
    assert so["version"].native == 0 and so["hash"]["algorithm"].native == "sha256"
    listed = {e["number"].native: e["value"].native for e in so["hashes"]}
    assert set(listed) == {1, 2, 13, 14, 15}
    for n, digest in listed.items():
        assert hashlib.sha256(image.files[f"DG{n}"]).digest() == digest
    ds = verify_sod(image)
    root = x509.load_pem_x509_certificate(pki.root_cert.read_bytes())
    ds.verify_directly_issued_by(root)
    org = ds.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0].value
    assert org == "Ban Tổ chức Trung ương"


@pytest.mark.parametrize("algorithm", ["rsa-pss", "ecdsa-brainpoolP256r1"])
def test_other_signer_algorithms(tmp_path: Path, algorithm: str) -> None:
    pki = init_pki(tmp_path, now=NOW, algorithm=algorithm)
    img = issue_card(MEMBER, pki, now=NOW, signer="Đảng ủy Bộ Ngoại giao")
    ds = verify_sod(img)
    assert "Đảng ủy Bộ Ngoại giao" in ds.subject.rfc4514_string()


def test_ef_com_dg1_and_mrz_check_digits(image: CardImage) -> None:
    tag, com = value_of(image.files["EF.COM"])
    assert tag == 0x60
    items = dict(children(com))
    assert items[0x5F01] == b"0108" and items[0x5F36] == b"040000"
    assert items[0x5C] == bytes([0x61, 0x75, 0x6D, 0x6E, 0x6F])
    tag, dg1 = value_of(image.files["DG1"])
    assert tag == 0x61
    tag, mrz_bytes = value_of(dg1)
    mrz = mrz_bytes.decode("ascii")
    assert tag == 0x5F1F and len(mrz) == 90
    l1, l2, l3 = mrz[:30], mrz[30:60], mrz[60:]
    # Card number DV0012345678 has 12 characters: 9303-5 long-number rule.
    assert l1[:5] == "I<VNM" and l1[5:14] == "DV0012345" and l1[14] == "<"
    assert l1[15:18] == "678" and l1[18] == check_digit("DV0012345678")
    assert l2[:6] == "850902" and l2[6] == check_digit("850902") and l2[7] == "F"
    assert l2[8:14] == "350818" and l2[14] == check_digit("350818")  # default: issue date + 10 years
    assert l2[29] == check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    assert l3 == "NGUYEN<<THI<MINH<KHAI" + "<" * 9
    assert image.mrz_information == "DV0012345678" + l1[18] + l2[0:7] + l2[8:15]


def test_td1_layout_matches_the_appendix_d2_examples() -> None:
    for example in WORKED["bac"]["D2_mrz_to_kseed"]["examples"]:
        if "mrz_line3" not in example:
            continue
        l1, l2 = example["mrz_line1"], example["mrz_line2"]
        number = l1[5:14] + (l1[15:18] if l1[14] == "<" else "")
        td1 = build_td1(document_code=l1[:2], issuing_state=l1[2:5], document_number=number.rstrip("<"),
                        date_of_birth=l2[:6], sex=l2[7], date_of_expiry=l2[8:14], nationality=l2[15:18],
                        primary_identifier=example["mrz_line3"].split("<<")[0],
                        secondary_identifier=example["mrz_line3"].split("<<")[1].replace("<", " "))
        assert td1.line1 == l1 and td1.line3 == example["mrz_line3"]
        assert td1.line2[:29] == l2[:29]  # the printed composite digits are errata (PROVENANCE.md)
        assert td1.line2[29] == "2"
        assert td1.mrz_information == example["MRZ_information"]


def test_dg13_layout_and_text(image: CardImage, pki: PKIPaths) -> None:
    tag, body = value_of(image.files["DG13"])
    assert tag == 0x6D
    fields = children(body)
    assert [t for t, _ in fields] == list(range(0x80, 0x8C))
    values = dict(fields)
    assert values[0x80] == b"\x01"
    assert values[0x81] == b"DV0012345678" and values[0x86] == b"001185012345"
    assert values[0x83].decode("utf-8") == "Nguyễn Thị Minh Khai"
    assert values[0x84] == b"19850902" and values[0x85] == b"F" and values[0x8B] == b"20250818"
    assert values[0x8A].decode("utf-8") == "Ban Tổ chức Trung ương"
    for t in (0x83, 0x89, 0x8A):
        text = values[t].decode("utf-8")
        assert unicodedata.is_normalized("NFC", text)
    decomposed = dict(MEMBER, full_name=unicodedata.normalize("NFD", MEMBER["full_name"]))
    again = issue_card(decomposed, pki, now=NOW, can="123456")
    assert dict(children(value_of(again.files["DG13"])[1]))[0x83] == values[0x83]


def test_dg2_dg14_dg15_and_card_access(image: CardImage) -> None:
    dg2 = image.files["DG2"]
    assert dg2[0] == 0x75 and b"\x7f\x61" in dg2[:8] and b"FAC\x00010\x00" in dg2
    jpeg = dg2[dg2.index(b"\xff\xd8\xff\xe0"):]
    assert jpeg.endswith(b"\xff\xd9") and 14_000 < len(jpeg) < 16_000
    tag, dg15 = value_of(image.files["DG15"])
    assert tag == 0x6F and image.aa_key is not None
    assert dg15 == image.aa_key.spki_der()
    assert akeys.PublicKeyInfo.load(dg15)["algorithm"]["parameters"].chosen.native == "brainpoolp256r1"
    tag, dg14 = value_of(image.files["DG14"])
    assert tag == 0x6E
    set_tag, infos = value_of(dg14)
    assert set_tag == 0x31
    oids = set()
    for seq_tag, info in children(infos):
        assert seq_tag == 0x30
        oid_tag, oid = children(info)[0]
        assert oid_tag == 0x06
        oids.add(oid.hex())
    assert "04007f0007020201" + "02" in oids  # id-PK-ECDH
    assert "04007f0007020203" + "0202" in oids  # id-CA-ECDH-AES-CBC-CMAC-128
    assert "678108010105" in oids  # id-AA (ECDSA hash)
    assert image.ca_key is not None and image.ca_key.public_bytes() in dg14
    access = image.files["EF.CardAccess"].hex().upper()
    assert "060A04007F00070202040202020102020" + "10D" in access  # PACE-GM-AES-128, v2, brainpoolP256r1


def test_face_image_and_p256(pki: PKIPaths) -> None:
    face = b"\xff\xd8\xff\xe0" + b"portrait" * 100 + b"\xff\xd9"
    img = issue_card(MEMBER, pki, now=NOW, pace_curve="P-256", face_image=face, aa=False, ca=False)
    assert img.files["DG2"].endswith(face)
    assert "DG14" not in img.files and "DG15" not in img.files
    assert img.files["EF.CardAccess"].hex().upper().endswith("02010C")  # parameter id 12 = P-256
    assert len(img.can or "") == 6


def test_save_and_load_round_trip(image: CardImage, tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    image.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = json.loads(path.read_text("utf-8"))
    assert raw["format"] == "partycard-card-image" and raw["version"] == 1 and raw["can"] == "123456"
    assert raw["aa_key"].startswith("-----BEGIN PRIVATE KEY-----")
    loaded = CardImage.load(path)
    assert loaded.files == image.files and loaded.aa_key == image.aa_key and loaded.ca_key == image.ca_key
    assert loaded.mrz_information == image.mrz_information and loaded.uid == image.uid
    for broken in ({"format": "other"}, dict(raw, version=2), dict(raw, can="12345"),
                   dict(raw, files={"EF.Unknown": "00"}), dict(raw, files={"DG1": "zz"})):
        path.write_text(json.dumps(broken))
        with pytest.raises(ParseError):
            CardImage.load(path)


def test_tampering_after_signing_breaks_exactly_one_hash(image: CardImage) -> None:
    forged = tamper_file(image, "DG13")
    _, so = open_sod(forged)
    mismatched = [e["number"].native for e in so["hashes"]
                  if hashlib.sha256(forged.files[f"DG{e['number'].native}"]).digest() != e["value"].native]
    assert mismatched == [13]
    verify_sod(forged)  # the signature itself is still intact


def test_untrusted_signer_and_clone(image: CardImage, pki: PKIPaths, tmp_path: Path) -> None:
    other = init_pki(tmp_path, now=NOW - dt.timedelta(days=1))
    foreign = issue_card(MEMBER, other, now=NOW)
    ds = verify_sod(foreign)
    with pytest.raises((ValueError, InvalidSignature)):
        ds.verify_directly_issued_by(x509.load_pem_x509_certificate(pki.root_cert.read_bytes()))
    clone = clone_card(image)
    assert clone.files == image.files and clone.aa_key != image.aa_key and clone.ca_key != image.ca_key
    assert clone.aa_key is not None
    assert serialization.load_der_public_key(clone.aa_key.spki_der()) != serialization.load_der_public_key(
        image.files["DG15"][2:])


@pytest.mark.parametrize(("change", "message"), [
    ({"citizen_id": "12345"}, "citizen_id"),
    ({"sex": "Nam"}, "sex"),
    ({"date_of_birth": "1985-02-30"}, "date_of_birth"),
    ({"card_number": "dv-1"}, "card_number"),
    ({"nickname": "x"}, "unknown keys"),
    ({"full_name": "Nguyễn\x00Văn"}, "control"),
])
def test_member_validation(pki: PKIPaths, change: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        issue_card(dict(MEMBER, **change), pki, now=NOW)


def test_refuses_to_sign_after_the_signer_key_period(pki: PKIPaths) -> None:
    with pytest.raises(ConfigError, match="usage period"):
        issue_card(MEMBER, pki, now=NOW + dt.timedelta(days=200))
    with pytest.raises(ConfigError, match="not valid"):
        issue_card(MEMBER, pki, now=NOW - dt.timedelta(days=30))
