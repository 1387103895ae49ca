"""``partycard watch`` as a kiosk service runs it: stopped by SIGTERM, also while its reader is away."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_sigterm_stops_watch_while_it_waits_for_an_unplugged_reader(tmp_path: Path) -> None:
    partycard = str(BIN / "partycard")
    subprocess.run([partycard, "pki", "init", str(tmp_path / "pki")], check=True, capture_output=True)
    proc = subprocess.Popen(
        [partycard, "watch", "--port", str(tmp_path / "no-such-reader"), "--trust",
         str(tmp_path / "pki" / "root-ca.pem"), "--crl", str(tmp_path / "pki" / "root-ca.crl.pem"),
         "--outbox", str(tmp_path / "outbox.sqlite3"), "--can", "123456"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "waiting for cards" in first, first + (proc.stderr.read() if proc.poll() is not None else "")
        # Long enough for the reconnect backoff to reach its longest sleep (5 s by default).
        time.sleep(6.5)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "stopped; 0 result(s) still queued in the outbox" in out, out + err
    assert "reader not available" in err
