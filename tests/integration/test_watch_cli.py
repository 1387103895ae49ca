"""``partycard watch`` as a kiosk service runs it: stopped by SIGTERM, also while its reader is away."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .cli_card import issue_with_cli, running

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_sigterm_stops_watch_while_it_waits_for_an_unplugged_reader(tmp_path: Path) -> None:
    partycard = str(BIN / "partycard")
    subprocess.run([partycard, "pki", "init", str(tmp_path / "pki")], check=True, capture_output=True)
    with running(
        [partycard, "watch", "--port", str(tmp_path / "no-such-reader"), "--trust",
         str(tmp_path / "pki" / "root-ca.pem"), "--crl", str(tmp_path / "pki" / "root-ca.crl.pem"),
         "--outbox", str(tmp_path / "outbox.sqlite3"), "--can", "123456"],
    ) as proc:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "waiting for cards" in first, first + (proc.stderr.read() if proc.poll() is not None else "")
        # Long enough for the reconnect backoff to reach its longest sleep (5 s by default).
        time.sleep(6.5)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=5)
    assert proc.returncode == 0, err
    assert "stopped; 0 result(s) still queued in the outbox" in out, out + err
    assert "reader not available" in err


def test_sigterm_with_a_card_left_on_the_reader_and_delivery_before_exit(tmp_path: Path) -> None:
    """FOUND: with a card left on the reader SIGTERM took ~30 s (the removal wait ignored it), and
    --taps 1 with a backend exited with its result still queued."""
    from partycard.backend.server import ReceiverServer
    from partycard.issue import CardImage
    from partycard.sim.card import VirtualCard
    from partycard.sim.pn532 import VirtualPN532
    from partycard.sim.runner import SimulatedReader

    partycard = str(BIN / "partycard")
    image = CardImage.load(issue_with_cli(tmp_path, "123456"))
    common = ["--trust", str(tmp_path / "pki" / "root-ca.pem"), "--crl", str(tmp_path / "pki" / "root-ca.crl.pem"),
              "--can", "123456", "--site", "test-office"]
    with ReceiverServer("sqlite:///" + str(tmp_path / "rx.sqlite3")) as rx, \
            SimulatedReader(pn532=VirtualPN532(VirtualCard(image))) as sim:
        done = subprocess.run(
            [partycard, "watch", "--port", sim.port, *common, "--outbox", str(tmp_path / "a.sqlite3"),
             "--backend", rx.url, "--taps", "1"],
            capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "stopped; 0 result(s) still queued" in done.stdout, done.stdout
        kiosk = [partycard, "watch", "--port", sim.port, *common, "--outbox", str(tmp_path / "b.sqlite3")]
        with running(kiosk) as proc:
            assert proc.stdout is not None
            seen = ""
            while "recorded" not in seen:  # the card's panel: it now lies on the reader
                line = proc.stdout.readline()
                assert line, proc.stderr.read() if proc.stderr else ""
                seen += line
            time.sleep(1.0)
            proc.send_signal(signal.SIGTERM)
            # The removal wait lasts 30 s: ending well inside it means the stop was heard.
            _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
