"""The kiosk's verifier keeps serving when its status list goes missing or goes bad."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from partycard.kiosk.compose import DocumentVerifier, _clip
from partycard.verify import Denylist, TrustStore, write_denylist
from partycard.verify.denylist import DenyEntry


def test_a_missing_or_bad_replacement_keeps_the_list_in_use(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """FOUND: a denylist briefly absent (a non-atomic copy) raised FileNotFoundError out of the
    kiosk loop and stopped the kiosk."""
    path = tmp_path / "deny.json"
    listed = {"PC-1": DenyEntry("PC-1", "expelled")}
    write_denylist(path, Denylist(datetime.now(UTC) - timedelta(hours=1), listed))
    verifier = DocumentVerifier(TrustStore(roots=[]), path)
    first = verifier.denylist()
    assert first is not None and first.lookup("PC-1") is not None
    path.unlink()
    with caplog.at_level(logging.ERROR):
        assert verifier.denylist() is first
    assert "keeping the list in use" in caplog.text
    path.write_text("{not json")
    os.utime(path, (1, 1))  # a different mtime: it is read, refused, and the old list stays
    assert verifier.denylist() is first
    fresh = DocumentVerifier(TrustStore(roots=[]), tmp_path / "never-there.json")
    assert fresh.denylist() is None  # nothing to keep: verdicts say status.no_list


def test_card_values_are_clipped_to_the_record_and_never_equal_a_real_number() -> None:
    assert _clip("PC-0000042", 32) == "PC-0000042"
    assert _clip("", 32) is None and _clip(None, 32) is None
    long = _clip("DV" + "1" * 40, 32)
    assert long is not None and len(long) == 32 and long.endswith("…")


def test_the_panel_never_passes_terminal_controls_through() -> None:
    """An issuer name comes from the signer certificate, which a forger writes: ESC sequences in
    it must not clear the screen and draw a VALID headline over INVALID."""
    from partycard.kiosk.panel import render_verdict

    evil = "Org\x1b[2J\x1b[HVALID — genuine\r\x07"
    text = render_verdict({"verdict": "invalid", "policy_version": "p", "issuer": evil, "checks": []},
                          [("Name", "A\x1b]0;x\x07B")])
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text
    assert "Org\ufffd[2J" in text
