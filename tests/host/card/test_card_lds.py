"""LDS parsers on the BSI TR-03105-5 reference data set, the ICAO examples and DG13 cases."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from partycard.card.ca import parse_ec_spki
from partycard.card.lds.cardaccess import parse_card_access
from partycard.card.lds.com import parse_com
from partycard.card.lds.dg1 import parse_dg1
from partycard.card.lds.dg2 import parse_dg2
from partycard.card.lds.dg13 import parse_dg13
from partycard.card.lds.dg14 import parse_dg14
from partycard.card.lds.dg15 import parse_dg15
from partycard.card.pace import pace_params
from partycard.errors import AccessControlError, ParseError

from . import images
from .cardfixture import tl

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
BSI = VECTORS / "bsi-reference-dataset"
ICAO = json.loads((VECTORS / "icao-worked-examples" / "icao-9303-11-worked-examples.json").read_text())


def test_bsi_dg1_td3_mrz() -> None:
    dg1 = parse_dg1((BSI / "Datagroup1.bin").read_bytes())
    assert dg1.format == "TD3" and dg1.document_type == "P" and dg1.issuing_state == "D"
    assert (dg1.document_number, dg1.date_of_birth) == ("C11T002JM", "960812")
    assert dg1.date_of_expiry == "231031"
    assert dg1.name == "ERIKA MUSTERMANN" and dg1.sex == "F" and dg1.nationality == "D"
    assert dg1.check_digit_errors == ()
    assert dg1.lines[1].startswith("C11T002JM4D<<9608122F2310314")
    assert "MUSTERMANN" not in repr(dg1)


def test_icao_td1_long_document_number() -> None:
    ex = ICAO["bac"]["D2_mrz_to_kseed"]["examples"][2]
    mrz = ex["mrz_line1"] + ex["mrz_line2"] + ex["mrz_line3"]
    dg1 = parse_dg1(tl(0x61, tl(0x5F1F, mrz.encode())))
    assert dg1.format == "TD1" and dg1.document_number == "D23145890734"
    assert dg1.check_digit_errors == ()
    assert dg1.name == "PETER JOHN STEVENSON"


def test_icao_td1_printed_composite_erratum_is_reported() -> None:
    ex = ICAO["bac"]["D2_mrz_to_kseed"]["examples"][3]
    mrz = ex["mrz_line1"] + ex["mrz_line2"] + ex["mrz_line3"]
    assert parse_dg1(tl(0x61, tl(0x5F1F, mrz.encode()))).check_digit_errors == ("composite",)
    assert parse_dg1(images.dg1_td1()).check_digit_errors == ()


def test_dg1_rejects_bad_length_and_charset() -> None:
    with pytest.raises(ParseError, match="neither"):
        parse_dg1(tl(0x61, tl(0x5F1F, b"P<D" * 10)))
    with pytest.raises(ParseError, match="outside"):
        parse_dg1(tl(0x61, tl(0x5F1F, b"p" * 88)))


def test_bsi_dg2_iso19794_jpeg2000() -> None:
    face = parse_dg2((BSI / "Datagroup2.bin").read_bytes())
    assert face.mime == "image/jp2" and face.container == "ISO19794-5"
    assert (face.width, face.height) == (337, 449)
    assert face.image.startswith(b"\x00\x00\x00\x0cjP  ") and len(face.image) == 14999


def test_dg2_iso39794_jpeg() -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 20 + b"\xff\xd9"
    block = tl(0xA1, tl(0xA1, tl(0x80, b"\x01")) + tl(0xA2, tl(0x80, jpeg)))
    bit = tl(0x7F60, tl(0xA1, tl(0x80, b"\x01")) + tl(0x7F2E, block))
    dg2 = tl(0x75, tl(0x7F61, tl(0x02, b"\x01") + bit))
    face = parse_dg2(dg2)
    assert face.mime == "image/jpeg" and face.image == jpeg and face.container == "ISO39794-5"


def test_dg2_truncated_record_is_parse_error() -> None:
    raw = bytearray((BSI / "Datagroup2.bin").read_bytes())
    raw[0x2E] ^= 0x01  # the FAC record length
    with pytest.raises(ParseError):
        parse_dg2(bytes(raw))


def test_bsi_dg14_chip_authentication_infos() -> None:
    infos = parse_dg14((BSI / "Datagroup14.bin").read_bytes())
    assert [c.protocol for c in infos.ca] == ["0.4.0.127.0.7.2.2.3.2.1"]  # id-CA-ECDH-3DES-CBC-CBC
    assert infos.ta_versions == [1]
    key = parse_ec_spki(infos.ca_public_keys[0].public_key)
    assert key.curve == "brainpoolP224r1"  # explicit parameters, matched by prime and generator
    assert key.point[1:] in (BSI / "DG14_pk.bin").read_bytes()


def test_bsi_dg15_is_the_aa_public_key() -> None:
    assert parse_dg15((BSI / "Datagroup15.bin").read_bytes()) == (BSI / "DG15_pk.bin").read_bytes()
    with pytest.raises(ParseError):
        parse_dg15((BSI / "Datagroup14.bin").read_bytes())


def test_bsi_ef_com() -> None:
    com = parse_com((BSI / "EF_COM.bin").read_bytes())
    assert (com.lds_version, com.unicode_version) == ("1.7", "4.0.0")
    assert com.data_groups == ["DG1", "DG2", "DG3", "DG4", "DG14"]


def test_cardaccess_g1_and_vietnamese_cccd() -> None:
    g1 = parse_card_access(bytes.fromhex(ICAO["pace_gm_ecdh_G1"]["EF_CardAccess"]))
    assert pace_params(g1.pace[0]).curve == "brainpoolP256r1"
    # The CCCD EF.CardAccess published by several apps (chip-card-anchors §4): TA, CA, PACE.
    cccd = parse_card_access(bytes.fromhex(
        "3134300d060804007f0007020202020101300f060a04007f00070202030202020101"
        "3012060a04007f0007020204020202010202010d"))
    assert cccd.ta_versions == [1] and cccd.ca[0].protocol.endswith(".3.2.2")
    p = pace_params(cccd.pace[0])
    assert (p.curve, p.cipher, p.parameter_id) == ("brainpoolP256r1", "AES-128", 13)


def test_cardaccess_unknown_entries_are_skipped_and_unsupported_pace_named() -> None:
    unknown = tl(0x30, tl(0x06, bytes.fromhex("2B0601040182370201")) + tl(0x02, b"\x01"))
    dh = tl(0x30, tl(0x06, bytes.fromhex("04007F00070202040102")) + tl(0x02, b"\x02") + tl(0x02, b"\x00"))
    tdes = tl(0x30, tl(0x06, bytes.fromhex("04007F00070202040201")) + tl(0x02, b"\x02") + tl(0x02, b"\x0d"))
    p521 = tl(0x30, tl(0x06, bytes.fromhex("04007F00070202040202")) + tl(0x02, b"\x02") + tl(0x02, b"\x12"))
    infos = parse_card_access(tl(0x31, unknown + dh + tdes + p521))
    assert infos.unknown_oids == ["1.3.6.1.4.1.311.2.1"]
    for info in infos.pace:
        with pytest.raises(AccessControlError, match="not supported"):
            pace_params(info)


def test_dg13_party_record_round_trips_vietnamese_text() -> None:
    rec = parse_dg13(images.dg13())
    assert rec.full_name == images.NAME and unicodedata.is_normalized("NFC", rec.full_name)
    assert rec.issuing_committee == "Ban Tổ chức Trung ương"
    assert (rec.card_number, rec.member_id, rec.citizen_id, rec.sex) == (
        "DV0012345678", "0012345678", "001180012345", "F")
    assert (rec.date_of_birth, rec.date_admitted, rec.date_official, rec.issue_date) == (
        "19800102", "20050203", "20060203", "20250818")
    assert rec.unknown == {} and "Nguy" not in repr(rec)


def test_dg13_unknown_tags_kept() -> None:
    rec = parse_dg13(images.dg13([*images.DG13_FIELDS, (0x9F20, b"\x01\x02")]))
    assert rec.unknown == {0x9F20: b"\x01\x02"}


def _with(tag: int, value: bytes) -> bytes:
    return images.dg13([(t, value if t == tag else v) for t, v in images.DG13_FIELDS])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_with(0x83, unicodedata.normalize("NFD", images.NAME).encode()), "NFC"),
        (_with(0x83, b"Nguy\xe1\xbb"), "UTF-8"),
        (_with(0x84, b"1980-01-02"), "YYYYMMDD"),
        (_with(0x85, b"Nam"), "sex"),
        (_with(0x86, b"12345"), "12 ASCII digits"),
        (_with(0x80, b"\x02"), "version"),
        (images.dg13(images.DG13_FIELDS[:-1]), "lacks 8B"),
        (images.dg13([*images.DG13_FIELDS, (0x81, b"DV1")]), "more than once"),
        (tl(0x6C, b""), "expected tag 6D"),
    ],
)
def test_dg13_rejects_bad_records(data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_dg13(data)


def test_bsi_files_fuzz_smoke() -> None:
    """Every truncation of every BSI file raises ParseError or parses; nothing else escapes."""
    parsers = {"Datagroup1.bin": parse_dg1, "Datagroup14.bin": parse_dg14, "Datagroup15.bin": parse_dg15,
               "EF_COM.bin": parse_com}
    for fname, parse in parsers.items():
        raw = (BSI / fname).read_bytes()
        for cut in range(0, len(raw), 7):
            with pytest.raises(ParseError):
                parse(raw[:cut])  # type: ignore[operator]


@pytest.mark.parametrize(
    "params",
    ["3009020101300004020000", "3009020101020100040100", "3009040700000000000000", "3000"],
    ids=["field-id-empty", "field-id-not-a-sequence", "no-fields", "empty"],
)
def test_malformed_explicit_ec_parameters_are_a_parse_error(params: str) -> None:
    """FOUND: a forged DG14 key with explicit parameters of the wrong shape raised IndexError out
    of the read, which ended the kiosk."""
    alg = bytes.fromhex("06072A8648CE3D0201") + bytes.fromhex(params)
    spki = tl(0x30, tl(0x30, alg) + tl(0x03, b"\x00\x04" + bytes(64)))
    with pytest.raises(ParseError):
        parse_ec_spki(spki)
