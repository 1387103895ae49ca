"""The README's integrator quick start, run as written against ``partycard sim --card``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
QUICKSTART = ROOT / "examples" / "quickstart.py"

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def test_readme_shows_the_quickstart_verbatim() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert QUICKSTART.read_text(encoding="utf-8").strip() in readme


def test_quickstart_reads_and_verifies_a_card_on_the_simulator(tmp_path: Path) -> None:
    partycard = str(BIN / "partycard")
    subprocess.run([partycard, "pki", "init", str(tmp_path / "pki")], check=True, capture_output=True)
    subprocess.run(
        [partycard, "issue", "--member", str(ROOT / "host/partycard/issue/examples/member.json"),
         "--pki", str(tmp_path / "pki"), "--out", str(tmp_path / "card.json"), "--can", "123456"],
        check=True, capture_output=True,
    )
    sim = subprocess.Popen(
        [partycard, "sim", "--card", str(tmp_path / "card.json")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        assert sim.stdout is not None
        first = sim.stdout.readline()
        assert first.startswith("reader: /dev/"), first + (sim.stderr.read() if sim.poll() is not None else "")
        port = first.split(": ", 1)[1].strip()
        # Twice on the same reader: the first run ends without releasing the card, and the second
        # must still get a fresh card session, not the first one's secure-messaging state.
        runs = [
            subprocess.run(
                [sys.executable, str(QUICKSTART), port, str(tmp_path / "pki"), "123456"],
                capture_output=True, text=True, timeout=120, cwd=tmp_path, env=dict(os.environ),
            )
            for _ in range(2)
        ]
    finally:
        os.killpg(sim.pid, signal.SIGTERM)
        sim.wait(timeout=30)
    for proc in runs:
        assert proc.returncode == 0, proc.stderr
        # No card-status list was given, so the status check is not performed: incomplete, not valid.
        assert proc.stdout.strip() == "Nguyễn Thị Minh Khai DV0012345678 PACE-CAN incomplete"
