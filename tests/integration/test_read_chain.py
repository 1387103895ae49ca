"""Reading cards through the whole reader chain: host → link (pty) → firmware on MicroPython →
virtual PN532 (HSU wire protocol) → virtual card. Every file must arrive byte for byte."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from partycard.card.lds.dg13 import parse_dg13
from partycard.card.reader import DocumentRead, MRZKey, read_document
from partycard.demo import BSI_DUMP, EXAMPLE_MEMBER
from partycard.errors import AccessControlError
from partycard.issue import CardImage, init_pki, issue_card, issue_from_dump
from partycard.link.client import open_reader
from partycard.sim.card import VirtualCard
from partycard.sim.pn532 import VirtualPN532
from partycard.sim.runner import SimulatedReader

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pki")
    init_pki(path, now=NOW)
    return path


def _read(image: CardImage, *, can: str | None = None, mrz: MRZKey | None = None) -> DocumentRead:
    pn532 = VirtualPN532(VirtualCard(image))
    with SimulatedReader(pn532=pn532) as sim, open_reader(sim.port) as reader:
        reader.wait_card(5.0)
        read = read_document(reader, can=can, mrz=mrz, aa_challenge=b"\x42" * 8)
        reader.release()
    return read


def test_bsi_reference_data_set_reads_back_byte_identical_with_bac() -> None:
    image = issue_from_dump(BSI_DUMP, aa_key=BSI_DUMP / "DG15_sk.pkcs8", ca_key=BSI_DUMP / "DG14_sk.pkcs8")
    mrz = image.mrz_information or ""
    read = _read(image, mrz=MRZKey(mrz[:9].rstrip("<"), mrz[10:16], mrz[17:23]))
    assert read.access_control == "BAC"
    files = read.files
    for path in sorted(BSI_DUMP.glob("*.bin")):
        assert files[path.stem] == path.read_bytes(), path.name
    assert set(files) == {p.stem for p in BSI_DUMP.glob("*.bin")}


@pytest.mark.parametrize(("curve", "oid_curve"), [("brainpoolP256r1", "brainpoolP256r1"), ("P-256", "secp256r1")])
def test_party_card_reads_back_with_pace_can(pki: Path, curve: str, oid_curve: str) -> None:
    member = json.loads(EXAMPLE_MEMBER.read_text(encoding="utf-8"))
    image = issue_card(member, pki, now=NOW, can="472915", pace_curve=curve)
    read = _read(image, can="472915")
    assert read.access_control == "PACE-CAN"
    assert read.pace_params is not None and read.pace_params.curve == oid_curve
    assert read.files == image.files
    record = parse_dg13(read.files["DG13"])
    assert record.full_name == "Nguyễn Thị Minh Khai"
    assert record.party_organisation == member["organisation"]
    assert read.ca is not None and read.ca.ran and read.aa is not None


def test_wrong_can_is_a_clear_error_and_costs_one_try(pki: Path) -> None:
    member = json.loads(EXAMPLE_MEMBER.read_text(encoding="utf-8"))
    image = issue_card(member, pki, now=NOW, can="472915")
    with SimulatedReader(pn532=VirtualPN532(VirtualCard(image))) as sim, open_reader(sim.port) as reader:
        reader.wait_card(5.0)
        with pytest.raises(AccessControlError, match=r"CAN|password|authentic"):
            read_document(reader, can="000000")
        reader.release()
        reader.wait_card(5.0)
        read = read_document(reader, can="472915")  # the right CAN still opens it
    assert read.files == image.files


def test_read_dump_then_verify_from_the_command_line(pki: Path, tmp_path: Path) -> None:
    member = json.loads(EXAMPLE_MEMBER.read_text(encoding="utf-8"))
    image = issue_card(member, pki, now=NOW, can="472915")
    dump = tmp_path / "dump"
    with SimulatedReader(pn532=VirtualPN532(VirtualCard(image))) as sim:
        proc = subprocess.run(
            [str(BIN / "partycard"), "read", "--port", sim.port, "--can", "472915", "--dump", str(dump), "--json",
         "--challenge", "0011223344556677"],
            capture_output=True, text=True, timeout=120,
        )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["access_control"] == "PACE-CAN" and out["member"]["Card number"] == member["card_number"]
    for name, data in image.files.items():
        assert (dump / f"{name}.bin").read_bytes() == data
    assert json.loads((dump / "aa.json").read_text())["challenge"]
    verify = subprocess.run(
        [str(BIN / "partycard"), "verify", str(dump), "--trust", str(pki / "root-ca.pem"),
         "--crl", str(pki / "root-ca.crl.pem"), "--json", "--at", "2026-06-02T00:00:00Z"],
        capture_output=True, text=True, timeout=120,
    )
    verdict = json.loads(verify.stdout)
    # No denylist was given: the status check cannot run, so the card is incomplete, never valid.
    assert verify.returncode == 3 and verdict["verdict"] == "incomplete", verify.stdout + verify.stderr
    failed = [c for c in verdict["checks"] if c["status"] == "failed"]
    assert failed == []
    chip = {c["name"]: c["reason"] for c in verdict["checks"] if c["name"].startswith("chip.")}
    assert chip == {"chip.aa": "aa.not_witnessed", "chip.ca": "ca.not_witnessed"}
    # The challenge this side issued (read --challenge) turns AA into evidence; CA stays a claim.
    verify = subprocess.run(
        [str(BIN / "partycard"), "verify", str(dump), "--trust", str(pki / "root-ca.pem"),
         "--crl", str(pki / "root-ca.crl.pem"), "--json", "--at", "2026-06-02T00:00:00Z",
         "--challenge", "0011223344556677"],
        capture_output=True, text=True, timeout=120,
    )
    checks = {c["name"]: c for c in json.loads(verify.stdout)["checks"]}
    assert checks["chip.aa"]["status"] == "passed", checks["chip.aa"]
    short = subprocess.run([str(BIN / "partycard"), "verify", str(dump), "--trust", str(pki / "root-ca.pem"),
                            "--challenge", "0011"], capture_output=True, text=True, timeout=60)
    assert short.returncode == 2 and "8 bytes" in short.stderr


def test_a_second_read_needs_a_fresh_card_session(pki: Path) -> None:
    """FOUND: read_document twice without wait_card in between asked for an MRZ ("BAC needs the
    MRZ key"): the first read's application was still selected. It is refused plainly now."""
    from partycard.errors import CardError, ConfigError

    member = json.loads(EXAMPLE_MEMBER.read_text(encoding="utf-8"))
    image = issue_card(member, pki, now=NOW, can="472915")
    with SimulatedReader(pn532=VirtualPN532(VirtualCard(image))) as sim, open_reader(sim.port) as reader:
        with pytest.raises(CardError, match="no fresh card session"):
            read_document(reader, can="472915")  # no wait_card yet
        reader.wait_card(5.0)
        with pytest.raises(ConfigError, match="CAN is text"):
            read_document(reader, can=472915)  # type: ignore[arg-type]
        assert read_document(reader, can="472915", files=["DG1"]).access_control == "PACE-CAN"
        with pytest.raises(CardError, match="no fresh card session"):
            read_document(reader, can="472915", files=["DG1"])
        reader.wait_card(5.0)  # the firmware hands the same card out afresh
        assert read_document(reader, can="472915", files=["DG1"]).access_control == "PACE-CAN"
