"""The reading side (``partycard.card``) against the virtual card: two independent implementations.

The card and the reader share no protocol code, so these runs are a real-peer check of both: PACE
on several curves, CA, AA, the Le quirk, and BAC on the BSI data set.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from partycard.card.bac import MRZKey
from partycard.card.channel import DirectChannel
from partycard.card.reader import read_document
from partycard.issue import PKIPaths, init_pki, issue_card, issue_from_dump
from partycard.sim.card import CardQuirks, VirtualCard

from .test_card_terminal import VECTORS

NOW = dt.datetime(2025, 8, 18, 9, 0, tzinfo=dt.UTC)
EXAMPLE = Path(__file__).resolve().parents[3] / "host/partycard/issue/examples/member.json"
MEMBER = json.loads(EXAMPLE.read_text("utf-8"))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKIPaths:
    return init_pki(tmp_path_factory.mktemp("pki"), now=NOW - dt.timedelta(days=1))


@pytest.mark.parametrize(("curve", "bits"), [("brainpoolP256r1", 128), ("P-256", 128), ("P-384", 256)])
def test_reader_reads_an_issued_card_with_pace_can(pki: PKIPaths, curve: str, bits: int) -> None:
    image = issue_card(MEMBER, pki, now=NOW, can="123456", pace_curve=curve, pace_aes_bits=bits)
    card = VirtualCard(image)
    card.activate()
    result = read_document(DirectChannel(card), can="123456", aa_challenge=b"\x01" * 8)
    assert result.access_control == "PACE-CAN"
    assert result.ca is not None and result.ca.ran and result.ca.error is None
    assert result.aa is not None
    assert set(result.files) == set(image.files)
    for name, data in result.files.items():
        assert data == image.files[name], name


def test_reader_with_the_mrz_on_a_card_that_caps_le(pki: PKIPaths) -> None:
    image = issue_card(MEMBER, pki, now=NOW, can="123456", aa_key_type="rsa")
    card = VirtualCard(image, CardQuirks(max_le=0x80, eof_status=0x6B00))
    card.activate()
    result = read_document(DirectChannel(card), mrz=MRZKey("DV0012345678", "850902", "350818"))
    assert result.access_control == "PACE-MRZ"
    assert result.files["DG2"] == image.files["DG2"]


def test_reader_reads_the_bsi_data_set_with_bac(tmp_path: Path) -> None:
    bsi = VECTORS / "bsi-reference-dataset"
    shutil.copyfile(bsi / "EF_COM.bin", tmp_path / "EF.COM.bin")
    shutil.copyfile(bsi / "EF_SOD.bin", tmp_path / "EF.SOD.bin")
    for n in (1, 2, 14, 15):
        shutil.copyfile(bsi / f"Datagroup{n}.bin", tmp_path / f"DG{n}.bin")
    image = issue_from_dump(tmp_path, aa_key=bsi / "DG15_sk.pkcs8", ca_key=bsi / "DG14_sk.pkcs8")
    card = VirtualCard(image)
    card.activate()
    result = read_document(DirectChannel(card), mrz=MRZKey("C11T002JM", "960812", "231031"))
    assert result.access_control == "BAC"
    assert result.files["DG1"] == image.files["DG1"] and result.files["DG2"] == image.files["DG2"]
