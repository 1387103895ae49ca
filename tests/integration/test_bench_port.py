"""``partycard bench --port`` against a reader it did not start: ``partycard sim --card`` on a pty.

The card on that reader has its own CAN and PKI, as a real card would: the bench must read it with
the CAN it is given, verify it against the roots it is given, and say so when it is given none.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from partycard.sim.runner import micropython_executable

from .cli_card import PARTYCARD, issue_with_cli, sim_with_card

ROOT = Path(__file__).resolve().parents[2]
CAN = "654321"  # not the simulator bench card's CAN

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(240),
    pytest.mark.skipif(micropython_executable() is None, reason="MicroPython unix port not installed"),
]


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(the pty of a simulated reader holding a card issued with CAN, that card's PKI folder)."""
    tmp = tmp_path_factory.mktemp("bench-port")
    with sim_with_card(issue_with_cli(tmp, CAN)) as port:
        yield port, tmp / "pki"


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PARTYCARD, "bench", "--quick", *args], capture_output=True, text=True, timeout=180)


def test_port_bench_reads_the_card_with_its_can_and_verifies_against_the_given_roots(
    reader: tuple[str, Path],
) -> None:
    port, pki = reader
    proc = _bench("--json", "--port", port, "--can", CAN, "--trust", str(pki / "root-ca.pem"),
                  "--crl", str(pki / "root-ca.crl.pem"))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["mode"] == "port"
    for case, photo in (("record", False), ("with_photo", True)):
        tap = report["tap_to_verdict"][case]
        assert tap["measured_s"] > 0
        # No denylist was given: the status check is not performed, so the best verdict is incomplete.
        assert tap["verdict"] == "incomplete", (case, tap)
        assert (tap["apdu_bytes"] > 15_000) is photo, (case, tap["apdu_bytes"])
    assert report["link"]["overhead_bytes_single"] > report["link"]["overhead_bytes_batched"] > 0


def test_port_bench_without_roots_reads_and_says_it_did_not_verify(reader: tuple[str, Path]) -> None:
    port, _ = reader
    proc = _bench("--port", port, "--can", CAN)
    assert proc.returncode == 0, proc.stderr
    assert "verdict none (no --trust given: read, not verified)" in proc.stdout
    assert "partycard bench (port, quick)" in proc.stdout
    assert "record     measured " in proc.stdout and "modeled n/a" not in proc.stdout


def test_port_bench_refuses_to_guess_a_can(reader: tuple[str, Path]) -> None:
    proc = _bench("--port", reader[0])
    assert proc.returncode == 2
    assert "--port needs --can" in proc.stderr


def test_port_options_without_a_port_are_refused() -> None:
    proc = _bench("--can", CAN, "--trust", "roots.pem")
    assert proc.returncode == 2
    assert "--can, --trust only with --port" in proc.stderr
