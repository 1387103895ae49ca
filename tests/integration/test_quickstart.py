"""The README's integrator quick start, run as written against ``partycard sim --card``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .cli_card import issue_with_cli, sim_with_card

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
QUICKSTART = ROOT / "examples" / "quickstart.py"

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def test_readme_shows_the_quickstart_verbatim() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert QUICKSTART.read_text(encoding="utf-8").strip() in readme


def test_quickstart_reads_and_verifies_a_card_on_the_simulator(tmp_path: Path) -> None:
    card = issue_with_cli(tmp_path, "123456")
    with sim_with_card(card) as port:
        # Twice on the same reader: the first run ends without releasing the card, and the second
        # must still get a fresh card session, not the first one's secure-messaging state.
        runs = [
            subprocess.run(
                [sys.executable, str(QUICKSTART), port, str(tmp_path / "pki"), "123456"],
                capture_output=True, text=True, timeout=120, cwd=tmp_path, env=dict(os.environ),
            )
            for _ in range(2)
        ]
    for proc in runs:
        assert proc.returncode == 0, proc.stderr
        # No card-status list was given, so the status check is not performed: incomplete, not valid.
        assert proc.stdout.strip() == "Nguyễn Thị Minh Khai DV0012345678 PACE-CAN incomplete"
