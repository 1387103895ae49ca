"""``partycard verify`` as a real process on dump directories written by the test factory."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from asn1crypto import pem

from partycard.cli import main
from partycard.verify import Denylist, write_denylist
from partycard.verify.denylist import DenyEntry

from . import factory as F

CHALLENGE = bytes.fromhex("00112233deadbeef")


def _subprocess(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "partycard", "verify", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The same command line through partycard.cli.main in this process (fast); the exit code and
    streams are captured as a process would see them."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["verify", *map(str, args)])
        except SystemExit as exc:  # argparse's usage errors, as a process would exit with them
            code = int(exc.code or 0)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("verify-cli")
    pki = F.build_pki("bp256", "p256")
    card = F.build_card(pki.ds, card_number="PC-0000042")
    dump = root / "dump"
    dump.mkdir()
    for name, data in card.files.items():
        (dump / f"{name}.bin").write_bytes(data)
    (dump / "aa.json").write_text(
        json.dumps({"challenge": CHALLENGE.hex(), "signature": F.aa_response(card, CHALLENGE).hex()})
    )
    (dump / "ca.json").write_text(json.dumps({"ran": True}))
    (root / "csca.pem").write_bytes(pem.armor("CERTIFICATE", pki.csca.cert.dump()))
    (root / "csca.crl").write_bytes(pki.crl.dump())
    write_denylist(root / "deny.json", Denylist(F.AT - timedelta(hours=1), {}))
    write_denylist(
        root / "deny-listed.json",
        Denylist(F.AT - timedelta(hours=1), {"PC-0000042": DenyEntry("PC-0000042", "expelled")}),
    )
    return {"root": root, "dump": dump}


def _base(s: dict[str, Path]) -> list[str | Path]:
    return [
        s["dump"],
        "--trust",
        s["root"] / "csca.pem",
        "--crl",
        s["root"] / "csca.crl",
        "--at",
        F.AT.isoformat(),
    ]


def test_valid_json_real_process(setup: dict[str, Path]) -> None:
    r = _subprocess(
        *_base(setup), "--denylist", setup["root"] / "deny.json", "--challenge", CHALLENGE.hex(), "--json"
    )
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["verdict"] == "valid" and doc["policy_version"] == "party-2025.1"
    assert doc["issuer"] == "Central Organization Commission"
    assert {c["name"] for c in doc["checks"]} >= {"sod.signature", "dg.hashes", "ds.path", "card.status"}
    assert all(set(c) == {"name", "status", "reason"} for c in doc["checks"])
    assert "PC-0000042" not in r.stdout + r.stderr  # no card numbers in output


def test_listed_card_invalid(setup: dict[str, Path]) -> None:
    r = _cli(*_base(setup), "--denylist", setup["root"] / "deny-listed.json", "--json")
    assert r.returncode == 1
    status = next(c for c in json.loads(r.stdout)["checks"] if c["name"] == "card.status")
    assert status == {"name": "card.status", "status": "failed", "reason": "status.expelled"}


def test_without_denylist_incomplete(setup: dict[str, Path]) -> None:
    r = _cli(*_base(setup))
    assert r.returncode == 3, r.stdout + r.stderr
    assert "status.no_list" in r.stdout


def test_tampered_dump_invalid(setup: dict[str, Path], tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    for f in setup["dump"].iterdir():
        (dump / f.name).write_bytes(f.read_bytes())
    dg13 = bytearray((dump / "DG13.bin").read_bytes())
    dg13[-1] ^= 1
    (dump / "DG13.bin").write_bytes(bytes(dg13))
    args = _base(setup)
    args[0] = dump
    r = _cli(*args, "--denylist", setup["root"] / "deny.json", "--json")
    assert r.returncode == 1
    assert any(c["reason"] == "dg.hash_mismatch" for c in json.loads(r.stdout)["checks"])


@pytest.mark.parametrize("trouble", ["no-dir", "bad-trust", "bad-denylist", "bad-time", "bad-aa"])
def test_usage_errors_exit_2(setup: dict[str, Path], tmp_path: Path, trouble: str) -> None:
    args = _base(setup)
    if trouble == "no-dir":
        args[0] = tmp_path / "missing"
    elif trouble == "bad-trust":
        (tmp_path / "junk.pem").write_bytes(b"not a certificate")
        args[2] = tmp_path / "junk.pem"
    elif trouble == "bad-denylist":
        (tmp_path / "deny.json").write_text('{"format": "partycard-denylist", "version": 2}')
        args += ["--denylist", tmp_path / "deny.json"]
    elif trouble == "bad-time":
        args[-1] = "yesterday"
    else:
        dump = tmp_path / "dump"
        dump.mkdir()
        for f in setup["dump"].iterdir():
            (dump / f.name).write_bytes(f.read_bytes())
        (dump / "aa.json").write_text('{"challenge": "zz"}')
        args[0] = dump
    r = _cli(*args)
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.strip()


def test_usage_error_real_process(tmp_path: Path) -> None:
    r = _subprocess(tmp_path / "missing", "--trust", tmp_path / "none.pem")
    assert r.returncode == 2
    assert "partycard verify:" in r.stderr


def test_challenge_binding(setup: dict[str, Path]) -> None:
    deny = ["--denylist", setup["root"] / "deny.json", "--json"]
    ok = _cli(*_base(setup), *deny, "--challenge", CHALLENGE.hex())
    assert ok.returncode == 0, ok.stdout
    replay = _cli(*_base(setup), *deny, "--challenge", "0102030405060708")
    assert replay.returncode == 1
    aa = next(c for c in json.loads(replay.stdout)["checks"] if c["name"] == "chip.aa")
    assert aa["reason"] == "aa.challenge_mismatch"
    assert _cli(*_base(setup), *deny, "--challenge", "xyz").returncode == 2


def _copy_dump(setup: dict[str, Path], into: Path) -> Path:
    into.mkdir()
    for f in setup["dump"].iterdir():
        (into / f.name).write_bytes(f.read_bytes())
    return into


def test_a_dump_alone_cannot_prove_the_chip(setup: dict[str, Path]) -> None:
    """Without the challenge this verifier issued, a genuine dump is incomplete, never valid: its
    AA response could be replayed and its ca.json is a claim."""
    r = _cli(*_base(setup), "--denylist", setup["root"] / "deny.json", "--json")
    assert r.returncode == 3, r.stdout + r.stderr
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    assert checks["chip.aa"] == {"name": "chip.aa", "status": "not_performed", "reason": "aa.not_witnessed"}
    assert checks["chip.ca"] == {"name": "chip.ca", "status": "not_performed", "reason": "ca.not_witnessed"}
    assert checks["card.status"]["status"] == "passed"


def test_a_forged_ca_claim_does_not_make_a_dump_valid(setup: dict[str, Path], tmp_path: Path) -> None:
    dump = _copy_dump(setup, tmp_path / "dump")
    (dump / "aa.json").unlink()
    (dump / "ca.json").write_text(json.dumps({"ran": True}))
    args = _base(setup)
    args[0] = dump
    r = _cli(*args, "--denylist", setup["root"] / "deny.json", "--challenge", CHALLENGE.hex(), "--json")
    assert r.returncode == 3, r.stdout
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    assert checks["chip.ca"]["reason"] == "ca.not_witnessed"
    assert checks["chip.aa"]["reason"] == "aa.not_run"


def test_a_replayed_response_to_another_challenge_is_refused(setup: dict[str, Path]) -> None:
    r = _cli(*_base(setup), "--denylist", setup["root"] / "deny.json", "--challenge", "0102030405060708", "--json")
    assert r.returncode == 1, r.stdout
    aa = next(c for c in json.loads(r.stdout)["checks"] if c["name"] == "chip.aa")
    assert aa == {"name": "chip.aa", "status": "failed", "reason": "aa.challenge_mismatch"}


def test_a_bad_signature_fails_even_unwitnessed(setup: dict[str, Path], tmp_path: Path) -> None:
    dump = _copy_dump(setup, tmp_path / "dump")
    doc = json.loads((dump / "aa.json").read_text())
    sig = bytearray.fromhex(doc["signature"])
    sig[5] ^= 1
    (dump / "aa.json").write_text(json.dumps({"challenge": doc["challenge"], "signature": sig.hex()}))
    args = _base(setup)
    args[0] = dump
    r = _cli(*args, "--denylist", setup["root"] / "deny.json", "--json")
    assert r.returncode == 1, r.stdout
    aa = next(c for c in json.loads(r.stdout)["checks"] if c["name"] == "chip.aa")
    assert aa["status"] == "failed" and aa["reason"] == "aa.signature_invalid"
