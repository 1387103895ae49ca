"""``partycard pki`` and ``partycard issue`` run as real processes (the installed entry point)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from partycard.issue import CardImage
from partycard.sim.card import VirtualCard

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "host/partycard/issue/examples/member.json"
BSI = ROOT / "tests/vectors/bsi-reference-dataset"


def partycard(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "partycard", *map(str, args)], capture_output=True,
                          text=True, timeout=60, check=False)


def test_pki_init_then_issue_from_the_example_member(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    done = partycard("pki", "init", pki, "--now", "2025-08-01T00:00:00+00:00")
    assert done.returncode == 0, done.stderr
    assert "Đảng ủy Bộ Ngoại giao" in done.stdout and (pki / "pki.json").is_file()
    out = tmp_path / "card.json"
    done = partycard("issue", "--member", EXAMPLE, "--pki", pki, "--out", out, "--can", "246810",
                     "--curve", "P-256", "--signer", "dubng", "--now", "2025-08-18", "--aa-rsa", "--no-ca")
    assert done.returncode == 0, done.stderr
    assert "CAN: 246810" in done.stdout
    assert "Nguyễn" not in done.stdout + done.stderr  # no personal data on the console
    image = CardImage.load(out)
    assert image.can == "246810" and image.ca_key is None and image.notes["signer"] == "dubng"
    card = VirtualCard(image)
    assert card.activate()["uid"] == image.uid
    done = partycard("pki", "revoke", pki, "btctw", "--now", "2025-09-01")
    assert done.returncode == 0, done.stderr


def test_issue_from_a_renamed_bsi_dump(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    shutil.copyfile(BSI / "EF_COM.bin", dump / "EF.COM.bin")
    shutil.copyfile(BSI / "EF_SOD.bin", dump / "EF.SOD.bin")
    for n in (1, 2, 15):
        shutil.copyfile(BSI / f"Datagroup{n}.bin", dump / f"DG{n}.bin")
    out = tmp_path / "bsi.json"
    done = partycard("issue", "--from-dump", dump, "--out", out, "--aa-key", BSI / "DG15_sk.pkcs8")
    assert done.returncode == 0, done.stderr
    image = CardImage.load(out)
    assert image.profile == "icao-dump" and sorted(image.files) == ["DG1", "DG15", "DG2", "EF.COM", "EF.SOD"]


def test_bad_input_is_a_clear_error_without_a_traceback(tmp_path: Path) -> None:
    member = tmp_path / "member.json"
    member.write_text(json.dumps({"card_number": "DV1"}), encoding="utf-8")
    done = partycard("issue", "--member", member, "--pki", tmp_path, "--out", tmp_path / "x.json")
    assert done.returncode == 2
    assert "partycard: error:" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x.json").exists()
    done = partycard("issue", "--out", tmp_path / "x.json")
    assert done.returncode == 2 and "--member and --pki" in done.stderr


def test_unwritable_output_is_a_clear_error(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    assert partycard("pki", "init", pki).returncode == 0
    out = tmp_path / "missing" / "card.json"
    done = partycard("issue", "--member", EXAMPLE, "--pki", pki, "--out", out)
    assert done.returncode == 2 and "cannot write card image" in done.stderr
    assert "Traceback" not in done.stderr
    done = partycard("issue", "--from-dump", tmp_path, "--out", tmp_path / "c.json",
                     "--aa-key", tmp_path / "no.pem")
    assert done.returncode == 2 and "Traceback" not in done.stderr
