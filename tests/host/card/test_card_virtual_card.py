"""Reading cards served by the independent virtual card (partycard.sim.card) issued by the
issuance tool: PACE-CAN on brainpoolP256r1/P-256/P-384, BAC on the BSI data set, and faults."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from partycard.card.channel import DirectChannel
from partycard.card.lds.dg1 import parse_dg1
from partycard.card.lds.dg13 import parse_dg13
from partycard.card.reader import MRZKey, read_document
from partycard.errors import AccessControlError, CardRemoved, SecureMessagingError

sim_card = pytest.importorskip("partycard.sim.card")
issuer = pytest.importorskip("partycard.issue.issuer")
pki_mod = pytest.importorskip("partycard.issue.pki")

ROOT = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CAN = "123456"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    pki_mod.init_pki(d / "pki", now=NOW)
    return d / "pki"


@pytest.fixture(scope="module")
def member() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "host/partycard/issue/examples/member.json").read_text("utf-8"))
    return data


def _issue(pki: Path, member: dict[str, Any], curve: str = "brainpoolP256r1", **kw: Any) -> Any:
    return issuer.issue_card(member, pki, now=NOW, pace_curve=curve, can=CAN, **kw)


def _serve(image: Any, quirks: Any = None, faults: Any = None) -> tuple[Any, DirectChannel]:
    card = sim_card.VirtualCard(image, quirks, faults)
    card.activate()
    return card, DirectChannel(card)


@pytest.mark.parametrize(("curve", "expected"), [("brainpoolP256r1", "brainpoolP256r1"),
                                                  ("P-256", "secp256r1"), ("P-384", "secp384r1")])
def test_pace_can_reads_issued_card(pki: Path, member: dict[str, Any], curve: str, expected: str) -> None:
    image = _issue(pki, member, curve)
    _, ch = _serve(image)
    r = read_document(ch, can=CAN, aa_challenge=b"\x5a" * 8)
    assert r.access_control == "PACE-CAN"
    assert r.pace_params is not None and r.pace_params.curve == expected
    assert r.files == image.files  # every file, byte for byte, nothing truncated
    assert r.ca is not None and r.ca.ran, r.ca
    assert r.aa is not None and r.aa.challenge == b"\x5a" * 8 and r.aa.signature
    rec = parse_dg13(r.files["DG13"])
    assert rec.full_name == member["full_name"] == "Nguyễn Thị Minh Khai"
    assert rec.party_organisation == member["organisation"]
    assert rec.issuing_committee == "Ban Tổ chức Trung ương"
    assert rec.card_number == member["card_number"]


@pytest.mark.parametrize(("curve", "bits"), [("brainpoolP384r1", 192), ("P-384", 256), ("P-256", 256)])
def test_pace_aes_192_and_256(pki: Path, member: dict[str, Any], curve: str, bits: int) -> None:
    image = _issue(pki, member, curve, pace_aes_bits=bits)
    _, ch = _serve(image)
    r = read_document(ch, can=CAN)
    assert r.pace_params is not None and r.pace_params.cipher == f"AES-{bits}"
    assert r.ca is not None and r.ca.ran and r.ca.oid is not None
    assert r.files == image.files


def test_pace_mrz_reads_issued_card(pki: Path, member: dict[str, Any]) -> None:
    image = _issue(pki, member)
    dg1 = parse_dg1(image.files["DG1"])
    _, ch = _serve(image)
    r = read_document(ch, mrz=MRZKey(dg1.document_number, dg1.date_of_birth, dg1.date_of_expiry))
    assert r.access_control == "PACE-MRZ" and r.files == image.files


def test_bac_reads_bsi_data_set(tmp_path: Path) -> None:
    src = ROOT / "tests/vectors/bsi-reference-dataset"
    names = {"EF_COM.bin": "EF.COM.bin", "EF_SOD.bin": "EF.SOD.bin", "Datagroup1.bin": "DG1.bin",
             "Datagroup2.bin": "DG2.bin", "Datagroup14.bin": "DG14.bin", "Datagroup15.bin": "DG15.bin"}
    for a, b in names.items():
        shutil.copy(src / a, tmp_path / b)
    image = issuer.issue_from_dump(tmp_path)
    _, ch = _serve(image)
    r = read_document(ch, mrz=MRZKey("C11T002JM", "960812", "231031"))
    assert r.access_control == "BAC" and r.pace_params is None
    for name in ("EF.COM", "EF.SOD", "DG1", "DG2", "DG14"):
        assert r.files[name] == image.files[name]
    assert parse_dg1(r.files["DG1"]).name == "ERIKA MUSTERMANN"
    assert r.ca is not None and not r.ca.ran and r.ca.error  # no CA key in the image: recorded


def test_bac_bsi_data_set_with_3des_chip_authentication_and_aa(tmp_path: Path) -> None:
    """The BSI DG14 key (explicit brainpoolP224r1, id-CA-ECDH-3DES-CBC-CBC): MSE:Set KAT, then the
    rest is read under the new 3DES keys; DG15 is not in EF.COM but is on the chip, so AA runs."""
    src = ROOT / "tests/vectors/bsi-reference-dataset"
    names = {"EF_COM.bin": "EF.COM.bin", "EF_SOD.bin": "EF.SOD.bin", "Datagroup1.bin": "DG1.bin",
             "Datagroup2.bin": "DG2.bin", "Datagroup14.bin": "DG14.bin", "Datagroup15.bin": "DG15.bin"}
    for a, b in names.items():
        shutil.copy(src / a, tmp_path / b)
    image = issuer.issue_from_dump(tmp_path, ca_key=src / "DG14_sk.pkcs8", aa_key=src / "DG15_sk.pkcs8")
    _, ch = _serve(image)
    r = read_document(ch, mrz=MRZKey("C11T002JM", "960812", "231031"), aa_challenge=b"\x01" * 8)
    assert r.access_control == "BAC"
    assert r.ca is not None and r.ca.ran and r.ca.oid == "0.4.0.127.0.7.2.2.3.2.1"
    assert r.ca.curve == "brainpoolP224r1"
    assert r.files["DG2"] == image.files["DG2"] and r.files["EF.SOD"] == image.files["EF.SOD"]
    assert r.files["DG15"] == image.files["DG15"]
    assert r.aa is not None and len(r.aa.signature) == 128  # RSA-1024


def test_wrong_can_costs_exactly_one_try(pki: Path, member: dict[str, Any]) -> None:
    image = _issue(pki, member)
    card, ch = _serve(image, sim_card.CardQuirks(can_retries=3))
    with pytest.raises(AccessControlError, match="mutual authentication failed"):
        read_document(ch, can="000000")
    assert card.can_tries_left == 2


def test_card_capping_le(pki: Path, member: dict[str, Any]) -> None:
    image = _issue(pki, member)
    _, ch = _serve(image, sim_card.CardQuirks(max_le=0x80))
    r = read_document(ch, can=CAN)
    assert r.files == image.files


@pytest.mark.parametrize("eof", [0x6282, 0x9000, 0x6B00])
def test_end_of_file_behaviours(pki: Path, member: dict[str, Any], eof: int) -> None:
    image = _issue(pki, member)
    _, ch = _serve(image, sim_card.CardQuirks(eof_status=eof))
    assert read_document(ch, can=CAN).files == image.files


def test_mac_failure_is_secure_messaging_error(pki: Path, member: dict[str, Any]) -> None:
    image = _issue(pki, member)
    _, ch = _serve(image, faults=sim_card.CardFaults(corrupt_mac_at_apdu=20))
    with pytest.raises(SecureMessagingError, match="MAC"):
        read_document(ch, can=CAN)


def test_card_removed_mid_read(pki: Path, member: dict[str, Any]) -> None:
    image = _issue(pki, member)
    _, ch = _serve(image, faults=sim_card.CardFaults(tear_at_apdu=30))
    with pytest.raises(CardRemoved):
        read_document(ch, can=CAN)


def test_cloned_chip_fails_chip_authentication_and_the_read_still_completes(
    pki: Path, member: dict[str, Any]
) -> None:
    from partycard.issue import clone_card

    genuine = _issue(pki, member)
    _card, channel = _serve(clone_card(genuine))
    read = read_document(channel, can=genuine.can, aa_challenge=b"\x11" * 8)
    # CA v1 proves the chip only implicitly: the clone cannot derive the session keys, and the
    # reader must say so rather than fail the read (ICAO 9303-11 §6.2).
    assert read.ca is not None and read.ca.failed and not read.ca.ran
    assert "did not prove" in (read.ca.error or "")
    # The card was opened again: every file came back whole, and AA ran (with the clone's key).
    _g_card, g_channel = _serve(genuine)
    reference = read_document(g_channel, can=genuine.can)
    assert read.files == reference.files
    assert read.aa is not None and read.aa.challenge == b"\x11" * 8


def test_genuine_chip_proves_chip_authentication(pki: Path, member: dict[str, Any]) -> None:
    image = _issue(pki, member)
    _card, channel = _serve(image)
    read = read_document(channel, can=image.can)
    assert read.ca is not None and read.ca.ran and not read.ca.failed and read.ca.error is None
