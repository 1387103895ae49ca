"""The BSI TR-03105-5 reference data set loaded from a dump and served by the virtual card.

BAC keys come from the data set's DG1 (MRZ of ERIKA MUSTERMANN); AA with the set's RSA-1024 key
(ISO/IEC 9796-2) and CA with its explicit-parameter brainpoolP224r1 key (3DES session keys).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from asn1crypto import keys as akeys

from partycard.errors import ParseError
from partycard.issue import CardImage, issue_from_dump
from partycard.issue.image import FILE_IDS
from partycard.sim.card import VirtualCard

from .test_card_terminal import VECTORS, Terminal, h, tlv_items

BSI = VECTORS / "bsi-reference-dataset"
RENAME = {"EF_COM.bin": "EF.COM.bin", "EF_SOD.bin": "EF.SOD.bin"} | {
    f"Datagroup{n}.bin": f"DG{n}.bin" for n in (1, 2, 3, 4, 14, 15)
}


@pytest.fixture
def dump_dir(tmp_path: Path) -> Path:
    for src, dst in RENAME.items():
        shutil.copyfile(BSI / src, tmp_path / dst)
    return tmp_path


@pytest.fixture
def image(dump_dir: Path) -> CardImage:
    # One key as a path, one as bytes: both forms are accepted.
    return issue_from_dump(dump_dir, aa_key=BSI / "DG15_sk.pkcs8",
                           ca_key=(BSI / "DG14_sk.pkcs8").read_bytes())


def test_dump_becomes_a_bac_only_image(image: CardImage) -> None:
    # DG1: "C11T002JM4D<<9608122F2310314…" → number, check digit, DOB, cd, DOE, cd (9303-11 §9.7.2).
    assert image.mrz_information == "C11T002JM" + "4" + "960812" + "2" + "231031" + "4"
    assert "EF.CardAccess" not in image.files and image.bac and not image.pace
    assert image.files["DG2"] == (BSI / "Datagroup2.bin").read_bytes()


def test_bsi_card_reads_with_bac_and_survives_a_save_and_load(image: CardImage, tmp_path: Path) -> None:
    image.save(tmp_path / "bsi.card")
    loaded = CardImage.load(tmp_path / "bsi.card")
    card = VirtualCard(loaded)
    card.activate()
    t = Terminal(card)
    t.select_app()
    t.bac(loaded.mrz_information or "")
    for name, data in image.files.items():
        assert t.read_file(FILE_IDS[name]) == data, name
    # PACE is not offered: no EF.CardAccess (MF has no files).
    assert t.sm is not None


def test_bsi_card_active_authentication_with_the_data_set_key(image: CardImage) -> None:
    card = VirtualCard(image)
    card.activate()
    t = Terminal(card)
    t.select_app()
    t.bac(image.mrz_information or "")
    public = akeys.PublicKeyInfo.load(tlv_items((BSI / "Datagroup15.bin").read_bytes())[0x6F])
    rsa_key = public["public_key"].parsed
    n, e = rsa_key["modulus"].native, rsa_key["public_exponent"].native
    challenge = h("F173589974BF40C6")
    signature = t.ok(h("00880000"), challenge, le=256)
    f = pow(int.from_bytes(signature, "big"), e, n).to_bytes(128, "big")
    assert f[0] == 0x6A and f[-1] == 0xBC
    assert hashlib.sha1(f[1:-21] + challenge).digest() == f[-21:-1]  # noqa: S324 - ISO 9796-2 as ICAO uses it


def test_bsi_card_chip_authentication_3des_on_brainpool_p224(image: CardImage) -> None:
    card = VirtualCard(image)
    card.activate()
    t = Terminal(card)
    t.select_app()
    t.bac(image.mrz_information or "")
    spki = akeys.PublicKeyInfo.load((BSI / "DG14_pk.bin").read_bytes())
    point = spki["public_key"].native
    assert point in (BSI / "Datagroup14.bin").read_bytes()
    t.chip_authenticate(point, "brainpoolP224r1", "3DES", 128, via_general_authenticate=False)
    assert card.sm is not None and card.sm.cipher == "3DES"
    assert t.read_file(0x0101) == image.files["DG1"]


def test_dump_without_required_files_is_refused(tmp_path: Path) -> None:
    shutil.copyfile(BSI / "Datagroup1.bin", tmp_path / "DG1.bin")
    with pytest.raises(ParseError, match=r"EF\.COM"):
        issue_from_dump(tmp_path)
