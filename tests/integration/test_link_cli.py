"""``partycard sim``: the first stdout line names the port, the reader answers there, and SIGTERM
stops everything cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from partycard.link.client import open_reader
from partycard.sim.runner import micropython_executable

from .cli_card import running

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def test_link_cli_sim_serves_until_sigterm() -> None:
    with running([sys.executable, "-m", "partycard", "sim", "--runtime", "cpython", "--serial", "CLI-7"]) as proc:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("reader: /dev/pts/"), first
        port = first.split(" ", 1)[1].strip()
        with open_reader(port) as client:
            assert client.info is not None and client.info.serial == "CLI-7"
            assert client.ping(b"cli") == b"cli"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert not os.path.exists(port)  # both ends of the pty were closed


def test_link_cli_sim_refuses_an_unreadable_card_image(tmp_path: Path) -> None:
    (tmp_path / "member.json").write_text('{"not": "a card image"}', encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "partycard", "sim", "--card", str(tmp_path / "member.json")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "--card" in proc.stderr


@pytest.mark.skipif(micropython_executable() is None, reason="MicroPython unix port not installed")
def test_link_cli_sim_runs_the_firmware_from_rom() -> None:
    with running([sys.executable, "-m", "partycard", "sim", "--rom", "--serial", "ROM-1"]) as proc:
        assert proc.stdout is not None
        port = proc.stdout.readline().split(" ", 1)[1].strip()
        with open_reader(port) as client:
            assert client.info is not None and client.info.serial == "ROM-1"
            # The bytecode is outside the heap: well under the ~85 KB it takes loaded from .mpy files.
            assert 0 < client.request("diag", {})["heap_used"] < 70 * 1024
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_link_cli_sim_refuses_rom_on_cpython() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "partycard", "sim", "--rom", "--runtime", "cpython"],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert "ROM" in proc.stderr and "Traceback" not in proc.stderr
