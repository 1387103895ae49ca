"""What several command-line tests start from, done as a user does it: ``partycard pki init``,
``partycard issue`` and ``partycard sim --card`` as processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PARTYCARD = str(Path(sys.executable).parent / "partycard")
MEMBER = ROOT / "host/partycard/issue/examples/member.json"


def issue_with_cli(folder: Path, can: str) -> Path:
    """A test PKI in ``folder/pki`` and a card issued under it with ``can``; the card image's path."""
    subprocess.run([PARTYCARD, "pki", "init", str(folder / "pki")], check=True, capture_output=True)
    subprocess.run(
        [PARTYCARD, "issue", "--member", str(MEMBER), "--pki", str(folder / "pki"),
         "--out", str(folder / "card.json"), "--can", can],
        check=True, capture_output=True,
    )
    return folder / "card.json"


@contextlib.contextmanager
def running(args: list[str]) -> Iterator[subprocess.Popen[str]]:
    """``args`` as a process with text pipes; killed on the way out if the test left it running
    (a failed assertion must not leave a reader or a kiosk behind)."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def sim_with_card(card: Path) -> Iterator[str]:
    """``partycard sim --card CARD`` running; yields the pty it printed; stops it (SIGTERM) after."""
    sim = subprocess.Popen(
        [PARTYCARD, "sim", "--card", str(card)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        assert sim.stdout is not None
        first = sim.stdout.readline()
        assert first.startswith("reader: /dev/"), first + (sim.stderr.read() if sim.poll() is not None and
                                                           sim.stderr else "")
        yield first.split(": ", 1)[1].strip()
    finally:
        os.killpg(sim.pid, signal.SIGTERM)
        sim.wait(timeout=30)
